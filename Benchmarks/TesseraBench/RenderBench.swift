import Foundation
import Render
import Storage
import ZarrCore

/// `tessera-bench render --image NGFF --regions x,y;x,y;… --side N --query 'window=p1,p99&format=png'`:
/// renders each region (level 0, side × side) in this one warm process, as the gateway
/// will, and prints one JSON line with the mean seconds per render and per stage (read,
/// percentiles, window, encode), measured on separate passes over the same regions.
func renderBench(_ args: [String]) throws {
    let store = FileStore(path: try option("--image", args))
    let side = Int(try option("--side", args)) ?? 1024
    let query = (try? option("--query", args)) ?? "window=p1,p99"
    let offsets = try option("--regions", args).split(separator: ";").map { $0.split(separator: ",").compactMap { Int($0) } }
    let image = try RenderImage.open(store: store, path: "")
    let plans = try offsets.map { o in
        try RenderPlan(image: image, request: RenderRequest(parameters: RenderQuery.pairs(fromQuery: query + "&level=0&region=\(o[0]),\(o[1]),\(side),\(side)")))
    }
    _ = try Renderer.render(plans[0])  // warm-up: page cache, allocator
    var start = now()
    let cpuStart = processCPUSeconds()
    var bytes = 0
    for plan in plans { bytes += try Renderer.render(plan).bytes.count }
    let total = (now() - start) / Double(plans.count)
    let cpu = (processCPUSeconds() - cpuStart) / Double(plans.count)

    // The stages one by one (the renderer's own steps, timed apart).
    let level = image.levels[0]
    var planes = [PlaneBuffer]()
    start = now()
    for plan in plans {
        let region = Region(origin: [plan.readY, plan.readX], shape: [plan.readHeight, plan.readWidth])
        let b = try level.reader.read(region, concurrency: defaultConcurrency)
        planes.append(PlaneBuffer(dataType: b.dataType, width: plan.readWidth, height: plan.readHeight, bytes: b.bytes))
    }
    let read = (now() - start) / Double(plans.count)
    start = now()
    let windows = planes.map { p in Percentile.linear(p, [1, 99]) }
    let percentile = (now() - start) / Double(plans.count)
    start = now()
    let pictures = zip(planes, windows).map { Display.gray($0, window: DisplayWindow(start: $1[0], end: $1[1]), bits: 8) }
    let window = (now() - start) / Double(plans.count)
    start = now()
    for p in pictures { _ = try PNGEncoder.encode(p) }
    let png = (now() - start) / Double(plans.count)
    start = now()
    for p in pictures { _ = try JPEGEncoder.encode(p, quality: 90) }
    let jpeg = (now() - start) / Double(plans.count)
    print("{\"tool\":\"tessera\",\"op\":\"render\",\"renders\":\(plans.count),\"seconds_per_render\":\(total),\"cpu_seconds_per_render\":\(cpu),\"bytes\":\(bytes),"
        + "\"stages\":{\"read\":\(read),\"percentiles\":\(percentile),\"window\":\(window),\"png\":\(png),\"jpeg\":\(jpeg)}}")
}

/// User + system CPU seconds of this process, all threads.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
