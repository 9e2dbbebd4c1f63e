import Foundation
import ZarrCore

/// What the converter knows of one output, as plain values (the catalogue depends on neither
/// the readers nor the converter): the source, where the NGFF went, level 0's description.
public struct ConvertedDataset: Sendable {
    public var name: String
    public var location: String
    public var root: String?
    public var sourcePath: String?
    public var sourcePart: String?
    public var format: String?
    public var sourceBytes: Int64?
    public var storedBytes: Int64?
    public var checksum: String?
    public var fileModified: Double?
    public var dimensions: Dimensions?
    public var access: DatasetRule
    public var uploader: String?

    public init(name: String, location: String, root: String? = nil, sourcePath: String? = nil, sourcePart: String? = nil,
                format: String? = nil, sourceBytes: Int64? = nil, storedBytes: Int64? = nil, checksum: String? = nil,
                fileModified: Double? = nil, dimensions: Dimensions? = nil, access: DatasetRule = DatasetRule(),
                uploader: String? = nil) {
        self.name = name; self.location = location; self.root = root; self.sourcePath = sourcePath
        self.sourcePart = sourcePart; self.format = format; self.sourceBytes = sourceBytes
        self.storedBytes = storedBytes; self.checksum = checksum; self.fileModified = fileModified
        self.dimensions = dimensions; self.access = access; self.uploader = uploader
    }
}

/// Makes the catalogue's records of a conversion: `converting` before the first chunk,
/// `ready` with the harvest once the output's metadata is written, `failed` with the error.
/// The store keeps the `uid` of a location it already holds, so a fresh one is only used
/// for a new dataset.
public enum Harvester {
    public static func starting(_ d: ConvertedDataset, now: Double = Date().timeIntervalSince1970) -> DatasetRecord {
        record(d, status: .converting, error: nil, observed: nil, now: now)
    }

    public static func failed(_ d: ConvertedDataset, error: String, now: Double = Date().timeIntervalSince1970) -> DatasetRecord {
        record(d, status: .failed, error: error, observed: nil, now: now)
    }

    /// The ready record and its harvest from the source's metadata (`MetadataFlattener`'s input).
    public static func finished(_ d: ConvertedDataset, metadata: JSONValue,
                                now: Double = Date().timeIntervalSince1970) -> (DatasetRecord, Harvest) {
        let flat = MetadataFlattener.flatten(metadata)
        let observed = ObservationTime.find(in: flat.rows)
        let record = record(d, status: .ready, error: nil, observed: observed, now: now)
        return (record, Harvest(rows: flat.rows, document: flat.document, name: d.name))
    }

    static func record(_ d: ConvertedDataset, status: DatasetStatus, error: String?, observed: Double?, now: Double) -> DatasetRecord {
        DatasetRecord(uid: UUID().uuidString.lowercased(), name: d.name, root: d.root, location: d.location,
                      sourcePath: d.sourcePath, sourcePart: d.sourcePart, format: d.format, sourceBytes: d.sourceBytes,
                      storedBytes: d.storedBytes, checksum: d.checksum, fileModified: d.fileModified, observed: observed,
                      dimensions: d.dimensions, access: d.access, uploader: d.uploader, status: status, error: error,
                      created: now, updated: now)
    }
}
