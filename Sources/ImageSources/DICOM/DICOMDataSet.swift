import Foundation
import ZarrCore

/// One element's value: its bytes (with the VR the file or the dictionary gives), or the
/// items of a sequence.
enum DICOMValue {
    case bytes(vr: String?, [UInt8])
    case sequence([DICOMDataSet])
}

/// The elements of a data set (or of one sequence item), by tag. Accessors decode the
/// value representations Tessera needs and return nil for anything absent or malformed.
struct DICOMDataSet {
    var elements: [UInt32: DICOMValue] = [:]
    /// Tags in file order (for the metadata).
    var order: [UInt32] = []

    subscript(tag: UInt32) -> DICOMValue? { elements[tag] }

    func sequence(_ tag: UInt32) -> [DICOMDataSet] {
        if case let .sequence(items)? = elements[tag] { return items }
        return []
    }

    /// The first item of a sequence, for the functional-group macros that hold one.
    func item(_ tag: UInt32) -> DICOMDataSet? { sequence(tag).first }

    func strings(_ tag: UInt32) -> [String] {
        guard case let .bytes(_, raw)? = elements[tag] else { return [] }
        return Self.text(raw).split(separator: "\\", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \0")) }
    }

    func string(_ tag: UInt32) -> String? {
        guard let s = strings(tag).first, !s.isEmpty else { return nil }
        return s
    }

    /// Decimal strings (DS) as numbers; nil when any value is not a finite number.
    func doubles(_ tag: UInt32) -> [Double]? {
        let s = strings(tag)
        guard !s.isEmpty else { return nil }
        let values = s.compactMap(Double.init).filter(\.isFinite)
        return values.count == s.count ? values : nil
    }

    func double(_ tag: UInt32) -> Double? { doubles(tag)?.first }

    /// An integer stored as US, UL, SS, SL or as text (IS).
    func integer(_ tag: UInt32) -> Int? {
        guard case let .bytes(vr, raw)? = elements[tag] else { return nil }
        switch vr ?? DICOMTag.implicitVR[tag] {
        case "US": return raw.count >= 2 ? Int(UInt16(raw[0]) | UInt16(raw[1]) << 8) : nil
        case "SS": return raw.count >= 2 ? Int(Int16(bitPattern: UInt16(raw[0]) | UInt16(raw[1]) << 8)) : nil
        case "UL": return raw.count >= 4 ? Int(Self.uint32(raw, 0)) : nil
        case "SL": return raw.count >= 4 ? Int(Int32(bitPattern: Self.uint32(raw, 0))) : nil
        default: return string(tag).flatMap { Int($0) }
        }
    }

    static func uint32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    static func text(_ raw: [UInt8]) -> String { String(decoding: raw, as: UTF8.self) }

    /// The text and number elements as the DICOM JSON model writes them
    /// (`{"GGGGEEEE": {"vr": …, "Value": […]}}`, plus a `keyword` for well-known tags);
    /// bulk binary values and sequences are left out.
    var json: JSONValue {
        var out = [String: JSONValue]()
        let textVRs: Set<String> = ["AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT"]
        for tag in order {
            guard case let .bytes(fileVR, raw)? = elements[tag], let vr = fileVR ?? DICOMTag.implicitVR[tag], raw.count <= 4096 else { continue }
            var values = [JSONValue]()
            if textVRs.contains(vr) {
                let items = strings(tag)
                values = items.map { item in
                    if vr == "DS", let d = Double(item), d.isFinite { return .double(d) }
                    if vr == "IS", let i = Int64(item) { return .int(i) }
                    return .string(item)
                }
            } else if ["US", "SS", "UL", "SL"].contains(vr) {
                let width = vr.hasSuffix("S") ? 2 : 4
                for at in stride(from: 0, to: raw.count - width + 1, by: width) {
                    let u = width == 2 ? UInt32(raw[at]) | UInt32(raw[at + 1]) << 8 : Self.uint32(raw, at)
                    switch vr {
                    case "SS": values.append(.int(Int64(Int16(truncatingIfNeeded: u))))
                    case "SL": values.append(.int(Int64(Int32(bitPattern: u))))
                    default: values.append(.int(Int64(u)))
                    }
                }
            } else {
                continue
            }
            var entry: [String: JSONValue] = ["vr": .string(vr), "Value": .array(values)]
            if let k = DICOMTag.keywords[tag] { entry["keyword"] = .string(k) }
            out[DICOMTag.key(tag)] = .object(entry)
        }
        return .object(out)
    }
}

/// Where an instance's pixels are: one native block, or the fragments of encapsulated
/// (compressed) pixel data with the offset tables that say which fragments make a frame.
enum DICOMPixelData {
    case native(offset: Int, length: Int)
    case encapsulated(fragments: [(offset: Int, length: Int)], basicOffsets: [Int], extendedOffsets: [Int]?)
}

/// The header of one DICOM Part 10 file, read by our own bounded walker (GDCM is only
/// given single frames to decode): every length is checked against the file before it
/// is used, sequences nest at most `maxDepth` deep, and the walk stops at the top-level
/// Pixel Data, of which it records only where the bytes are.
struct DICOMHeader {
    let path: String
    let fileSize: Int
    let transferSyntax: String
    let dataSet: DICOMDataSet
    let pixelData: DICOMPixelData?

