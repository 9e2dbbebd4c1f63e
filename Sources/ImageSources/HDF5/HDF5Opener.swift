@preconcurrency import CHDF5
import Foundation
import ZarrCore

/// Opens `file.h5[:/path/to/dataset]`: finds the dataset, maps its axes to NGFF order and
/// keeps its and the file's attributes as source metadata.
enum HDF5Opener {
    static func open(path: String, dataset requested: String?, axes axisOption: String?) throws -> SourceFile {
        _ = H5open()
        tessera_h5_silence_errors()
        // HDF5 keeps an error stack per thread; one left behind on a thread that then ends
        // (a conversion thread, a batch worker) keeps the library from closing at exit, which
        // then prints "infinite loop closing library". Clear this thread's stack when done.
        defer { H5Eclear2(tessera_h5e_default()) }
        guard FileManager.default.isReadableFile(atPath: path) else { throw SourceError(path, "cannot be opened for reading") }
        guard H5Fis_hdf5(path) > 0 else { throw SourceError(path, "not an HDF5 file") }
        let file = H5Fopen(path, tessera_h5f_acc_rdonly(), tessera_h5p_default())
        guard file >= 0 else { throw SourceError(path, "cannot open the HDF5 file (damaged or truncated?)") }
        var fileOwned = true
        defer { if fileOwned { H5Fclose(file) } }

        let datasetPath = try requested ?? findDataset(file, path: path)
        let object = H5Oopen(file, datasetPath, tessera_h5p_default())
        guard object >= 0 else {
            throw HDF5Readability.unopenable(file, name: datasetPath, path: path)
                ?? SourceError(path, "'\(datasetPath)' does not exist in the file")
        }
        let kind = H5Iget_type(object)
        H5Oclose(object)
        guard kind == H5I_DATASET else {
            throw SourceError(path, "'\(datasetPath)' is a \(kind == H5I_GROUP ? "group" : "named type"), not a dataset")
        }
        // A bigger chunk cache than HDF5's 1 MiB default, so hyperslabs that cut through
        // compressed chunks do not decompress each chunk again and again.
        let access = H5Pcreate(tessera_h5p_dataset_access())
        H5Pset_chunk_cache(access, 12_421, 64 << 20, 1.0)
        let dataset = H5Dopen2(file, datasetPath, access)
        H5Pclose(access)
        guard dataset >= 0 else { throw SourceError(path, "cannot open dataset '\(datasetPath)'") }
        var datasetOwned = true
        defer { if datasetOwned { H5Dclose(dataset) } }
        try HDF5Readability.check(dataset: dataset, name: datasetPath, path: path)

        let type = H5Dget_type(dataset)
        defer { H5Tclose(type) }
        guard let (dataType, memoryType) = numericType(type) else {
            throw SourceError(path, "dataset '\(datasetPath)' is not numeric (\(typeName(type))); only integer and float datasets convert")
        }
        let space = H5Dget_space(dataset)
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        H5Sclose(space)
        guard (2...5).contains(rank) else {
            throw SourceError(path, "dataset '\(datasetPath)' has \(rank) dimensions; NGFF images have 2 to 5")
        }
        let sourceShape = dims.prefix(rank).map { Int($0) }
        let attributes = HDF5Attributes.read(dataset)
        let names = try axisNames(option: axisOption, attributes: attributes, rank: rank, path: path)
        let order = names.indices.sorted { ImageAxis(name: names[$0]).canonicalRank < ImageAxis(name: names[$1]).canonicalRank }

        let unit = (attributes["units"] ?? attributes["unit"])?.stringValue.flatMap(ngffSpaceUnit)
        var spacing = [Double](repeating: 1, count: rank)
        var physical = false
        var spaceUnit = unit
        if let sizes = (attributes["element_size_um"] ?? attributes["spacing"] ?? attributes["pixel_size"] ?? attributes["resolution"])?
            .arrayValue?.compactMap(\.doubleValue), sizes.count == rank, sizes.allSatisfy({ $0 > 0 }) {
            spacing = sizes
            physical = true
            if attributes["element_size_um"] != nil { spaceUnit = "micrometer" }
        }
        let axes = order.map { i -> ImageAxis in
            let name = names[i]
            return ImageAxis(name: name, unit: ["z", "y", "x"].contains(name) ? spaceUnit : nil)
        }
        var chunkShape = sourceShape.map { _ in 1 }
        let plist = H5Dget_create_plist(dataset)
        if H5Pget_layout(plist) == H5D_CHUNKED {
            var chunk = [hsize_t](repeating: 0, count: rank)
            if H5Pget_chunk(plist, Int32(rank), &chunk) == Int32(rank) { chunkShape = chunk.map { Int($0) } }
        }
        H5Pclose(plist)
        var fileAttributes = [String: JSONValue]()
        let root = H5Gopen2(file, "/", tessera_h5p_default())
        if root >= 0 {
            fileAttributes = HDF5Attributes.read(root)
            H5Gclose(root)
        }
        // Every object's attributes for the catalogue (a walk of the headers, no data read).
        let harvest = HDF5ObjectWalk.metadata(file)
        let metadata: JSONValue = .object([
            "dataset": .string(datasetPath), "shape": JSONValue(sourceShape), "axes": .array(names.map { .string($0) }),
            "attributes": .object(attributes), "fileAttributes": .object(fileAttributes),
        ])
        let description = ImageDescription(
            name: SourceOpener.stem(path), axes: axes, shape: order.map { sourceShape[$0] }, dataType: dataType,
            spacing: order.map { spacing[$0] }, metadata: metadata, readBlock: order.map { chunkShape[$0] },
            hasPhysicalSizes: physical)
        let image = HDF5Image(path: path, datasetPath: datasetPath, file: file, dataset: dataset, memoryType: memoryType,
                              sourceShape: sourceShape, order: order, description: description)
        fileOwned = false
        datasetOwned = false
        return SourceFile(path: path, format: .hdf5, images: [image], fileBytes: SourceOpener.fileSize(path),
                          harvestMetadata: harvest)
    }

