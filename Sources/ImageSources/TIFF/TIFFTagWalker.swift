import Foundation
import ZarrCore

/// Every tag of a TIFF directory, for the catalogue's harvest: a small bounded walker over
/// the file's bytes (classic TIFF and BigTIFF, either byte order), independent of libtiff,
/// which only hands out the tags it knows. Tags are named as tifffile names them (unknown
/// ones by their code); values: ASCII → text (up to the first NUL), integers and floats →
/// numbers, RATIONAL/SRATIONAL → the quotient, BYTE/UNDEFINED → their byte values; a value
/// with more than `maxElements` elements is the text `<N values>` (strip and tile offsets,
/// colour maps — documented exclusions).
enum TIFFTagWalker {
    static let maxElements = 64
    static let maxEntries = 4096
    static let maxTextBytes = 1 << 20

    struct Failure: Error {}

    /// The `MetadataFlattener` input for the first `ifdCount` top-level directories
    /// (scopes `ifd0`, `ifd1`, …), or nil when the file is not a TIFF this walker can read.
    static func metadata(path: String, ifdCount: Int = 1) -> JSONValue? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()).map(Int.init) ?? 0
        func read(_ offset: Int, _ count: Int) throws -> [UInt8] {
            guard offset >= 0, count >= 0, offset <= size, count <= size - offset else { throw Failure() }
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else { throw Failure() }
            return [UInt8](data)
        }
        do {
            let head = try read(0, 16 <= size ? 16 : 8)
            let little: Bool
            switch (head[0], head[1]) {
            case (0x49, 0x49): little = true
            case (0x4D, 0x4D): little = false
            default: return nil
            }
            let r = Reader(little: little)
            let version = r.u16(head, 2)
            let big = version == 43
            guard version == 42 || big else { return nil }
            var next = big ? Int(clamping: r.u64(head, 8)) : Int(r.u32(head, 4))
            var scopes = [JSONValue]()
            var seen = Set<Int>()
            var index = 0
            while next != 0, index < ifdCount, seen.insert(next).inserted {
                let countBytes = try read(next, big ? 8 : 2)
                let count = big ? Int(clamping: r.u64(countBytes, 0)) : Int(r.u16(countBytes, 0))
                guard count <= maxEntries else { throw Failure() }
                let entrySize = big ? 20 : 12
                let entries = try read(next + countBytes.count, count * entrySize + (big ? 8 : 4))
                var values = [JSONValue]()
                for e in 0..<count {
                    let at = e * entrySize
                    let tag = Int(r.u16(entries, at)), type = Int(r.u16(entries, at + 2))
                    let n = big ? Int(clamping: r.u64(entries, at + 4)) : Int(r.u32(entries, at + 4))
                    guard let width = typeWidth[type] else { continue }
                    let valueField = at + (big ? 12 : 8)
                    let inline = big ? 8 : 4
                    let name = tagNames[tag] ?? String(tag)
                    if type != 2, n > maxElements {
                        values.append(.array([.string(name), .string("<\(n) values>")]))
                        continue
                    }
                    let length = min(n.multipliedReportingOverflow(by: width).overflow ? Int.max : n * width,
                                     type == 2 ? maxTextBytes : Int.max)
                    let bytes: [UInt8]
                    if length <= inline {
                        bytes = Array(entries[valueField..<(valueField + length)])
                    } else {
                        let offset = big ? Int(clamping: r.u64(entries, valueField)) : Int(r.u32(entries, valueField))
                        bytes = try read(offset, length)
                    }
                    values.append(.array([.string(name), decode(type: type, count: min(n, length / width), bytes, r)]))
                }
                scopes.append(.object(["scope": .string("ifd\(index)"), "entries": .array(values)]))
                let link = count * entrySize
                next = big ? Int(clamping: r.u64(entries, link)) : Int(r.u32(entries, link))
                index += 1
            }
            return .object(["format": "tiff", "scopes": .array(scopes)])
        } catch {
            return nil
        }
    }

    static let typeWidth: [Int: Int] = [1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
                                        13: 4, 16: 8, 17: 8, 18: 8]

    static func decode(type: Int, count: Int, _ b: [UInt8], _ r: Reader) -> JSONValue {
        if type == 2 {
            return .string(String(decoding: b.prefix { $0 != 0 }, as: UTF8.self))
        }
        let items: [JSONValue] = (0..<count).map { i in
            switch type {
            case 1, 7: return .int(Int64(b[i]))
            case 6: return .int(Int64(Int8(bitPattern: b[i])))
            case 3: return .int(Int64(r.u16(b, i * 2)))
            case 8: return .int(Int64(Int16(bitPattern: r.u16(b, i * 2))))
            case 4, 13: return .int(Int64(r.u32(b, i * 4)))
            case 9: return .int(Int64(Int32(bitPattern: r.u32(b, i * 4))))
            case 5:
                let num = r.u32(b, i * 8), den = r.u32(b, i * 8 + 4)
                return den == 0 ? .string("\(num)/\(den)") : .double(Double(num) / Double(den))
            case 10:
                let num = Int32(bitPattern: r.u32(b, i * 8)), den = Int32(bitPattern: r.u32(b, i * 8 + 4))
                return den == 0 ? .string("\(num)/\(den)") : .double(Double(num) / Double(den))
            case 11:
                let f = Double(Float(bitPattern: r.u32(b, i * 4)))
                return f.isFinite ? .double(f) : .string("\(f)")
            case 12:
                let d = Double(bitPattern: r.u64(b, i * 8))
                return d.isFinite ? .double(d) : .string("\(d)")
            case 16, 18: return .uint(r.u64(b, i * 8))
            default: return .int(Int64(bitPattern: r.u64(b, i * 8)))
            }
        }
        return items.count == 1 ? items[0] : .array(items)
    }

    struct Reader {
        var little: Bool
        func u16(_ b: [UInt8], _ at: Int) -> UInt16 {
            let v = UInt16(b[at]) | UInt16(b[at + 1]) << 8
            return little ? v : v.byteSwapped
        }
        func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v |= UInt32(b[at + k]) << (8 * k) }
            return little ? v : v.byteSwapped
        }
        func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(b[at + k]) << (8 * k) }
            return little ? v : v.byteSwapped
        }
    }

    /// tifffile's names (`tifffile.TIFF.TAGS`) of the tags scientific TIFFs carry.
    static let tagNames: [Int: String] = [
        254: "NewSubfileType", 255: "SubfileType", 256: "ImageWidth", 257: "ImageLength", 258: "BitsPerSample",
        259: "Compression", 262: "PhotometricInterpretation", 263: "Thresholding", 266: "FillOrder",
        269: "DocumentName", 270: "ImageDescription", 271: "Make", 272: "Model", 273: "StripOffsets",
        274: "Orientation", 277: "SamplesPerPixel", 278: "RowsPerStrip", 279: "StripByteCounts",
        280: "MinSampleValue", 281: "MaxSampleValue", 282: "XResolution", 283: "YResolution",
        284: "PlanarConfiguration", 285: "PageName", 286: "XPosition", 287: "YPosition", 290: "GrayResponseUnit",
        291: "GrayResponseCurve", 296: "ResolutionUnit", 297: "PageNumber", 301: "TransferFunction", 305: "Software",
        306: "DateTime", 315: "Artist", 316: "HostComputer", 317: "Predictor", 318: "WhitePoint",
        319: "PrimaryChromaticities", 320: "ColorMap", 322: "TileWidth", 323: "TileLength", 324: "TileOffsets",
        325: "TileByteCounts", 330: "SubIFDs", 332: "InkSet", 338: "ExtraSamples", 339: "SampleFormat",
        340: "SMinSampleValue", 341: "SMaxSampleValue", 347: "JPEGTables", 529: "YCbCrCoefficients",
        530: "YCbCrSubSampling", 531: "YCbCrPositioning", 532: "ReferenceBlackWhite", 700: "XMP",
        32997: "ImageDepth", 32998: "TileDepth", 33432: "Copyright", 33434: "ExposureTime", 33437: "FNumber",
        33550: "ModelPixelScaleTag", 33922: "ModelTiepointTag", 34264: "ModelTransformationTag",
        34377: "ImageResources", 34665: "ExifTag", 34675: "InterColorProfile", 34853: "GPSTag",
        34735: "GeoKeyDirectoryTag", 34736: "GeoDoubleParamsTag", 34737: "GeoAsciiParamsTag",
        50838: "IJMetadataByteCounts", 50839: "IJMetadata",
    ]
}
