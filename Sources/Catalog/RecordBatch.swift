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
