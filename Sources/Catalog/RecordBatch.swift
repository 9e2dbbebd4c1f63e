/// What recording one dataset did: `catalog add`'s summary counts these.
public enum RecordOutcome: String, Sendable, Equatable {
    /// A new location: a new row.
    case added
    /// The location was recorded and something in the record or its harvest differed.
    case updated
    /// The location was recorded exactly so (the same fields, access and harvested document):
    /// nothing was written, so `updated` and the access version stay where they were.
    case unchanged
}

/// One dataset of a batch: its record and, for a ready one, its harvest.
public struct RecordItem: Sendable {
    public var record: DatasetRecord
    public var harvest: Harvest?
    public init(record: DatasetRecord, harvest: Harvest?) { self.record = record; self.harvest = harvest }
}

extension DatasetRecord {
    /// Whether this stored record already says what `given` would write — identity (id, uid,
    /// created) and the `updated` time aside — and its stored document (`storedDocument`) is
    /// the new `document` (nil: the write carries no harvest, so the document stays).
    public func alreadySays(_ given: DatasetRecord, document: String?, storedDocument: String?) -> Bool {
        var same = given
        same.id = id; same.uid = uid; same.created = created; same.updated = updated
        return same == self && (document == nil || document == storedDocument)
    }
}

extension CatalogStore {
    /// For a store without a transaction of its own for a batch (a test's fake): one
    /// `record` each, never `unchanged`. SQLite and PostgreSQL implement the real one.
    public func recordBatch(_ items: [RecordItem]) async throws -> [RecordOutcome] {
        var outcomes = [RecordOutcome]()
        for item in items {
            let known = try await dataset(location: item.record.storedForm.location) != nil
            _ = try await record(item.record, harvest: item.harvest)
            outcomes.append(known ? .updated : .added)
        }
        return outcomes
    }
}
