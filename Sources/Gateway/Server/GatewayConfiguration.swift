import Foundation
import Yams

/// Everything `tessera serve` is told, from `--config tessera.yaml` and the command line
/// (flags win). The YAML keys are these property names; see Docs/serve.md.
public struct GatewayConfiguration: Codable, Sendable {
    public var host: String?
    public var port: Int?
    public var roots: [RootConfiguration]?
    /// Folder listings as JSON when a path ends in "/" (off: such paths are 404s).
    public var listing: Bool?
    /// `Cache-Control` sent with every object.
    public var cacheControl: String?
    /// Allowed CORS origins; `*` (the default) allows any.
    public var corsOrigins: [String]?
    /// Where access-log lines go: `stderr` (default), `stdout`, `off`, or a file path.
    public var accessLog: String?
    /// Serve generated consolidated metadata (`.zmetadata` for v2, inline in a v3 group's
    /// `zarr.json`) when the store has none. Default true.
    public var consolidate: Bool?
    /// Answer `/{root}/v2/{key}` with a Zarr v2 + NGFF 0.4 view of the root's Zarr v3 +
    /// NGFF 0.5 data, chunks sent from the shards as stored. Default false.
    public var v2View: Bool?
    /// How long an open file (or a missing one) is reused by the fast path before it is
    /// opened again: the longest a replaced or new file can go unseen. Default 1; 0 opens
    /// on every request.
    public var fileCacheSeconds: Double?
    /// `Cache-Control` of answers from roots that need credentials: never `public`, so a
    /// shared cache does not hand them to others. Default `private, max-age=60`.
    public var privateCacheControl: String?
    /// Seconds a client has to send a whole request head (also the wait for a new
    /// connection's first request). Default 60, as nginx's `client_header_timeout`.
    public var headerTimeoutSeconds: Double?
    /// Seconds a connection may sit idle between requests. Default 75, as nginx's `keepalive_timeout`.
    public var idleTimeoutSeconds: Double?
    /// Seconds an answer may wait on a client that does not read before the connection
    /// closes. Default 60, as nginx's `send_timeout`.
    public var sendTimeoutSeconds: Double?
    /// Open connections beyond which idle ones are closed to make room; default from the
    /// descriptor limit (Docs/serve.md, "Limits and timeouts").
    public var maxConnections: Int?
    /// Bounds on one generated consolidated-metadata document: metadata documents read,
    /// bytes collected, seconds spent. Past any of them there is no generated document
    /// (`.zmetadata` is a 404, a v3 group's `zarr.json` is served as stored).
    public var consolidateMaxDocuments: Int?
    public var consolidateMaxBytes: Int?
    public var consolidateSeconds: Double?
    public var auth: AuthConfiguration?
    /// The facility catalogue: `/api` routes and per-dataset access (Docs/catalog.md).
    public var catalog: CatalogConfiguration?
    /// `PUT /api/uploads/{name}`: off unless given (Docs/catalog.md, "Uploads").
    public var uploads: UploadConfiguration?
    /// Pictures (`/render`, `/thumbnail`, `/quicklook`; Docs/serve.md "Pictures"): renders
    /// at once (default: the cores) and waiting beyond those (default 64; more is a 503).
    public var renderConcurrency: Int?
    public var renderQueue: Int?
    /// Caps on one render, checked before any pixel is read (defaults 4096² pixels out,
    /// 512 MiB read).
    public var renderMaxOutputPixels: Int?
    public var renderMaxReadBytes: Int?
    /// A folder where thumbnails and quicklooks are kept between requests and restarts
    /// (default: none kept), and its bound in bytes (default 1 GiB).
    public var renderCacheDir: String?
    public var renderCacheBytes: Int?
    /// The browse page (`GET /`, `/browse/{root}/{image}`; Docs/serve.md "Browse page"). Default false.
    public var browse: Bool?
    /// neuroglancer's built client (the `neuroglancer` wheel's `static/client` folder),
    /// served read-only at `/viewer/v/tessera/`. Default: no viewer.
    public var viewerAssets: String?
    /// Swagger UI's static files (the `swagger-ui-py` wheel's `swagger_ui/static` folder),
    /// served at `/docs/` with the spec given by `openapi`. Default: no `/docs`.
    public var docsAssets: String?
    /// The OpenAPI document served at `/openapi.yaml` (Specs/openapi.yaml).
    public var openapi: String?

