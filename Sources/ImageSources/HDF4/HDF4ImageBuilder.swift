import CHDF4
import Foundation
import ZarrCore

/// Turns one SDS into an `HDF4Image`: axes, read unit, and everything the file says about
/// it (attributes, dimensions, calibration, fill value, compression) as metadata.
enum HDF4ImageBuilder {
    /// What the library reports about how an SDS is stored.
    struct Storage: CustomStringConvertible {
        var coder: Int32
        var deflateLevel: Int32
        /// Chunk lengths (slowest first), or nil for a contiguous SDS.
        var chunks: [Int]?
        /// Nothing written yet: every read gives the fill value.
        var empty: Bool

        var coderName: String {
            switch coder {
            case Int32(COMP_CODE_NONE.rawValue): return "none"
            case Int32(COMP_CODE_RLE.rawValue): return "rle"
            case Int32(COMP_CODE_NBIT.rawValue): return "nbit"
            case Int32(COMP_CODE_SKPHUFF.rawValue): return "skipping huffman"
            case Int32(COMP_CODE_DEFLATE.rawValue): return "deflate"
            case Int32(COMP_CODE_SZIP.rawValue): return "szip"
            case Int32(COMP_CODE_JPEG.rawValue): return "jpeg"
            default: return "coder \(coder)"
            }
        }

        var description: String {
            var text = coder == Int32(COMP_CODE_DEFLATE.rawValue) ? "deflate level \(deflateLevel)" : coderName
            if let chunks { text += ", chunks \(chunks.map(String.init).joined(separator: "x"))" }
            return text
        }

        var json: JSONValue {
            var o: [String: JSONValue] = ["compression": .string(coderName), "empty": .bool(empty),
                                          "chunks": chunks.map { JSONValue($0) } ?? .null]
            if coder == Int32(COMP_CODE_DEFLATE.rawValue) { o["deflateLevel"] = .int(Int64(deflateLevel)) }
            return .object(o)
        }
    }

    static func image(_ info: HDF4DatasetInfo, file: HDF4File, name: String, fileAttributes: [String: JSONValue],
                      axisOption: String?) throws -> (HDF4Image, Storage) {
        let path = file.path
        guard let dataType = info.dataType else { throw SourceError(path, "SDS '\(info.name)' \(info.notImageReason ?? "is not numeric")") }
        let handle = try HDF4DatasetHandle(file: file, index: info.index, name: info.name)
        let rank = info.shape.count
        let (storage, attributes, dimensions, extras) = try HDF4Library.serialized { () throws -> (Storage, [String: JSONValue], [JSONValue], [String: JSONValue]) in
            var coder: Int32 = 0, level: Int32 = 0
            guard tessera_sd_compression(handle.id, &coder, &level) != FAIL else {
                throw SourceError(path, "SDS '\(info.name)': cannot read its compression (damaged file?)")
            }
            if coder != Int32(COMP_CODE_NONE.rawValue), tessera_hdf4_can_decode(coder) == 0 {
                let storage = Storage(coder: coder, deflateLevel: level, chunks: nil, empty: false)
                throw SourceError(path, "SDS '\(info.name)' is \(storage.coderName)-compressed, which this HDF4 library cannot decode")
            }
            var lengths = [Int32](repeating: 0, count: rank), flags: Int32 = 0
            guard tessera_sd_chunk_lengths(handle.id, Int32(rank), &lengths, &flags) != FAIL else {
                throw SourceError(path, "SDS '\(info.name)': cannot read its storage layout (damaged file?)")
            }
            var isEmpty: Int32 = 0
            guard SDcheckempty(handle.id, &isEmpty) != FAIL else {
                throw SourceError(path, "SDS '\(info.name)': cannot read its storage (damaged file?)")
            }
            let chunked = flags != HDF_NONE && lengths.allSatisfy { $0 > 0 }
            let storage = Storage(coder: coder, deflateLevel: level, chunks: chunked ? lengths.map { Int($0) } : nil, empty: isEmpty != 0)
            return (storage, HDF4Attributes.read(handle.id, count: info.attributeCount), dimensionMetadata(handle.id, rank: rank),
                    calibrationAndFill(handle.id, numberType: info.numberType))
        }
        let dimensionAxes = axesFromDimensionNames(dimensions)
        let names = try HDF5Opener.axisNames(option: axisOption, attributes: dimensionAxes.map { ["axes": .string($0)] } ?? [:],
                                             rank: rank, path: path)
        let order = names.indices.sorted { ImageAxis(name: names[$0]).canonicalRank < ImageAxis(name: names[$1]).canonicalRank }
        var metadata: [String: JSONValue] = [
            "dataset": .string(info.name), "index": .int(Int64(info.index)), "shape": JSONValue(info.shape),
            "axes": .array(names.map { .string($0) }), "attributes": .object(attributes), "dimensions": .array(dimensions),
            "fileAttributes": .object(fileAttributes), "storage": storage.json,
        ]
        metadata.merge(extras) { a, _ in a }
        let description = ImageDescription(
            name: name, axes: order.map { ImageAxis(name: names[$0]) }, shape: order.map { info.shape[$0] }, dataType: dataType,
            metadata: .object(metadata), readBlock: order.map { readUnit(info.shape, storage: storage)[$0] })
        return (HDF4Image(handle: handle, datasetName: info.name, order: order, description: description), storage)
    }

