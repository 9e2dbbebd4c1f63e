import Foundation
@testable import ImageSources
import Testing
import ZarrCore

/// Builds DM3/DM4 bytes for the parser tests (a small twin of the conformance suite's
/// Python writer, Tests/Conformance/support/dm_inputs.py).
struct DMBuilder {
    indirect enum Node {
        case group([(String, Node)])
        case data(info: [Int], payload: [UInt8])
    }

    var version = 4
    var littleEndian = true

    func be(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).reversed().map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }
    func word(_ v: Int) -> [UInt8] { be(v, version == 4 ? 8 : 4) }

    /// A value's bytes in the file's data order.
    func bytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        let size = MemoryLayout<T>.size
        let le = (0..<size).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) }
        return littleEndian ? le : le.reversed()
    }

    func group(_ entries: [(String, Node)]) -> [UInt8] { [1, 0] + word(entries.count) + entries.flatMap(entry) }

    func entry(_ e: (String, Node)) -> [UInt8] {
        let body: [UInt8]
        switch e.1 {
        case let .group(g): body = group(g)
        case let .data(info, payload): body = Array("%%%%".utf8) + word(info.count) + info.flatMap(word) + payload
        }
        let isGroup = if case .group = e.1 { true } else { false }
        let label = Array(e.0.utf8)
        return [isGroup ? 20 : 21] + be(label.count, 2) + label + (version == 4 ? be(body.count, 8) : []) + body
    }

    func file(_ root: [(String, Node)]) -> [UInt8] {
        let body = group(root) + [UInt8](repeating: 0, count: 8)
        return be(version, 4) + word(body.count) + be(littleEndian ? 1 : 0, 4) + body
    }

    func u32(_ v: UInt32) -> Node { .data(info: [5], payload: bytes(v)) }
    func i32(_ v: Int32) -> Node { .data(info: [3], payload: bytes(v)) }
    func f32(_ v: Float) -> Node { .data(info: [6], payload: bytes(v.bitPattern)) }
    /// A string as DM stores most of them: an array of UTF-16 units.
    func text(_ s: String) -> Node { .data(info: [20, 4, s.utf16.count], payload: s.utf16.flatMap { bytes($0) }) }

    /// An ImageList item: `payload` is the Data array's bytes (already in data order).
    func image(type: Int, dims: [Int], elementType: Int, payload: [UInt8], units: [String] = [], name: String = "img") -> Node {
        let size = DMSimpleType.size(elementType) ?? 1
        let calibrations: [(String, Node)] = units.map { u in
            ("", .group([("Origin", f32(1)), ("Scale", f32(0.5)), ("Units", text(u))]))
        }
        return .group([
            ("ImageData", .group([
                ("Calibrations", .group([("Dimension", .group(calibrations))])),
                ("Data", .data(info: [20, elementType, payload.count / size], payload: payload)),
                ("DataType", i32(Int32(type))),
                ("Dimensions", .group(dims.map { ("", u32(UInt32($0))) })),
            ])),
            ("ImageTags", .group([("Microscope", .group([("Voltage", f32(300))]))])),
            ("Name", text(name)),
        ])
    }
}

