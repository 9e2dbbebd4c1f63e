import ArgumentParser
import Catalog
import CatalogStores
import Foundation
import ZarrCore

/// `tessera catalog …`: the facility catalogue from the command line (Docs/catalog.md).
struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Show the catalogue's datasets and change who may see them.",
        discussion: """
        The catalogue is named by --catalog URL or TESSERA_CATALOG: sqlite:PATH or \
        postgres://USER@HOST[:PORT]/DATABASE (password in TESSERA_CATALOG_PASSWORD). \
        DATASET is a dataset's id (uid) or its location (the NGFF folder or s3:// URL).
        """,
        subcommands: [CatalogGrantCommand.self, CatalogRevokeCommand.self, CatalogShowCommand.self, CatalogListCommand.self,
                      CatalogAddCommand.self]
    )
}

/// `--catalog URL`, shared by every catalog subcommand.
struct CatalogOptions: ParsableArguments {
    @Option(help: "The catalogue: sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE (default: $TESSERA_CATALOG).")
    var catalog: String?

    /// Opens the named catalogue (migrating it if it is older). A SQLite file must exist:
    /// a mistyped path would otherwise become a new, empty catalogue.
    func open() async throws -> any CatalogStore {
        let environment = ProcessInfo.processInfo.environment
        guard let text = catalog ?? environment["TESSERA_CATALOG"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CatalogCommandError("no catalog named: give --catalog sqlite:PATH or --catalog postgres://USER@HOST/DATABASE, or set TESSERA_CATALOG")
        }
        let location = try CatalogLocation(parsing: text)
        if case let .sqlite(path) = location, !FileManager.default.fileExists(atPath: path) {
            throw CatalogCommandError("no catalog file at \(path)")
        }
        return try await location.open()
    }
}

/// Datasets named on the command line, found in the catalogue: by uid, else by location as
/// given, else (a local path) by its absolute form. All are found before anything changes.
func findDatasets(_ names: [String], in store: any CatalogStore) async throws -> [DatasetRecord] {
    var found = [DatasetRecord]()
    var missing = [String]()
    for name in names {
        if let record = try await findDataset(name, in: store) {
            if !found.contains(where: { $0.uid == record.uid }) { found.append(record) }
        } else {
            missing.append(name)
        }
    }
    guard missing.isEmpty else {
        throw CatalogCommandError("no dataset \(missing.joined(separator: ", ")) in the catalog (nothing was changed)")
    }
    return found
}

func findDataset(_ name: String, in store: any CatalogStore) async throws -> DatasetRecord? {
    if let record = try await store.dataset(uid: name, visibleTo: .everyone) { return record }
    if let record = try await store.dataset(location: name) { return record }
    guard !name.contains("://") else { return nil }
    let absolute = URL(fileURLWithPath: name).standardizedFileURL.path
    return absolute == name ? nil : try await store.dataset(location: absolute)
}

/// Runs a catalog command: one line on stderr and exit code 1 on failure, the store closed
/// either way.
func withCatalog(_ options: CatalogOptions, _ body: (any CatalogStore) async throws -> Void) async throws {
    do {
        let store = try await options.open()
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

struct CatalogCommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A dataset as `show` and `list` print it: text lines, or a JSON object.
enum DatasetText {
    static func json(_ r: DatasetRecord) -> JSONValue {
        var o: [String: JSONValue] = [
            "uid": .string(r.uid), "name": .string(r.name), "location": .string(r.location),
            "status": .string(r.status.rawValue), "public": .bool(r.access.isPublic),
            "accessGroups": .array(r.access.accessGroups.sorted().map { .string($0) }),
            "created": .double(r.created), "updated": .double(r.updated),
        ]
        func put(_ key: String, _ value: String?) { if let value { o[key] = .string(value) } }
        func put(_ key: String, _ value: Int64?) { if let value { o[key] = .int(value) } }
        func put(_ key: String, _ value: Double?) { if let value { o[key] = .double(value) } }
        put("root", r.root); put("sourcePath", r.sourcePath); put("sourcePart", r.sourcePart); put("format", r.format)
        put("sourceBytes", r.sourceBytes); put("storedBytes", r.storedBytes); put("checksum", r.checksum)
        put("fileModified", r.fileModified); put("observed", r.observed); put("ownerGroup", r.access.ownerGroup)
        put("uploader", r.uploader); put("error", r.error)
        if let d = r.dimensions {
            o["dimensions"] = .object([
                "shape": .array(d.shape.map { .int($0) }), "axes": .array(d.axes.map { .string($0) }),
                "dataType": .string(d.dataType),
                "physical": .array(d.physical.map { p in
                    guard let p else { return .null }
                    return .object(["size": .double(p.size), "unit": p.unit.map { .string($0) } ?? .null])
                }),
            ])
        }
        return .object(o)
    }

    static func access(_ rule: DatasetRule) -> String {
        let groups = rule.accessGroups.sorted().joined(separator: ",")
        return "owner group \(rule.ownerGroup ?? "-"), groups \(groups.isEmpty ? "-" : groups), \(rule.isPublic ? "public" : "private")"
    }

    static func lines(_ r: DatasetRecord) -> String {
        var lines = ["\(r.uid)  \(r.name)", "  location: \(r.location)", "  status: \(r.status.rawValue)\(r.error.map { " (\($0))" } ?? "")",
                     "  access: \(access(r.access))"]
        if let root = r.root { lines.append("  root: \(root)") }
        if let source = r.sourcePath { lines.append("  source: \(source)\(r.sourcePart.map { " [\($0)]" } ?? "")") }
        if let format = r.format { lines.append("  format: \(format)") }
        if let d = r.dimensions {
            lines.append("  image: \(d.shape.map(String.init).joined(separator: " x ")) (\(d.axes.joined(separator: ","))) \(d.dataType)")
        }
        if let bytes = r.sourceBytes { lines.append("  source bytes: \(bytes)") }
        if let bytes = r.storedBytes { lines.append("  stored bytes: \(bytes)") }
        if let observed = r.observed { lines.append("  observed: \(iso(observed))") }
        if let uploader = r.uploader { lines.append("  uploader: \(uploader)") }
        lines.append("  updated: \(iso(r.updated))")
        return lines.joined(separator: "\n")
    }

    static func iso(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func printJSON(_ value: JSONValue) {
        print(String(decoding: value.serialized(), as: UTF8.self))
    }
}
