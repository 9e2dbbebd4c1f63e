@preconcurrency import CHDF5
import Foundation
import Synchronization
import ZarrCore

/// One N-d numeric HDF5 dataset, read by hyperslab. Debian's HDF5 is thread-safe with
/// one global lock, so reads serialise there anyway; the dataset handle is guarded by
/// our own lock as well so handle lifetime is simple.
final class HDF5Image: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    private let path: String
    private let datasetPath: String
    private let file: hid_t
    private let dataset: hid_t
    private let memoryType: hid_t
    private let sourceShape: [Int]
    /// Output axis i is dataset axis `order[i]`.
    private let order: [Int]
    private let lock = Mutex(())

    init(path: String, datasetPath: String, file: hid_t, dataset: hid_t, memoryType: hid_t, sourceShape: [Int],
         order: [Int], description: ImageDescription) {
        self.path = path
        self.datasetPath = datasetPath
        self.file = file
        self.dataset = dataset
        self.memoryType = memoryType
        self.sourceShape = sourceShape
        self.order = order
        self.description = description
    }

    deinit {
        H5Dclose(dataset)
        H5Fclose(file)
    }

    func read(_ region: Region) throws -> NDBuffer {
        let rank = sourceShape.count
        var start = [hsize_t](repeating: 0, count: rank), count = [hsize_t](repeating: 0, count: rank)
        for (out, src) in order.enumerated() {
            start[src] = hsize_t(region.origin[out])
            count[src] = hsize_t(region.shape[out])
        }
        let sourceRegionShape = count.map { Int($0) }
        let byteCount = region.elementCount * description.dataType.size
        var bytes = [UInt8](repeating: 0, count: byteCount)
        if byteCount > 0 {
            try lock.withLock { _ in
                let fileSpace = H5Dget_space(dataset)
                defer { H5Sclose(fileSpace) }
                let memorySpace = H5Screate_simple(Int32(rank), count, nil)
                defer { H5Sclose(memorySpace) }
                guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, count, nil) >= 0,
                      bytes.withUnsafeMutableBytes({ H5Dread(dataset, memoryType, memorySpace, fileSpace, tessera_h5p_default(), $0.baseAddress) }) >= 0 else {
                    throw SourceError(path, "cannot read \(region) of dataset '\(datasetPath)' (damaged or truncated file?)")
                }
            }
        }
        let buffer = NDBuffer(dataType: description.dataType, shape: sourceRegionShape, bytes: bytes)
        return order == Array(0..<rank) ? buffer : try TransposeCodec(order: order).encode(buffer)
    }
}
