/// Zarr format version of a node.
public enum ZarrFormat: Int, Sendable, Codable { case v2 = 2, v3 = 3 }

/// One array's metadata in a format-neutral form. v2's `order`, `dtype` byte order and
/// `compressor` become codecs here, so reading and writing share one codec pipeline and
/// converting between formats is a matter of serialising differently.
public struct ArrayMetadata: Sendable {
    public var format: ZarrFormat
    public var shape: [Int]
    /// The grid of stored objects: chunks, or shards when sharding.
    public var chunkShape: [Int]
    public var dataType: DataType
    public var fillValue: FillValue
    public var codecs: CodecPipeline
    public var chunkKeyEncoding: ChunkKeyEncoding
    public var dimensionNames: [String?]?
    public var attributes: [String: JSONValue]

    public init(format: ZarrFormat, shape: [Int], chunkShape: [Int], dataType: DataType, fillValue: FillValue? = nil,
                codecs: CodecPipeline = CodecPipeline(), chunkKeyEncoding: ChunkKeyEncoding? = nil,
                dimensionNames: [String?]? = nil, attributes: [String: JSONValue] = [:]) {
        self.format = format
        self.shape = shape
        self.chunkShape = chunkShape
        self.dataType = dataType
        self.fillValue = fillValue ?? .zero(dataType)
        self.codecs = codecs
        self.chunkKeyEncoding = chunkKeyEncoding ?? (format == .v3 ? .v3Default : .v2Nested)
        self.dimensionNames = dimensionNames
        self.attributes = attributes
    }

    public var dimensions: Int { shape.count }

    /// Stored objects per dimension.
    public var chunkGrid: [Int] { zip(shape, chunkShape).map { ceilDiv($0, $1) } }

    /// Stored objects in the whole grid (fits in an Int: it is at most the element count,
    /// which `validate` checks).
    public var chunkCount: Int { checkedProduct(chunkGrid) ?? Int.max }

    /// The region of the array that chunk `coords` covers, clipped to the array's bounds.
    public func chunkRegion(_ coords: [Int]) -> Region {
        let origin = zip(coords, chunkShape).map { $0 * $1 }
        return Region(origin: origin, shape: zip(origin, zip(chunkShape, shape)).map { o, cs in min(cs.0, cs.1 - o) })
    }

    public var chunkSpec: ChunkSpec { ChunkSpec(shape: chunkShape, dataType: dataType, fillValue: fillValue) }

    /// Checks the invariants readers rely on; called for both parsed and built metadata.
    public func validate(key: String) throws {
        func bad(_ r: String) -> ZarrError { .invalidMetadata(key: key, reason: r) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("shape \(shape) has a negative extent") }
        guard chunkShape.count == shape.count else { throw bad("chunk shape \(chunkShape) and shape \(shape) differ in rank") }
        guard chunkShape.allSatisfy({ $0 > 0 }) else { throw bad("chunk shape \(chunkShape) must be positive") }
        if let names = dimensionNames, names.count != shape.count { throw bad("dimension_names has \(names.count) entries for \(shape.count) dimensions") }
        guard fillValue.bytes.count == dataType.size else { throw bad("fill value does not match \(dataType.rawValue)") }
        if let sharding = codecs.sharding {
            guard zip(chunkShape, sharding.innerChunkShape).allSatisfy({ $0 % $1 == 0 }) else {
                throw bad("shard shape \(chunkShape) is not a multiple of the inner chunk shape \(sharding.innerChunkShape)")
            }
        }
        // Every size derived from the shapes below must fit in an Int, so nothing that
        // reads this array has to check again: element and byte counts of the array and
        // of one chunk (the grid and shard geometry are no larger than these).
        guard let elements = checkedProduct(shape), elements.multipliedReportingOverflow(by: dataType.size).overflow == false else {
            throw bad("shape \(shape) of \(dataType.rawValue) holds more than 2^63 bytes")
        }
        guard let chunkElements = checkedProduct(chunkShape),
              chunkElements.multipliedReportingOverflow(by: dataType.size).overflow == false,
              chunkElements * dataType.size <= Int(Int32.max) else { throw bad("a chunk of \(chunkShape) exceeds 2 GiB") }
    }
}
