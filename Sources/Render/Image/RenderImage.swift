import NGFF
import Storage
import ZarrCore

/// Which dimension of the image's arrays is which (NGFF axis names); y and x always exist.
public struct RenderAxes: Sendable, Equatable {
    public var t: Int?, c: Int?, z: Int?
    public var y: Int, x: Int
    public var rank: Int

    public init(t: Int?, c: Int?, z: Int?, y: Int, x: Int, rank: Int) {
        self.t = t; self.c = c; self.z = z; self.y = y; self.x = x; self.rank = rank
    }
}

/// Reads regions of one level (all of its axes, the image's axis order). Zarr levels are
/// `ZarrLevelReader`; the CLI adapts a source file's image and stored levels.
public protocol LevelReader: Sendable {
    func read(_ region: Region, concurrency: Int) throws -> NDBuffer
}

/// A level stored as a Zarr array.
public struct ZarrLevelReader: LevelReader {
    public let store: any Store
    public let key: String
    public let metadata: ArrayMetadata

    public func read(_ region: Region, concurrency: Int) throws -> NDBuffer {
        try ZarrArray(store: store, path: key, metadata: metadata, concurrency: concurrency).read(region)
    }
}

/// One pyramid level as the render sees it: its shape, how to read it, and how much
/// coarser it is than level 0 on z, y and x (from `coordinateTransformations`, so any
/// NGFF pyramid works).
public struct RenderLevel: Sendable {
    public var shape: [Int]
    public var reader: any LevelReader
    public var factorZ: Double, factorY: Double, factorX: Double

    public init(shape: [Int], reader: any LevelReader, factorZ: Double, factorY: Double, factorX: Double) {
        self.shape = shape
        self.reader = reader
        self.factorZ = factorZ
        self.factorY = factorY
        self.factorX = factorX
    }
}

/// An NGFF 0.4 or 0.5 image opened for rendering: metadata only, no pixel is read until
/// `Renderer` runs a plan. A bioformats2raw root renders its first series (`0`).
public struct RenderImage: Sendable {
    /// Where the image is, for messages (a store location, a file).
    public let name: String
    public let axes: RenderAxes
    public let levels: [RenderLevel]
    public let omero: OmeroReadModel?
    public let dataType: DataType
    /// The image's NGFF metadata as stored (`multiscales`, `omero` when present), for the
    /// HDF5 output's attributes; empty for source files.
    public var ngffMetadata: [String: JSONValue] = [:]
    /// Where the image's stored statistics would be (`stats=image`); nil for images that
    /// are not NGFF groups in a store.
    public let statistics: StoredStatisticsLocation?

    /// An image from elsewhere than an NGFF group (the CLI's source files): levels
    /// ordered finest first, all of `dataType`, level 0 at factor 1.
    public init(name: String, axes: RenderAxes, levels: [RenderLevel], omero: OmeroReadModel?, dataType: DataType,
                statistics: StoredStatisticsLocation? = nil) {
        self.name = name
        self.axes = axes
        self.levels = levels
        self.omero = omero
        self.dataType = dataType
        self.statistics = statistics
    }

    public var channelCount: Int { axes.c.map { levels[0].shape[$0] } ?? 1 }
    public var timeCount: Int { axes.t.map { levels[0].shape[$0] } ?? 1 }
    public var depth: Int { axes.z.map { levels[0].shape[$0] } ?? 1 }
    public var width: Int { levels[0].shape[axes.x] }
    public var height: Int { levels[0].shape[axes.y] }

    /// Types whose values the renderer converts to float64 exactly (all of Zarr's but
    /// complex ones; 64-bit integers beyond 2^53 lose their low bits, as in numpy).
    static let supportedTypes: Set<DataType> = Set(DataType.allCases)

    /// `name` is how messages (and `RenderImage.name`) call the image; by default the
    /// store's description of `path`, which for a folder is a path on this machine: the
    /// gateway passes the image's public name (`root/path`) so no answer shows one.
    public static func open(store: any Store, path: String, name: String? = nil) throws -> RenderImage {
        try open(store: store, path: path, publicName: name, followSeries: true)
    }