    static let maxDepth = 16
    /// Values larger than this (other than pixel data) are skipped, not kept in memory.
    static let maxKeptValue = 16 << 20

    static let implicitLittle = "1.2.840.10008.1.2"
    static let explicitLittle = "1.2.840.10008.1.2.1"
    static let explicitBig = "1.2.840.10008.1.2.2"
    static let deflated = "1.2.840.10008.1.2.1.99"

    /// Whether the 132 first bytes carry the Part 10 preamble and `DICM` prefix.
    static func hasPrefix(_ head: [UInt8]) -> Bool {
        head.count >= 132 && head[128] == 0x44 && head[129] == 0x49 && head[130] == 0x43 && head[131] == 0x4D
    }

    static func read(path: String) throws -> DICOMHeader {
        let file = try DICOMFileBytes(path: path)
        guard hasPrefix(try file.read(0, min(132, file.size), what: "the 128-byte preamble and DICM prefix")) else {
            throw SourceError(path, "is not a DICOM file (no 'DICM' prefix after the 128-byte preamble)")
        }
        var walker = Walker(file: file, explicitVR: true)
        // The file meta information (group 0002) is always explicit VR little endian.
        var meta = DICOMDataSet()
        var offset = 132
        while offset + 8 <= file.size {
            let head = try file.read(offset, 4, what: "an element header")
            guard head[0] == 0x02, head[1] == 0x00 else { break }
            offset = try walker.element(at: offset, into: &meta, depth: 0, stopAtPixelData: false).next
        }
        guard let syntax = meta.string(DICOMTag.transferSyntaxUID) else {
            throw SourceError(path, "has no Transfer Syntax UID (0002,0010) in its file meta information")
        }
        switch syntax {
        case explicitBig:
            throw SourceError(path, "uses Explicit VR Big Endian (retired in 2004), which Tessera does not read; convert it to little endian first (e.g. dcmconv +te)")
        case deflated:
            throw SourceError(path, "uses Deflated Explicit VR Little Endian, which Tessera does not read; inflate it first (e.g. dcmconv +te)")
        default: break
        }
        walker.explicitVR = syntax != implicitLittle
        var dataSet = DICOMDataSet()
        for tag in meta.order { dataSet.elements[tag] = meta.elements[tag]; dataSet.order.append(tag) }
        var pixels: DICOMPixelData?
        while offset < file.size {
            guard file.size - offset >= 8 else {
                throw SourceError(path, "is truncated: \(file.size - offset) stray bytes at \(offset) where an element should start")
            }
            let step = try walker.element(at: offset, into: &dataSet, depth: 0, stopAtPixelData: true)
            if let p = step.pixelData { pixels = p; break }
            offset = step.next
        }
        return DICOMHeader(path: path, fileSize: file.size, transferSyntax: syntax, dataSet: dataSet, pixelData: pixels)
    }

    /// The element-by-element walk; all offsets are absolute file offsets.
    struct Walker {
        let file: DICOMFileBytes
        var explicitVR: Bool
        private static let longVRs: Set<String> = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV"]
        private static let undefined: UInt32 = 0xFFFF_FFFF

        init(file: DICOMFileBytes, explicitVR: Bool) {
            self.file = file
            self.explicitVR = explicitVR
        }

        private var path: String { file.path }

