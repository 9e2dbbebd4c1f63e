import Foundation
import ZarrCore

/// Turns a TIFF file into images: OME-TIFF by its OME-XML (series, 5-D, multi-file sets),
/// any other TIFF as one stack of its same-shaped full-resolution pages.
enum TIFFOpener {
    static func open(path: String, pagesAs: String) throws -> SourceFile {
        let pool = TIFFHandlePool(path: path)
        let pages = try scanTIFFPages(pool)
        var file: SourceFile
        if let xml = pages[0].description, xml.contains("<OME"), xml.contains("openmicroscopy.org") {
            file = try openOME(path: path, xml: xml, pool: pool, pages: pages)
        } else {
            file = try openPlain(path: path, pool: pool, pages: pages, pagesAs: pagesAs)
        }
        // Every tag of the first directory, for the catalogue (libtiff keeps only the tags it
        // knows; the walker reads the directory's few bytes itself).
        file.harvestMetadata = TIFFTagWalker.metadata(path: path)
        if let xml = file.omeXML, case var .object(metadata)? = file.harvestMetadata {
            metadata["scopes"] = .array((metadata["scopes"]?.arrayValue ?? []) + OMEEssentials.scopes(xml))
            file.harvestMetadata = .object(metadata)
        }
        return file
    }


    // MARK: plain TIFF

    private static func openPlain(path: String, pool: TIFFHandlePool, pages: [TIFFPage], pagesAs: String) throws -> SourceFile {
        let first = pages[0]
        let stack = pages.enumerated().filter { !$0.element.reducedResolution && $0.element.layout.stacks(with: first.layout) }
        let layout = first.layout
        if let imageJ = ImageJDescription(first.description), imageJ.hyperstackPlanes == imageJ.images {
            return try openImageJ(path: path, pool: pool, pages: pages, stack: stack.map(\.element), imageJ: imageJ)
        }
        if stack.count > 1, layout.samples > 1, pagesAs == "c" {
            throw SourceError(path, "pages cannot become channels: each page already has \(layout.samples) samples per pixel")
        }
        var names = [String]()
        if stack.count > 1 { names.append(pagesAs) }
        if layout.samples > 1 { names.append("c") }
        names.sort { ImageAxis(name: $0).canonicalRank < ImageAxis(name: $1).canonicalRank }
        var axes = names.map { ImageAxis(name: $0) } + [ImageAxis(name: "y"), ImageAxis(name: "x")]
        var shape = names.map { $0 == "c" && layout.samples > 1 ? layout.imageSamples : stack.count } + [layout.height, layout.width]
        var spacing = shape.map { _ in 1.0 }
        var physical = false
        // Resolution tags give y/x only; with a page axis of unknown spacing they would
        // make the image look anisotropic, so they are used for single planes only.
        if stack.count == 1, let um = first.micrometresPerPixel {
            spacing[shape.count - 2] = um.y
            spacing[shape.count - 1] = um.x
            axes[axes.count - 2].unit = "micrometer"
            axes[axes.count - 1].unit = "micrometer"
            physical = true
        }
        var metadata: [String: JSONValue] = ["pages": JSONValue(pages.count), "tags": .object(first.tags)]
        if let d = first.description { metadata["ImageDescription"] = .string(d) }
        let description = ImageDescription(name: SourceOpener.stem(path), axes: axes, shape: shape, dataType: layout.dataType,
                                           spacing: spacing, channels: layout.isRGBPicture ? ChannelInfo.rgb : [],
                                           metadata: .object(metadata), hasPhysicalSizes: physical)
        shape = description.shape
        let planes = stack.map { TIFFImage.Plane(file: 0, offset: $0.element.offset, pageNumber: $0.offset) }
        let image = TIFFImage(description: description, layout: layout,
                              planeAxes: stack.count > 1 ? [names.firstIndex(of: pagesAs)!] : [],
                              sampleAxis: layout.samples > 1 ? names.firstIndex(of: "c") : nil,
                              planes: planes, files: [pool])
        return SourceFile(path: path, format: .tiff, images: [image], fileBytes: SourceOpener.fileSize(path),
                          details: TIFFPage.details(pages))
    }

    // MARK: ImageJ hyperstacks

