import Foundation
import ZarrCore

/// How to interpret inputs whose files leave something open.
public struct SourceOptions: Sendable {
    /// The axis multi-page TIFFs (without OME-XML) stack their pages along: z, c or t.
    public var pagesAs = "z"
    /// HDF5 and HDF4 axis names, slowest first (`zyx`), overriding attributes and dimension names.
    public var axes: String?
    /// FITS: each image HDU its own image, or all stacked as channels.
    public var stackFITSHDUs = false

    public init() {}
}

/// Opens any supported input by looking at its first bytes, not its name.
public enum SourceOpener {
    public static let extensions = [".tif", ".tiff", ".btf", ".tf8", ".tf2", ".h5", ".hdf5", ".hdf", ".he5", ".nxs",
                                    ".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz",
                                    ".dm3", ".dm4", ".hdf4", ".h4", ".dcm", ".dicom",
                                    ".fz", ".fits.fz", ".fit.fz", ".fts.fz"]
        + SlideOpener.extensions

    /// The formats Tessera reads, as every "not an input" message names them.
    public static let formatNames = "TIFF, HDF5, HDF4, FITS, DICOM, DM or slide"

    /// `input` is a path, or for HDF5 `path:/dataset`.
    public static func open(_ input: String, options: SourceOptions = SourceOptions()) throws -> SourceFile {
        let (path, dataset) = splitDatasetPath(input)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw missing(path) }
        if isDirectory.boolValue {
            // A folder of DICOM files is one input: a series (or a whole-slide study).
            guard dataset == nil, DICOMOpener.isDICOMFolder(path) else { throw SourceError(path, "is a directory") }
            return try DICOMOpener.openFolder(path)
        }
        // Opening a named pipe waits for a writer for ever; a socket or device is no image.
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT != S_IFREG {
            throw SourceError(path, "is not a regular file (\(Self.kindName(st.st_mode)))")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SourceError(path, "cannot be opened for reading") }
        let head = [UInt8]((try? handle.read(upToCount: 132)) ?? Data())
        try? handle.close()
        switch kind(of: head, path: path) {
        case .tiff:
            if dataset != nil { throw SourceError(path, "a dataset path is only meaningful for HDF5 files") }
            return try TIFFOpener.open(path: path, pagesAs: options.pagesAs)
        case .hdf5:
            return try HDF5Opener.open(path: path, dataset: dataset, axes: options.axes)
        case .hdf4:
            return try HDF4Opener.open(path: path, dataset: dataset, axes: options.axes)
        case .fits:
            var file = try FITSOpener.open(path: path)
            if options.stackFITSHDUs, file.images.count > 1 {
                file.images = [try ChannelStack(file.images, name: SourceOpener.stem(path), path: path)]
            }
            return file
        case .dicom:
            if dataset != nil { throw SourceError(path, "a dataset path is only meaningful for HDF5 files") }
            return try DICOMOpener.open(path: path)
        case .dm:
            if dataset != nil { throw SourceError(path, "a dataset path is only meaningful for HDF5 files") }
            return try DMOpener.open(path: path)
        case .slide:
            if dataset != nil { throw SourceError(path, "a dataset path is only meaningful for HDF5 files") }
            return try SlideOpener.open(path: path)
        case nil:
            throw SourceError(path, head.isEmpty ? "is empty" : "is not a \(formatNames) file")
        }
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a named pipe"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "not a file"
        }
    }

    /// Why `path` cannot be found: a symbolic link that loops or points nowhere says so.
    static func missing(_ path: String) -> SourceError {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else {
            return SourceError(path, "no such file")
        }
        if access(path, F_OK) != 0, errno == ELOOP {
            return SourceError(path, "is a symbolic link loop (too many levels of symbolic links, via '\(target)')")
        }
        return SourceError(path, "is a symbolic link to '\(target)', which does not exist")
    }

    enum Kind { case tiff, hdf5, fits, dicom, dm, slide, hdf4 }

    static func kind(of head: [UInt8], path: String) -> Kind? {
        // First: a dual-personality DICOM file also carries a TIFF header in its preamble.
        if DICOMHeader.hasPrefix(head) { return .dicom }
        if head.count >= 4, (head[0] == 0x49 && head[1] == 0x49 && (head[2] == 42 || head[2] == 43) && head[3] == 0)
            || (head[0] == 0x4D && head[1] == 0x4D && head[2] == 0 && (head[3] == 42 || head[3] == 43)) {
            return SlideOpener.vendorFormat(path) != nil ? .slide : .tiff
        }
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) { return .hdf5 }
        if head.starts(with: Array("SIMPLE  =".utf8)) { return .fits }
        if DMParser.looksLikeDM(head) { return .dm }
        // HDF4's magic; `.hdf` is both formats' extension, so this comes before the fallback.
        if head.starts(with: [0x0E, 0x03, 0x13, 0x01]) { return .hdf4 }
        let lower = path.lowercased()
        // A damaged DM header still goes to the DM reader, which says what is wrong with it.
        if [".dm3", ".dm4"].contains(where: lower.hasSuffix) { return .dm }
        if SlideOpener.nonTIFFExtensions.contains(where: lower.hasSuffix) { return .slide }
        if head.starts(with: [0x1F, 0x8B]), [".fits.gz", ".fit.gz", ".fts.gz"].contains(where: lower.hasSuffix) { return .fits }
        // HDF5 files may carry a user block: the signature then sits at 512, 1024, ….
        if [".h5", ".hdf5", ".hdf", ".he5", ".nxs"].contains(where: lower.hasSuffix) { return .hdf5 }
        return nil
    }

    /// `scan.h5:/entry/data` → (`scan.h5`, `/entry/data`); a path that exists as given wins.
    public static func splitDatasetPath(_ input: String) -> (String, String?) {
        if FileManager.default.fileExists(atPath: input) { return (input, nil) }
        guard let colon = input.range(of: ":/", options: .backwards) ?? input.range(of: ":", options: .backwards) else { return (input, nil) }
        let path = String(input[..<colon.lowerBound])
        var dataset = String(input[colon.upperBound...])
        if colon.upperBound > input.index(after: colon.lowerBound) { dataset = "/" + dataset }
        return FileManager.default.fileExists(atPath: path) ? (path, dataset.isEmpty ? nil : dataset) : (input, nil)
    }

    /// A file's name without its image extensions (`a.ome.tif` → `a`, `b.fits.gz` → `b`):
    /// the image name and, for batches, the output's name.
    public static func stem(_ path: String) -> String {
        let name = (path as NSString).lastPathComponent
        let lower = name.lowercased()
        let compound = [".ome.tiff", ".ome.tif", ".ome.btf"]
        guard let ext = (compound + extensions.sorted { $0.count > $1.count }).first(where: lower.hasSuffix) else { return name }
        return String(name.dropLast(ext.count))
    }

    /// Bytes on disk of the file `path` names (0 if it cannot be read), for the summary and
    /// the declared-size bound. Follows symbolic links: a link's own size is the length of
    /// its target's name, which would make every image behind a link look impossibly large.
    public static func fileSize(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Whether an upload named `name` whose first bytes are `head` (at least 132 when the body
    /// has them) is an input Tessera reads, by extension and magic number alone: no file is
    /// opened and no C parser runs (the gateway checks untrusted uploads with it; the
    /// watcher's conversion then reads them in full).
    public static func recognises(head: [UInt8], name: String) -> Bool {
        guard looksLikeInput(name) else { return false }
        if head.count >= 4, (head[0] == 0x49 && head[1] == 0x49 && (head[2] == 42 || head[2] == 43) && head[3] == 0)
            || (head[0] == 0x4D && head[1] == 0x4D && head[2] == 0 && (head[3] == 42 || head[3] == 43)) {
            return true  // TIFF or a TIFF-based slide
        }
        return kind(of: head, path: name) != nil
    }

    /// Whether a directory entry looks like an input (for `tessera convert DIR OUT`).
    public static func looksLikeInput(_ name: String) -> Bool {
        let lower = name.lowercased()
        return !lower.hasPrefix(".") && extensions.contains(where: lower.hasSuffix)
    }
}
