import Foundation
import ZarrCore

/// A DICOM image as Tessera converts it: the frames of one multi-frame instance, or the
/// single frames of a series' instances in slice order, stacked along z (axes c, z, y, x;
/// c for colour only). Each read decodes only the frames its region touches, one at a time.
final class DICOMVolume: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    /// Per z index: which instance and which of its frames.
    private let slices: [(instance: Int, frame: Int)]
    private let instances: [DICOMInstance]
    private let format: DICOMPixelFormat
    /// Per z index, the rescale applied while reading (nil = stored values kept).
    private let rescale: [(slope: Double, intercept: Double)]?

    init(description: ImageDescription, instances: [DICOMInstance], slices: [(instance: Int, frame: Int)],
         rescale: [(slope: Double, intercept: Double)]?) {
        self.description = description
        self.instances = instances
        self.slices = slices
        self.format = instances[0].format
        self.rescale = rescale
    }

    func read(_ region: Region) throws -> NDBuffer {
        let d = description
        let zAxis = d.axisIndex("z"), cAxis = d.axisIndex("c")
        let y = d.axisIndex("y")!, x = y + 1
        var out = NDBuffer(dataType: d.dataType, shape: region.shape,
                           bytes: [UInt8](repeating: 0, count: region.elementCount * d.dataType.size))
        let zRange = zAxis.map { region.origin[$0]..<(region.origin[$0] + region.shape[$0]) } ?? 0..<1
        var files = [Int: DICOMFileBytes]()
        for z in zRange {
            let (i, frame) = slices[z]
            let instance = instances[i]
            let file = try files[i] ?? DICOMFileBytes(path: instance.path)
            files[i] = file
            var planes = try instance.decode(frame, file: file)
            var dataType = instance.format.dataType
            if let rescale {
                planes = Self.rescaled(planes, from: dataType, slope: rescale[z].slope, intercept: rescale[z].intercept)
                dataType = .float32
            }
            // The frame as [c,] y, x; take the region's part of it, then give it the z axis
            // (the region's axes are the frame's with z inserted).
            let frameShape = format.samples == 3 ? [3, format.rows, format.columns] : [format.rows, format.columns]
            let frameBuffer = NDBuffer(dataType: dataType, shape: frameShape, bytes: planes)
            var from = [Int](), size = [Int]()
            if let cAxis { from.append(region.origin[cAxis]); size.append(region.shape[cAxis]) }
            from += [region.origin[y], region.origin[x]]
            size += [region.shape[y], region.shape[x]]
            var part = frameBuffer.extract(Region(origin: from, shape: size))
            var to = [Int](repeating: 0, count: region.shape.count)
            if let zAxis {
                part.shape.insert(1, at: zAxis)
                to[zAxis] = z - zRange.lowerBound
            }
            var pasteSize = region.shape
            if let zAxis { pasteSize[zAxis] = 1 }
            out.paste(part, from: [Int](repeating: 0, count: region.shape.count), to: to, size: pasteSize)
        }
        return out
    }

    /// stored × slope + intercept, as float32.
    static func rescaled(_ planes: [UInt8], from type: DataType, slope: Double, intercept: Double) -> [UInt8] {
        let n = planes.count / type.size
        var out = [Float](repeating: 0, count: n)
        planes.withUnsafeBytes { raw in
            for i in 0..<n {
                let v: Double
                switch type {
                case .uint8: v = Double(raw[i])
                case .int8: v = Double(Int8(bitPattern: raw[i]))
                case .uint16: v = Double(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                case .int16: v = Double(raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                case .uint32: v = Double(raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                default: v = Double(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                }
                out[i] = Float(v * slope + intercept)
            }
        }
        return out.withUnsafeBytes { Array($0) }
    }
}

extension DICOMPixelFormat {
    /// The NGFF data type of the stored samples.
    var dataType: DataType {
        switch (bitsAllocated, signed) {
        case (8, false): return .uint8
        case (8, true): return .int8
        case (16, false): return .uint16
        case (16, true): return .int16
        case (32, false): return .uint32
        default: return .int32
        }
    }
}