    /// Axis names, slowest first: `--axes`, else an axes attribute, else y, x last.
    static func axisNames(option: String?, attributes: [String: JSONValue], rank: Int, path: String) throws -> [String] {
        let fromAttribute: String? = ["axes", "dimension_labels", "DIMENSION_LABELS", "axis_names"].lazy.compactMap { key -> String? in
            guard let v = attributes[key] else { return nil }
            if let s = v.stringValue { return s }
            if let a = v.arrayValue?.compactMap(\.stringValue), a.count == rank, a.allSatisfy({ $0.count == 1 }) { return a.joined() }
            return nil
        }.first
        guard let text = (option ?? fromAttribute)?.lowercased() else {
            return Array(["t", "c", "z", "y", "x"].suffix(rank))
        }
        let names = text.filter { !$0.isWhitespace && $0 != "," }.map(String.init)
        guard names.count == rank, Set(names).count == rank, names.allSatisfy({ ["t", "c", "z", "y", "x"].contains($0) }) else {
            throw SourceError(path, "axes '\(text)' must name each of the dataset's \(rank) dimensions once, from t, c, z, y, x")
        }
        return names
    }

    /// The only numeric dataset of rank ≥ 2; with none or several, an error listing them.
    static func findDataset(_ file: hid_t, path: String) throws -> String {
        final class Found { var names: [String] = []; var unopenable: [String] = [] }
        let found = Found()
        let visit: H5L_iterate_t = { group, name, _, context in
            guard let name, let context else { return 0 }
            let box = Unmanaged<Found>.fromOpaque(context).takeUnretainedValue()
            let object = H5Oopen(group, name, tessera_h5p_default())
            guard object >= 0 else {
                box.unopenable.append("/" + String(cString: name))
                return 0
            }
            defer { H5Oclose(object) }
            if H5Iget_type(object) == H5I_DATASET {
                let space = H5Dget_space(object), type = H5Dget_type(object)
                if H5Sget_simple_extent_ndims(space) >= 2, HDF5Opener.numericType(type) != nil {
                    box.names.append("/" + String(cString: name))
                }
                H5Sclose(space)
                H5Tclose(type)
            }
            return 0
        }
        _ = H5Lvisit(file, H5_INDEX_NAME, H5_ITER_NATIVE, visit, Unmanaged.passUnretained(found).toOpaque())
        switch found.names.count {
        case 1: return found.names[0]
        case 0:
            // An object this library cannot open (a newer format) is the likely image: say so.
            if let name = found.unopenable.first, let error = HDF5Readability.unopenable(file, name: name, path: path) { throw error }
            throw SourceError(path, "the file holds no numeric dataset of 2 or more dimensions")
        default:
            throw SourceError(path, "the file holds several image datasets; name one as FILE:/path (\(found.names.joined(separator: ", ")))")
        }
    }

    static func numericType(_ type: hid_t) -> (DataType, hid_t)? {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) == H5T_SGN_2
            switch (size, signed) {
            case (1, true): return (.int8, tessera_h5t_native_int8())
            case (1, false): return (.uint8, tessera_h5t_native_uint8())
            case (2, true): return (.int16, tessera_h5t_native_int16())
            case (2, false): return (.uint16, tessera_h5t_native_uint16())
            case (4, true): return (.int32, tessera_h5t_native_int32())
            case (4, false): return (.uint32, tessera_h5t_native_uint32())
            case (8, true): return (.int64, tessera_h5t_native_int64())
            case (8, false): return (.uint64, tessera_h5t_native_uint64())
            default: return nil
            }
        case H5T_FLOAT:
            switch size {
            case 4: return (.float32, tessera_h5t_native_float())
            case 8: return (.float64, tessera_h5t_native_double())
            default: return nil
            }
        default: return nil
        }
    }

    static func typeName(_ type: hid_t) -> String {
        switch H5Tget_class(type) {
        case H5T_STRING: return "strings"
        case H5T_COMPOUND: return "a compound type"
        case H5T_ENUM: return "an enum"
        case H5T_VLEN: return "variable-length data"
        case H5T_ARRAY: return "an array type"
        case H5T_FLOAT: return "\(H5Tget_size(type) * 8)-bit floats"
        default: return "an unsupported type"
        }
    }

    static func ngffSpaceUnit(_ text: String) -> String? {
        let known = ["angstrom", "nanometer", "micrometer", "millimeter", "centimeter", "meter", "kilometer", "picometer"]
        if known.contains(text.lowercased()) { return text.lowercased() }
        return OMEDocument.ngffUnit(text)
    }
}
