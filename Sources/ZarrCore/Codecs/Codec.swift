/// What a codec needs to know about the chunk it encodes or decodes.
public struct ChunkSpec: Sendable, Equatable {
    public var shape: [Int]
    public var dataType: DataType
    public var fillValue: FillValue

    public init(shape: [Int], dataType: DataType, fillValue: FillValue) {
        self.shape = shape
        self.dataType = dataType
        self.fillValue = fillValue
    }
}

/// Zarr v3 sorts codecs by what they map between (the same split zarrs uses): an array
/// stays an array (transpose), an array becomes bytes (bytes, sharding_indexed), bytes
/// stay bytes (compressors, checksums). A pipeline is any number of the first, exactly
/// one of the second, any number of the third.
public protocol ArrayToArrayCodec: Sendable {
    /// `{"name": ..., "configuration": ...}` as written in v3 metadata.
    var metadata: JSONValue { get }
    func encodedSpec(_ decoded: ChunkSpec) -> ChunkSpec
    func encode(_ chunk: NDBuffer) throws -> NDBuffer
    func decode(_ chunk: NDBuffer, into decoded: ChunkSpec) throws -> NDBuffer
}

public protocol ArrayToBytesCodec: Sendable {
    var metadata: JSONValue { get }
    func encode(_ chunk: NDBuffer, spec: ChunkSpec) throws -> [UInt8]
    func decode(_ bytes: [UInt8], spec: ChunkSpec) throws -> NDBuffer
    /// The encoded size for a chunk of `spec`, if it does not depend on the contents.
    func fixedEncodedSize(_ spec: ChunkSpec) -> Int?
    /// The most bytes a chunk of `spec` can take encoded (nil if that overflows): what a
    /// stored object may weigh before it is read, and what decoders may produce.
    func maxEncodedSize(_ spec: ChunkSpec) -> Int?
}

public protocol BytesToBytesCodec: Sendable {
    var metadata: JSONValue { get }
    /// The v2 `compressor` object for this codec, or nil if v2 cannot express it.
    var v2Metadata: JSONValue? { get }
    func encode(_ bytes: [UInt8]) throws -> [UInt8]
    /// Decodes `bytes`, which must decode to at most `maxDecodedSize` bytes: decoders stop
    /// (and throw) one byte past it, whatever sizes the encoded data declares.
    func decode(_ bytes: [UInt8], maxDecodedSize: Int) throws -> [UInt8]
    /// The encoded size for `n` input bytes, if it does not depend on the contents
    /// (checksums); sharding needs this to place an index at the start.
    func fixedEncodedSize(_ n: Int) -> Int?
    /// The most bytes `n` input bytes can encode to (nil if that overflows).
    func maxEncodedSize(_ n: Int) -> Int?
}

extension BytesToBytesCodec {
    public var v2Metadata: JSONValue? { nil }
    public func fixedEncodedSize(_ n: Int) -> Int? { nil }
    /// Compressors: their worst case plus slack (see `Limits.compressedBound`).
    public func maxEncodedSize(_ n: Int) -> Int? { fixedEncodedSize(n) ?? Limits.compressedBound(n) }
}

/// The error a bytes→bytes decoder throws when its output would pass its bound.
func decodedTooLarge(_ codec: String, limit: Int) -> ZarrError {
    corrupt("\(codec) data decodes to more than the \(limit) bytes a chunk of this array can hold")
}

/// `{"name": name, "configuration": configuration}`, the v3 form of every codec.
func codecMetadata(_ name: String, _ configuration: [String: JSONValue]? = nil) -> JSONValue {
    guard let configuration else { return .object(["name": .string(name)]) }
    return .object(["name": .string(name), "configuration": .object(configuration)])
}
