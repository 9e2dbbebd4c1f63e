import Foundation
import ZarrCore

/// VL Whole Slide Microscopy: each instance is one pyramid level (or a label, overview
/// or thumbnail) cut into tiles, one frame per tile. Tessera converts the highest
/// resolution level (its own pyramid replaces the stored lower levels) and writes the
/// LABEL, OVERVIEW and THUMBNAIL instances beside it as named images.
enum DICOMWholeSlide {
    static func open(source: String, instances: [DICOMInstance]) throws -> SourceFile {
        var volumes = [DICOMInstance](), associated = [(String, DICOMInstance)]()
        for instance in instances {
            guard instance.dataSet.string(DICOMTag.sopClassUID) == DICOMOpener.wsiSOPClass else {
                throw SourceError(source, "mixes whole-slide instances with '\((instance.path as NSString).lastPathComponent)', which is not one")
            }
            let type = instance.dataSet.strings(DICOMTag.imageType)
            let flavour = type.count > 2 ? type[2].uppercased() : "VOLUME"
            switch flavour {
            case "LABEL", "OVERVIEW", "THUMBNAIL": associated.append((flavour.lowercased(), instance))
            default: volumes.append(instance)
            }
        }
        guard !volumes.isEmpty else { throw SourceError(source, "holds whole-slide label/overview images but no VOLUME (pyramid) instance") }
        // One slide per input: pyramids from two series are two slides (or two scans).
        let pyramids = Dictionary(grouping: volumes) { $0.dataSet.string(DICOMTag.seriesInstanceUID) ?? "(none)" }
        if pyramids.count > 1 {
            let list = pyramids.keys.sorted().map { "\($0) (e.g. '\(((pyramids[$0]?.first?.path ?? "") as NSString).lastPathComponent)')" }.joined(separator: " and ")
            throw SourceError(source, "holds the pyramids of \(pyramids.count) whole-slide series: \(list); put each slide in its own folder")
        }
        let area = { (i: DICOMInstance) in try Self.matrix(i).rows * Self.matrix(i).columns }
        let largest = try volumes.map(area).max() ?? 0
        let base = try volumes.filter { try area($0) == largest }
        guard base.count == 1 else {
            let names = base.map { "'\(($0.path as NSString).lastPathComponent)'" }.joined(separator: ", ")
            throw SourceError(source, "has \(base.count) instances at the highest resolution (\(names)): several optical paths, focal planes or concatenated instances are not read yet")
        }
        let name = SourceOpener.stem(source)
        var images: [any ImageSource] = [try WholeSlideImage(base[0], name: name, levels: volumes)]
        // Associated images in a fixed order, each once (the first of a kind wins).
        var seen = Set<String>()
        for kind in ["label", "overview", "thumbnail"] {
            for (k, instance) in associated where k == kind && seen.insert(kind).inserted {
                images.append(try WholeSlideImage(instance, name: kind, levels: []))
            }
        }
        let all = instances
        var details = DICOMOpener.details(all)
        details.append(("whole slide", "\(try matrix(base[0]).columns) × \(try matrix(base[0]).rows) pixels, \(volumes.count) stored level(s)"
                        + (seen.isEmpty ? "" : ", associated: " + ["label", "overview", "thumbnail"].filter(seen.contains).joined(separator: ", "))))
        return SourceFile(path: source, format: .dicom, images: images,
                          fileBytes: instances.reduce(0) { $0 + $1.header.fileSize }, details: details)
    }

    /// The total pixel matrix (the whole level), or the frame itself for untiled images.
    static func matrix(_ i: DICOMInstance) throws -> (rows: Int, columns: Int) {
        let ds = i.dataSet
        let rows = ds.integer(DICOMTag.totalPixelMatrixRows) ?? i.format.rows
        let columns = ds.integer(DICOMTag.totalPixelMatrixColumns) ?? i.format.columns
        guard rows > 0, columns > 0, rows <= 1 << 24, columns <= 1 << 24 else {
            throw SourceError(i.path, "declares a total pixel matrix of \(columns) × \(rows); Tessera reads 1 to \(1 << 24) per side")
        }
        return (rows, columns)
    }
}

