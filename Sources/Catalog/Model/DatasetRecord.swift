import Foundation
import ZarrCore

/// Where a dataset stands in its life: a row is written as `converting` before the first
/// chunk (so a root whose objects are served by catalogue rule never shows it early), and
/// becomes `ready` once the output's top-level metadata exists, or `failed` with the error.
public enum DatasetStatus: String, Sendable, Codable, CaseIterable {
    case converting, ready, failed
}

/// One catalogued NGFF dataset: an image (or bioformats2raw collection) at one location,
/// with what is known of its source. The row the API's summary is made from.
///
/// `uid` is the stable public name (the API's `{id}`); `id` is the store's own key, never
/// shown outside. `location` is unique: recording the same location again updates the row.
/// A writer describes an output with the plain values it knows (`DatasetRecord(name:location:…)`)
/// and `Harvester` sets the status and times; an empty `uid` is given a fresh one.
public struct DatasetRecord: Sendable, Equatable {
    /// The store's key, `nil` until the record has been stored.
    public var id: Int64?
    public var uid: String
    public var name: String
    /// The served root the location lies under, when the writer knew it.
    public var root: String?
    /// Absolute local path or `s3://bucket/prefix` of the NGFF group.
    public var location: String
    public var sourcePath: String?
    /// Which part of the source (a FITS HDU, an HDF5 dataset, a series) this dataset holds.
    public var sourcePart: String?
    public var format: String?
    public var sourceBytes: Int64?
    public var storedBytes: Int64?
    /// The source's identity (sampled checksum and size) as the converter's resume check knows it.
    public var checksum: String?
    /// Seconds since 1970 (UTC).
    public var fileModified: Double?
    /// When the data was taken (seconds since 1970, UTC), from the first present observation key.
    public var observed: Double?
    public var dimensions: Dimensions?
    public var access: DatasetRule
    /// Who uploaded the source through the gateway, if it came that way.
    public var uploader: String?
    public var status: DatasetStatus
    public var error: String?
    public var created: Double
    public var updated: Double

    public init(id: Int64? = nil, uid: String = "", name: String, root: String? = nil, location: String,
                sourcePath: String? = nil, sourcePart: String? = nil, format: String? = nil,
                sourceBytes: Int64? = nil, storedBytes: Int64? = nil, checksum: String? = nil,
                fileModified: Double? = nil, observed: Double? = nil, dimensions: Dimensions? = nil,
                access: DatasetRule = DatasetRule(), uploader: String? = nil,
                status: DatasetStatus = .converting, error: String? = nil,
                created: Double = Date().timeIntervalSince1970, updated: Double? = nil) {
        self.id = id; self.uid = uid; self.name = name; self.root = root; self.location = location
        self.sourcePath = sourcePath; self.sourcePart = sourcePart; self.format = format
        self.sourceBytes = sourceBytes; self.storedBytes = storedBytes; self.checksum = checksum
        self.fileModified = fileModified; self.observed = observed; self.dimensions = dimensions
        self.access = access; self.uploader = uploader; self.status = status; self.error = error
        self.created = created; self.updated = updated ?? created
    }
}

/// Level 0 of the dataset's (first) image as the API shows it.
public struct Dimensions: Sendable, Equatable, Codable {
    public var shape: [Int64]
    public var axes: [String]
    public var dataType: String
    /// Physical size of one pixel along each axis, with its unit; `nil` where unknown.
    public var physical: [PhysicalSize?]

    public init(shape: [Int64], axes: [String], dataType: String, physical: [PhysicalSize?]) {
        self.shape = shape; self.axes = axes; self.dataType = dataType; self.physical = physical
    }
}

public struct PhysicalSize: Sendable, Equatable, Codable {
    public var size: Double
    public var unit: String?
    public init(size: Double, unit: String?) { self.size = size; self.unit = unit }
}

/// What the harvest found in the source, written with the record in one transaction.
public struct Harvest: Sendable, Equatable {
    /// Every source key/value, typed, in source order.
    public var rows: [MetaRow]
    /// The harvested metadata as `GET /api/datasets/{id}/metadata` serves it.
    public var document: JSONValue
    /// The free-text body: the tokens of the name and of every string value (`FreeText`).
    public var text: String

    public init(rows: [MetaRow], document: JSONValue, name: String) {
        self.rows = rows
        self.document = document
        self.text = FreeText.body(name: name, rows: rows)
    }
}
