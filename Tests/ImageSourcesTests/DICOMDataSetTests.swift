import Foundation
@testable import ImageSources
import Testing

/// The DICOM walker and RLE decoder on hand-made bytes: every damaged length is an error
/// naming the file, never a crash or a read past the end.
@Suite struct DICOMDataSetTests {
    /// A Part 10 file: preamble, DICM, the transfer syntax, then `body` (explicit VR LE).
    static func file(_ body: [UInt8], syntax: String = "1.2.840.10008.1.2.1") -> [UInt8] {
        var uid = Array(syntax.utf8)
        if uid.count % 2 == 1 { uid.append(0) }
        var out = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
        out += element(0x0002, 0x0010, "UI", uid)
        return out + body
    }

    static func element(_ group: UInt16, _ elem: UInt16, _ vr: String, _ value: [UInt8]) -> [UInt8] {
        var out = le16(group) + le16(elem) + Array(vr.utf8)
        if ["OB", "OW", "SQ", "UN", "UT"].contains(vr) {
            out += [0, 0] + le32(UInt32(value.count))
        } else {
            out += le16(UInt16(value.count))
        }
        return out + value
    }

    static func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "dicom-\(UUID().uuidString).dcm"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func image(rows: UInt16 = 2, columns: UInt16 = 3, pixels: [UInt8]) -> [UInt8] {
        element(0x0028, 0x0002, "US", le16(1)) + element(0x0028, 0x0004, "CS", Array("MONOCHROME2 ".utf8))
            + element(0x0028, 0x0010, "US", le16(rows)) + element(0x0028, 0x0011, "US", le16(columns))
            + element(0x0028, 0x0100, "US", le16(8)) + element(0x0028, 0x0101, "US", le16(8))
            + element(0x0028, 0x0103, "US", le16(0)) + element(0x7FE0, 0x0010, "OB", pixels)
    }

    @Test func readsNativeFrame() throws {
        let path = try Self.write(Self.file(Self.image(pixels: [1, 2, 3, 4, 5, 6])))
        defer { unlink(path) }
        let instance = try DICOMInstance(path: path)
        #expect(instance.frames == 1)
        #expect(try instance.decode(0, file: DICOMFileBytes(path: path)) == [1, 2, 3, 4, 5, 6])
    }

    @Test func pixelDataPastTheEndIsTruncated() throws {
        var bytes = Self.file(Self.image(pixels: [1, 2, 3, 4, 5, 6]))
        bytes.removeLast(2)
        let path = try Self.write(bytes)
        defer { unlink(path) }
        #expect {
            _ = try DICOMInstance(path: path)
        } throws: { "\($0)".contains(path) && "\($0)".contains("truncated") }
    }

    @Test func tooFewBytesForTheFramesIsRefused() throws {
        let body = Self.element(0x0028, 0x0008, "IS", Array("3 ".utf8)) + Self.image(pixels: [1, 2, 3, 4, 5, 6])
        let path = try Self.write(Self.file(body))
        defer { unlink(path) }
        #expect {
            _ = try DICOMInstance(path: path)
        } throws: { "\($0)".contains("declares 3 frame(s)") }
    }

    @Test func rowsAndColumnsStoredAsHugeNumbersAreRefused() throws {
        // Rows/Columns written with VR UL at 2^32 − 1: their product would overflow Int.
        let body = Self.element(0x0028, 0x0010, "UL", Self.le32(0xFFFF_FFFF)) + Self.element(0x0028, 0x0011, "UL", Self.le32(0xFFFF_FFFF))
            + Self.element(0x0028, 0x0100, "US", Self.le16(32)) + Self.element(0x0028, 0x0002, "US", Self.le16(3))
            + Self.element(0x7FE0, 0x0010, "OB", [0, 0])
        let path = try Self.write(Self.file(body))
        defer { unlink(path) }
        #expect {
            _ = try DICOMInstance(path: path)
        } throws: { "\($0)".contains("at most 65535") }
    }

    @Test func hugeElementLengthIsTruncatedNotAllocated() throws {
        let body = Self.le16(0x0010) + Self.le16(0x0010) + Array("UT".utf8) + [0, 0] + Self.le32(0xFFFF_FFF0)
        let path = try Self.write(Self.file(body))
        defer { unlink(path) }
        #expect {
            _ = try DICOMHeader.read(path: path)
        } throws: { "\($0)".contains("truncated") }
    }

    @Test func deeplyNestedSequencesAreRefused() throws {
        // Undefined-length sequences and items nested 40 deep, never closed.
        var body = [UInt8]()
        for _ in 0..<40 {
            body += Self.le16(0x0040) + Self.le16(0x0555) + Array("SQ".utf8) + [0, 0] + Self.le32(0xFFFF_FFFF)
            body += Self.le16(0xFFFE) + Self.le16(0xE000) + Self.le32(0xFFFF_FFFF)
        }
        let path = try Self.write(Self.file(body))
        defer { unlink(path) }
        #expect {
            _ = try DICOMHeader.read(path: path)
        } throws: { "\($0)".contains("nest") }
    }

    @Test func rleDecodesAndRejectsOverruns() throws {
        let format = try DICOMPixelFormat(DICOMHeader.read(path: Self.write(Self.file(Self.image(pixels: [0, 0, 0, 0, 0, 0])))).dataSet, path: "x")
        // One segment: a literal run of 2, then 4 repeats of 9.
        var rle = Self.le32(1) + Self.le32(64) + [UInt8](repeating: 0, count: 56)
        rle += [1, 7, 8, 0xFD, 9]
        #expect(try DICOMFrameDecoder.decodeRLE(rle, format, path: "x", frame: 0) == [7, 8, 9, 9, 9, 9])
        var bad = Self.le32(1) + Self.le32(64) + [UInt8](repeating: 0, count: 56)
        bad += [0xF0, 9]
        #expect { _ = try DICOMFrameDecoder.decodeRLE(bad, format, path: "x", frame: 0) } throws: { "\($0)".contains("overruns") }
        let short = Self.le32(1) + [UInt8](repeating: 0, count: 20)
        #expect { _ = try DICOMFrameDecoder.decodeRLE(short, format, path: "x", frame: 0) } throws: { "\($0)".contains("header") }
    }
}
