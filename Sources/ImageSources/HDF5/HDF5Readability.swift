@preconcurrency import CHDF5
import Foundation

/// What stops this HDF5 library from reading a dataset, found before any pixel is read,
/// so the error says what it is instead of "damaged or truncated file?" or silently
/// reading fill values.
enum HDF5Readability {
    /// Well-known registered filter ids (https://github.com/HDFGroup/hdf5_plugins), for
    /// files that store no filter name.
    static let knownFilters: [Int32: String] = [
        32000: "LZF", 32001: "Blosc", 32004: "LZ4", 32008: "bitshuffle", 32013: "ZFP", 32015: "Zstandard",
        32016: "Blosc2", 307: "bzip2", 32017: "SZ3",
    ]

    /// Throws when `dataset`'s filter pipeline uses a filter this HDF5 library lacks, or
    /// when it is a virtual dataset whose source files are missing.
    static func check(dataset: hid_t, name: String, path: String) throws {
        let plist = H5Dget_create_plist(dataset)
        guard plist >= 0 else { return }
        defer { H5Pclose(plist) }
        try checkFilters(plist, name: name, path: path)
        if H5Pget_layout(plist) == H5D_VIRTUAL { try checkVirtualSources(plist, name: name, path: path) }
    }

    private static func checkFilters(_ plist: hid_t, name: String, path: String) throws {
        let count = H5Pget_nfilters(plist)
        guard count > 0 else { return }
        for index in 0..<UInt32(count) {
            var flags: UInt32 = 0, config: UInt32 = 0, valueCount = 0
            var text = [CChar](repeating: 0, count: 256)
            let id = H5Pget_filter2(plist, index, &flags, &valueCount, nil, text.count, &text, &config)
            guard id >= 0, H5Zfilter_avail(id) <= 0 else { continue }
            let stored = String(cString: text).trimmingCharacters(in: .whitespaces)
            let label = knownFilters[id] ?? (stored.isEmpty ? "an unregistered" : stored)
            throw SourceError(path, "dataset '\(name)' is compressed with the \(label) filter (HDF5 filter id \(id)), "
                + "which is not available to this HDF5 library; re-save it with gzip or without compression (e.g. h5repack -f NONE)")
        }
    }

    /// HDF5 reads fill values where a virtual dataset's source file is missing; Tessera
    /// refuses instead, naming it.
    private static func checkVirtualSources(_ plist: hid_t, name: String, path: String) throws {
        var count = 0
        guard H5Pget_virtual_count(plist, &count) >= 0 else { return }
        let folder = (path as NSString).deletingLastPathComponent
        for index in 0..<count {
            let length = H5Pget_virtual_filename(plist, index, nil, 0)
            guard length > 0 else { continue }
            var text = [CChar](repeating: 0, count: length + 1)
            _ = H5Pget_virtual_filename(plist, index, &text, length + 1)
            let file = String(cString: text)
            if file == "." { continue } // the virtual dataset's own file
            let candidates = file.hasPrefix("/") ? [file] : [(folder as NSString).appendingPathComponent(file), file]
            guard !candidates.contains(where: { FileManager.default.fileExists(atPath: $0) }) else { continue }
            throw SourceError(path, "dataset '\(name)' is a virtual dataset (VDS) whose source file '\(file)' does not exist "
                + "(looked beside the file and in the working directory); HDF5 would read fill values in its place")
        }
    }

    /// Why an object that has a link cannot be opened: HDF5's innermost message, and the
    /// likely cause (a newer format than this library reads).
    static func unopenable(_ file: hid_t, name: String, path: String) -> SourceError? {
        // Open it once more so the error stack holds this failure.
        let object = H5Oopen(file, name, tessera_h5p_default())
        guard object < 0 else {
            H5Oclose(object)
            return nil
        }
        let detail = innermostError()
        guard H5Lexists(file, name, tessera_h5p_default()) > 0 else { return nil }
        var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
        H5get_libversion(&major, &minor, &release)
        return SourceError(path, "'\(name)' exists but this HDF5 library (\(major).\(minor).\(release)) cannot open it: "
            + "it was probably written by a newer HDF5 (e.g. a virtual dataset from HDF5 1.12 or later)"
            + (detail.map { "; HDF5 says: \($0)" } ?? ""))
    }

    /// The deepest entry of the current thread's HDF5 error stack, e.g. "unable to decode
    /// layout message" (read before another HDF5 call clears the stack).
    static func innermostError() -> String? {
        final class Box { var first: String? }
        let box = Box()
        let walk: H5E_walk2_t = { _, entry, context in
            guard let entry, let context, let desc = entry.pointee.desc else { return 0 }
            let text = String(cString: desc)
            let box = Unmanaged<Box>.fromOpaque(context).takeUnretainedValue()
            if box.first == nil, !text.isEmpty { box.first = text }
            return 0
        }
        _ = H5Ewalk2(tessera_h5e_default(), H5E_WALK_UPWARD, walk, Unmanaged.passUnretained(box).toOpaque())
        return box.first
    }
}
