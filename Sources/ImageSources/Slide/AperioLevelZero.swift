import Foundation
import ZarrCore

/// Level 0 of an Aperio SVS read as the tiled TIFF page it is. An SVS keeps level 0 as page
/// 0: plain TIFF tiles (JPEG, or LZW/deflate/none) that libtiff decodes to the same RGB
/// pixels OpenSlide gives (opaque, no stitching: OpenSlide's Aperio driver reads the same
/// tiles the same way), at half the CPU — `openslide_read_region` paints every tile into
/// premultiplied ARGB through cairo, which Tessera then converts back. Everything else of
/// the slide (properties, lower levels, associated images) stays with OpenSlide, and any
/// page this path cannot take (JPEG 2000 tiles, another shape) stays with OpenSlide too.
enum AperioLevelZero {
    /// A TIFF reader of page 0 giving `main` (c, y, x uint8 RGB), or nil when page 0 is not
    /// that picture or uses a compression libtiff does not decode here.
    /// `pages` are the slide's TIFF directories, read through `pool`.
    static func reader(pages: [TIFFPage], pool: TIFFHandlePool, vendor: String, main: ImageDescription) -> TIFFImage? {
        // TESSERA_SLIDE_LEVEL0=openslide keeps level 0 with OpenSlide (tests compare both).
        guard vendor == "aperio", ProcessInfo.processInfo.environment["TESSERA_SLIDE_LEVEL0"] != "openslide",
              let first = pages.first else { return nil }
        let layout = first.layout
        guard layout.tiled, layout.isRGBPicture, layout.alpha == nil,
              [layout.imageSamples, layout.height, layout.width] == main.shape,
              let code = first.tags["Compression"]?.intValue, [1, 5, 7, 8, 32946].contains(code) else { return nil }
        var description = main
        description.readBlock = [3, min(layout.blockHeight, layout.height), min(layout.blockWidth, layout.width)]
        return TIFFImage(description: description, layout: layout, planeAxes: [], sampleAxis: 0,
                         planes: [TIFFImage.Plane(file: 0, offset: first.offset, pageNumber: 0)], files: [pool])
    }
}
