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
}
