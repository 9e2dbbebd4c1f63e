import ZarrCore

/// One axis of an image, named and typed as NGFF names them (t, c, z, y, x).
public struct ImageAxis: Sendable, Equatable {
    public enum Kind: String, Sendable { case time, channel, space }

    public var name: String
    public var kind: Kind
    /// An NGFF unit name (`micrometer`, `second`, …) or nil when the source gives none.
    public var unit: String?

    public init(name: String, unit: String? = nil) {
        self.name = name
        self.kind = name == "t" ? .time : name == "c" ? .channel : .space
        self.unit = unit
    }

    /// Where NGFF wants this axis: t, c, z, y, x.
    public var canonicalRank: Int { ["t", "c", "z", "y", "x"].firstIndex(of: name) ?? 5 }
}

/// What a source says about one channel.
public struct ChannelInfo: Sendable, Equatable {
    public var name: String?
    /// `RRGGBB` hex, or nil to let the writer choose.
    public var color: String?
    /// The display range the source dictates (0…255 for the samples of an RGB picture), or
    /// nil to take the window from the pixels' histogram.
    public var window: ClosedRange<Double>?

    public init(name: String? = nil, color: String? = nil, window: ClosedRange<Double>? = nil) {
        self.name = name
        self.color = color
        self.window = window
    }

    /// The three channels of an 8-bit RGB picture (a slide, an RGB TIFF, a DICOM or DM colour
    /// image): every reader shows them as red, green and blue over the full 0–255 range.
    public static let rgb: [ChannelInfo] = [
        ChannelInfo(name: "red", color: "FF0000", window: 0...255),
        ChannelInfo(name: "green", color: "00FF00", window: 0...255),
        ChannelInfo(name: "blue", color: "0000FF", window: 0...255),
    ]
}

/// Everything about an image except its pixels. Axes are always in NGFF order
/// (t, c, z, y, x — those the image has), whatever the file's own order: sources
/// reorder on read, so everything downstream sees one layout.
public struct ImageDescription: Sendable {
    public var name: String
    public var axes: [ImageAxis]
    public var shape: [Int]
    public var dataType: DataType
    /// Physical size of one pixel per axis (1 where unknown; 1 on c).
    public var spacing: [Double]
    /// Physical position of the first pixel per axis (0 where unknown).
    public var origin: [Double]
    /// One entry per index of the c axis (or one when there is no c axis).
    public var channels: [ChannelInfo]
    /// The source's own metadata (tags, attributes, header cards) as JSON.
    public var metadata: JSONValue
    /// The source's cheapest read unit per axis (a tile, a strip of full-width rows, one
    /// page). Reads of regions aligned to it decode nothing twice.
    public var readBlock: [Int]
    /// True when the source gave physical pixel sizes (otherwise `spacing` is all 1).
    public var hasPhysicalSizes: Bool

    public init(name: String, axes: [ImageAxis], shape: [Int], dataType: DataType, spacing: [Double]? = nil,
                origin: [Double]? = nil, channels: [ChannelInfo] = [], metadata: JSONValue = .object([:]),
                readBlock: [Int]? = nil, hasPhysicalSizes: Bool = false) {
        self.name = name
        self.axes = axes
        self.shape = shape
        self.dataType = dataType
        self.spacing = spacing ?? shape.map { _ in 1 }
        self.origin = origin ?? shape.map { _ in 0 }
        let channelCount = axes.firstIndex { $0.name == "c" }.map { shape[$0] } ?? 1
        self.channels = channels.count == channelCount ? channels : (0..<channelCount).map { _ in ChannelInfo() }
        self.metadata = metadata
        self.readBlock = readBlock ?? shape
        self.hasPhysicalSizes = hasPhysicalSizes
    }

    public func axisIndex(_ name: String) -> Int? { axes.firstIndex { $0.name == name } }
    public var axisNames: [String] { axes.map(\.name) }
    public var byteCount: Int { shape.reduce(1, *) * dataType.size }
}

/// An image that can be read region by region. `read` must be safe to call from
/// several threads at once (sources serialise internally where their library needs it)
/// and must not decode the whole image to answer a small region.
public protocol ImageSource: AnyObject, Sendable {
    var description: ImageDescription { get }
    /// The pixels of `region` (in the description's axis order), C order.
    func read(_ region: Region) throws -> NDBuffer
}

extension ImageSource {
    /// Lower resolutions the file already holds (a TIFF's SubIFD pyramid), largest first.
    public var storedLevels: [any ImageSource] { (self as? StoredPyramid)?.reducedLevels() ?? [] }
}

/// Sources whose files carry their own pyramid.
protocol StoredPyramid {
    func reducedLevels() -> [any ImageSource]
}

/// A file opened for conversion: one or more images, plus what describes the file as a
/// whole (the OME-XML of an OME-TIFF).
public struct SourceFile: Sendable {
    public enum Format: String, Sendable { case tiff, omeTIFF = "ome-tiff", hdf5, fits, slide, hdf4, dicom, dm }

    public var path: String
    public var format: Format
    public var images: [any ImageSource]
    public var omeXML: String?
    /// Bytes of the file(s) on disk, for the summary.
    public var fileBytes: Int
    /// What the reader saw about the file as a whole, in the order `tessera info` prints it:
    /// a slide's vendor, a DICOM transfer syntax, a FITS or HDF4 compression.
    public var details: [(label: String, value: String)]
    /// Every key/value of the file's metadata for the catalogue's harvest, as the readers saw
    /// it while opening (no pixels read), in `MetadataFlattener`'s input form
    /// (`{"format", "scopes": [{"scope", "entries": [[key, value]…], "textual"?}]}`); read it
    /// through `SourceMetadata.of(_:)`, which builds it from the images' metadata for readers
    /// that do not fill it.
    public var harvestMetadata: JSONValue?

    public init(path: String, format: Format, images: [any ImageSource], omeXML: String? = nil, fileBytes: Int,
                details: [(label: String, value: String)] = [], harvestMetadata: JSONValue? = nil) {
        self.path = path
        self.format = format
        self.images = images
        self.omeXML = omeXML
        self.fileBytes = fileBytes
        self.details = details
        self.harvestMetadata = harvestMetadata
    }
}

/// An input that cannot be converted: says which file and why, in one line.
public struct SourceError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "'\(path)': \(reason)" }
}