    /// The cheapest read, slowest dimension first: a chunk; one row of a contiguous
    /// uncompressed SDS; one plane of a contiguous compressed one (its data is one stream,
    /// decoded from its start, so smaller reads would decode it again and again).
    static func readUnit(_ shape: [Int], storage: Storage) -> [Int] {
        if let chunks = storage.chunks { return chunks }
        let keep = storage.coder == Int32(COMP_CODE_NONE.rawValue) ? 1 : 2
        return shape.enumerated().map { $0.offset >= shape.count - keep ? $0.element : 1 }
    }

    /// Axis names from the dimension names when every one says which axis it is
    /// (`z`, `y`, `x`, `time`, `channel`, …), slowest first; nil otherwise.
    static func axesFromDimensionNames(_ dimensions: [JSONValue]) -> String? {
        let known = ["t": "t", "time": "t", "c": "c", "channel": "c", "channels": "c", "band": "c",
                     "z": "z", "y": "y", "x": "x"]
        let names = dimensions.compactMap { $0["name"]?.stringValue.flatMap { known[$0.lowercased()] } }
        guard !names.isEmpty, names.count == dimensions.count, Set(names).count == names.count else { return nil }
        return names.joined()
    }

    /// Each dimension's name, size, scale type and attributes. Lock held by the caller.
    private static func dimensionMetadata(_ sds: Int32, rank: Int) -> [JSONValue] {
        (0..<rank).map { i -> JSONValue in
            let dim = SDgetdimid(sds, Int32(i))
            var name = [CChar](repeating: 0, count: Int(H4_MAX_NC_NAME) + 1)
            var size: Int32 = 0, type: Int32 = 0, nattrs: Int32 = 0
            guard dim != FAIL, SDdiminfo(dim, &name, &size, &type, &nattrs) != FAIL else { return .null }
            var o: [String: JSONValue] = ["name": .string(String(hdf4Name: name)), "size": .int(Int64(size))]
            if type != 0 { o["scaleType"] = .string(HDF4DatasetInfo.dataType(type & 0x0FFF)?.rawValue ?? "HDF4 type \(type)") }
            let attributes = HDF4Attributes.read(dim, count: nattrs)
            if !attributes.isEmpty { o["attributes"] = .object(attributes) }
            return .object(o)
        }
    }

    /// `SDgetcal` (kept, not applied: the stored values are converted as they are) and
    /// `SDgetfillvalue`, when the SDS has them. Lock held by the caller.
    private static func calibrationAndFill(_ sds: Int32, numberType: Int32) -> [String: JSONValue] {
        var found = [String: JSONValue]()
        var cal = 0.0, calError = 0.0, offset = 0.0, offsetError = 0.0
        var calType: Int32 = 0
        if SDgetcal(sds, &cal, &calError, &offset, &offsetError, &calType) != FAIL {
            found["calibration"] = .object([
                "scale": HDF4Attributes.number(cal), "scaleError": HDF4Attributes.number(calError),
                "offset": HDF4Attributes.number(offset), "offsetError": HDF4Attributes.number(offsetError),
                "type": .string(HDF4DatasetInfo.dataType(calType & 0x0FFF)?.rawValue ?? "HDF4 type \(calType)"),
            ])
        }
        var fill = [UInt8](repeating: 0, count: 16)
        if DFKNTsize(numberType) <= 16, fill.withUnsafeMutableBytes({ SDgetfillvalue(sds, $0.baseAddress) }) != FAIL {
            found["fillValue"] = HDF4Attributes.decode(fill, type: numberType, count: 1)
        }
        return found
    }
}
