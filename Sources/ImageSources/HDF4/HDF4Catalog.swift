import CHDF4
import Foundation
import ZarrCore

/// What `SDgetinfo` says about one SDS of a file, and whether it can be an image.
struct HDF4DatasetInfo {
    var index: Int32
    var name: String
    /// Slowest dimension first, as the file stores it.
    var shape: [Int]
    /// The HDF4 number type (`DFNT_*`), without its byte-order flags.
    var numberType: Int32
    var attributeCount: Int32
    /// A dimension scale stored as an SDS (`SDiscoordvar`): coordinates, not an image.
    var isCoordinate: Bool

    var dataType: DataType? { Self.dataType(numberType) }
    var shapeText: String { shape.map(String.init).joined(separator: "x") }
    var summary: String { "\(name) (\(shapeText) \(dataType?.rawValue ?? Self.typeName(numberType)))" }

    /// Why this SDS is not an image, or nil when it is one (2 to 5 dimensions, none
    /// empty, integer or float samples).
    var notImageReason: String? {
        if isCoordinate { return "is a dimension scale (coordinate variable)" }
        guard dataType != nil else { return "holds \(Self.typeName(numberType)), not integer or float samples" }
        guard (2...5).contains(shape.count) else { return "has \(shape.count) dimensions; NGFF images have 2 to 5" }
        if shape.contains(where: { $0 <= 0 }) { return "is empty (\(shapeText))" }
        return nil
    }

    static func dataType(_ numberType: Int32) -> DataType? {
        switch numberType {
        case DFNT_INT8: return .int8
        case DFNT_UINT8, DFNT_UCHAR8: return .uint8
        case DFNT_INT16: return .int16
        case DFNT_UINT16: return .uint16
        case DFNT_INT32: return .int32
        case DFNT_UINT32: return .uint32
        case DFNT_INT64: return .int64
        case DFNT_UINT64: return .uint64
        case DFNT_FLOAT32: return .float32
        case DFNT_FLOAT64: return .float64
        default: return nil
        }
    }

    static func typeName(_ numberType: Int32) -> String {
        switch numberType {
        case DFNT_CHAR8: return "text (char8)"
        case DFNT_FLOAT128: return "128-bit floats"
        default: return "HDF4 number type \(numberType)"
        }
    }
}

enum HDF4Catalog {
    /// Every SDS of the file, in index order. Call with the library lock held.
    static func list(_ file: HDF4File) throws -> (datasets: [HDF4DatasetInfo], fileAttributeCount: Int32) {
        var count: Int32 = 0, attributes: Int32 = 0
        guard SDfileinfo(file.id, &count, &attributes) != FAIL, count >= 0 else {
            throw SourceError(file.path, "cannot list the HDF4 file's datasets (damaged file?)")
        }
        var found = [HDF4DatasetInfo]()
        for index in 0..<count {
            let sds = SDselect(file.id, index)
            guard sds != FAIL else { throw SourceError(file.path, "SDS \(index) cannot be opened (damaged file?)") }
            defer { SDendaccess(sds) }
            var name = [CChar](repeating: 0, count: Int(H4_MAX_NC_NAME) + 1)
            var rank: Int32 = 0, type: Int32 = 0, nattrs: Int32 = 0
            var dims = [Int32](repeating: 0, count: Int(H4_MAX_VAR_DIMS))
            guard SDgetinfo(sds, &name, &rank, &dims, &type, &nattrs) != FAIL, (0...Int32(H4_MAX_VAR_DIMS)).contains(rank) else {
                throw SourceError(file.path, "SDS \(index) has a damaged description")
            }
            found.append(HDF4DatasetInfo(index: index, name: String(hdf4Name: name), shape: dims.prefix(Int(rank)).map { Int($0) },
                                         numberType: type & 0x0FFF, attributeCount: nattrs, isCoordinate: SDiscoordvar(sds) == 1))
        }
        return (found, attributes)
    }
}
