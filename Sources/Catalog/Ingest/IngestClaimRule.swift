/// When a watcher may take a path whose `ingest_file` row exists: the one rule both stores
/// apply inside their claim transaction.
public enum IngestClaimRule {
    public static func mayClaim(_ row: IngestFileState, identity: FileIdentity, holder: String, deadHolders: Set<String>,
                                now: Double) -> Bool {
        switch row.status {
        case .done, .failed:
            // Settled for this identity: a failed file waits until it changes.
            return row.identity != identity
        case .converting:
            guard let owner = row.holder, owner != holder else { return true }
            // Another watcher's conversion: only once it is known dead or its lease ran out.
            return deadHolders.contains(owner) || (row.leaseUntil ?? 0) < now
        }
    }
}
