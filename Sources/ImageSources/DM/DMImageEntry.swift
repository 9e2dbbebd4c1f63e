/// The images of a DM file's `ImageList`, checked against the file: what each holds, where
/// its pixels are, and how it is calibrated. Pure Swift (no ZarrCore) for the fuzz build.

/// A DM calibration of one dimension (or of intensity): value = (index − origin) × scale.
struct DMCalibration: Sendable, Equatable {
    var origin: Double
    var scale: Double
    var units: String
}

/// DM image data types (`ImageData.DataType`) Tessera reads, and why it refuses the others.
enum DMImageType {
    /// Bytes per pixel for the readable types: 1 int16, 2 float32, 6 uint8, 7 int32,
    /// 9 int8, 10 uint16, 11 uint32, 12 float64, 14 binary (one byte), 8 and 23 RGB(A)
    /// stored as four bytes B, G, R, A.
    static func pixelBytes(_ code: Int) -> Int? {
        switch code {
        case 6, 9, 14: return 1
        case 1, 10: return 2
        case 2, 7, 11, 8, 23: return 4
        case 12: return 8
        default: return nil
        }
    }

    static func isRGB(_ code: Int) -> Bool { code == 8 || code == 23 }

    static func name(_ code: Int) -> String {
        switch code {
        case 1: return "int16"
        case 2: return "float32"
        case 3: return "complex64"
        case 5: return "packed complex (FFT)"
        case 6: return "uint8"
        case 7: return "int32"
        case 8: return "RGB"
        case 9: return "int8"
        case 10: return "uint16"
        case 11: return "uint32"
        case 12: return "float64"
        case 13: return "complex128"
        case 14: return "binary"
        case 23: return "RGBA"
        case 27, 28: return "packed complex (FFT)"
        default: return "unknown"
        }
    }
}

struct DMImageEntry: Sendable {
    /// Position in `ImageList` (thumbnails included).
    var index: Int
    var name: String?
    var dataType: Int
    /// As DM stores them: x first, then y, then z.
    var dimensions: [Int]
    var data: DMArray
    /// One per dimension, x first (missing ones are scale 1, origin 0, no unit).
    var calibrations: [DMCalibration]
    var brightness: DMCalibration?
    /// The image's whole tag group (ImageData, ImageTags, Name, …).
    var tags: DMGroup

    var pixelBytes: Int { DMImageType.pixelBytes(dataType) ?? 1 }
}

enum DMImageList {
    /// The images to convert and the `ImageList` indices skipped as thumbnails.
    ///
    /// Thumbnails: the indices listed under `Thumbnails > * > ImageIndex` (as RosettaSciIO
    /// does); a file without that group skips image 0 when it is an RGB(A) picture and
    /// more images follow (ncempy's rule). A file holding only thumbnails keeps them.
    static func images(in document: DMDocument) throws -> (images: [DMImageEntry], thumbnails: [Int]) {
        guard let list = document.root.group(at: ["ImageList"]) else { throw DMParseError.notDM("no ImageList tag group") }
        let items = list.entries.enumerated().compactMap { i, e in e.value.groupValue.map { (i, $0) } }
        guard !items.isEmpty else { throw DMParseError.notDM("the ImageList holds no image") }
        var thumbnails = Set<Int>()
        if let listed = document.root.group(at: ["Thumbnails"]) {
            for entry in listed.entries {
                if let i = entry.value.groupValue?["ImageIndex"]?.intValue { thumbnails.insert(i) }
            }
        } else if items.count > 1, items[0].0 == 0,
                  let code = items[0].1.value(at: ["ImageData", "DataType"])?.intValue, DMImageType.isRGB(code) {
            thumbnails.insert(0)
        }
        var kept = items.filter { !thumbnails.contains($0.0) }
        if kept.isEmpty { kept = items }
        let images = try kept.map { try entry(index: $0.0, group: $0.1) }
        let skipped = items.map(\.0).filter { i in !kept.contains { $0.0 == i } }
        return (images, skipped)
    }

    static func entry(index: Int, group: DMGroup) throws -> DMImageEntry {
        func fail(_ why: String) -> DMParseError { .image(index, why) }
        guard let imageData = group.group(at: ["ImageData"]) else { throw fail("has no ImageData") }
        guard let code = imageData["DataType"]?.intValue else { throw fail("has no ImageData.DataType") }
        guard let pixelBytes = DMImageType.pixelBytes(code) else {
            let why = [3, 5, 13, 27, 28].contains(code) ? ": unsupported data type (NGFF has no complex type)" : ": unsupported data type"
            throw fail("has data type \(code) (\(DMImageType.name(code)))\(why)")
        }
        guard let dims = imageData.group(at: ["Dimensions"]) else { throw fail("has no ImageData.Dimensions") }
        let dimensions = try dims.entries.map { e -> Int in
            guard let n = e.value.intValue, n > 0 else { throw fail("has a dimension that is not a positive integer") }
            return n
        }
        guard dimensions.count >= 2 else { throw fail("is a 1-D spectrum (\(dimensions.count) dimension), not an image") }
        guard dimensions.count <= 3 else { throw fail("has \(dimensions.count) dimensions; Tessera reads 2-D and 3-D DM images") }
        guard case let .array(data)? = imageData["Data"] else { throw fail("has no ImageData.Data array") }
        var bytes = pixelBytes
        for n in dimensions {
            let (p, overflow) = bytes.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("has dimensions \(dimensions) whose size overflows") }
            bytes = p
        }
        guard bytes == data.byteCount else {
            throw fail("has ImageData.Data of \(data.byteCount) bytes, but \(dimensions) \(DMImageType.name(code)) pixels need \(bytes)")
        }
        var calibrations = (imageData.group(at: ["Calibrations", "Dimension"])?.entries ?? []).prefix(dimensions.count).map {
            calibration($0.value.groupValue)
        }
        while calibrations.count < dimensions.count { calibrations.append(DMCalibration(origin: 0, scale: 1, units: "")) }
        let brightness = imageData.group(at: ["Calibrations", "Brightness"]).map { calibration($0) }
        return DMImageEntry(index: index, name: group["Name"]?.stringValue, dataType: code, dimensions: dimensions, data: data,
                            calibrations: calibrations, brightness: brightness, tags: group)
    }

    private static func calibration(_ g: DMGroup?) -> DMCalibration {
        var scale = g?["Scale"]?.doubleValue ?? 1
        if !scale.isFinite || scale == 0 { scale = 1 }
        var origin = g?["Origin"]?.doubleValue ?? 0
        if !origin.isFinite { origin = 0 }
        return DMCalibration(origin: origin, scale: scale, units: g?["Units"]?.stringValue ?? "")
    }
}
