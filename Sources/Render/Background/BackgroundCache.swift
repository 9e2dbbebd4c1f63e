import Synchronization

/// Computed backgrounds kept in memory (Docs/render.md, "Background subtraction"): a
/// smooth estimate upsampled to the render grid, or a `subtract=image:` plane read at a
/// level, per channel, as float64. A viewer panning or re-windowing one image, or a page
/// of renders against one dark frame, then reads and filters the background once.
/// Bounded in bytes, least recently used first out; a plane larger than the whole bound
/// is never kept. The key names the source's versions (`BackgroundReuse.source`), so a
/// changed image or background is a new key, never a stale hit.
public final class BackgroundCache: Sendable {
    public let maxBytes: Int
    private let observe: (@Sendable (_ hit: Bool) -> Void)?

    private struct Entry {
        let values: [Double]
        var used: UInt64
        var bytes: Int { values.count * MemoryLayout<Double>.stride }
    }

    private struct State {
        var entries = [String: Entry]()
        var bytes = 0
        var clock: UInt64 = 0
        var hits = 0, misses = 0
    }

    private let state = Mutex(State())

    /// `observe` hears each lookup (the gateway's metrics).
    public init(maxBytes: Int, observe: (@Sendable (_ hit: Bool) -> Void)? = nil) {
        self.maxBytes = max(0, maxBytes)
        self.observe = observe
    }

    /// The kept plane for `key`, else `compute`'s, kept when it fits. `compute` runs
    /// outside the lock (two renders may compute one key at once; both get equal values).
    public func plane(_ key: String, compute: () throws -> [Double]) rethrows -> [Double] {
        let kept: [Double]? = state.withLock { s in
            s.clock += 1
            guard var entry = s.entries[key] else { s.misses += 1; return nil }
            entry.used = s.clock
            s.entries[key] = entry
            s.hits += 1
            return entry.values
        }
        observe?(kept != nil)
        if let kept { return kept }
        let values = try compute()
        keep(key, values)
        return values
    }

    private func keep(_ key: String, _ values: [Double]) {
        let bytes = values.count * MemoryLayout<Double>.stride
        guard bytes <= maxBytes else { return }
        state.withLock { s in
            if let old = s.entries.removeValue(forKey: key) { s.bytes -= old.bytes }
            // Oldest out until it fits (few entries: planes are large).
            while s.bytes + bytes > maxBytes, let oldest = s.entries.min(by: { $0.value.used < $1.value.used }) {
                s.entries[oldest.key] = nil
                s.bytes -= oldest.value.bytes
            }
            s.clock += 1
            s.entries[key] = Entry(values: values, used: s.clock)
            s.bytes += bytes
        }
    }

    /// Lookups answered from memory and computed, planes and bytes kept (tests, metrics).
    public var counts: (hits: Int, misses: Int, entries: Int, bytes: Int) {
        state.withLock { ($0.hits, $0.misses, $0.entries.count, $0.bytes) }
    }
}

/// A cache and the text naming the versions of everything a background is made from
/// (the image's metadata documents and the background image's, as in the render's tag):
/// the prefix of every key the render uses.
public struct BackgroundReuse: Sendable {
    public let cache: BackgroundCache
    public let source: String

    public init(cache: BackgroundCache, source: String) {
        self.cache = cache
        self.source = source
    }
}
