@preconcurrency import CHDF5
import Synchronization
import ZarrCore

/// HDF5 of data values (Docs/render.md, "Data output"): one dataset `image`, shape
/// `(c, y, x)` or `(y, x)`, the dtype kept (little-endian), written with the core driver
/// without a backing store and taken out with `H5Fget_file_image`, so no file is
/// created. The dataset's attributes are variable-length UTF-8 strings (h5py returns
/// `str`): `ome_multiscales` and `omero` (the image's NGFF metadata as JSON), `render`
/// (the parameters and decisions of this render as JSON), and `axes`.
public enum HDF5Encoder {
    /// The core driver still names each open file; concurrent encodes get their own name.
    private static let counter = Atomic<Int>(0)

    public static func encode(dataType: DataType, shape: [Int], data: [UInt8], attributes: [(String, String)]) throws -> [UInt8] {
        guard checkedProduct(shape + [dataType.size]) == data.count else {
            throw RenderError.encoder("HDF5: \(data.count) bytes do not make the shape \(shape)")
        }
        tessera_h5_silence_errors()
        var closers = [() -> Void]()
        defer { for close in closers.reversed() { close() } }
        func check(_ id: hid_t, _ what: String) throws -> hid_t {
            guard id >= 0 else { throw RenderError.encoder("HDF5: \(what) failed") }
            return id
        }

        let fapl = try check(H5Pcreate(tessera_h5p_file_access()), "H5Pcreate")
        closers.append { H5Pclose(fapl) }
        guard H5Pset_fapl_core(fapl, 1 << 20, false) >= 0 else { throw RenderError.encoder("HDF5: the core driver is unavailable") }
        let name = "tessera-render-\(counter.add(1, ordering: .relaxed).newValue).h5"
        let file = try check(H5Fcreate(name, tessera_h5f_acc_trunc(), tessera_h5p_default(), fapl), "H5Fcreate")
        var fileOpen = true
        defer { if fileOpen { H5Fclose(file) } }

        var dims = shape.map { hsize_t($0) }
        let space = try check(H5Screate_simple(Int32(dims.count), &dims, nil), "H5Screate_simple")
        closers.append { H5Sclose(space) }
        let type = try nativeType(dataType)
        // No modification times in the object header: the same render gives the same bytes
        // (the route's bytes equal the CLI's, and a tag names one body).
        let dcpl = try check(H5Pcreate(tessera_h5p_dataset_create()), "H5Pcreate")
        closers.append { H5Pclose(dcpl) }
        guard H5Pset_obj_track_times(dcpl, false) >= 0 else { throw RenderError.encoder("HDF5: cannot turn off time tracking") }
        let dataset = try check(H5Dcreate2(file, "image", type, space, tessera_h5p_default(), dcpl, tessera_h5p_default()),
                                "creating the dataset")
        closers.append { H5Dclose(dataset) }
        let status = data.withUnsafeBytes { H5Dwrite(dataset, type, tessera_h5s_all(), tessera_h5s_all(), tessera_h5p_default(), $0.baseAddress) }
        guard status >= 0 else { throw RenderError.encoder("HDF5: writing the dataset failed") }

        let stringType = try check(H5Tcopy(tessera_h5t_c_s1()), "H5Tcopy")
        closers.append { H5Tclose(stringType) }
        // H5T_VARIABLE is (size_t)-1.
        guard H5Tset_size(stringType, -1) >= 0, H5Tset_cset(stringType, H5T_CSET_UTF8) >= 0 else {
            throw RenderError.encoder("HDF5: cannot make a UTF-8 string type")
        }
        let scalar = try check(H5Screate(H5S_SCALAR), "H5Screate")
        closers.append { H5Sclose(scalar) }
        for (key, value) in attributes {
            let attribute = try check(H5Acreate2(dataset, key, stringType, scalar, tessera_h5p_default(), tessera_h5p_default()),
                                      "creating attribute \(key)")
            let written = value.withCString { text -> herr_t in
                var pointer: UnsafePointer<CChar>? = text
                return H5Awrite(attribute, stringType, &pointer)
            }
            H5Aclose(attribute)
            guard written >= 0 else { throw RenderError.encoder("HDF5: writing attribute \(key) failed") }
        }

        guard H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0 else { throw RenderError.encoder("HDF5: flushing failed") }
        let size = H5Fget_file_image(file, nil, 0)
        guard size > 0 else { throw RenderError.encoder("HDF5: no file image") }
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBytes { H5Fget_file_image(file, $0.baseAddress, size) }
        guard got == size else { throw RenderError.encoder("HDF5: the file image changed size") }
        H5Fclose(file)
        fileOpen = false
        return bytes
    }

    /// The native (little-endian here) HDF5 type of a data type; bool is one byte.
    static func nativeType(_ t: DataType) throws -> hid_t {
        switch t {
        case .bool, .uint8: return tessera_h5t_native_uint8()
        case .int8: return tessera_h5t_native_int8()
        case .uint16: return tessera_h5t_native_uint16()
        case .int16: return tessera_h5t_native_int16()
        case .uint32: return tessera_h5t_native_uint32()
        case .int32: return tessera_h5t_native_int32()
        case .uint64: return tessera_h5t_native_uint64()
        case .int64: return tessera_h5t_native_int64()
        case .float32: return tessera_h5t_native_float()
        case .float64: return tessera_h5t_native_double()
        case .float16: throw RenderError.badParameter("format", "float16 values cannot be written as HDF5 here; use format=npy or tiff")
        }
    }
}
