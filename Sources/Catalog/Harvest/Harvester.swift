import Foundation
import ZarrCore

/// Makes the catalogue's records of a conversion: `converting` before the first chunk,
/// `ready` with the harvest once the output's metadata is written, `failed` with the error.
/// Each takes the record as its writer knows the output (the source, where the NGFF went,
/// level 0's description: plain values, so the catalogue depends on neither the readers nor
/// the converter) and sets its status, error, observation time and times. A record without a
/// `uid` gets a fresh one; the store keeps the `uid` of a location it already holds, so a
/// fresh one is only used for a new dataset.
public enum Harvester {
    public static func starting(_ d: DatasetRecord, now: Double = Date().timeIntervalSince1970) -> DatasetRecord {
        record(d, status: .converting, error: nil, observed: nil, now: now)
    }

    public static func failed(_ d: DatasetRecord, error: String, now: Double = Date().timeIntervalSince1970) -> DatasetRecord {
        record(d, status: .failed, error: error, observed: nil, now: now)
    }

    /// The ready record and its harvest from the source's metadata (`MetadataFlattener`'s input).
    public static func finished(_ d: DatasetRecord, metadata: JSONValue,
                                now: Double = Date().timeIntervalSince1970) -> (DatasetRecord, Harvest) {
        let flat = MetadataFlattener.flatten(metadata)
        let observed = ObservationTime.find(in: flat.rows)
        let record = record(d, status: .ready, error: nil, observed: observed, now: now)
        return (record, Harvest(rows: flat.rows, document: flat.document, name: d.name))
    }

    static func record(_ d: DatasetRecord, status: DatasetStatus, error: String?, observed: Double?, now: Double) -> DatasetRecord {
        var record = d
        if record.uid.isEmpty { record.uid = StoredForm.newUID() }
        record.status = status
        record.error = error
        record.observed = observed
        record.created = now
        record.updated = now
        return record
    }
}
