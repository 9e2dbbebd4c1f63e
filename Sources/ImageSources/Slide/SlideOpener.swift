import Foundation
import ZarrCore

/// Turns a whole-slide image OpenSlide reads (Aperio SVS, Hamamatsu NDPI/VMS/VMU, Leica SCN,
/// MIRAX MRXS, Philips TIFF, Sakura SVSLIDE, Trestle, Ventana BIF) into images: level 0 as
/// `c, y, x` uint8 RGB, then each associated image (label, macro, thumbnail, …) under its
/// own name — several images, so the output uses the bioformats2raw layout.
///
/// Generic tiled TIFF (OpenSlide's `generic-tiff`) is not read here: Tessera's TIFF reader
/// reads it (any sample type, not only 8-bit RGB; see Docs/convert.md, "Slides").
enum SlideOpener {
    /// Names of slide files, for directory conversion and for naming outputs.
    static let extensions = [".svs", ".ndpi", ".scn", ".bif", ".mrxs", ".vms", ".vmu", ".svslide"]
    /// Slide files that are not TIFF (INI text, JPEG, SQLite): recognised by name, then
    /// confirmed by OpenSlide.
    static let nonTIFFExtensions = [".mrxs", ".vms", ".vmu", ".svslide"]

    /// The vendor of a TIFF-magic file when OpenSlide names a vendor format for it; nil for
    /// generic TIFF and for files OpenSlide does not recognise (they stay with the TIFF reader).
    static func vendorFormat(_ path: String) -> String? {
        guard let vendor = OpenSlideHandle.vendor(of: path), vendor != "generic-tiff" else { return nil }
        return vendor
    }

