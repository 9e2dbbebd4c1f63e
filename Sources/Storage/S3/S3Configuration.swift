import Foundation

/// Where a bucket lives and who we are to it, from the usual AWS environment:
/// `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL` (any S3-compatible service), `AWS_REGION`/
/// `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
/// else `AWS_PROFILE` in `~/.aws/credentials`, else anonymous (public buckets).
public struct S3Configuration: Sendable {
    public struct Credentials: Sendable {
        public var accessKey: String
        public var secretKey: String
        public var sessionToken: String?
    }

    /// `https://s3.REGION.amazonaws.com` when nil.
    public var endpoint: String?
    public var region: String
    public var credentials: Credentials?
    /// Path-style (`endpoint/bucket/key`) rather than virtual-host (`bucket.host/key`);
    /// the default for custom endpoints, where bucket subdomains rarely resolve.
    public var pathStyle: Bool
    /// Objects larger than this go up as a multipart upload (`TESSERA_S3_MULTIPART_THRESHOLD`).
    public var multipartThreshold = 64 << 20
    /// Part size for multipart uploads (S3's minimum is 5 MiB except for the last part),
    /// and the most a streamed object (`S3ObjectWriter`) holds in memory: S3's minimum, as
    /// rclone's default, so a conversion writing shards on every worker stays within a few
    /// MiB of one writing to disk (`Docs/convert.md`, "Memory").
    public var partSize = 5 << 20
    /// A transfer slower than 1 byte/s for this long is a stall, retried (`TESSERA_S3_STALL_SECONDS`).
    public var stallSeconds = 20
    /// A listing longer than this many ListObjectsV2 pages is an error
    /// (`TESSERA_S3_MAX_LIST_PAGES`): 200 million objects at S3's 1,000 per page (buckets of
    /// 10^8 objects exist). It stops a
    /// server that never ends a listing (new continuation tokens for ever); a token that
    /// comes back is caught at once.
    public var maxListPages = 200_000
    /// Keys per ListObjectsV2 page (`max-keys`), from `TESSERA_LIST_PAGE_SIZE`; nil leaves
    /// the server's default (1,000 on S3).
    public var listPageSize: Int?
    /// Listed keys remembered for the vanished-object check (`confirmAbsent`): a listing
    /// of 10^8 objects must not hold them all. Past this many, further keys read as a
    /// plain 404 when missing, as keys never listed do.
    public var listedKeysRemembered = 100_000
    /// libcurl `CURLOPT_CONNECT_TO` entries, `HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT`
    /// (`TESSERA_S3_CONNECT_TO`, comma-separated): connect elsewhere than the URL's host
    /// says, keeping that host in the Host header and the signature — e.g. virtual-host
    /// requests for `BUCKET.s3.localhost` sent to a local server, without touching DNS.
    public var connectTo: [String] = []

    public init(endpoint: String? = nil, region: String = "us-east-1", credentials: Credentials? = nil, pathStyle: Bool? = nil) {
        self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.region = region
        self.credentials = credentials
        self.pathStyle = pathStyle ?? (endpoint != nil)
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment, endpoint: String? = nil) -> S3Configuration {
        let region = env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1"
        var credentials: Credentials?
        if env["AWS_NO_SIGN_REQUEST"].map({ ["1", "true", "yes"].contains($0.lowercased()) }) != true {
            if let key = env["AWS_ACCESS_KEY_ID"], let secret = env["AWS_SECRET_ACCESS_KEY"], !key.isEmpty {
                credentials = Credentials(accessKey: key, secretKey: secret, sessionToken: env["AWS_SESSION_TOKEN"])
            } else {
                let file = env["AWS_SHARED_CREDENTIALS_FILE"] ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.aws/credentials")
                credentials = profile(env["AWS_PROFILE"] ?? "default", in: file)
            }
        }
        let addressing = env["TESSERA_S3_ADDRESSING"]?.lowercased()
        var c = S3Configuration(endpoint: endpoint ?? env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"], region: region,
                                credentials: credentials, pathStyle: addressing.map { $0 == "path" })
        if let t = env["TESSERA_S3_MULTIPART_THRESHOLD"].flatMap(Int.init), t > 0 {
            c.multipartThreshold = t
            c.partSize = max(5 << 20, min(c.partSize, t))
        }
        if let s = env["TESSERA_S3_STALL_SECONDS"].flatMap(Int.init), s > 0 { c.stallSeconds = s }
        if let m = env["TESSERA_S3_CONNECT_TO"] { c.connectTo = m.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        if let p = env["TESSERA_S3_MAX_LIST_PAGES"].flatMap(Int.init), p > 0 { c.maxListPages = p }
        c.listPageSize = ListPageSize.requested(env)
        return c
    }

    /// A profile's keys from an AWS credentials file (INI), or nil.
    static func profile(_ name: String, in path: String) -> Credentials? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var section = "", values = [String: String]()
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard section == name, let eq = line.firstIndex(of: "=") else { continue }
            values[line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        guard let key = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else { return nil }
        return Credentials(accessKey: key, secretKey: secret, sessionToken: values["aws_session_token"])
    }
}