    /// An ImageJ hyperstack: pages hold (c, z, t) planes with c fastest; they become the
    /// t, c, z axes (those of size > 1) and the description's units give physical sizes.
    private static func openImageJ(path: String, pool: TIFFHandlePool, pages: [TIFFPage], stack: [TIFFPage],
                                   imageJ: ImageJDescription) throws -> SourceFile {
        let first = pages[0], layout = first.layout
        let (C, Z, T) = (imageJ.channels, imageJ.slices, imageJ.frames)
        guard stack.count == imageJ.images else {
            throw SourceError(path, "the ImageJ description declares \(imageJ.images) images but the file has \(stack.count) pages of that size (ImageJ's single-page layout for files over 4 GB is not supported)")
        }
        if C > 1, layout.samples > 1 {
            throw SourceError(path, "an ImageJ hyperstack with \(C) channels of \(layout.samples) samples each is not supported")
        }
        let channels = C > 1 ? C : layout.imageSamples
        var names = [String]()
        if T > 1 { names.append("t") }
        if channels > 1 { names.append("c") }
        if Z > 1 { names.append("z") }
        let extent: [String: Int] = ["t": T, "c": channels, "z": Z]
        var axes = names.map { ImageAxis(name: $0) } + [ImageAxis(name: "y"), ImageAxis(name: "x")]
        let shape = names.map { extent[$0]! } + [layout.height, layout.width]
        var spacing = shape.map { _ in 1.0 }
        var physical = false
        let resolution = (x: first.tags["XResolution"]?.doubleValue ?? 0, y: first.tags["YResolution"]?.doubleValue ?? 0)
        if let unit = imageJ.unit, resolution.x > 0, resolution.y > 0, resolution.x.isFinite, resolution.y.isFinite {
            // The resolution tags count pixels per `unit` here, whatever ResolutionUnit says.
            spacing[shape.count - 2] = 1 / resolution.y
            spacing[shape.count - 1] = 1 / resolution.x
            for i in axes.indices where axes[i].name != "t" && axes[i].name != "c" { axes[i].unit = unit }
            if let z = names.firstIndex(of: "z") { spacing[z] = imageJ.spacing ?? 1 }
            physical = true
        } else if let um = first.micrometresPerPixel {
            spacing[shape.count - 2] = um.y
            spacing[shape.count - 1] = um.x
            axes[axes.count - 2].unit = "micrometer"
            axes[axes.count - 1].unit = "micrometer"
            physical = true
        }
        if let t = names.firstIndex(of: "t"), let interval = imageJ.frameInterval {
            spacing[t] = interval
            axes[t].unit = imageJ.timeUnit
        }
        // Output planes in C order over (t, c, z); ImageJ stores page c + C·(z + Z·t).
        var planes = [TIFFImage.Plane]()
        for t in 0..<T {
            for c in 0..<C {
                for z in 0..<Z {
                    let page = c + C * (z + Z * t)
                    planes.append(TIFFImage.Plane(file: 0, offset: stack[page].offset, pageNumber: page))
                }
            }
        }
        var metadata: [String: JSONValue] = ["pages": JSONValue(pages.count), "tags": .object(first.tags)]
        if let d = first.description { metadata["ImageDescription"] = .string(d) }
        let description = ImageDescription(name: SourceOpener.stem(path), axes: axes, shape: shape, dataType: layout.dataType,
                                           spacing: spacing, channels: C == 1 && layout.isRGBPicture ? ChannelInfo.rgb : [],
                                           metadata: .object(metadata), hasPhysicalSizes: physical)
        let pageAxes = names.enumerated().filter { $0.element != "c" || C > 1 }.map(\.offset)
        let image = TIFFImage(description: description, layout: layout, planeAxes: pageAxes,
                              sampleAxis: layout.samples > 1 ? names.firstIndex(of: "c") : nil, planes: planes, files: [pool])
        return SourceFile(path: path, format: .tiff, images: [image], fileBytes: SourceOpener.fileSize(path),
                          details: TIFFPage.details(pages))
    }

    // MARK: OME-TIFF

