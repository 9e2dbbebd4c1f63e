import CGDCMBridge
import ZarrCore
import Foundation

/// How an instance's pixels are laid out, from its header, with every size checked.
struct DICOMPixelFormat: Equatable {
    var rows: Int
    var columns: Int
    var samples: Int
    var bitsAllocated: Int
    var bitsStored: Int
    var signed: Bool
    /// 1 = the samples of a colour pixel are stored plane after plane (native data).
    var planar: Int
    var photometric: String

    /// Frames larger than this are refused (a 65535 × 65535 × 3 × 4-byte frame is 51 GB).
    static let maxFrameBytes = 1 << 31

    init(_ ds: DICOMDataSet, path: String) throws {
        guard let rows = ds.integer(DICOMTag.rows), let columns = ds.integer(DICOMTag.columns), rows > 0, columns > 0 else {
            throw SourceError(path, "has no image: Rows (0028,0010) and Columns (0028,0011) are missing or zero")
        }
        // Both are US (at most 65535); a file that stores them otherwise gets no more.
        guard rows <= 65535, columns <= 65535 else {
            throw SourceError(path, "declares \(rows) rows × \(columns) columns; DICOM allows at most 65535 each")
        }
        let samples = ds.integer(DICOMTag.samplesPerPixel) ?? 1
        guard samples == 1 || samples == 3 else { throw SourceError(path, "has \(samples) samples per pixel; Tessera reads 1 (grey) or 3 (colour)") }
        guard let bits = ds.integer(DICOMTag.bitsAllocated), [8, 16, 32].contains(bits) else {
            throw SourceError(path, "has Bits Allocated \(ds.integer(DICOMTag.bitsAllocated).map(String.init) ?? "missing"); Tessera reads 8, 16 or 32")
        }
        let stored = ds.integer(DICOMTag.bitsStored) ?? bits
        guard stored >= 1, stored <= bits else { throw SourceError(path, "has Bits Stored \(stored) with Bits Allocated \(bits)") }
        let photometric = ds.string(DICOMTag.photometricInterpretation) ?? (samples == 1 ? "MONOCHROME2" : "RGB")
        let known = samples == 1 ? ["MONOCHROME1", "MONOCHROME2"] : ["RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420"]
        guard known.contains(photometric) else {
            throw SourceError(path, "has Photometric Interpretation \(photometric) with \(samples) samples per pixel; Tessera reads MONOCHROME1/2 and RGB/YBR colour")
        }
        self.rows = rows
        self.columns = columns
        self.samples = samples
        self.bitsAllocated = bits
        self.bitsStored = stored
        self.signed = ds.integer(DICOMTag.pixelRepresentation) == 1
        self.planar = ds.integer(DICOMTag.planarConfiguration) ?? 0
        self.photometric = photometric
        guard frameBytes <= Self.maxFrameBytes else {
            throw SourceError(path, "declares frames of \(rows) × \(columns) × \(samples) × \(bits / 8) bytes, more than Tessera reads (\(Self.maxFrameBytes) bytes)")
        }
    }

    var bytesPerSample: Int { bitsAllocated / 8 }
    /// rows × columns × samples × bytes; bounded by the Int16-sized header fields.
    var frameBytes: Int { rows * columns * samples * bytesPerSample }
}

/// Decodes one frame of an instance into planes: `samples` planes of rows × columns,
/// little endian, unused high bits masked (unsigned) or sign-extended (signed), colour
/// always RGB. Native and RLE data are decoded here; JPEG, JPEG-LS and JPEG 2000 by GDCM.
enum DICOMFrameDecoder {
    static let rle = "1.2.840.10008.1.2.5"

    /// Transfer syntaxes whose frames are stored uncompressed.
    static func isNative(_ syntax: String) -> Bool {
        syntax == DICOMHeader.implicitLittle || syntax == DICOMHeader.explicitLittle
    }

    static func canDecode(_ syntax: String) -> Bool {
        isNative(syntax) || syntax == rle || tessera_gdcm_can_decode(syntax) == 1
    }

