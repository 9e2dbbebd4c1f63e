import ImageSources
import Storage
import ZarrCore

/// `tessera plan --estimate`'s measurement: one image, or a box of its level 0, converted
/// exactly as `tessera convert` converts an image (same plan, codecs, pyramid and
/// metadata), so its output bytes, objects and CPU time per pixel byte stand for the
/// whole job's.
public enum SampleConversion {
    /// Converts `image` (cut to `region` of level 0 when given) into an NGFF image at the
    /// root of `store`.
    public static func convert(_ image: any ImageSource, region: Region?, into store: any Store, options: ConvertOptions,
                               log: @escaping @Sendable (String) -> Void = { _ in }) throws -> ImageSummary {
        let source: any ImageSource = try region.map { try CroppedSource(image, to: $0) } ?? image
        let conversion = ImageConversion(source: source, store: store, path: "", options: options, extraAttributes: [:],
                                         fixedWindows: nil, writeOmero: true, log: log)
        return try conversion.run()
    }

    /// How many chunk (or shard) objects `tessera convert` plans for the levels of an
    /// image: the most it writes (chunks holding only the fill value are left out).
    public static func plannedObjects(_ d: ImageDescription, options: ConvertOptions) throws -> Int {
        try ImagePlan(d, options: options).arrays.reduce(0) { $0 &+ $1.chunkCount }
    }
}

/// A box of another image's level 0, seen as an image of its own (reads are shifted).
final class CroppedSource: ImageSource {
    let base: any ImageSource
    let box: Region
    let description: ImageDescription

    init(_ base: any ImageSource, to box: Region) throws {
        let d = base.description
        guard box.origin.count == d.shape.count, box.shape.count == d.shape.count,
              zip(box.end, d.shape).allSatisfy({ $0 <= $1 }), box.origin.allSatisfy({ $0 >= 0 }), !box.isEmpty else {
            throw SourceError(d.name, "sample region \(box) is not inside the image's shape \(d.shape)")
        }
        self.base = base
        self.box = box
        var cropped = d
        cropped.shape = box.shape
        cropped.readBlock = zip(d.readBlock, box.shape).map { min($0, $1) }
        description = cropped
    }

    func read(_ region: Region) throws -> NDBuffer {
        try base.read(Region(origin: zip(region.origin, box.origin).map { $0 + $1 }, shape: region.shape))
    }
}
