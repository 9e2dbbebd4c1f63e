import Storage
import ZarrCore

/// The object Tessera writes first into every output it starts (`convert` and `copy`),
/// before any chunk: it says "Tessera started this" — so `--overwrite` may later clear
/// an unfinished output whose root has no Zarr metadata yet — and, for `convert`, what
/// the output is being made from and how, so `--resume` can refuse to mix in another
/// source or other settings. It stays after completion (readers ignore it) so a resume
/// of a finished output is checked the same way.
public struct OutputMark: Sendable, Equatable {
    /// Hidden, so it is never mistaken for Zarr metadata or a chunk.
    public static let key = ".tessera-output.json"

    /// `convert` or `copy`.
    public var command: String
    public var version: String
    /// Every option that changes stored bytes, by flag name (`--downsample` → `mean`);
    /// options left at their default are recorded with their default value.
    public var settings: [String: String]
    /// The input file (convert).
    public var source: SourceIdentity?

    public init(command: String, settings: [String: String] = [:], source: SourceIdentity? = nil) {
        self.command = command
        self.version = tesseraVersion
        self.settings = settings
        self.source = source
    }

    var json: JSONValue {
        var o: [String: JSONValue] = [
            "command": .string(command), "tessera": .string(version),
            "settings": .object(settings.mapValues { .string($0) }),
        ]
        if let source { o["source"] = source.json }
        return .object(o)
    }

    init(json: JSONValue, key: String) throws {
        guard let command = json["command"]?.stringValue, let settings = json["settings"]?.objectValue else {
            throw UsageError("\(key) is not a Tessera output mark (no command or settings)")
        }
        self.command = command
        self.version = json["tessera"]?.stringValue ?? "?"
        self.settings = settings.compactMapValues(\.stringValue)
        self.source = try json["source"].map { try SourceIdentity(json: $0, key: key) }
    }

    /// A mark is a few hundred bytes; a larger object of that name is not read (a huge
    /// one would take gigabytes of memory to parse).
    static let maxBytes = 1 << 20

    /// The mark of the output at `path` of `store`, nil if there is none.
    public static func read(from store: any Store, at path: String = "") throws -> OutputMark? {
        let k = joinKey(path, key)
        guard let size = try store.size(k) else { return nil }
        guard size <= maxBytes else {
            throw UsageError("\(store.describe(k)) is \(size) bytes, not a Tessera output mark (at most \(maxBytes) bytes)")
        }
        guard let bytes = try store.get(k) else { return nil }
        return try OutputMark(json: try JSONValue.parse(bytes, key: store.describe(k)), key: store.describe(k))
    }

    public func write(to store: any Store, at path: String = "") throws {
        try store.set(joinKey(path, Self.key), json.serialized())
    }
}