        /// Reads the element at `offset` into `set`; returns where the next one starts, or
        /// the pixel data when this is the top-level Pixel Data and `stopAtPixelData`.
        mutating func element(at offset: Int, into set: inout DICOMDataSet, depth: Int, stopAtPixelData: Bool) throws
            -> (next: Int, pixelData: DICOMPixelData?) {
            let head = try file.read(offset, 8, what: "the element header at byte \(offset)")
            let tag = UInt32(head[0]) << 16 | UInt32(head[1]) << 24 | UInt32(head[2]) | UInt32(head[3]) << 8
            var vr: String?
            var length: UInt32
            var valueStart: Int
            // Item and delimiter tags have no VR in either encoding.
            let isDelimiter = tag >> 16 == 0xFFFE
            if explicitVR && !isDelimiter {
                vr = String(decoding: head[4..<6], as: UTF8.self)
                guard vr!.utf8.allSatisfy({ $0 >= 0x41 && $0 <= 0x5A }) else {
                    throw SourceError(path, "is damaged: element \(DICOMTag.text(tag)) at byte \(offset) has no valid VR")
                }
                if Self.longVRs.contains(vr!) {
                    let l = try file.read(offset + 8, 4, what: "the length of element \(DICOMTag.text(tag))")
                    length = DICOMDataSet.uint32(l, 0)
                    valueStart = offset + 12
                } else {
                    length = UInt32(head[6]) | UInt32(head[7]) << 8
                    valueStart = offset + 8
                }
            } else {
                length = DICOMDataSet.uint32(head, 4)
                valueStart = offset + 8
                vr = isDelimiter ? nil : DICOMTag.implicitVR[tag]
            }
            if tag == DICOMTag.pixelData, depth == 0, stopAtPixelData {
                if length == Self.undefined {
                    return (valueStart, try encapsulated(from: valueStart, set: set))
                }
                let n = Int(length)
                guard n <= file.size - valueStart else {
                    throw SourceError(path, "is truncated: Pixel Data declares \(n) bytes at byte \(valueStart) but the file ends at \(file.size)")
                }
                return (valueStart + n, .native(offset: valueStart, length: n))
            }
            if length == Self.undefined {
                // Undefined length: a sequence (SQ, or UN holding implicit-VR items), or
                // nested encapsulated pixel data (an icon), which is skipped the same way.
                guard vr == nil || vr == "SQ" || vr == "UN" || vr == "OB" || vr == "OW" else {
                    throw SourceError(path, "is damaged: element \(DICOMTag.text(tag)) (\(vr ?? "?")) has an undefined length")
                }
                let saved = explicitVR
                if vr == "UN" { explicitVR = false }
                defer { explicitVR = saved }
                let (items, end) = try sequence(from: valueStart, end: nil, depth: depth + 1, encapsulated: tag == DICOMTag.pixelData || vr == "OB" || vr == "OW")
                set.add(tag, .sequence(items))
                return (end, nil)
            }
            let n = Int(length)
            guard n <= file.size - valueStart else {
                throw SourceError(path, "is truncated: element \(DICOMTag.text(tag)) declares \(n) bytes at byte \(valueStart) but the file ends at \(file.size)")
            }
            if vr == "SQ" {
                let (items, _) = try sequence(from: valueStart, end: valueStart + n, depth: depth + 1, encapsulated: false)
                set.add(tag, .sequence(items))
            } else if n <= DICOMHeader.maxKeptValue {
                set.add(tag, .bytes(vr: explicitVR ? vr : nil, try file.read(valueStart, n, what: "element \(DICOMTag.text(tag))")))
            }
            return (valueStart + n, nil)
        }

