import Foundation
import Synchronization

/// Rendered pictures kept on disk between requests and restarts (the gateway's
/// thumbnails and quicklooks), bounded in bytes and evicted least recently used first.
///
/// An entry is found by its *material*: a text naming everything its bytes depend on
/// (the normalised request and the raw versions of the image's metadata documents, never
/// a per-run secret), so it survives restarts and changes exactly when the image's
/// metadata does. The file is `DIR/ab/<32 hex>.trc`, the name a 128-bit hash of the
/// material; the file's header repeats the whole material, so a hash collision, a torn
/// write or a foreign file is a miss (and a torn or foreign `.trc` file is removed), never
/// a wrong picture. Writes go to a temporary file renamed into place, so several gateways
/// may share a directory: an entry another one evicted is just a miss. No fsync: after a
/// crash entries may be lost, not served wrong.
public final class RenderCache: Sendable {
    public let directory: String
    /// The most bytes the entries may hold; past it the least recently used go until 90 % remain.
    public let maxBytes: Int
    /// Larger bodies are not kept.
    public let maxEntryBytes: Int

    /// What `get` found.
    public struct Entry: Sendable, Equatable {
        public var contentType: String
        public var bytes: [UInt8]
    }

    private struct Known {
        var size: Int
        var lastUse: UInt64
    }

    private struct State {
        var entries: [String: Known] = [:]
        var total = 0
        var clock: UInt64 = 0
    }

    private let state = Mutex(State())
    static let magic: [UInt8] = Array("TRC1".utf8)
    static let fileExtension = "trc"

    /// Opens (creating) the directory and indexes the entries already there, oldest
    /// modification first, so the order of use roughly survives a restart.
    public init(directory: String, maxBytes: Int = 1 << 30, maxEntryBytes: Int = 8 << 20) throws {
        self.directory = directory
        self.maxBytes = max(0, maxBytes)
        self.maxEntryBytes = max(0, maxEntryBytes)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var found = [(name: String, size: Int, modified: Date)]()
        let fm = FileManager.default
        for fan in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where fan.utf8.count == 2 {
            let folder = directory + "/" + fan
            for file in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where Self.isEntryName(file) {
                guard let attributes = try? fm.attributesOfItem(atPath: folder + "/" + file),
                      let size = (attributes[.size] as? NSNumber)?.intValue else { continue }
                found.append((String(file.prefix(32)), size, attributes[.modificationDate] as? Date ?? .distantPast))
            }
        }
        found.sort { $0.modified < $1.modified }
        state.withLock { s in
            for f in found {
                s.clock += 1
                s.entries[f.name] = Known(size: f.size, lastUse: s.clock)
                s.total += f.size
            }
        }
        evictIfNeeded()
    }

    /// Bytes and entries held (tests, metrics).
    public var usage: (entries: Int, bytes: Int) { state.withLock { ($0.entries.count, $0.total) } }

    /// The entry for `material`, or nil (a torn or foreign file under its name is removed).
    public func get(_ material: String) -> Entry? {
        let name = Self.name(material)
        let known: Bool = state.withLock { s in
            guard s.entries[name] != nil else { return false }
            s.clock += 1
            s.entries[name]?.lastUse = s.clock
            return true
        }
        guard known else { return nil }
        guard let data = FileManager.default.contents(atPath: path(name)) else {
            forget(name) // another gateway sharing the directory evicted it
            return nil
        }
        guard let entry = Self.decode(Array(data), material: material) else {
            if Self.decodesAsForeign(Array(data), material: material) { forget(name) } else { remove(name) }
            return nil
        }
        return entry
    }

