import Conversion
import Foundation
import ImageSources
import Storage
import ZarrCore

/// What converting one sample cost and produced.
public struct EstimateSample: Codable, Sendable, Equatable {
    public var input: String
    public var format: String
    /// Level-0 pixel bytes converted (all of the input, or a box of its image).
    public var pixelBytes: Int
    public var whole: Bool
    public var outputBytes: Int
    /// Of `outputBytes`, the metadata objects' (documents, stored statistics, marks): about
    /// one set per image whatever its size, so they are not scaled by pixels.
    public var metadataBytes: Int
    /// Chunk or shard objects, and the metadata objects beside them.
    public var dataObjects: Int
    /// The chunk or shard objects convert planned for what was converted (written ones
    /// are fewer when chunks hold only the fill value).
    public var plannedObjects: Int
    public var metadataObjects: Int
    public var cpuSeconds: Double
    public var wallSeconds: Double

    enum CodingKeys: String, CodingKey {
        case input, format, whole, pixelBytes = "pixel_bytes", outputBytes = "output_bytes", metadataBytes = "metadata_bytes",
             dataObjects = "data_objects",
             metadataObjects = "metadata_objects", plannedObjects = "planned_objects", cpuSeconds = "cpu_s", wallSeconds = "wall_s"
    }
}

/// Picks and converts the samples of `tessera plan --estimate`: per format, up to
/// `perFormat` inputs (the smallest, the middle and the largest by pixel bytes), each
/// converted whole when it has at most `limit` pixel bytes, else a box of its first
/// image's level 0 of about `limit` bytes — into a temporary folder removed afterwards.
enum EstimateSampling {
    static func pick(_ inputs: [JobInput], perFormat: Int) -> [JobInput] {
        var picked = [JobInput]()
        for format in Set(inputs.map(\.format)).sorted() where format != "unknown" {
            let of = inputs.filter { $0.format == format }.sorted { ($0.pixelBytes, $0.input) < ($1.pixelBytes, $1.input) }
            let at = perFormat >= of.count ? Array(of.indices)
                : Array(Set((0..<perFormat).map { perFormat == 1 ? of.count / 2 : $0 * (of.count - 1) / (perFormat - 1) })).sorted()
            picked += at.map { of[$0] }
        }
        return picked
    }

    static func convert(_ input: JobInput, options: ConvertOptions, limit: Int, folder: String) throws -> EstimateSample {
        let staged = try StagedInput.stage(input.input, headerOnly: false)
        defer { staged.remove() }
        let output = (folder as NSString).appendingPathComponent(UUID().uuidString + ".ome.zarr")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let path = input.input.hasPrefix("s3://") ? staged.path : input.input
        let cpu0 = processCPUSeconds(), wall0 = Date()
        var pixels: Int, planned = 0
        let whole = input.pixelBytes <= limit
        if whole {
            var o = options
            o.progressBars = false
            let s = try ConvertJob(inputs: [path], output: output, options: o, log: { _ in }).run()
            guard s.failed.isEmpty, s.inputs == 1 else { throw SourceError(input.input, "the sample conversion failed") }
            pixels = s.pixelBytes
            let file = try SourceOpener.open(path, options: options.source)
            planned = try file.images.reduce(0) { $0 &+ (try SampleConversion.plannedObjects($1.description, options: options)) }
        } else {
            let file = try SourceOpener.open(path, options: options.source)
            guard let image = file.images.first else { throw SourceError(input.input, "holds no image") }
            let box = sampleBox(image.description, limit: limit)
            var o = options
            o.progressBars = false
            let s = try SampleConversion.convert(image, region: box, into: FileStore(path: output), options: o)
            pixels = s.pixelBytes
            var cropped = image.description
            cropped.shape = box.shape
            planned = try SampleConversion.plannedObjects(cropped, options: options)
        }
        let cpu = processCPUSeconds() - cpu0, wall = Date().timeIntervalSince(wall0)
        var bytes = 0, metadataBytes = 0, data = 0, metadata = 0
        try FileStore(path: output).listPages(prefix: "") { page in
            for e in page {
                bytes += e.size
                let last = e.key.split(separator: "/").last.map(String.init) ?? e.key
                if last.allSatisfy({ $0.isNumber || $0 == "." }) {
                    data += 1
                } else {
                    metadata += 1
                    metadataBytes += e.size
                }
            }
        }
        return EstimateSample(input: input.input, format: input.format, pixelBytes: pixels, whole: whole, outputBytes: bytes,
                              metadataBytes: metadataBytes,
                              dataObjects: data, plannedObjects: planned, metadataObjects: metadata, cpuSeconds: cpu, wallSeconds: wall)
    }

    /// A box at the image's origin of at most about `limit` bytes: the largest of t, z,
    /// y and x halved until it fits (c is kept whole: channel metadata follows it).
    static func sampleBox(_ d: ImageDescription, limit: Int) -> Region {
        var shape = d.shape
        func bytes() -> Double { shape.reduce(Double(d.dataType.size)) { $0 * Double($1) } }
        let cut = d.axes.indices.filter { d.axes[$0].name != "c" }
        while bytes() > Double(limit), let axis = cut.max(by: { shape[$0] < shape[$1] }), shape[axis] > 1 {
            shape[axis] = (shape[axis] + 1) / 2
        }
        return Region(shape: shape)
    }

    /// User and system CPU time of this process so far (every thread).
    static func processCPUSeconds() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
    }
}
