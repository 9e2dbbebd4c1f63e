import ImageSources
import Render
import ZarrCore

/// A source file's first image (TIFF, HDF5 `file.h5:/dataset`, FITS, a slide, …) as a
/// render image, so `tessera render` draws files that were never converted: level 0 is
/// the image, and the lower resolutions the file stores (a TIFF's SubIFDs, a slide's
/// levels) follow. Without those, the render's read cap applies to level 0 as it is.
enum SourceRenderImage {
    static func open(_ argument: String) throws -> RenderImage {
        let file = try SourceOpener.open(argument)
        guard let image = file.images.first else { throw RenderError.unsupportedImage(argument, "the file holds no image") }
        let d = image.description
        guard let y = d.axisIndex("y"), let x = d.axisIndex("x") else {
            throw RenderError.unsupportedImage(argument, "its axes \(d.axisNames) have no 'y' and 'x'")
        }
        guard d.shape.allSatisfy({ $0 > 0 }) else { throw RenderError.unsupportedImage(argument, "the image is empty (shape \(d.shape))") }
        let axes = RenderAxes(t: d.axisIndex("t"), c: d.axisIndex("c"), z: d.axisIndex("z"), y: y, x: x, rank: d.axes.count)
        let stored = image.storedLevels.filter { level in
            let s = level.description
            return s.dataType == d.dataType && s.axisNames == d.axisNames
                && [axes.t, axes.c].compactMap { $0 }.allSatisfy { s.shape[$0] == d.shape[$0] }
                && s.shape[y] > 0 && s.shape[x] > 0
        }
        let levels = ([image] + stored).map { level -> RenderLevel in
            let shape = level.description.shape
            func factor(_ axis: Int?) -> Double { axis.map { Double(d.shape[$0]) / Double(max(shape[$0], 1)) } ?? 1 }
            return RenderLevel(shape: shape, reader: SourceLevelReader(source: level), factorZ: factor(axes.z), factorY: factor(y), factorX: factor(x))
        }
        return RenderImage(name: argument, axes: axes, levels: levels, omero: try OmeroReadModel(omero(d.channels), image: argument),
                           dataType: d.dataType)
    }

    /// What the source says about its channels (colours, an RGB picture's 0–255 window),
    /// in the shape of an `omero` block.
    static func omero(_ channels: [ChannelInfo]) -> JSONValue {
        .object(["channels": .array(channels.map { c in
            var o: [String: JSONValue] = ["active": true]
            if let name = c.name { o["label"] = .string(name) }
            if let color = c.color { o["color"] = .string(color) }
            if let w = c.window { o["window"] = .object(["start": .double(w.lowerBound), "end": .double(w.upperBound)]) }
            return .object(o)
        })])
    }
}

/// Regions of a source image, read through its reader (which serialises where its
/// library needs it).
struct SourceLevelReader: LevelReader {
    let source: any ImageSource
    func read(_ region: Region, concurrency: Int) throws -> NDBuffer { try source.read(region) }
}