    private static func open(store: any Store, path: String, publicName: String?, followSeries: Bool) throws -> RenderImage {
        let name = publicName ?? store.describe(path)
        let node: Node
        do { node = try Node.open(store: store, path: path) } catch ZarrError.nodeNotFound {
            throw RenderError.imageNotFound(name)
        }
        guard case let .group(_, attributes) = node else {
            throw RenderError.unsupportedImage(name, "this is an array, not an NGFF image group (render the group holding 'multiscales')")
        }
        let ngff = NGFFAttributes.ngff(attributes) ?? [:]
        guard let multiscale = ngff["multiscales"]?.arrayValue?.first else {
            if followSeries, ngff["bioformats2raw.layout"] != nil {
                return try open(store: store, path: joinKey(path, "0"), publicName: publicName.map { $0 + "/0" }, followSeries: false)
            }
            throw RenderError.unsupportedImage(name, "the group has no NGFF 'multiscales'")
        }
        let axisNames = (multiscale["axes"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue ?? $0.stringValue }
        func axis(_ n: String) -> Int? { axisNames.firstIndex(of: n) }
        guard let y = axis("y"), let x = axis("x") else {
            throw RenderError.unsupportedImage(name, "its axes \(axisNames) have no 'y' and 'x'")
        }
        let axes = RenderAxes(t: axis("t"), c: axis("c"), z: axis("z"), y: y, x: x, rank: axisNames.count)
        let datasets = multiscale["datasets"]?.arrayValue ?? []
        guard !datasets.isEmpty else { throw RenderError.unsupportedImage(name, "'multiscales' lists no datasets") }

        var arrays = [(key: String, metadata: ArrayMetadata, scale: [Double]?)]()
        for (i, ds) in datasets.enumerated() {
            guard let dsPath = ds["path"]?.stringValue, !dsPath.isEmpty else {
                throw RenderError.unsupportedImage(name, "dataset \(i) has no path")
            }
            let key = joinKey(path, dsPath)
            let level: Node
            do { level = try Node.open(store: store, path: key) } catch ZarrError.nodeNotFound {
                throw RenderError.unsupportedImage(name, "level \(i) ('\(dsPath)') is missing")
            }
            guard case let .array(metadata) = level else {
                throw RenderError.unsupportedImage(name, "level \(i) ('\(dsPath)') is not an array")
            }
            guard metadata.dimensions == axes.rank else {
                throw RenderError.unsupportedImage(name, "level \(i) has \(metadata.dimensions) dimensions for \(axes.rank) axes")
            }
            guard metadata.dataType == (arrays.first?.metadata.dataType ?? metadata.dataType) else {
                throw RenderError.unsupportedImage(name, "level \(i) is \(metadata.dataType.rawValue), level 0 is \(arrays[0].metadata.dataType.rawValue)")
            }
            arrays.append((key, metadata, scaleOf(ds)))
        }
        let base = arrays[0]
        guard supportedTypes.contains(base.metadata.dataType) else {
            throw RenderError.unsupportedImage(name, "data type \(base.metadata.dataType.rawValue) is not drawn")
        }
        var levels = [RenderLevel]()
        for (i, a) in arrays.enumerated() {
            for d in [axes.t, axes.c].compactMap({ $0 }) where a.metadata.shape[d] != base.metadata.shape[d] {
                throw RenderError.unsupportedImage(name, "level \(i) has \(a.metadata.shape[d]) along '\(axisNames[d])', level 0 has \(base.metadata.shape[d])")
            }
            guard a.metadata.shape[y] > 0, a.metadata.shape[x] > 0 else {
                throw RenderError.unsupportedImage(name, "level \(i) is empty (shape \(a.metadata.shape))")
            }
            func factor(_ d: Int?) throws -> Double {
                guard let d else { return 1 }
                let f: Double
                if let s = a.scale, let s0 = base.scale, s.count == axes.rank, s0.count == axes.rank, s0[d] != 0 {
                    f = s[d] / s0[d]
                } else {
                    f = Double(max(base.metadata.shape[d], 1)) / Double(max(a.metadata.shape[d], 1))
                }
                guard f.isFinite, f > 0 else {
                    throw RenderError.unsupportedImage(name, "level \(i)'s scale along '\(axisNames[d])' is not a positive multiple of level 0's")
                }
                return f
            }
            levels.append(RenderLevel(shape: a.metadata.shape, reader: ZarrLevelReader(store: store, key: a.key, metadata: a.metadata),
                                      factorZ: try factor(axes.z), factorY: try factor(y), factorX: try factor(x)))
        }
        let omero = try OmeroReadModel(ngff["omero"], image: name)
        var image = RenderImage(name: name, axes: axes, levels: levels, omero: omero, dataType: base.metadata.dataType,
                                statistics: StoredStatisticsLocation(store: store, imagePath: path))
        image.ngffMetadata = ngff.filter { $0.key == "multiscales" || $0.key == "omero" }
        return image
    }

    /// A dataset's `scale` transform, if it has one of numbers.
    static func scaleOf(_ dataset: JSONValue) -> [Double]? {
        for t in dataset["coordinateTransformations"]?.arrayValue ?? [] where t["type"]?.stringValue == "scale" {
            let values = (t["scale"]?.arrayValue ?? []).compactMap(\.doubleValue)
            return values.isEmpty ? nil : values
        }
        return nil
    }
}
