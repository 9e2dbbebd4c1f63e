import Foundation
import Storage
import ZarrCore

/// The state of a split image, kept inside its own output under `.tessera-split/` (hidden,
/// so readers never take it for Zarr): one marker per finished region, written after all
/// of its objects, and the claim of the task that finishes the image.
enum SplitMarkers {
    static let folder = ".tessera-split/"
    static let claimKey = folder + "finish-claim"
    static func regionKey(_ r: Int) -> String { folder + "region-\(r).json" }
    /// A marker holds a region box and a sparse histogram: far below this.
    static let maxBytes = 16 << 20

    /// What a finished region leaves behind.
    struct Region: Equatable {
        var index: Int
        var box: ZarrCore.Region
        var task: Int
        var written: Int
        var bytes: Int
        /// Level-0 counts per channel and value (8/16-bit pixels) or value key (the others),
        /// nil when none are kept (RGB pictures).
        var histogram: [[Int]]?
        /// A keyed histogram's extremes and NaN counts per channel, nil for exact ones.
        var extremes: [ChannelExtremes]?

        var json: JSONValue {
            var o: [String: JSONValue] = [
                "region": JSONValue(index), "origin": JSONValue(box.origin), "shape": JSONValue(box.shape),
                "task": JSONValue(task), "written": JSONValue(written), "bytes": JSONValue(bytes),
            ]
            // Sparse, one string per channel: "bin:count bin:count …" (bin = value index). A
            // string, not nested arrays: tens of thousands of pairs parse fast this way.
            o["histogram"] = histogram.map { channels in
                .array(channels.map { h in
                    .string(h.enumerated().filter { $0.element > 0 }.map { "\($0.offset):\($0.element)" }.joined(separator: " "))
                })
            } ?? .null
            // One string per channel, "nanCount min max" (min and max may be inf/-inf: a
            // channel of NaNs only), which Double(_:) reads back exactly.
            if let extremes {
                o["extremes"] = .array(extremes.map { .string("\($0.nanCount) \($0.min) \($0.max)") })
            }
            return .object(o)
        }

        init(index: Int, box: ZarrCore.Region, task: Int, written: Int, bytes: Int, histogram: [[Int]]?, extremes: [ChannelExtremes]? = nil) {
            (self.index, self.box, self.task, self.written, self.bytes, self.histogram) = (index, box, task, written, bytes, histogram)
            self.extremes = extremes
        }

        init(json: JSONValue, key: String, bins: Int) throws {
            func ints(_ name: String) -> [Int]? { json[name]?.arrayValue?.compactMap(\.intValue) }
            guard let index = json["region"]?.intValue, let origin = ints("origin"), let shape = ints("shape"), origin.count == shape.count else {
                throw UsageError("\(key) is not a Tessera region marker")
            }
            self.index = index
            box = ZarrCore.Region(origin: origin, shape: shape)
            task = json["task"]?.intValue ?? -1
            written = json["written"]?.intValue ?? 0
            bytes = json["bytes"]?.intValue ?? 0
            if let channels = json["histogram"]?.arrayValue {
                histogram = try channels.map { c in
                    var h = [Int](repeating: 0, count: bins)
                    guard let text = c.stringValue else { throw UsageError("\(key) holds a damaged histogram") }
                    for pair in text.split(separator: " ") {
                        let p = pair.split(separator: ":")
                        guard p.count == 2, let v = Int(p[0]), let n = Int(p[1]), h.indices.contains(v), n >= 0 else {
                            throw UsageError("\(key) holds a damaged histogram")
                        }
                        h[v] += n
                    }
                    return h
                }
            }
            if let channels = json["extremes"]?.arrayValue {
                extremes = try channels.map { c in
                    let parts = c.stringValue?.split(separator: " ") ?? []
                    guard parts.count == 3, let nans = Int(parts[0]), nans >= 0, let lo = Double(parts[1]), let hi = Double(parts[2]),
                          !lo.isNaN, !hi.isNaN else { throw UsageError("\(key) holds damaged extremes") }
                    return ChannelExtremes(nanCount: nans, min: lo, max: hi)
                }
            }
        }
    }

    /// The marker of region `r`, nil if it is not done.
    static func read(_ r: Int, from store: any Store, bins: Int) throws -> Region? {
        let key = regionKey(r)
        guard let bytes = try store.get(key, limit: maxBytes) else { return nil }
        return try Region(json: try JSONValue.parse(bytes, key: store.describe(key)), key: store.describe(key), bins: bins)
    }

    /// Indices of the regions whose markers are present (one listing of the folder).
    static func done(in store: any Store) throws -> Set<Int> {
        Set(try store.list(prefix: folder).compactMap { e -> Int? in
            let name = e.key.dropFirst(folder.count)
            guard name.hasPrefix("region-"), name.hasSuffix(".json") else { return nil }
            return Int(name.dropFirst("region-".count).dropLast(".json".count))
        })
    }

    /// Who finishes the image: created once (`createIfAbsent`), never overwritten.
    struct Claim {
        var task: Int?
        var host: String
        var pid: Int
        var time: String

        static func mine(task: Int?) -> Claim {
            Claim(task: task, host: ProcessInfo.processInfo.hostName, pid: Int(getpid()),
                  time: ISO8601DateFormatter().string(from: Date()))
        }

        var json: JSONValue {
            .object(["task": task.map { JSONValue($0) } ?? .null, "host": .string(host), "pid": JSONValue(pid), "time": .string(time)])
        }

        static func read(from store: any Store) throws -> Claim? {
            guard let bytes = try store.get(claimKey, limit: 1 << 20) else { return nil }
            let j = try JSONValue.parse(bytes, key: store.describe(claimKey))
            return Claim(task: j["task"]?.intValue, host: j["host"]?.stringValue ?? "?", pid: j["pid"]?.intValue ?? 0,
                         time: j["time"]?.stringValue ?? "?")
        }
    }
}
