import Conversion
import Foundation
import ZarrCore

/// `tessera plan --estimate`: the job's output bytes, objects, CPU-hours and wall time,
/// predicted before anything is spent from a few sample conversions (`EstimateSampling`).
/// Per input format, the samples give output bytes, data objects and CPU seconds per
/// level-0 pixel byte, metadata objects per input, and the share of planned chunk or
/// shard objects actually written (chunks of fill value are not); each input's prediction is those
/// rates times its pixel bytes (a format without a sample that converted uses the rates
/// of all samples). Inputs that cannot be opened add nothing: they will fail.
public struct JobEstimate: Codable, Sendable {
    public var tasks: Int
    /// Cores each task uses (the wall time assumes the task's work spreads over them).
    public var cores: Int
    public var inputs: Int
    public var inputBytes: Int
    public var pixelBytes: Int
    public var outputBytes: Double
    /// Every object: `dataObjects` plus `metadataObjects`.
    public var objects: Double
    /// Chunks and shards: what `tessera report` counts as an item's objects.
    public var dataObjects: Double
    /// Zarr documents, the output mark and the OME-XML, per input.
    public var metadataObjects: Double
    public var cpuHours: Double
    /// The busiest task's CPU time over its cores.
    public var wallHours: Double
    /// Output bytes over input file bytes.
    public var blowup: Double
    public var samples: [EstimateSample]
    /// Samples that could not be converted, with their errors.
    public var failedSamples: [String]

    enum CodingKeys: String, CodingKey {
        case tasks, cores, inputs, samples, objects, blowup
        case inputBytes = "input_bytes", pixelBytes = "pixel_bytes", outputBytes = "output_bytes", cpuHours = "cpu_hours",
             wallHours = "wall_hours", failedSamples = "failed_samples", dataObjects = "data_objects", metadataObjects = "metadata_objects"
    }
}

public enum JobEstimator {
    /// `plannedObjects`: per input, the objects convert plans for it (`PlanResult`).
    public static func estimate(_ m: JobManifest, plannedObjects: [Int], options: ConvertOptions, cores: Int, perFormat: Int = 3, limit: Int = 64 << 20,
                                log: @Sendable (String) -> Void = { _ in }) throws -> JobEstimate {
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("tessera-estimate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var samples = [EstimateSample](), failed = [String]()
        for input in EstimateSampling.pick(m.inputs, perFormat: perFormat) {
            do {
                let s = try EstimateSampling.convert(input, options: options, limit: limit, folder: folder)
                log(String(format: "estimate: sampled %@ (%@, %.1f MB of pixels%@) in %.2f s", input.input, input.format,
                           Double(s.pixelBytes) / 1e6, s.whole ? "" : ", a region", s.wallSeconds))
                samples.append(s)
            } catch {
                failed.append("\(error)")
            }
        }
        return predict(m, plannedObjects: plannedObjects, samples: samples, failed: failed, cores: cores)
    }

    struct Rates {
        /// Data bytes per pixel byte; metadata bytes and objects per input.
        var bytes = 0.0, data = 0.0, cpu = 0.0, metadataPerInput = 0.0, metadataBytesPerInput = 0.0, written = 1.0
    }

    static func rates(_ samples: [EstimateSample]) -> Rates? {
        let pixels = Double(samples.reduce(0) { $0 + $1.pixelBytes })
        guard pixels > 0 else { return nil }
        return Rates(bytes: Double(samples.reduce(0) { $0 + $1.outputBytes - $1.metadataBytes }) / pixels,
                     data: Double(samples.reduce(0) { $0 + $1.dataObjects }) / pixels,
                     cpu: samples.reduce(0) { $0 + $1.cpuSeconds } / pixels,
                     metadataPerInput: Double(samples.reduce(0) { $0 + $1.metadataObjects }) / Double(samples.count),
                     metadataBytesPerInput: Double(samples.reduce(0) { $0 + $1.metadataBytes }) / Double(samples.count),
                     written: Double(samples.reduce(0) { $0 + $1.dataObjects }) / Double(max(1, samples.reduce(0) { $0 + $1.plannedObjects })))
    }

    static func predict(_ m: JobManifest, plannedObjects: [Int], samples: [EstimateSample], failed: [String], cores: Int) -> JobEstimate {
        let all = rates(samples)
        var byFormat = [String: Rates]()
        for format in Set(samples.map(\.format)) { byFormat[format] = rates(samples.filter { $0.format == format }) }
        var e = JobEstimate(tasks: m.tasks, cores: max(1, cores), inputs: m.inputs.count, inputBytes: 0, pixelBytes: 0, outputBytes: 0,
                            objects: 0, dataObjects: 0, metadataObjects: 0, cpuHours: 0, wallHours: 0, blowup: 0, samples: samples, failedSamples: failed)
        var taskCPU = [Double](repeating: 0, count: m.tasks)
        for (k, input) in m.inputs.enumerated() {
            e.inputBytes += input.fileBytes
            e.pixelBytes += input.pixelBytes
            guard input.format != "unknown", let r = byFormat[input.format] ?? all else { continue }
            let px = Double(input.pixelBytes)
            e.outputBytes += r.bytes * px + r.metadataBytesPerInput
            let planned = k < plannedObjects.count ? plannedObjects[k] : 0
            e.metadataObjects += r.metadataPerInput
            e.dataObjects += planned > 0 ? r.written * Double(planned) : r.data * px
            if let split = input.split {
                let total = Double(split.regions.reduce(0) { $0 + $1.shape.reduce(1, *) })
                for region in split.regions where region.task < m.tasks {
                    taskCPU[region.task] += r.cpu * px * Double(region.shape.reduce(1, *)) / max(total, 1)
                }
            } else if let t = input.task, t < m.tasks {
                taskCPU[t] += r.cpu * px
            }
        }
        e.objects = e.dataObjects + e.metadataObjects
        e.cpuHours = taskCPU.reduce(0, +) / 3600
        e.wallHours = (taskCPU.max() ?? 0) / Double(e.cores) / 3600
        e.blowup = e.inputBytes > 0 ? e.outputBytes / Double(e.inputBytes) : 0
        return e
    }
}
