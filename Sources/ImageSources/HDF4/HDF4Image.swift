import CHDF4
import Foundation
import ZarrCore

/// One SDS of an HDF4 file, read by hyperslab (`SDreaddata` with start and edges), so a
/// region never needs the whole dataset. Every call holds the library's global lock.
final class HDF4Image: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    private let handle: HDF4DatasetHandle
    private let datasetName: String
    /// Output axis i is SDS dimension `order[i]`.
    private let order: [Int]

    init(handle: HDF4DatasetHandle, datasetName: String, order: [Int], description: ImageDescription) {
        self.handle = handle
        self.datasetName = datasetName
        self.order = order
        self.description = description
    }

    func read(_ region: Region) throws -> NDBuffer {
        let rank = order.count
        var start = [Int32](repeating: 0, count: rank), edges = [Int32](repeating: 0, count: rank)
        for (out, source) in order.enumerated() {
            // Regions lie inside the shape, whose dimensions came from int32 values.
            guard let s = Int32(exactly: region.origin[out]), let e = Int32(exactly: region.shape[out]) else {
                throw SourceError(handle.file.path, "SDS '\(datasetName)': region \(region) is outside the dataset")
            }
            start[source] = s
            edges[source] = e
        }
        let byteCount = region.elementCount * description.dataType.size
        var bytes = [UInt8](repeating: 0, count: byteCount)
        if byteCount > 0 {
            let status = HDF4Library.serialized {
                bytes.withUnsafeMutableBytes { SDreaddata(handle.id, &start, nil, &edges, $0.baseAddress) }
            }
            guard status != FAIL else {
                throw SourceError(handle.file.path, "cannot read \(region) of SDS '\(datasetName)' (damaged or truncated file?)")
            }
        }
        let buffer = NDBuffer(dataType: description.dataType, shape: edges.map { Int($0) }, bytes: bytes)
        return order == Array(0..<rank) ? buffer : try TransposeCodec(order: order).encode(buffer)
    }
}
