import Foundation

/// A flat folder of static files (neuroglancer's built client, Swagger UI), read once at
/// start into memory and served read-only. Only the folder's own regular files are taken
/// (no subfolder, no symbolic link, nothing past `maxBytes` in all), so a request can name
/// nothing but one of them: a lookup in a dictionary by the path's one decoded segment,
/// after RequestPath has refused `..`, `/`, `\` and control characters.
struct StaticAssets: Sendable {
    struct File: Sendable {
        /// Its bytes with a tag hashed from them (`MemoryObject`).
        let object: MemoryObject
        let contentType: String
        /// Names carrying a content hash (`main.8608d1fc21b22785.js`) never change.
        let immutable: Bool
    }

    let folder: String
    let files: [String: File]

    /// Everything in one site must fit in this; neuroglancer's client is ~16 MB with maps.
    static let maxBytes = 64 << 20

    init(folder: String, what: String, extra: [String: [UInt8]] = [:]) throws {
        self.folder = folder
        let url = URL(fileURLWithPath: folder, isDirectory: true)
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw ConfigurationError("\(what) \(folder): cannot list the folder (\(error.localizedDescription))")
        }
        var files = [String: File]()
        var total = 0
        // Source maps are fetched only by a browser's developer tools; they would triple
        // the memory of neuroglancer's client.
        for name in names.sorted() where !name.hasSuffix(".map") {
            let path = url.appendingPathComponent(name).path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("\(what) \(path): cannot read the file")
            }
            total += data.count
            guard total <= Self.maxBytes else {
                throw ConfigurationError("\(what) \(folder): more than \(Self.maxBytes >> 20) MiB of files; is this the right folder?")
            }
            files[name] = Self.file(name, Array(data))
        }
        for (name, bytes) in extra { files[name] = Self.file(name, bytes) }
        self.files = files
    }

    /// Files made by the gateway itself.
    init(files: [String: [UInt8]]) {
        folder = "(built in)"
        var made = [String: File]()
        for (name, bytes) in files { made[name] = Self.file(name, bytes) }
        self.files = made
    }

    /// One file served under `name` (the OpenAPI document).
    init(file path: String, as name: String, what: String) throws {
        guard let data = FileManager.default.contents(atPath: path), data.count <= Self.maxBytes else {
            throw ConfigurationError("\(what) \(path): cannot read the file")
        }
        folder = path
        files = [name: Self.file(name, Array(data))]
    }

    static func file(_ name: String, _ bytes: [UInt8]) -> File {
        File(object: MemoryObject(bytes), contentType: contentType(name), immutable: isHashed(name))
    }

    /// With `nosniff` on every answer the browser believes these, so they must be right
    /// (`application/wasm` also lets the browser compile while it downloads).
    static func contentType(_ name: String) -> String {
        switch name.split(separator: ".").last.map({ $0.lowercased() }) ?? "" {
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "html", "htm": "text/html; charset=utf-8"
        case "wasm": "application/wasm"
        case "json", "map": "application/json"
        case "yaml", "yml": "application/yaml; charset=utf-8"
        case "png": "image/png"
        case "svg": "image/svg+xml"
        case "ico": "image/x-icon"
        case "txt": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// A dot-separated part before the extension of 8 or more hex digits (webpack's content
    /// hash: `main.8608d1fc21b22785.js`, `09f21dcf7b4f13e8.wasm`).
    static func isHashed(_ name: String) -> Bool {
        let parts = name.split(separator: ".")
        return parts.count >= 2 && parts.dropLast().contains { $0.count >= 8 && $0.allSatisfy(\.isHexDigit) }
    }
}