@Suite final class DMParserTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-dm-\(UUID())")

    init() throws { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: folder) }

    func parse(_ bytes: [UInt8]) throws -> DMDocument { try DMParser.parse(DMMemoryBytes(data: bytes)) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [(3, true), (3, false), (4, true), (4, false)])
    func simpleValuesInEitherByteOrder(version: Int, littleEndian: Bool) throws {
        let b = DMBuilder(version: version, littleEndian: littleEndian)
        let doc = try parse(b.file([
            ("i16", .data(info: [2], payload: b.bytes(Int16(-300)))),
            ("i32", b.i32(-70000)),
            ("u16", .data(info: [4], payload: b.bytes(UInt16(65000)))),
            ("u32", b.u32(4_000_000_000)),
            ("f32", b.f32(1.5)),
            ("f64", .data(info: [7], payload: b.bytes((-2.25).bitPattern))),
            ("bool", .data(info: [8], payload: [1])),
            ("i8", .data(info: [9], payload: [0xFE])),
            ("u8", .data(info: [10], payload: [200])),
            ("i64", .data(info: [11], payload: b.bytes(Int64(-5_000_000_000)))),
            ("u64", .data(info: [12], payload: b.bytes(UInt64.max))),
        ]))
        #expect(doc.version == version && doc.littleEndian == littleEndian && doc.tagCount == 11)
        let r = doc.root
        #expect(r["i16"]?.intValue == -300 && r["i32"]?.intValue == -70000 && r["u16"]?.intValue == 65000)
        #expect(r["u32"]?.intValue == 4_000_000_000 && r["f32"]?.doubleValue == 1.5 && r["f64"]?.doubleValue == -2.25)
        #expect(r["bool"]?.intValue == 1 && r["i8"]?.intValue == -2 && r["u8"]?.intValue == 200)
        #expect(r["i64"]?.intValue == -5_000_000_000)
        guard case .uint(UInt64.max)? = r["u64"] else { Issue.record("u64: \(String(describing: r["u64"]))"); return }
    }

    @Test(arguments: [3, 4]) func structsStringsAndArrays(version: Int) throws {
        let b = DMBuilder(version: version)
        let structArray = (0..<3).flatMap { b.bytes(Int16($0)) + b.bytes(Float(Double($0) + 0.5).bitPattern) }
        let big = [UInt8](repeating: 7, count: DMParser.maxDecodedArrayBytes + 1)
        let doc = try parse(b.file([
            ("pair", .data(info: [15, 0, 2, 0, 2, 0, 7], payload: b.bytes(Int16(-3)) + b.bytes((2.5).bitPattern))),
            ("note", .data(info: [18, 6], payload: Array("héllo".utf8))),
            ("units", b.text("µm")),
            ("points", .data(info: [20, 15, 0, 2, 0, 2, 0, 6, 3], payload: structArray)),
            ("names", .data(info: [20, 18, 2, 3], payload: Array("abcdef".utf8))),
            ("big", .data(info: [20, 10, big.count], payload: big)),
            ("after", b.i32(42)),
        ]))
        let r = doc.root
        guard case let .structure(fields)? = r["pair"] else { Issue.record("pair is not a struct"); return }
        #expect(fields.map(\.doubleValue) == [-3, 2.5])
        #expect(r["note"]?.stringValue == "héllo")
        #expect(r["units"]?.stringValue == "µm")
        let points = try #require(r["points"]?.arrayValue)
        #expect(points.count == 3 && points.byteCount == 18 && points.values?.count == 3)
        #expect(r["names"]?.arrayValue?.values?.compactMap(\.stringValue) == ["ab", "cd", "ef"])
        // A big array is located, not read: the tag after it is still found.
        let located = try #require(r["big"]?.arrayValue)
        #expect(located.values == nil && located.count == big.count && located.byteCount == big.count)
        #expect(Array(b.file([])).count < located.offset)
        #expect(r["after"]?.intValue == 42)
    }

    @Test(arguments: [3, 4]) func unknownTypeNamesItsTag(version: Int) throws {
        let b = DMBuilder(version: version)
        let bytes = b.file([("ImageTags", .group([("Odd", .data(info: [99], payload: [0, 0, 0, 0]))]))])
        #expect(throws: DMParseError.unknownTagType(99, path: "ImageTags.Odd")) { try self.parse(bytes) }
        let array = b.file([("Bad", .data(info: [20, 31, 1], payload: [0]))])
        #expect(throws: DMParseError.unknownTagType(31, path: "Bad (array element)")) { try self.parse(array) }
    }

    @Test(arguments: [3, 4]) func everyTruncationIsAnErrorNotACrash(version: Int) throws {
        let b = DMBuilder(version: version)
        let payload = (0..<48).flatMap { b.bytes(UInt16($0)) }
        let bytes = b.file([("ImageList", .group([("", b.image(type: 10, dims: [8, 6], elementType: 4, payload: payload))]))])
        // Everything but the 8 trailing zero bytes is needed.
        for n in 0..<(bytes.count - 8) {
            #expect(throws: DMParseError.self, "prefix of \(n) bytes") {
                _ = try DMImageList.images(in: try self.parse(Array(bytes.prefix(n))))
            }
        }
        #expect(try DMImageList.images(in: parse(bytes)).images.count == 1)
    }

    @Test(arguments: [3, 4]) func countsLargerThanTheFileAreRefusedBeforeAllocating(version: Int) throws {
        let b = DMBuilder(version: version)
        // A group declaring 2^31 tags in a few bytes.
        var bytes = b.file([("g", .group([("x", b.i32(1))]))])
        // header, root flags and count, then entry "g": kind, label length, label, (DM4 size), flags
        let countAt = version == 4 ? 16 + 2 + 8 + 1 + 2 + 1 + 8 + 2 : 12 + 2 + 4 + 1 + 2 + 1 + 2
        let wordSize = version == 4 ? 8 : 4
        bytes.replaceSubrange(countAt..<countAt + wordSize, with: b.word(1 << 31))
        #expect(throws: DMParseError.self) { try self.parse(bytes) }
        // An array whose count × size overflows, and one merely longer than the file.
        let overflow = b.file([("a", .data(info: [20, 7, version == 4 ? Int.max / 4 : 0x7FFF_FFFF], payload: []))])
        #expect(throws: DMParseError.self) { try self.parse(overflow) }
        // Too many type words.
        let words = b.file([("a", .data(info: [Int](repeating: 2, count: DMParser.maxInfoWords + 1), payload: []))])
        #expect(throws: DMParseError.self) { try self.parse(words) }
        // An array of field-less structs: any count in no bytes.
        let empty = b.file([("a", .data(info: [20, 15, 0, 0, 1 << 30], payload: []))])
        #expect(throws: DMParseError.self) { try self.parse(empty) }
    }

    @Test func dm4EntrySizesBoundTheEntry() throws {
        let b = DMBuilder(version: 4)
        var bytes = b.file([("x", b.i32(5)), ("y", b.i32(6))])
        // x's entry size (after kind, label length and label) claims more than the file holds.
        let sizeAt = 16 + 2 + 8 + 1 + 2 + 1
        bytes.replaceSubrange(sizeAt..<sizeAt + 8, with: b.be(1 << 40, 8))
        #expect(throws: DMParseError.self) { try self.parse(bytes) }
    }

    @Test(arguments: [3, 4]) func depthBombStops(version: Int) throws {
        let b = DMBuilder(version: version)
        var node = DMBuilder.Node.group([])
        for _ in 0..<(DMParser.maxDepth + 5) { node = .group([("g", node)]) }
        #expect(throws: DMParseError.self) { try self.parse(b.file([("deep", node)])) }
        var fine = DMBuilder.Node.group([])
        for _ in 0..<(DMParser.maxDepth - 2) { fine = .group([("g", fine)]) }
        _ = try parse(b.file([("deep", fine)]))
    }

    @Test func thumbnailsAreSkippedByListOrByRGBAFirst() throws {
        let b = DMBuilder(version: 3)
        let thumb = b.image(type: 23, dims: [2, 2], elementType: 3, payload: [UInt8](repeating: 9, count: 16), name: "thumb")
        let real = b.image(type: 6, dims: [3, 2], elementType: 10, payload: [1, 2, 3, 4, 5, 6], name: "real")
        let listed = try DMImageList.images(in: parse(b.file([
            ("ImageList", .group([("", thumb), ("", real)])),
            ("Thumbnails", .group([("", .group([("ImageIndex", b.u32(0))]))])),
        ])))
        #expect(listed.images.map(\.name) == ["real"] && listed.thumbnails == [0])
        let unlisted = try DMImageList.images(in: parse(b.file([("ImageList", .group([("", thumb), ("", real)]))])))
        #expect(unlisted.images.map(\.name) == ["real"] && unlisted.thumbnails == [0])
        // A lone RGBA picture is the image, not a thumbnail.
        let alone = try DMImageList.images(in: parse(b.file([("ImageList", .group([("", thumb)]))])))
        #expect(alone.images.map(\.name) == ["thumb"] && alone.thumbnails.isEmpty)
    }

    @Test func complexAndOneDimensionalAreRefusedByName() throws {
        let b = DMBuilder(version: 4)
        let complex = b.image(type: 3, dims: [2, 2], elementType: 6, payload: [UInt8](repeating: 0, count: 32))
        #expect(throws: DMParseError.image(0, "has data type 3 (complex64): unsupported data type (NGFF has no complex type)")) {
            try DMImageList.images(in: try self.parse(b.file([("ImageList", .group([("", complex)]))])))
        }
        let spectrum = b.image(type: 2, dims: [4], elementType: 6, payload: [UInt8](repeating: 0, count: 16))
        #expect(throws: DMParseError.self) {
            try DMImageList.images(in: try self.parse(b.file([("ImageList", .group([("", spectrum)]))])))
        }
    }

    @Test func regionsOfABigEndianStackReadFromTheFile() throws {
        let b = DMBuilder(version: 3, littleEndian: false)
        let (w, h, d) = (7, 5, 3)
        let values = (0..<(w * h * d)).map { UInt16($0 * 300 + 1) }
        let bytes = b.file([("ImageList", .group([("", b.image(type: 10, dims: [w, h, d], elementType: 4,
                                                                   payload: values.flatMap { b.bytes($0) }, units: ["nm", "µm", "1/nm"]))]))])
        let path = try write("stack.dm3", bytes)
        let file = try SourceOpener.open(path)
        #expect(file.format == .dm && file.images.count == 1)
        let details = Dictionary(file.details.map { ($0.label, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(details["DM version"] == "DM3" && details["byte order"] == "big-endian")
        #expect(details["image 0"] == "img uint16 7 × 5 × 3 (x first)")
        let image = try #require(file.images.first)
        let desc = image.description
        #expect(desc.axisNames == ["z", "y", "x"] && desc.shape == [d, h, w] && desc.dataType == .uint16)
        #expect(desc.axes.map(\.unit) == [nil, "micrometer", "nanometer"])
        #expect(desc.spacing == [1, 0.5, 0.5] && desc.origin == [0, -0.5, -0.5])
        for region in [Region(origin: [1, 1, 2], shape: [2, 3, 4]), Region(origin: [0, 2, 0], shape: [3, 2, w])] {
            let got = try image.read(region)
            var want = [UInt8]()
            for z in region.origin[0]..<region.end[0] {
                for y in region.origin[1]..<region.end[1] {
                    for x in region.origin[2]..<region.end[2] {
                        let v = values[(z * h + y) * w + x]
                        want += [UInt8(v & 0xFF), UInt8(v >> 8)]
                    }
                }
            }
            #expect(got.bytes == want, "\(region)")
        }
        #expect(throws: SourceError.self) { try image.read(Region(origin: [0, 0, 1], shape: [1, 1, w])) }
    }

    /// RGBA stored as int32 words (as DigitalMicrograph does): bytes B, G, R, A in a
    /// little-endian file, A, R, G, B in a big-endian one.
    @Test(arguments: [true, false]) func rgbaBecomesThreeChannels(littleEndian: Bool) throws {
        let b = DMBuilder(version: 4, littleEndian: littleEndian)
        let (w, h) = (4, 3)
        // Pixel i holds B = i, G = 100 + i, R = 200 + i, A = 255.
        var payload = [UInt8]()
        for i in 0..<(w * h) { payload += b.bytes(UInt32(i) | UInt32(100 + i) << 8 | UInt32(200 + i) << 16 | 255 << 24) }
        let path = try write("rgb.dm4", b.file([("ImageList", .group([("", b.image(type: 23, dims: [w, h], elementType: 3, payload: payload))]))]))
        let image = try #require(try SourceOpener.open(path).images.first)
        #expect(image.description.axisNames == ["c", "y", "x"] && image.description.shape == [3, h, w])
        #expect(image.description.channels == ChannelInfo.rgb)
        let got = try image.read(Region(origin: [1, 1, 1], shape: [2, 2, 3]))
        let base = [200, 100, 0] // red, green, blue of pixel 0
        var want = [UInt8]()
        for c in 1...2 { for y in 1...2 { for x in 1...3 { want.append(UInt8(base[c] + y * w + x)) } } }
        #expect(got.bytes == want)
    }

    @Test func sniffingByHeaderAndExtension() throws {
        #expect(DMParser.looksLikeDM(DMBuilder(version: 3).file([])))
        #expect(DMParser.looksLikeDM(DMBuilder(version: 4, littleEndian: false).file([])))
        #expect(!DMParser.looksLikeDM([0x49, 0x49, 42, 0] + [UInt8](repeating: 0, count: 12)))
        let path = try write("junk.dm4", [0, 0, 0, 9] + [UInt8](repeating: 0, count: 40))
        #expect(throws: SourceError.self) { try SourceOpener.open(path) }
    }
}
