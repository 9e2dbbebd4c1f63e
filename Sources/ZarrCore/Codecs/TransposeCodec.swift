/// The `transpose` codec: stores a chunk with its axes permuted. v2's `order: "F"` is the
/// same thing with the axes reversed, so one implementation serves both formats.
public struct TransposeCodec: ArrayToArrayCodec {
    /// `order[i]` is the decoded axis that becomes encoded axis `i`.
    public let order: [Int]

    public init(order: [Int]) { self.order = order }

    public init(configuration: JSONValue?, key: String, dimensions: Int) throws {
        guard let list = configuration?["order"]?.arrayValue else {
            throw ZarrError.invalidMetadata(key: key, reason: "transpose codec needs an 'order' list")
        }
        let order = list.compactMap(\.intValue)
        guard order.count == dimensions, order.count == list.count, Set(order) == Set(0..<dimensions) else {
            throw ZarrError.invalidMetadata(key: key, reason: "transpose order \(order) is not a permutation of 0..<\(dimensions)")
        }
        self.init(order: order)
    }

    /// The permutation equivalent to v2's Fortran order.
    public static func fortran(dimensions: Int) -> TransposeCodec { TransposeCodec(order: Array((0..<dimensions).reversed())) }

    public var isIdentity: Bool { order == Array(0..<order.count) }

    public var metadata: JSONValue { codecMetadata("transpose", ["order": JSONValue(order)]) }

    public func encodedSpec(_ decoded: ChunkSpec) -> ChunkSpec {
        var spec = decoded
        spec.shape = order.map { decoded.shape[$0] }
        return spec
    }

    public func encode(_ chunk: NDBuffer) throws -> NDBuffer { permute(chunk, order) }

    public func decode(_ chunk: NDBuffer, into decoded: ChunkSpec) throws -> NDBuffer {
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return permute(chunk, inverse)
    }
}

/// The buffer with axes permuted: output axis `i` is input axis `order[i]`.
func permute(_ input: NDBuffer, _ order: [Int]) -> NDBuffer {
    if order == Array(0..<order.count) { return input }
    let outShape = order.map { input.shape[$0] }
    let inStrides = cStrides(input.shape)
    let walk = order.map { inStrides[$0] }
    let size = input.dataType.size
    let count = input.elementCount
    let out = [UInt8](unsafeUninitializedCapacity: count * size) { dst, initialized in
        input.bytes.withUnsafeBufferPointer { src in
            var idx = [Int](repeating: 0, count: outShape.count)
            var srcOffset = 0
            for e in 0..<count {
                for b in 0..<size { dst[e * size + b] = src[srcOffset * size + b] }
                var d = outShape.count - 1
                while d >= 0 {
                    idx[d] += 1
                    srcOffset += walk[d]
                    if idx[d] < outShape[d] { break }
                    srcOffset -= walk[d] * outShape[d]
                    idx[d] = 0
                    d -= 1
                }
            }
        }
        initialized = count * size
    }
    return NDBuffer(dataType: input.dataType, shape: outShape, bytes: out)
}