    /// Keeps `bytes` for `material` (nothing when over `maxEntryBytes`); true when stored.
    @discardableResult
    public func put(_ material: String, contentType: String, bytes: [UInt8]) -> Bool {
        guard bytes.count <= maxEntryBytes else { return false }
        let name = Self.name(material)
        let file = Self.encode(material: material, contentType: contentType, bytes: bytes)
        let folder = directory + "/" + name.prefix(2)
        let temporary = folder + "/.\(name).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: temporary, contents: Data(file)) else { return false }
            guard rename(temporary, path(name)) == 0 else {
                unlink(temporary)
                return false
            }
        } catch {
            unlink(temporary)
            return false
        }
        state.withLock { s in
            s.clock += 1
            if let old = s.entries[name] { s.total -= old.size }
            s.entries[name] = Known(size: file.count, lastUse: s.clock)
            s.total += file.count
        }
        evictIfNeeded()
        return true
    }

    /// Removes least recently used entries until 90 % of `maxBytes` remain; returns how many.
    @discardableResult
    func evictIfNeeded() -> Int {
        let victims: [String] = state.withLock { s in
            guard s.total > maxBytes else { return [] }
            let target = maxBytes / 10 * 9
            var out = [String]()
            for (name, known) in s.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) where s.total > target {
                s.total -= known.size
                s.entries[name] = nil
                out.append(name)
            }
            return out
        }
        for name in victims { unlink(path(name)) }
        return victims.count
    }

    private func forget(_ name: String) {
        state.withLock { s in
            if let known = s.entries.removeValue(forKey: name) { s.total -= known.size }
        }
    }

    private func remove(_ name: String) {
        forget(name)
        unlink(path(name))
    }

    func path(_ name: String) -> String { "\(directory)/\(name.prefix(2))/\(name).\(Self.fileExtension)" }

    static func isEntryName(_ file: String) -> Bool {
        file.utf8.count == 32 + 1 + fileExtension.utf8.count && file.hasSuffix("." + fileExtension)
            && file.prefix(32).allSatisfy(\.isHexDigit)
    }

    /// 128-bit FNV-1a (two 64-bit lanes with different offsets) of the material, as hex:
    /// only a file name, the header decides.
    static func name(_ material: String) -> String {
        var a: UInt64 = 14_695_981_039_346_656_037, b: UInt64 = 0x6c62_272e_07bb_0142
        for byte in material.utf8 {
            a = (a ^ UInt64(byte)) &* 1_099_511_628_211
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 &+ 0x9e37_79b9
        }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(a) + hex(b)
    }

    /// `TRC1`, material length, content-type length, body length (little-endian UInt64
    /// each), then the three.
    static func encode(material: String, contentType: String, bytes: [UInt8]) -> [UInt8] {
        var out = magic
        for n in [material.utf8.count, contentType.utf8.count, bytes.count] {
            withUnsafeBytes(of: UInt64(n).littleEndian) { out += $0 }
        }
        out += Array(material.utf8)
        out += Array(contentType.utf8)
        out += bytes
        return out
    }

    static func decode(_ file: [UInt8], material: String) -> Entry? {
        guard let parts = split(file), parts.material == Array(material.utf8),
              let type = String(validating: parts.contentType, as: UTF8.self) else { return nil }
        return Entry(contentType: type, bytes: parts.body)
    }

    /// A whole, well-formed entry for another material (a hash collision): left alone.
    static func decodesAsForeign(_ file: [UInt8], material: String) -> Bool {
        guard let parts = split(file) else { return false }
        return parts.material != Array(material.utf8)
    }

    private static func split(_ file: [UInt8]) -> (material: [UInt8], contentType: [UInt8], body: [UInt8])? {
        let head = magic.count + 24
        guard file.count >= head, Array(file[0..<magic.count]) == magic else { return nil }
        var lengths = [Int]()
        for i in 0..<3 {
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(file[magic.count + 8 * i + k]) << (8 * UInt64(k)) }
            guard v <= UInt64(file.count) else { return nil }
            lengths.append(Int(v))
        }
        guard head + lengths[0] + lengths[1] + lengths[2] == file.count else { return nil }
        let m = head + lengths[0], t = m + lengths[1]
        return (Array(file[head..<m]), Array(file[m..<t]), Array(file[t...]))
    }
}
