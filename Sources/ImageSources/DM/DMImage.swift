import ZarrCore

/// One DM image, read region by region straight from the file: DM stores pixels
/// uncompressed in C order (x fastest, then y, then z), so a region is one pread per
/// z-plane when it spans whole rows, else one per row. RGB(A) pixels (four bytes B, G, R,
/// A) become three uint8 channels on a leading `c` axis; binary pixels become 0/1 uint8.
final class DMImage: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    private let file: DMFileBytes
    private let dataOffset: Int
    private let width: Int, height: Int
    private let pixelBytes: Int
    private let rgb: Bool
    private let binary: Bool
    /// Bytes reversed per this many (the Data array's element size) when the file's values
    /// are big-endian; 1 when nothing is to be swapped.
    private let swapUnit: Int

    init(file: DMFileBytes, entry: DMImageEntry, littleEndian: Bool, description: ImageDescription) {
        self.file = file
        self.description = description
        dataOffset = entry.data.offset
        width = entry.dimensions[0]
        height = entry.dimensions[1]
        pixelBytes = entry.pixelBytes
        rgb = DMImageType.isRGB(entry.dataType)
        binary = entry.dataType == 14
        let unit = rgb ? (DMSimpleType.size(entry.data.elementType) ?? 1) : entry.pixelBytes
        swapUnit = littleEndian || unit <= 1 || pixelBytes % unit != 0 ? 1 : unit
    }

    /// The dtype each DM data type is written as.
    static func dataType(_ code: Int) -> DataType? {
        switch code {
        case 1: return .int16
        case 2: return .float32
        case 6, 8, 14, 23: return .uint8
        case 7: return .int32
        case 9: return .int8
        case 10: return .uint16
        case 11: return .uint32
        case 12: return .float64
        default: return nil
        }
    }

    func read(_ region: Region) throws -> NDBuffer {
        let d = description
        guard region.shape.count == d.shape.count, region.origin.allSatisfy({ $0 >= 0 }),
              zip(region.end, d.shape).allSatisfy({ $0 <= $1 }) else {
            throw SourceError(file.path, "region \(region) lies outside the image \(d.shape)")
        }
        var out = [UInt8](repeating: 0, count: region.elementCount * d.dataType.size)
        guard !region.isEmpty else { return NDBuffer(dataType: d.dataType, shape: region.shape, bytes: out) }
        let axis = { (name: String) -> (Int, Int) in
            d.axisIndex(name).map { (region.origin[$0], region.shape[$0]) } ?? (0, 1)
        }
        let (z0, zn) = axis("z"), (y0, yn) = axis("y"), (x0, xn) = axis("x"), (c0, cn) = axis("c")
        let rowBytes = xn * pixelBytes
        let fullRows = x0 == 0 && xn == width
        var raw = [UInt8](repeating: 0, count: (fullRows ? yn : 1) * rowBytes)
        for z in 0..<zn {
            let plane = (z0 + z) * height
            if fullRows {
                try file.read(into: &raw, at: dataOffset + (plane + y0) * width * pixelBytes)
                for y in 0..<yn { convert(raw, from: y * rowBytes, into: &out, row: z * yn + y, rows: zn * yn, xn: xn, c0: c0, cn: cn) }
            } else {
                for y in 0..<yn {
                    try file.read(into: &raw, at: dataOffset + ((plane + y0 + y) * width + x0) * pixelBytes)
                    convert(raw, from: 0, into: &out, row: z * yn + y, rows: zn * yn, xn: xn, c0: c0, cn: cn)
                }
            }
        }
        return NDBuffer(dataType: d.dataType, shape: region.shape, bytes: out)
    }

    /// One row of `xn` stored pixels at `raw[start...]` into output row `row` (of `rows`
    /// per channel plane): byte-swapped to little-endian, RGB spread to planes.
    private func convert(_ raw: [UInt8], from start: Int, into out: inout [UInt8], row: Int, rows: Int, xn: Int, c0: Int, cn: Int) {
        if rgb {
            for c in 0..<cn {
                // Output channel red, green, blue is logical byte 2, 1, 0 of B, G, R, A; a
                // big-endian file stores each word of `swapUnit` bytes reversed (32-bit
                // words: A, R, G, B).
                let k = 2 - (c0 + c)
                let source = k / swapUnit * swapUnit + swapUnit - 1 - k % swapUnit
                let base = (c * rows + row) * xn
                for x in 0..<xn { out[base + x] = raw[start + x * 4 + source] }
            }
            return
        }
        let base = row * xn * pixelBytes
        let n = xn * pixelBytes
        if binary {
            for i in 0..<n { out[base + i] = raw[start + i] == 0 ? 0 : 1 }
        } else if swapUnit > 1 {
            for i in stride(from: 0, to: n, by: swapUnit) {
                for k in 0..<swapUnit { out[base + i + k] = raw[start + i + swapUnit - 1 - k] }
            }
        } else {
            out.withUnsafeMutableBufferPointer { o in
                raw.withUnsafeBufferPointer { r in
                    guard let dst = o.baseAddress, let src = r.baseAddress else { return }
                    (dst + base).update(from: src + start, count: n)
                }
            }
        }
    }
}