    public init() {}

    public static func load(yamlFile path: String) throws -> GatewayConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("\(path): cannot read the configuration file")
        }
        do {
            return try YAMLDecoder().decode(GatewayConfiguration.self, from: text)
        } catch let error as DecodingError {
            throw ConfigurationError("\(path): \(Self.describe(error))")
        } catch {
            throw ConfigurationError("\(path): \(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ path: [any CodingKey]) -> String { path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case let .keyNotFound(key, context): return "missing '\(key.stringValue)' at \(at(context.codingPath).isEmpty ? "top level" : at(context.codingPath))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return "\(at(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    /// Checks what a server cannot start without, naming the offending entry.
    public func validated() throws -> GatewayConfiguration {
        let roots = self.roots ?? []
        guard !roots.isEmpty else { throw ConfigurationError("no roots to serve: give --root NAME=PATH_OR_S3_URL or roots: in the config") }
        var seen = Set<String>()
        for root in roots {
            guard !RequestPath.reservedRootNames.contains(root.name) else {
                throw ConfigurationError("root name '\(root.name)' is reserved for the gateway's /\(root.name) route")
            }
            guard RequestPath.decodeSegment(root.name[...]) == root.name, !root.name.contains("%") else {
                throw ConfigurationError("root name '\(root.name)' is not usable in a URL (reserved, or contains '/', '%', '..' or control characters)")
            }
            guard seen.insert(root.name).inserted else { throw ConfigurationError("root '\(root.name)' is given twice") }
            if case let .groups(groups)? = root.access, groups.isEmpty {
                throw ConfigurationError("root '\(root.name)': access lists no groups (use 'public' to open it)")
            }
            if root.datasets == .catalog && catalog == nil {
                throw ConfigurationError("root '\(root.name)': datasets: catalog needs a catalog (catalog.store in the config, or --catalog)")
            }
        }
        try catalog?.validate()
        try uploads?.validate()
        if uploads != nil && catalog == nil {
            throw ConfigurationError("uploads: needs a catalog (catalog.store in the config, or --catalog) to keep the quotas")
        }
        try NestedRoots.check(roots)
        if let port, !(0...65535).contains(port) { throw ConfigurationError("port \(port) is out of range") }
        if let fileCacheSeconds, !(0...3600).contains(fileCacheSeconds) {
            throw ConfigurationError("fileCacheSeconds \(fileCacheSeconds) is outside 0...3600")
        }
        for (name, value) in [("headerTimeoutSeconds", headerTimeoutSeconds), ("idleTimeoutSeconds", idleTimeoutSeconds),
                              ("sendTimeoutSeconds", sendTimeoutSeconds), ("consolidateSeconds", consolidateSeconds)] {
            if let value, !(0.5...86400).contains(value) { throw ConfigurationError("\(name) \(value) is outside 0.5...86400") }
        }
        for (name, value) in [("maxConnections", maxConnections), ("consolidateMaxDocuments", consolidateMaxDocuments),
                              ("consolidateMaxBytes", consolidateMaxBytes), ("renderConcurrency", renderConcurrency),
                              ("renderMaxOutputPixels", renderMaxOutputPixels), ("renderMaxReadBytes", renderMaxReadBytes),
                              ("renderCacheBytes", renderCacheBytes)] {
            if let value, value < 1 { throw ConfigurationError("\(name) \(value) must be at least 1") }
        }
        if docsAssets != nil && openapi == nil { throw ConfigurationError("docsAssets needs openapi (the spec /docs shows): give --openapi FILE") }
        if let renderQueue, renderQueue < 0 { throw ConfigurationError("renderQueue \(renderQueue) must be at least 0") }
        if let privateCacheControl, privateCacheControl.lowercased().contains("public") {
            throw ConfigurationError("privateCacheControl '\(privateCacheControl)' would let shared caches keep private answers")
        }
        // These go into every answer's head as they are.
        for (name, value) in [("cacheControl", cacheControl), ("privateCacheControl", privateCacheControl)] + (corsOrigins ?? []).map({ ("corsOrigins", $0) }) {
            if let value, value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
                throw ConfigurationError("\(name) '\(value.debugDescription)' contains a control character")
            }
        }
        return self
    }
}