    private static func openOME(path: String, xml: String, pool: TIFFHandlePool, pages: [TIFFPage]) throws -> SourceFile {
        let doc = try OMEDocument.parse(xml, path: path)
        guard !doc.images.isEmpty else { throw SourceError(path, "the OME-XML describes no images") }
        let folder = (path as NSString).deletingLastPathComponent
        var files: [TIFFHandlePool] = [pool]
        var filePages: [[TIFFPage]] = [pages]
        var fileIndex: [String: Int] = [(path as NSString).lastPathComponent: 0]
        func file(named name: String?) throws -> Int {
            guard let name else { return 0 }
            if let i = fileIndex[name] { return i }
            let other = TIFFHandlePool(path: (folder as NSString).appendingPathComponent(name))
            let scanned = try scanTIFFPages(other)
            files.append(other)
            filePages.append(scanned)
            fileIndex[name] = files.count - 1
            return files.count - 1
        }

        var images = [any ImageSource]()
        var nextIFD = 0 // for images without TiffData: planes follow on from the previous image's
        for (number, ome) in doc.images.enumerated() {
            let Z = ome.size("Z"), C = ome.size("C"), T = ome.size("T")
            var entries = ome.tiffData
            if entries.isEmpty { entries = [OMEDocument.TiffData(ifd: nextIFD)] }
            let firstFile = try file(named: entries[0].fileName)
            let firstIFD = entries[0].ifd ?? 0
            guard firstIFD < filePages[firstFile].count else {
                throw SourceError(path, "image \(number): OME-XML points to IFD \(firstIFD), the file has \(filePages[firstFile].count) pages")
            }
            let layout = filePages[firstFile][firstIFD].layout
            let samples = layout.samples
            guard C % samples == 0, samples == 1 || C == samples else {
                throw SourceError(path, "image \(number): \(C) channels stored as pages of \(samples) samples are not supported")
            }
            let channelPlanes = C / samples
            let total = Z * channelPlanes * T
            var planeAt = [TIFFImage.Plane?](repeating: nil, count: total)
            for entry in entries {
                let f = try file(named: entry.fileName)
                let start = ome.planeIndex(z: entry.firstZ, c: entry.firstC, t: entry.firstT, channelPlanes: channelPlanes)
                let count = entry.planeCount ?? (entry.ifd != nil && ome.tiffData.count > 1 ? 1 : total - start)
                for k in 0..<max(0, count) where start + k < total {
                    let ifd = (entry.ifd ?? 0) + k
                    guard ifd < filePages[f].count else {
                        throw SourceError(files[f].path, "image \(number): OME-XML points to IFD \(ifd), the file has \(filePages[f].count) pages")
                    }
                    let page = filePages[f][ifd]
                    guard page.layout.stacks(with: layout) else {
                        throw SourceError(files[f].path, "image \(number): page \(ifd) differs in size or type from the image's first page")
                    }
                    planeAt[start + k] = TIFFImage.Plane(file: f, offset: page.offset, pageNumber: ifd)
                }
            }
            nextIFD = firstIFD + total
            // Planes in C order over the output's page axes: t, c (when pages are channels), z.
            var planes = [TIFFImage.Plane]()
            for t in 0..<T {
                for c in 0..<channelPlanes {
                    for z in 0..<Z {
                        guard let plane = planeAt[ome.planeIndex(z: z, c: c, t: t, channelPlanes: channelPlanes)] else {
                            throw SourceError(path, "image \(number): no TIFF page holds plane z=\(z) c=\(c) t=\(t)")
                        }
                        planes.append(plane)
                    }
                }
            }
            let physical = ome.physical
            let axes = [ImageAxis(name: "t", unit: physical["T"]?.unit), ImageAxis(name: "c"),
                        ImageAxis(name: "z", unit: physical["Z"]?.unit), ImageAxis(name: "y", unit: physical["Y"]?.unit),
                        ImageAxis(name: "x", unit: physical["X"]?.unit)]
            let spacing = [physical["T"]?.value ?? 1, 1, physical["Z"]?.value ?? 1, physical["Y"]?.value ?? 1, physical["X"]?.value ?? 1]
            var channels: [ChannelInfo] = (0..<C).map { c in
                let info = ome.channels.count == C ? ome.channels[c] : nil
                return ChannelInfo(name: info?.name, color: info?.color)
            }
            // An RGB picture (one OME Channel of SamplesPerPixel 3): red, green, blue over 0–255.
            if layout.isRGBPicture, C == 3, ome.channels.count != C { channels = ChannelInfo.rgb }
            let metadata: JSONValue = .object([
                "ome": .object(["image": .string(ome.name ?? ""), "index": JSONValue(number), "pixelType": .string(ome.pixelType),
                                "dimensionOrder": .string(ome.dimensionOrder)]),
                "tags": .object(filePages[firstFile][firstIFD].tags),
            ])
            let description = ImageDescription(
                name: ome.name ?? "\(SourceOpener.stem(path))_\(number)", axes: axes, shape: [T, C, Z, layout.height, layout.width],
                dataType: layout.dataType, spacing: spacing, channels: channels, metadata: metadata,
                hasPhysicalSizes: physical["X"] != nil)
            images.append(TIFFImage(description: description, layout: layout,
                                    planeAxes: samples > 1 ? [0, 2] : [0, 1, 2], sampleAxis: samples > 1 ? 1 : nil,
                                    planes: planes, files: files))
        }
        let bytes = files.map { SourceOpener.fileSize($0.path) }.reduce(0, +)
        return SourceFile(path: path, format: .omeTIFF, images: images, omeXML: xml, fileBytes: bytes, details: TIFFPage.details(pages))
    }
}