        /// The items of a sequence, up to `end` (defined length) or its delimiter.
        private mutating func sequence(from start: Int, end: Int?, depth: Int, encapsulated: Bool) throws -> ([DICOMDataSet], Int) {
            guard depth <= DICOMHeader.maxDepth else {
                throw SourceError(path, "is damaged or hostile: sequences nest more than \(DICOMHeader.maxDepth) deep at byte \(start)")
            }
            var items = [DICOMDataSet]()
            var offset = start
            while end.map({ offset < $0 }) ?? true {
                let head = try file.read(offset, 8, what: "a sequence item header at byte \(offset)")
                let tag = UInt32(head[0]) << 16 | UInt32(head[1]) << 24 | UInt32(head[2]) | UInt32(head[3]) << 8
                let length = DICOMDataSet.uint32(head, 4)
                offset += 8
                if tag == DICOMTag.sequenceDelimitation { return (items, offset) }
                guard tag == DICOMTag.item else {
                    throw SourceError(path, "is damaged: expected a sequence item at byte \(offset - 8), found \(DICOMTag.text(tag))")
                }
                if encapsulated {
                    // Fragments of a nested (icon) pixel data: skipped.
                    guard length != Self.undefined, Int(length) <= file.size - offset else {
                        throw SourceError(path, "is truncated: a pixel data fragment at byte \(offset - 8) runs past the end of the file")
                    }
                    offset += Int(length)
                    continue
                }
                var item = DICOMDataSet()
                if length == Self.undefined {
                    while true {
                        let peek = try file.read(offset, 8, what: "an element header at byte \(offset)")
                        let t = UInt32(peek[0]) << 16 | UInt32(peek[1]) << 24 | UInt32(peek[2]) | UInt32(peek[3]) << 8
                        if t == DICOMTag.itemDelimitation { offset += 8; break }
                        offset = try element(at: offset, into: &item, depth: depth, stopAtPixelData: false).next
                    }
                } else {
                    let itemEnd = offset + Int(length)
                    guard itemEnd <= file.size, end.map({ itemEnd <= $0 }) ?? true else {
                        throw SourceError(path, "is truncated: a sequence item at byte \(offset - 8) declares \(length) bytes past its end")
                    }
                    while offset < itemEnd {
                        offset = try element(at: offset, into: &item, depth: depth, stopAtPixelData: false).next
                    }
                    guard offset == itemEnd else {
                        throw SourceError(path, "is damaged: the elements of the sequence item ending at byte \(itemEnd) overrun it")
                    }
                }
                items.append(item)
            }
            return (items, offset)
        }

        /// The fragments of encapsulated Pixel Data: the Basic Offset Table item, then one
        /// item per fragment up to the sequence delimiter. Each must lie in the file.
        private func encapsulated(from start: Int, set: DICOMDataSet) throws -> DICOMPixelData {
            var offset = start
            var fragments = [(offset: Int, length: Int)]()
            var basic = [Int]()
            var first = true
            while true {
                guard file.size - offset >= 8 else {
                    throw SourceError(path, "is truncated: its encapsulated Pixel Data ends at byte \(file.size) without the sequence delimiter (\(fragments.count) fragments read)")
                }
                let head = try file.read(offset, 8, what: "a pixel data item header")
                let tag = UInt32(head[0]) << 16 | UInt32(head[1]) << 24 | UInt32(head[2]) | UInt32(head[3]) << 8
                let length = DICOMDataSet.uint32(head, 4)
                offset += 8
                if tag == DICOMTag.sequenceDelimitation { break }
                guard tag == DICOMTag.item, length != Self.undefined else {
                    throw SourceError(path, "is damaged: expected a pixel data fragment at byte \(offset - 8), found \(DICOMTag.text(tag))")
                }
                let n = Int(length)
                guard n <= file.size - offset else {
                    throw SourceError(path, "is truncated: a pixel data fragment at byte \(offset - 8) declares \(n) bytes but the file ends at \(file.size)")
                }
                if first {
                    guard n % 4 == 0 else { throw SourceError(path, "is damaged: its Basic Offset Table has \(n) bytes, not a multiple of 4") }
                    let table = try file.read(offset, n, what: "the Basic Offset Table")
                    basic = stride(from: 0, to: n, by: 4).map { Int(DICOMDataSet.uint32(table, $0)) }
                    first = false
                } else {
                    fragments.append((offset, n))
                }
                offset += n
            }
            var extended: [Int]?
            if case let .bytes(_, raw)? = set[DICOMTag.extendedOffsetTable], raw.count % 8 == 0, !raw.isEmpty {
                extended = stride(from: 0, to: raw.count, by: 8).map { at in
                    Int(truncatingIfNeeded: UInt64(DICOMDataSet.uint32(raw, at)) | UInt64(DICOMDataSet.uint32(raw, at + 4)) << 32)
                }
            }
            return .encapsulated(fragments: fragments, basicOffsets: basic, extendedOffsets: extended)
        }
    }
}

extension DICOMDataSet {
    mutating func add(_ tag: UInt32, _ value: DICOMValue) {
        if elements.updateValue(value, forKey: tag) == nil { order.append(tag) }
    }
}
