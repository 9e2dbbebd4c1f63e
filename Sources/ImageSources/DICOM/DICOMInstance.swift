import Foundation

/// One DICOM file with pixels: its header, pixel layout and where each frame's bytes
/// are. Everything the header declares is checked against the file at open time — the
/// frame count against the native pixel data's length or the fragments present — so a
/// truncated file fails before anything is written, not halfway through.
struct DICOMInstance {
    let header: DICOMHeader
    let format: DICOMPixelFormat
    let frames: Int
    /// Per frame: the byte ranges (fragments) that hold it.
    private let frameRanges: [[(offset: Int, length: Int)]]

    var path: String { header.path }
    var dataSet: DICOMDataSet { header.dataSet }
    var syntax: String { header.transferSyntax }

    /// Frame counts above this are refused (a WSI level of 100,000 tiles is already large).
    static let maxFrames = 1 << 22

    init(path: String) throws {
        try self.init(header: DICOMHeader.read(path: path))
    }

    init(header: DICOMHeader) throws {
        let path = header.path
        let ds = header.dataSet
        self.header = header
        if ds[DICOMTag.floatPixelData] != nil || ds[DICOMTag.doubleFloatPixelData] != nil {
            throw SourceError(path, "holds Float Pixel Data (parametric maps), which Tessera does not read")
        }
        guard let pixels = header.pixelData else { throw SourceError(path, "has no Pixel Data (7FE0,0010): not an image") }
        format = try DICOMPixelFormat(ds, path: path)
        guard DICOMFrameDecoder.canDecode(header.transferSyntax) else {
            throw SourceError(path, "uses transfer syntax \(header.transferSyntax) (\(DICOMSyntaxNames.name(header.transferSyntax))), which Tessera cannot decode")
        }
        let declared = ds.integer(DICOMTag.numberOfFrames) ?? 1
        guard declared >= 1, declared <= Self.maxFrames else {
            throw SourceError(path, "declares \(declared) frames (Number of Frames); Tessera reads 1 to \(Self.maxFrames)")
        }
        frames = declared
        switch pixels {
        case let .native(offset, length):
            guard format.photometric != "YBR_FULL_422", format.photometric != "YBR_PARTIAL_420" else {
                throw SourceError(path, "holds uncompressed \(format.photometric) (chroma-subsampled) pixels, which Tessera does not read")
            }
            let frameBytes = format.frameBytes
            let (need, overflow) = frameBytes.multipliedReportingOverflow(by: declared)
            guard !overflow, need <= length else {
                throw SourceError(path, "declares \(declared) frame(s) of \(frameBytes) bytes but its Pixel Data holds \(length) bytes")
            }
            frameRanges = (0..<declared).map { [(offset + $0 * frameBytes, frameBytes)] }
        case let .encapsulated(fragments, basic, extended):
            frameRanges = try Self.group(fragments, frames: declared, basic: basic, extended: extended, path: path)
        }
    }

    /// Which fragments make each frame: one each when the counts match; else the
    /// Extended or Basic Offset Table; else everything is one frame.
    private static func group(_ fragments: [(offset: Int, length: Int)], frames: Int, basic: [Int], extended: [Int]?,
                              path: String) throws -> [[(offset: Int, length: Int)]] {
        guard !fragments.isEmpty else { throw SourceError(path, "has encapsulated Pixel Data with no fragments") }
        if fragments.count == frames { return fragments.map { [$0] } }
        if frames == 1 { return [fragments] }
        // Offsets in the tables count from the first fragment's item header.
        let base = fragments[0].offset - 8
        let table = extended ?? basic
        guard table.count == frames else {
            throw SourceError(path, "declares \(frames) frames but its Pixel Data holds \(fragments.count) fragments and an offset table of \(table.count) entries")
        }
        let starts = fragments.map { $0.offset - 8 - base }
        let fragmentAt = Dictionary(starts.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var out = [[(offset: Int, length: Int)]]()
        for f in 0..<frames {
            let lo = table[f], hi = f + 1 < frames ? table[f + 1] : Int.max
            guard let first = fragmentAt[lo], lo < hi else {
                throw SourceError(path, "has an offset table entry \(lo) for frame \(f) that is not the start of a fragment")
            }
            var group = [(offset: Int, length: Int)]()
            var k = first
            while k < fragments.count, starts[k] < hi { group.append(fragments[k]); k += 1 }
            out.append(group)
        }
        return out
    }

    /// The stored (possibly compressed) bytes of `frame`.
    func frameData(_ frame: Int, file: DICOMFileBytes) throws -> [UInt8] {
        let ranges = frameRanges[frame]
        if ranges.count == 1 { return try file.read(ranges[0].offset, ranges[0].length, what: "frame \(frame)") }
        var out = [UInt8]()
        for r in ranges { out += try file.read(r.offset, r.length, what: "frame \(frame)") }
        return out
    }

    /// `frame` decoded into planes (see `DICOMFrameDecoder`).
    func decode(_ frame: Int, file: DICOMFileBytes) throws -> [UInt8] {
        try DICOMFrameDecoder.decode(frameData(frame, file: file), syntax: syntax, format: format, path: path, frame: frame)
    }
}

/// Human names of the transfer syntaxes, for `tessera info` and error messages.
enum DICOMSyntaxNames {
    static func name(_ uid: String) -> String {
        switch uid {
        case DICOMHeader.implicitLittle: return "Implicit VR Little Endian"
        case DICOMHeader.explicitLittle: return "Explicit VR Little Endian"
        case DICOMHeader.explicitBig: return "Explicit VR Big Endian"
        case DICOMHeader.deflated: return "Deflated Explicit VR Little Endian"
        case "1.2.840.10008.1.2.4.50": return "JPEG Baseline"
        case "1.2.840.10008.1.2.4.51": return "JPEG Extended"
        case "1.2.840.10008.1.2.4.57": return "JPEG Lossless"
        case "1.2.840.10008.1.2.4.70": return "JPEG Lossless SV1"
        case "1.2.840.10008.1.2.4.80": return "JPEG-LS Lossless"
        case "1.2.840.10008.1.2.4.81": return "JPEG-LS Near-Lossless"
        case "1.2.840.10008.1.2.4.90": return "JPEG 2000 Lossless"
        case "1.2.840.10008.1.2.4.91": return "JPEG 2000"
        case "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203": return "High-Throughput JPEG 2000"
        case DICOMFrameDecoder.rle: return "RLE Lossless"
        default: return "unknown"
        }
    }

    /// The most a syntax's compression can expand: bounds `DeclaredSizeLimit`.
    static func expansion(_ uid: String) -> Int {
        switch uid {
        case DICOMHeader.implicitLittle, DICOMHeader.explicitLittle: return 1
        // A PackBits run of 128 equal bytes takes 2 bytes.
        case DICOMFrameDecoder.rle: return 64
        case "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70": return 2048
        default: return 65536
        }
    }
}
