@testable import Conversion
import Foundation
import Storage
import Testing
import ZarrCore

/// `OverwriteGuard`: what `--overwrite` may delete.
@Suite struct OverwriteGuardTests {
    func store(_ keys: [String]) throws -> MemoryStore {
        let s = MemoryStore()
        for k in keys { try s.set(k, Self.contents(of: k)) }
        return s
    }

    /// What each key holds: real Zarr metadata and a real mark, "x" for anything else.
    static func contents(of key: String) -> [UInt8] {
        let name = key.split(separator: "/").last.map(String.init) ?? key
        switch name {
        case "zarr.json" where key == "zarr.json": return Array(#"{"zarr_format":3,"node_type":"group","attributes":{}}"#.utf8)
        case "zarr.json":
            return Array(#"{"zarr_format":3,"node_type":"array","shape":[4,4],"data_type":"uint8","chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2,2]}},"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},"fill_value":0,"codecs":[{"name":"bytes","configuration":{"endian":"little"}}]}"#.utf8)
        case ".zgroup": return Array(#"{"zarr_format":2}"#.utf8)
        case ".zattrs": return Array("{}".utf8)
        case ".zarray":
            return Array(#"{"zarr_format":2,"shape":[4,4],"chunks":[2,2],"dtype":"|u1","compressor":null,"fill_value":0,"order":"C","filters":null}"#.utf8)
        case OutputMark.key: return OutputMark(command: "convert").json.serialized()
        default: return Array("x".utf8)
        }
    }

    func refusal(_ keys: [String], inputs: [String] = []) throws -> String? {
        do {
            try OverwriteGuard.check(try store(keys), location: "out", inputs: inputs)
            return nil
        } catch let e as UsageError {
            return e.description
        }
    }

    @Test func zarrHierarchiesAndMarkedOutputsMayBeCleared() throws {
        #expect(try refusal(["zarr.json", "0/zarr.json", "0/c/0/1", "OME/zarr.json", "OME/METADATA.ome.xml"]) == nil)
        #expect(try refusal([".zgroup", ".zattrs", "0/.zarray", "0/1.2", "0/1/2"]) == nil)
        // An interrupted conversion: levels, no root metadata yet, but Tessera's mark.
        #expect(try refusal([OutputMark.key, "0/zarr.json", "0/c/3/4"]) == nil)
        // A killed 0.4 conversion: its level's chunk manifest batches are Tessera's too.
        #expect(try refusal([OutputMark.key, "0/.zarray", "0/1/2", "0/\(ObjectManifest.name)/0001764393600000-0000012345-00000000"]) == nil)
        #expect(try refusal([OutputMark.key, "0/.zarray", "0/\(ObjectManifest.name)/notes.txt"])?.contains("notes.txt") == true)
        #expect(try refusal([]) == nil)
    }

    @Test func anythingElseIsRefusedNamingWhatIsThere() throws {
        let plain = try refusal(["x.tif", "notes.txt", "sub/d.txt"])
        #expect(plain?.contains("neither a Zarr hierarchy") == true)
        #expect(plain?.contains("notes.txt") == true && plain?.contains("sub/d.txt") == true)
        // Chunk-like keys alone are not a hierarchy: no root metadata, no mark.
        #expect(try refusal(["0/c/0/0"]) != nil)
        let mixed = try refusal(["zarr.json", "0/zarr.json", "0/c/0/0", "0/notes.txt", ".DS_Store"])
        #expect(mixed?.contains("0/notes.txt") == true && mixed?.contains(".DS_Store") == true)
    }

    @Test func unmarkedHierarchiesAreJudgedByTheirNodesNotByNames() throws {
        // A root zarr.json that is not Zarr metadata is no hierarchy.
        let note = try store(["scans/0001"])
        try note.set("zarr.json", Array(#"{"note":"mine"}"#.utf8))
        #expect(throws: UsageError.self) { try OverwriteGuard.check(note, location: "out", inputs: []) }
        // Numbered files under a group, or under a plain folder, are not chunks.
        #expect(try refusal(["zarr.json", "scans/0001"])?.contains("scans/0001") == true)
        #expect(try refusal(["zarr.json", "2023/01/02"])?.contains("2023/01/02") == true)
        #expect(try refusal([".zgroup", "7"])?.contains("7") == true)
        // Chunk keys of arrays, in each encoding, are.
        #expect(try refusal(["zarr.json", "a/zarr.json", "a/c/0/1", "a/c.1.0", "b/.zarray", "b/0.1", "b/1/1"]) == nil)
        // A damaged mark is no mark (the name rule for killed runs does not apply) but is
        // Tessera's own file in a real hierarchy.
        let damaged = try store(["7/c/0"])
        try damaged.set(OutputMark.key, Array("garbage{".utf8))
        #expect(throws: UsageError.self) { try OverwriteGuard.check(damaged, location: "out", inputs: []) }
        let hierarchy = try store(["zarr.json", "0/zarr.json", "0/c/0/0"])
        try hierarchy.set(OutputMark.key, Array("garbage{".utf8))
        #expect(try OverwriteGuard.check(hierarchy, location: "out", inputs: []).count == 4)
    }

    @Test func linkedFoldersInAFolderOutputAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overwrite-links-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = FileStore(path: dir + "/out")
        try out.set("zarr.json", Self.contents(of: "zarr.json"))
        let other = FileStore(path: dir + "/other")
        try other.set("0/zarr.json", Self.contents(of: "0/zarr.json"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/out/0", withDestinationPath: dir + "/other/0")
        do {
            try OverwriteGuard.clear(out, location: "out", inputs: [])
            Issue.record("a symlinked folder was let through")
        } catch let e as UsageError {
            #expect(e.description.contains("0 (a symbolic link)"))
        }
        #expect(try out.get("zarr.json") != nil && other.get("0/zarr.json") != nil)
    }

    @Test func anOutputHoldingAnInputIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("overwrite-guard-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir + "/0", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/0/7", contents: Data([1]))
        #expect(OverwriteGuard.locationContains(dir, dir + "/0/7"))
        #expect(OverwriteGuard.locationContains(dir, dir + "/0/7:/entry/data"))
        #expect(OverwriteGuard.locationContains(dir, dir))
        #expect(!OverwriteGuard.locationContains(dir + "/0", dir))
        #expect(!OverwriteGuard.locationContains(dir, dir + "x/file.tif"))
        #expect(OverwriteGuard.locationContains("s3://b/p", "s3://b/p/q"))
        #expect(OverwriteGuard.locationContains("s3://b/p/", "s3://b/p"))
        #expect(!OverwriteGuard.locationContains("s3://b/p", "s3://b/pq"))
        #expect(!OverwriteGuard.locationContains("s3://b/p", dir))
        let message = try refusal(["zarr.json"], inputs: ["s3://out/in.zarr"])
        #expect(message == nil)
    }
}

/// A store that gains a user's file just after it is first listed: what `--overwrite` deletes
/// must be what it checked, not what a second listing finds.
final class GrowingStore: Store, @unchecked Sendable {
    let inner = MemoryStore()
    var listings = 0
    func get(_ key: String) throws -> [UInt8]? { try inner.get(key) }
    func get(_ key: String, range: ByteRange) throws -> [UInt8]? { try inner.get(key, range: range) }
    func size(_ key: String) throws -> Int? { try inner.size(key) }
    func set(_ key: String, _ bytes: [UInt8]) throws { try inner.set(key, bytes) }
    func createIfAbsent(_ key: String, _ bytes: [UInt8]) throws -> Bool { try inner.createIfAbsent(key, bytes) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func describe(_ key: String) -> String { inner.describe(key) }
    func list(prefix: String) throws -> [StoreEntry] {
        listings += 1
        let listing = try inner.list(prefix: prefix)
        // The user saves a file into the folder just after the first listing.
        if listings == 1 { try inner.set("notes.txt", Array("added after the check".utf8)) }
        return listing
    }
}

@Suite struct OverwriteRaceTests {
    @Test func onlyTheCheckedKeysAreDeleted() throws {
        let s = GrowingStore()
        try s.set("zarr.json", OverwriteGuardTests.contents(of: "zarr.json"))
        try s.set("0/zarr.json", OverwriteGuardTests.contents(of: "0/zarr.json"))
        try s.set("0/c/0/0", [1, 2, 3])
        try OverwriteGuard.clear(s, location: "out", inputs: [])
        #expect(try s.inner.get("notes.txt") == Array("added after the check".utf8))
        #expect(try s.inner.get("0/c/0/0") == nil && s.inner.get("zarr.json") == nil)
    }
}
