import ImageSources
import NGFF
import ZarrCore

/// Where one input file's images go in its output.
///
/// A file holding one image (any TIFF, a single-series OME-TIFF, one HDF5 dataset, a FITS
/// file with one image HDU) is written as an NGFF image at OUTPUT itself: every reader
/// opens that root (bioio-ome-zarr and ngff-zarr refuse a bioformats2raw root and open only
/// `OUTPUT/0`). A file holding several images (OME-TIFF series, FITS image HDUs) uses the
/// bioformats2raw layout, the one NGFF layout that holds several images.
enum OutputLayout: Equatable {
    case image
    case bioformats2raw

    init(_ file: SourceFile) { self = file.images.count > 1 ? .bioformats2raw : .image }

    /// The group of image `index` below OUTPUT.
    func imagePath(_ index: Int) -> String { self == .image ? "" : String(index) }

    /// `--resume` must find the layout this run writes; an output begun in the other one
    /// (e.g. a single image written as `OUTPUT/0` by an earlier Tessera) is refused rather
    /// than finished into a mix of both.
    func checkResumable(_ store: any Store) throws {
        let found: OutputLayout?
        if try Self.hasGroup(store, "OME") || Self.hasGroup(store, "0") || store.exists("0/0/zarr.json") || store.exists("0/0/.zarray")
            || Self.rootAttribute(store, "bioformats2raw.layout") {
            found = .bioformats2raw
        } else if try store.exists("0/zarr.json") || store.exists("0/.zarray") || Self.rootAttribute(store, "multiscales") {
            found = .image
        } else {
            found = nil
        }
        guard let found, found != self else { return }
        let at = store.describe("")
        throw UsageError(found == .bioformats2raw
            ? "'\(at)' was begun in the bioformats2raw layout (the image under '0/'); this input is one image, now written at the output's root, so --resume would mix both layouts. Convert again with --overwrite"
            : "'\(at)' was begun as a single image at its root; this input holds several images (the bioformats2raw layout), so --resume would mix both layouts. Convert again with --overwrite")
    }

    private static func hasGroup(_ store: any Store, _ path: String) throws -> Bool {
        if try store.exists(path + "/.zgroup") { return true }
        guard case .group? = try? Node.open(store: store, path: path) else { return false }
        return true
    }

    private static func rootAttribute(_ store: any Store, _ key: String) -> Bool {
        guard let node = try? Node.open(store: store, path: ""), case let .group(_, attributes) = node else { return false }
        return NGFFAttributes.ngff(attributes)?[key] != nil || attributes[key] != nil
    }
}