    static func open(path: String) throws -> SourceFile {
        let handle = try OpenSlideHandle(path: path)
        let properties = try handle.properties()
        let property = Dictionary(properties, uniquingKeysWith: { first, _ in first })
        let levelCount = try handle.levelCount()
        var levels = [(width: Int, height: Int, downsample: Double)]()
        for level in 0..<levelCount {
            let size = try handle.levelSize(level)
            levels.append((size.width, size.height, try handle.levelDownsample(level)))
        }
        let associated = try handle.associatedImageNames()
        var associatedSizes = [(name: String, width: Int, height: Int)]()
        for name in associated {
            let size = try handle.associatedImageSize(name)
            guard size.width * size.height <= SlideAssociatedImage.maxPixels else {
                throw SourceError(path, "associated image '\(name)' declares \(size.width)×\(size.height) pixels, more than the "
                                  + "\(SlideAssociatedImage.maxPixels) Tessera reads at once")
            }
            associatedSizes.append((name, size.width, size.height))
        }
        let vendor = property["openslide.vendor"] ?? OpenSlideHandle.vendor(of: path) ?? "unknown"
        let pixels = PremultipliedARGB(backgroundHex: property["openslide.background-color"])
        let pool = SlideHandlePool(path: path, first: handle)
        // The slide's TIFF directories (none for MIRAX/VMS), scanned once: they give the
        // pages' compression and, for Aperio, the level-0 reader.
        let tiffPool = TIFFHandlePool(path: path)
        let tiffPages = try? scanTIFFPages(tiffPool)
        let compression = tiffPages.map(tiffCompression)

        var metadata: [String: JSONValue] = [
            "vendor": .string(vendor),
            "openslide_version": .string(OpenSlideHandle.libraryVersion),
            "properties": .object(Dictionary(properties.map { ($0.name, JSONValue.string($0.value)) }, uniquingKeysWith: { a, _ in a })),
            "levels": .array(levels.map { .object(["width": JSONValue($0.width), "height": JSONValue($0.height),
                                                   "downsample": .double($0.downsample)]) }),
            "associated_images": .array(associated.map(JSONValue.string)),
        ]
        if let compression { metadata["tiff_compression"] = JSONValue(compression) }

        var axes = [ImageAxis(name: "c"), ImageAxis(name: "y"), ImageAxis(name: "x")]
        var spacing = [1.0, 1.0, 1.0]
        let mpp = micrometresPerPixel(property)
        if let mpp {
            spacing = [1, mpp.y, mpp.x]
            axes[1].unit = "micrometer"
            axes[2].unit = "micrometer"
        }
        let level0 = levels[0]
        let tile = (width: tileSide(property["openslide.level[0].tile-width"]), height: tileSide(property["openslide.level[0].tile-height"]))
        let main = ImageDescription(
            name: SourceOpener.stem(path), axes: axes, shape: [3, level0.height, level0.width], dataType: .uint8,
            spacing: spacing, channels: ChannelInfo.rgb, metadata: .object(metadata),
            readBlock: [3, min(tile.height, level0.height), min(tile.width, level0.width)], hasPhysicalSizes: mpp != nil)
        let tiffLevelZero = tiffPages.flatMap { AperioLevelZero.reader(pages: $0, pool: tiffPool, vendor: vendor, main: main) }
        var images: [any ImageSource] = [SlideImage(description: main, pool: pool, level: 0, downsample: 1, pixels: pixels,
                                                    lowerLevels: Array(levels.dropFirst()), tiffLevelZero: tiffLevelZero)]
        for a in associatedSizes {
            let d = ImageDescription(
                name: a.name, axes: [ImageAxis(name: "c"), ImageAxis(name: "y"), ImageAxis(name: "x")],
                shape: [3, a.height, a.width], dataType: .uint8, channels: ChannelInfo.rgb,
                metadata: .object(["associated_image": .string(a.name), "vendor": .string(vendor)]))
            images.append(SlideAssociatedImage(description: d, pool: pool, name: a.name, pixels: pixels))
        }

        let reader = "OpenSlide \(OpenSlideHandle.libraryVersion)" + (tiffLevelZero == nil ? "" : "; level 0 by libtiff (Aperio page 0)")
        var details: [(label: String, value: String)] = [("vendor", vendor), ("reader", reader)]
        if let compression { details.append(("compression", compression.map(TIFFPage.compressionName).joined(separator: ", "))) }
        details.append(("levels", levels.enumerated().map { k, l in
            "\(k): \(l.width)×\(l.height)" + (k == 0 ? "" : String(format: " (÷%g)", l.downsample))
        }.joined(separator: "; ")))
        if let mpp { details.append(("microns per pixel", "x \(mpp.x), y \(mpp.y)")) }
        if let power = property["openslide.objective-power"] { details.append(("objective power", power)) }
        details.append(("associated images", associatedSizes.isEmpty ? "none"
                        : associatedSizes.map { "\($0.name) \($0.width)×\($0.height)" }.joined(separator: ", ")))
        return SourceFile(path: path, format: .slide, images: images, fileBytes: SourceOpener.fileSize(path), details: details)
    }

    /// `openslide.mpp-x/-y`: micrometres per pixel, both positive and finite, else none.
    static func micrometresPerPixel(_ property: [String: String]) -> (x: Double, y: Double)? {
        guard let x = property["openslide.mpp-x"].flatMap(Double.init), let y = property["openslide.mpp-y"].flatMap(Double.init),
              x.isFinite, y.isFinite, x > 0, y > 0 else { return nil }
        return (x, y)
    }

    /// A tile side from a property: 1…65536, else 512 (a read unit of a few tiles of any format).
    static func tileSide(_ text: String?) -> Int {
        guard let v = text.flatMap(Int.init), v >= 1, v <= 65536 else { return 512 }
        return v
    }

    /// The TIFF compression codes of a TIFF-based slide's pages, in page order without repeats.
    static func tiffCompression(_ pages: [TIFFPage]) -> [Int] {
        var codes = [Int]()
        for page in pages {
            if let c = page.tags["Compression"]?.intValue, !codes.contains(c) { codes.append(c) }
        }
        return codes
    }

}