/// One whole-slide instance as an image: reads decode the tiles (frames) a region
/// touches, one at a time; tiles the instance does not hold (TILED_SPARSE) read as white.
final class WholeSlideImage: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    private let instance: DICOMInstance
    private let across: Int, down: Int
    /// Frame of each tile (row-major), -1 where the instance holds none.
    private let tileFrames: [Int]

    init(_ instance: DICOMInstance, name: String, levels: [DICOMInstance]) throws {
        let f = instance.format
        let ds = instance.dataSet
        let path = instance.path
        let (rows, columns) = try DICOMWholeSlide.matrix(instance)
        across = (columns + f.columns - 1) / f.columns
        down = (rows + f.rows - 1) / f.rows
        let tiles = across * down
        guard tiles <= 1 << 24 else {
            throw SourceError(path, "declares \(across) × \(down) tiles of \(f.columns) × \(f.rows); Tessera reads at most \(1 << 24) tiles per level")
        }
        let organisation = ds.string(DICOMTag.dimensionOrganizationType) ?? (instance.frames == 1 ? "TILED_FULL" : "")
        if organisation == "TILED_FULL" {
            // Frames run column fastest, then row, then focal plane, then optical path:
            // the first plane of the first path is frames 0..<tiles.
            guard instance.frames >= tiles else {
                throw SourceError(path, "is TILED_FULL with \(across) × \(down) tiles of \(f.columns) × \(f.rows) but holds only \(instance.frames) frames")
            }
            tileFrames = Array(0..<tiles)
        } else {
            var map = [Int](repeating: -1, count: tiles)
            let perFrame = ds.sequence(DICOMTag.perFrameFunctionalGroupsSequence)
            guard perFrame.count == instance.frames else {
                throw SourceError(path, "is \(organisation.isEmpty ? "not TILED_FULL" : organisation) but has \(perFrame.count) per-frame positions for \(instance.frames) frames")
            }
            for (k, frame) in perFrame.enumerated() {
                guard let p = frame.item(DICOMTag.planePositionSlideSequence),
                      let col = p.integer(DICOMTag.columnPositionInTotalImagePixelMatrix),
                      let row = p.integer(DICOMTag.rowPositionInTotalImagePixelMatrix) else {
                    throw SourceError(path, "frame \(k) has no position in the total pixel matrix (Plane Position (Slide) Sequence)")
                }
                guard (col - 1) % f.columns == 0, (row - 1) % f.rows == 0, col >= 1, row >= 1,
                      (col - 1) / f.columns < across, (row - 1) / f.rows < down else {
                    throw SourceError(path, "frame \(k) sits at column \(col), row \(row), off the \(f.columns) × \(f.rows) tile grid of a \(columns) × \(rows) matrix")
                }
                let t = (row - 1) / f.rows * across + (col - 1) / f.columns
                guard map[t] == -1 else {
                    throw SourceError(path, "frames \(map[t]) and \(k) are both at column \(col), row \(row): several focal planes or optical paths in one instance are not read yet")
                }
                map[t] = k
            }
            tileFrames = map
        }
        self.instance = instance
        let measures = ds.item(DICOMTag.sharedFunctionalGroupsSequence)?.item(DICOMTag.pixelMeasuresSequence)
        let mm = measures?.doubles(DICOMTag.pixelSpacing) ?? ds.doubles(DICOMTag.pixelSpacing)
        let spacing = mm?.count == 2 ? [mm![0] * 1000, mm![1] * 1000] : nil
        let unit = spacing != nil ? "micrometer" : nil
        var axes = [ImageAxis(name: "y", unit: unit), ImageAxis(name: "x", unit: unit)]
        var shape = [rows, columns], space = spacing ?? [1, 1], block = [f.rows, f.columns]
        if f.samples == 3 {
            axes.insert(ImageAxis(name: "c"), at: 0)
            shape.insert(3, at: 0)
            space.insert(1, at: 0)
            block.insert(3, at: 0)
        }
        var metadata: [String: JSONValue] = [
            "dicom": ds.json, "transferSyntax": .string(instance.syntax),
            "photometricInterpretation": .string(f.photometric),
            "tile": .array([JSONValue(f.rows), JSONValue(f.columns)]),
            "tiles": .object(["grid": JSONValue(tiles), "present": JSONValue(tileFrames.filter { $0 >= 0 }.count)]),
        ]
        if !levels.isEmpty {
            metadata["storedLevels"] = .array(try levels.map { l in
                let m = try DICOMWholeSlide.matrix(l)
                return .object(["file": .string((l.path as NSString).lastPathComponent), "shape": .array([JSONValue(m.rows), JSONValue(m.columns)])])
            })
        }
        description = ImageDescription(
            name: name, axes: axes, shape: shape, dataType: f.dataType, spacing: space,
            channels: f.samples == 3 && f.bitsAllocated == 8 ? ChannelInfo.rgb : [],
            metadata: .object(metadata), readBlock: block, hasPhysicalSizes: spacing != nil)
    }

    func read(_ region: Region) throws -> NDBuffer {
        let f = instance.format
        let d = description
        let y = d.axisIndex("y")!, x = y + 1
        let hasC = f.samples == 3
        // Missing tiles are white, as slide scanners leave the glass outside the tissue.
        let fill: UInt8 = d.dataType == .uint8 ? 255 : 0
        var out = NDBuffer(dataType: d.dataType, shape: region.shape,
                           bytes: [UInt8](repeating: fill, count: region.elementCount * d.dataType.size))
        let y0 = region.origin[y], y1 = y0 + region.shape[y], x0 = region.origin[x], x1 = x0 + region.shape[x]
        guard y1 > y0, x1 > x0 else { return out }
        let file = try DICOMFileBytes(path: instance.path)
        for ty in (y0 / f.rows)...((y1 - 1) / f.rows) {
            for tx in (x0 / f.columns)...((x1 - 1) / f.columns) {
                let frame = tileFrames[ty * across + tx]
                guard frame >= 0 else { continue }
                let planes = try instance.decode(frame, file: file)
                let tile = NDBuffer(dataType: d.dataType, shape: hasC ? [3, f.rows, f.columns] : [f.rows, f.columns], bytes: planes)
                let ty0 = ty * f.rows, tx0 = tx * f.columns
                let sy = max(y0, ty0), ey = min(y1, ty0 + f.rows), sx = max(x0, tx0), ex = min(x1, tx0 + f.columns)
                var from = [sy - ty0, sx - tx0], to = [sy - y0, sx - x0], size = [ey - sy, ex - sx]
                if hasC {
                    from.insert(region.origin[0], at: 0)
                    to.insert(0, at: 0)
                    size.insert(region.shape[0], at: 0)
                }
                out.paste(tile, from: from, to: to, size: size)
            }
        }
        return out
    }
}