public struct RootConfiguration: Codable, Sendable, Equatable {
    public var name: String
    /// A folder or `s3://bucket/prefix`.
    public var location: String
    /// `public` or a list of groups; default public.
    public var access: Access?
    /// Whether the catalogue decides which of the root's keys exist: `catalog` serves only
    /// keys inside ready catalogued datasets (the rest are missing), `open` (the default)
    /// serves every key under the root's rule and narrows catalogued datasets by their rule.
    public var datasets: DatasetsMode?

    public enum DatasetsMode: String, Codable, Sendable, Equatable {
        case open, catalog
    }

    public enum Access: Codable, Sendable, Equatable {
        case everyone
        case groups([String])

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let word = try? c.decode(String.self) {
                guard word == "public" else {
                    throw DecodingError.dataCorruptedError(in: c, debugDescription: "access is 'public' or a list of groups, not '\(word)'")
                }
                self = .everyone
            } else {
                self = .groups(try c.decode([String].self))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .everyone: try c.encode("public")
            case let .groups(g): try c.encode(g)
            }
        }
    }

    public init(name: String, location: String, access: Access? = nil, datasets: DatasetsMode? = nil) {
        self.name = name
        self.location = location
        self.access = access
        self.datasets = datasets
    }

    /// `NAME=LOCATION` as given to `--root`.
    public init(argument: String) throws {
        guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex, argument.index(after: eq) != argument.endIndex else {
            throw ConfigurationError("--root '\(argument)': expected NAME=PATH_OR_S3_URL")
        }
        self.init(name: String(argument[..<eq]), location: String(argument[argument.index(after: eq)...]))
    }
}

public struct AuthConfiguration: Codable, Sendable {
    public var tokens: [TokenEntry]?
    public var jwt: JWTConfiguration?

    public init(tokens: [TokenEntry]? = nil, jwt: JWTConfiguration? = nil) {
        self.tokens = tokens
        self.jwt = jwt
    }

    /// A static bearer token; the secret is given inline, in a file, or in an environment variable.
    public struct TokenEntry: Codable, Sendable {
        public var token: String?
        public var tokenFile: String?
        public var tokenEnv: String?
        public var groups: [String]
        /// The user this token stands for (optional; the catalogue's owner and uploader).
        public var user: String?

        func resolvedToken() throws -> String {
            guard let secret = try readSecret(inline: token, file: tokenFile, env: tokenEnv, what: "token"), !secret.isEmpty else {
                throw ConfigurationError("auth.tokens: an entry for groups \(groups) has no token (token, tokenFile or tokenEnv)")
            }
            return secret
        }
    }

    public struct JWTConfiguration: Codable, Sendable {
        public var hs256Secret: String?
        public var hs256SecretFile: String?
        public var hs256SecretEnv: String?
        /// PEM file of the RSA public key that verifies RS256 tokens.
        public var rs256PublicKeyFile: String?
        /// The claim listing the caller's groups (default `groups`).
        public var groupsClaim: String?
        /// The claim naming the user (default `sub`).
        public var userClaim: String?
        public var issuer: String?
        public var audience: String?

        func resolvedHS256Secret() throws -> String? {
            try readSecret(inline: hs256Secret, file: hs256SecretFile, env: hs256SecretEnv, what: "HS256 secret")
        }

        func resolvedRS256PublicKey() throws -> String? {
            try rs256PublicKeyFile.map { try readSecret(inline: nil, file: $0, env: nil, what: "RS256 public key")! }
        }
    }
}

private func readSecret(inline: String?, file: String?, env: String?, what: String) throws -> String? {
    if let inline { return inline }
    if let file {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ConfigurationError("\(file): cannot read the \(what)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    if let env {
        guard let value = ProcessInfo.processInfo.environment[env] else {
            throw ConfigurationError("the \(what) environment variable \(env) is not set")
        }
        return value
    }
    return nil
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
