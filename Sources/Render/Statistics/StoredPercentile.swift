import NGFF
import Storage
import ZarrCore

/// Where an NGFF image's stored statistics (`.tessera-stats.bin`) would be.
public struct StoredStatisticsLocation: Sendable {
    public let store: any Store
    public let imagePath: String

    public init(store: any Store, imagePath: String) {
        self.store = store
        self.imagePath = imagePath
    }

    public var key: String { joinKey(imagePath, ImageStatistics.fileName) }

    /// The statistics, nil when there are none; a damaged file, or one that does not
    /// describe this image's level 0, throws `ImageStatisticsError.damaged`.
    func load(for image: RenderImage) throws -> ImageStatistics? {
        guard let stats = try ImageStatistics.read(store: store, imagePath: imagePath) else { return nil }
        let name = store.describe(key)
        guard stats.dataType == image.dataType, stats.shape == image.levels[0].shape else {
            throw ImageStatisticsError.damaged(name, "it describes a \(stats.dataType.rawValue) image of shape \(stats.shape), not this \(image.dataType.rawValue) \(image.levels[0].shape) one (rewritten since)")
        }
        guard stats.channels.count == image.channelCount, stats.channelAxis == image.axes.c else {
            throw ImageStatisticsError.damaged(name, "its channels do not match the image's")
        }
        return stats
    }
}

/// How exact a `stats=image` window is (`X-Tessera-Stats`, the CLI's summary).
public enum StatsAccuracy: String, Sendable {
    /// 8/16-bit: the percentiles equal numpy's over every level-0 pixel.
    case exact
    /// Other types: each order statistic is the lower edge of its key bin (clamped to the
    /// exact extremes), at most one bin (2⁻⁷ of its magnitude) below the true one.
    case approximate
}

extension Percentile {
    /// The percentiles `ps` of channel `c` of the whole image (every t and z at level 0)
    /// from its stored statistics, numpy's `linear` method (`nanpercentile`: NaNs left out).
    public static func linear(_ stats: ImageStatistics, channel c: Int, _ ps: [Double]) -> [Double] {
        let channel = stats.channels[c]
        switch stats.kind {
        case .exact:
            let offset = ImageStatistics.layout(stats.dataType)?.offset ?? 0
            return Histogram(counts: channel.bins, offset: offset, total: channel.count).percentiles(ps)
        case .keyed:
            let n = channel.count
            // The bin of each order statistic, found once per value asked for.
            func value(_ k: Int) -> Double {
                if k <= 0 { return channel.min }
                if k >= n - 1 { return channel.max }
                var seen = 0
                for (bin, count) in channel.bins.enumerated() where count > 0 {
                    seen += count
                    if seen > k {
                        let edge = ImageStatistics.lowerEdge(bin)
                        return edge.isNaN ? channel.min : Swift.min(Swift.max(edge, channel.min), channel.max)
                    }
                }
                return channel.max
            }
            return ps.map { p in interpolate(count: n, p, value: value, difference: { value($1) - value($0) }) }
        }
    }
}