    static func decode(_ data: [UInt8], syntax: String, format f: DICOMPixelFormat, path: String, frame: Int) throws -> [UInt8] {
        var planes: [UInt8]
        var photometric = f.photometric
        if isNative(syntax) {
            guard data.count >= f.frameBytes else {
                throw SourceError(path, "frame \(frame) has \(data.count) bytes, the header declares \(f.frameBytes)")
            }
            planes = f.planar == 1 || f.samples == 1 ? Array(data.prefix(f.frameBytes)) : deinterleave(data, f)
        } else if syntax == rle {
            planes = try decodeRLE(data, f, path: path, frame: frame)
        } else if isJPEG8(syntax, f) {
            let out = try decodeJPEG8(data, f, path: path, frame: frame)
            photometric = f.samples == 3 ? "RGB" : f.photometric
            planes = f.samples == 1 ? out : deinterleave(out, f)
        } else {
            var out = [UInt8](repeating: 0, count: f.frameBytes)
            var planar: Int32 = 0
            var pi = [CChar](repeating: 0, count: 32), error = [CChar](repeating: 0, count: 512)
            let status = data.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    tessera_gdcm_decode_frame(syntax, src.baseAddress, src.count, UInt32(f.columns), UInt32(f.rows),
                                              UInt16(f.samples), UInt16(f.bitsAllocated), UInt16(f.bitsStored), f.signed ? 1 : 0,
                                              f.photometric, dst.baseAddress, dst.count, &planar, &pi, pi.count, &error, error.count)
                }
            }
            guard status == 0 else {
                throw SourceError(path, "frame \(frame) cannot be decoded (\(syntax)): \(text(error))")
            }
            let decodedPI = text(pi)
            if !decodedPI.isEmpty { photometric = decodedPI }
            // JPEG 2000 with a colour transform (YBR_ICT/RCT) is RGB once decoded.
            if photometric == "YBR_ICT" || photometric == "YBR_RCT" { photometric = "RGB" }
            // A JPEG codestream whose components are named R, G, B holds RGB whatever the
            // header says (some writers label lossless RGB frames YBR_FULL; pydicom and
            // libjpeg follow the codestream too).
            if photometric.hasPrefix("YBR_FULL"), jpegComponentsAreRGB(data) { photometric = "RGB" }
            planes = planar == 1 || f.samples == 1 ? out : deinterleave(out, f)
        }
        if photometric.hasPrefix("YBR_FULL"), f.samples == 3, f.bitsAllocated == 8 { ybrToRGB(&planes, f) }
        if f.bitsStored < f.bitsAllocated { fixUnusedBits(&planes, f) }
        return planes
    }

    /// 8-bit JPEG (baseline, or extended with 8-bit samples): libjpeg-turbo, the decoder
    /// slide readers use (Pillow, OpenSlide), which reports errors instead of printing them.
    static func isJPEG8(_ syntax: String, _ f: DICOMPixelFormat) -> Bool {
        (syntax == "1.2.840.10008.1.2.4.50" || syntax == "1.2.840.10008.1.2.4.51") && f.bitsAllocated == 8
    }

    /// One 8-bit JPEG frame, decoded to interleaved RGB (colour converted by the
    /// decoder, ISLOW IDCT, fancy upsampling) or grey; its size must match the header's.
    static func decodeJPEG8(_ data: [UInt8], _ f: DICOMPixelFormat, path: String, frame: Int) throws -> [UInt8] {
        do {
            return try TurboJPEG.decode(data, samples: f.samples == 3 ? 3 : 1) { header in
                guard header.width == f.columns, header.height == f.rows else {
                    throw SourceError(path, "frame \(frame) is a \(header.width) × \(header.height) JPEG image, "
                                      + "the header declares \(f.columns) × \(f.rows)")
                }
            }
        } catch let failure as TurboJPEG.Failure {
            throw SourceError(path, "frame \(frame): \(failure.description)")
        }
    }

    /// Whether a JPEG codestream's frame header (SOFn) names its three components 'R',
    /// 'G', 'B' — or an Adobe APP14 marker says "no transform". Reads markers only up to
    /// the frame header, each length checked.
    static func jpegComponentsAreRGB(_ d: [UInt8]) -> Bool {
        guard d.count >= 4, d[0] == 0xFF, d[1] == 0xD8 else { return false }
        var i = 2
        while i + 4 <= d.count {
            guard d[i] == 0xFF else { return false }
            let marker = d[i + 1]
            if marker == 0xFF { i += 1; continue }
            let length = Int(d[i + 2]) << 8 | Int(d[i + 3])
            guard length >= 2, i + 2 + length <= d.count else { return false }
            let body = i + 4
            if marker == 0xEE, length >= 14, d[body..<(body + 5)].elementsEqual(Array("Adobe".utf8)) {
                if d[body + 11] == 0 { return true }
            }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                // SOF: precision, height(2), width(2), Nf, then Nf × (id, sampling, table).
                guard length >= 8 + 3 * 3, d[body + 5] == 3 else { return false }
                let ids = (0..<3).map { d[body + 6 + 3 * $0] }
                return ids == [0x52, 0x47, 0x42]
            }
            i += 2 + length
        }
        return false
    }

    /// A NUL-terminated C string filled in by a C call.
    static func text(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Interleaved R,G,B,R,G,B… → three planes.
    static func deinterleave(_ data: [UInt8], _ f: DICOMPixelFormat) -> [UInt8] {
        let n = f.rows * f.columns, b = f.bytesPerSample, s = f.samples
        var out = [UInt8](repeating: 0, count: n * s * b)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<n {
                    for c in 0..<s {
                        for k in 0..<b { dst[(c * n + p) * b + k] = src[(p * s + c) * b + k] }
                    }
                }
            }
        }
        return out
    }

    /// DICOM RLE (PS3.5 annex G): one PackBits segment per byte plane, most significant
    /// byte first, samples plane after plane. Every count is checked against the frame.
    static func decodeRLE(_ data: [UInt8], _ f: DICOMPixelFormat, path: String, frame: Int) throws -> [UInt8] {
        let bad = { (why: String) in SourceError(path, "frame \(frame) is not valid RLE: \(why)") }
        guard data.count >= 64 else { throw bad("its header has \(data.count) of 64 bytes") }
        let segments = Int(DICOMDataSet.uint32(data, 0))
        let b = f.bytesPerSample, n = f.rows * f.columns
        guard segments == f.samples * b else { throw bad("\(segments) segments where \(f.samples) samples of \(b) bytes need \(f.samples * b)") }
        let offsets = (0..<segments).map { Int(DICOMDataSet.uint32(data, 4 + 4 * $0)) }
        var out = [UInt8](repeating: 0, count: n * f.samples * b)
        for s in 0..<segments {
            let start = offsets[s], end = s + 1 < segments ? offsets[s + 1] : data.count
            guard start >= 64, start <= end, end <= data.count else { throw bad("segment \(s) lies outside the frame (\(start)..<\(end) of \(data.count))") }
            let sample = s / b, byte = b - 1 - s % b
            var i = start, p = 0
            while p < n, i < end {
                let count = Int(Int8(bitPattern: data[i]))
                i += 1
                if count >= 0 {
                    guard i + count + 1 <= end, p + count + 1 <= n else { throw bad("a literal run overruns segment \(s)") }
                    for k in 0...count { out[(sample * n + p + k) * b + byte] = data[i + k] }
                    i += count + 1
                    p += count + 1
                } else if count != -128 {
                    let repeats = 1 - count
                    guard i < end, p + repeats <= n else { throw bad("a repeat run overruns segment \(s)") }
                    let v = data[i]
                    for k in 0..<repeats { out[(sample * n + p + k) * b + byte] = v }
                    i += 1
                    p += repeats
                }
            }
            guard p == n else { throw bad("segment \(s) holds \(p) of \(n) pixels") }
        }
        return out
    }

    /// YCbCr (full range, as JPEG stores colour) to RGB planes, as PS3.3 C.7.6.3.1.2 and
    /// pydicom's `convert_color_space` compute it (rounded, clamped).
    static func ybrToRGB(_ planes: inout [UInt8], _ f: DICOMPixelFormat) {
        let n = f.rows * f.columns
        for p in 0..<n {
            let y = Double(planes[p]), cb = Double(planes[n + p]) - 128, cr = Double(planes[2 * n + p]) - 128
            let r = y + 1.402 * cr, g = y - 0.344136 * cb - 0.714136 * cr, bl = y + 1.772 * cb
            planes[p] = UInt8(max(0, min(255, r.rounded())))
            planes[n + p] = UInt8(max(0, min(255, g.rounded())))
            planes[2 * n + p] = UInt8(max(0, min(255, bl.rounded())))
        }
    }

    /// Bits above Bits Stored are not part of the value: cleared for unsigned samples,
    /// copies of the sign bit for signed ones.
    static func fixUnusedBits(_ planes: inout [UInt8], _ f: DICOMPixelFormat) {
        let b = f.bytesPerSample, stored = f.bitsStored
        planes.withUnsafeMutableBytes { raw in
            let count = raw.count / b
            switch b {
            case 1:
                for i in 0..<count {
                    let v = raw[i]
                    raw[i] = f.signed ? UInt8(bitPattern: Int8(bitPattern: v << (8 - stored)) >> (8 - stored)) : v & UInt8((1 << stored) - 1)
                }
            case 2:
                for i in 0..<count {
                    let v = raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                    let w = f.signed ? UInt16(bitPattern: Int16(bitPattern: v << (16 - stored)) >> (16 - stored)) : v & UInt16((1 << stored) - 1)
                    raw.storeBytes(of: w, toByteOffset: 2 * i, as: UInt16.self)
                }
            default:
                for i in 0..<count {
                    let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                    let w = f.signed ? UInt32(bitPattern: Int32(bitPattern: v << (32 - stored)) >> (32 - stored)) : v & UInt32((UInt64(1) << stored) - 1)
                    raw.storeBytes(of: w, toByteOffset: 4 * i, as: UInt32.self)
                }
            }
        }
    }
}
