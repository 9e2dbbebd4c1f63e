/// What identifies one version of a watched file: a change of any of these makes it a new
/// file to ingest (a `done` or `failed` row of another identity is taken again).
public struct FileIdentity: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var inode: Int64

    public init(size: Int64, mtimeNanoseconds: Int64, inode: Int64) {
        self.size = size; self.mtimeNanoseconds = mtimeNanoseconds; self.inode = inode
    }

    public var description: String { "size \(size), mtime \(mtimeNanoseconds) ns, inode \(inode)" }
}

public enum IngestStatus: String, Sendable, Equatable {
    case converting, done, failed
}

/// A row of `ingest_file`.
public struct IngestFileState: Sendable, Equatable {
    public var path: String
    public var identity: FileIdentity
    public var status: IngestStatus
    /// Where the path's output goes (fixed at its first claim).
    public var output: String
    public var datasetUID: String?
    public var error: String?
    /// Claims so far (a conversion taken over after a crash counts twice).
    public var attempts: Int
    public var holder: String?
    /// Unix seconds.
    public var leaseUntil: Double?
    public var updated: Double

    public init(path: String, identity: FileIdentity, status: IngestStatus, output: String, datasetUID: String? = nil,
                error: String? = nil, attempts: Int, holder: String? = nil, leaseUntil: Double? = nil, updated: Double) {
        self.path = path; self.identity = identity; self.status = status; self.output = output; self.datasetUID = datasetUID
        self.error = error; self.attempts = attempts; self.holder = holder; self.leaseUntil = leaseUntil; self.updated = updated
    }

    /// Whether this row settles the file as it is now: converted or failed with this very
    /// identity (a failed file is not retried until it changes).
    public func settles(_ identity: FileIdentity) -> Bool {
        status != .converting && self.identity == identity
    }
}

/// A claim the ledger granted: the row as it was before (nil: first time), so the watcher
/// knows whether to resume a dead watcher's conversion or overwrite an old output.
public struct IngestClaim: Sendable, Equatable {
    public var previous: IngestFileState?
    public var output: String
    public var attempts: Int

    public init(previous: IngestFileState?, output: String, attempts: Int) {
        self.previous = previous; self.output = output; self.attempts = attempts
    }
}

/// The watch ingest's state in the catalogue (table `ingest_file`, migration "2-ingest"),
/// shared by every watcher on the catalogue: a claim is one transaction, so two watchers of
/// one folder never convert the same file, and a crashed watcher's claim expires with its lease.
public protocol IngestLedger: Sendable {
    /// The row of this path, if any.
    func ingestState(path: String) async throws -> IngestFileState?

    /// Takes the path for conversion by `holder` until `leaseUntil` (unix seconds), unless
    /// the row already settles this identity, or another holder's lease is still running and
    /// that holder is not in `deadHolders` (watchers known to be gone). `output` is used when
    /// the path has no row yet; otherwise the row's output is kept. Returns nil when not taken.
    func claimIngest(path: String, identity: FileIdentity, output: String, holder: String, leaseUntil: Double,
                     deadHolders: Set<String>, now: Double) async throws -> IngestClaim?

    /// Extends the lease of the paths this holder is converting.
    func renewIngestLeases(paths: [String], holder: String, leaseUntil: Double) async throws

    /// Records the end of this holder's conversion of the path.
    func finishIngest(path: String, holder: String, status: IngestStatus, datasetUID: String?, error: String?,
                      now: Double) async throws

    /// The path already holding this output, if another path has it (outputs stay unique).
    func ingestPath(output: String) async throws -> String?
}
