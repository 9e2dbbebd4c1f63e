import Foundation

/// The `uploads:` section of the gateway's YAML (Docs/catalog.md, "Uploads"): uploads are off
/// unless it is given. Sizes are bytes, as a number or with a unit (`4MiB`, `20GiB`, `1TB`).
public struct UploadConfiguration: Codable, Sendable, Equatable {
    /// The folder complete uploads go to (`STAGING/USER/NAME`), which a `tessera watch`
    /// ingests; bodies arrive in `STAGING/.tessera-staging/.incoming/*.part` (the same file
    /// system, so completing is a rename; the watcher skips hidden folders).
    public var staging: String
    /// The largest file one upload may be (default 20 GiB).
    public var maxFileBytes: ByteCount?
    /// Each user's quota (default 100 GiB): receiving and complete uploads together.
    public var quotaBytes: ByteCount?
    /// Quotas of named users, instead of `quotaBytes`.
    public var quotas: [String: ByteCount]?
    /// Who may upload: members of any of these groups (default: every authenticated user).
    public var groups: [String]?
    /// An upload is refused (507) when the staging file system would keep less than this
    /// free (default 1 GiB).
    public var minFreeBytes: ByteCount?

    public init(staging: String, maxFileBytes: ByteCount? = nil, quotaBytes: ByteCount? = nil, quotas: [String: ByteCount]? = nil,
                groups: [String]? = nil, minFreeBytes: ByteCount? = nil) {
        self.staging = staging; self.maxFileBytes = maxFileBytes; self.quotaBytes = quotaBytes; self.quotas = quotas
        self.groups = groups; self.minFreeBytes = minFreeBytes
    }

    public static let defaultMaxFileBytes: Int64 = 20 << 30
    public static let defaultQuotaBytes: Int64 = 100 << 30
    public static let defaultMinFreeBytes: Int64 = 1 << 30

    var resolvedMaxFileBytes: Int64 { maxFileBytes?.bytes ?? Self.defaultMaxFileBytes }
    var resolvedMinFreeBytes: Int64 { minFreeBytes?.bytes ?? Self.defaultMinFreeBytes }

    /// The quota of `user`.
    public func quota(of user: String) -> Int64 {
        quotas?[user]?.bytes ?? quotaBytes?.bytes ?? Self.defaultQuotaBytes
    }

    /// Refuses settings a gateway could not run with, naming the entry.
    func validate() throws {
        guard !staging.isEmpty else { throw ConfigurationError("uploads.staging is empty") }
        if let maxFileBytes, maxFileBytes.bytes < 1 { throw ConfigurationError("uploads.maxFileBytes must be at least 1") }
        for (name, value) in [("uploads.quotaBytes", quotaBytes), ("uploads.minFreeBytes", minFreeBytes)] + (quotas ?? [:])
            .sorted(by: { $0.key < $1.key }).map({ ("uploads.quotas.\($0.key)", Optional($0.value)) }) {
            if let value, value.bytes < 0 { throw ConfigurationError("\(name) must not be negative") }
        }
        if let groups, groups.isEmpty || groups.contains(where: \.isEmpty) {
            throw ConfigurationError("uploads.groups lists no usable group (leave it out to let every authenticated user upload)")
        }
    }
}

/// A size in bytes in the configuration: a whole number, or one with a unit (B, KB, MB, GB,
/// TB in powers of 1000; KiB, MiB, GiB, TiB in powers of 1024).
public struct ByteCount: Codable, Sendable, Equatable, ExpressibleByIntegerLiteral {
    public var bytes: Int64

    public init(_ bytes: Int64) { self.bytes = bytes }
    public init(integerLiteral value: Int64) { bytes = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int64.self) { bytes = n; return }
        let text = try container.decode(String.self)
        guard let n = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a size (e.g. 4096, 4MiB, 20GiB)")
        }
        bytes = n
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(bytes)
    }

    static func parse(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
                                        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let (digits, scale) = units.first(where: { trimmed.hasSuffix($0.0) }).map { (String(trimmed.dropLast($0.0.count)), $0.1) }
            ?? (trimmed, 1)
        guard let n = Int64(digits.trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
        let (product, overflow) = n.multipliedReportingOverflow(by: scale)
        return overflow ? nil : product
    }
}
