import Foundation

/// Decoded chunks (or inner chunks of shards) of one array, kept so that reads of
/// several small regions of one stored chunk decode it once: what `tessera copy` to
/// smaller chunks needs, where every source chunk feeds several destination chunks.
///
/// Least recently used entries go first once more than `capacity` bytes are held, so
/// memory is bounded by `capacity` plus the chunks being decoded right now (one per
/// reading thread). A chunk being decoded is not decoded again by a second reader: that
/// one waits for the first. `decodes` counts the decodes that were done.
public final class DecodedChunkCache: @unchecked Sendable {
    /// Bytes of decoded chunks kept; 0 keeps none (and only counts decodes).
    public let capacity: Int
    // Everything below is guarded by `condition`'s lock.
    private let condition = NSCondition()
    private var entries = [String: Entry]()
    private var pending = Set<String>()
    private var held = 0
    private var clock = 0
    private var decodeCount = 0

    private struct Entry {
        var chunk: NDBuffer
        var lastUse: Int
    }

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// How many chunks were decoded (not found here) so far.
    public var decodes: Int {
        condition.lock()
        defer { condition.unlock() }
        return decodeCount
    }

    /// The chunk under `id`: kept, or decoded now by `decode` (nil: nothing stored, which
    /// is not kept). Readers asking for a chunk another reader is decoding wait for it.
    func chunk(_ id: String, decode: () throws -> NDBuffer?) throws -> NDBuffer? {
        condition.lock()
        while true {
            if var entry = entries[id] {
                clock += 1
                entry.lastUse = clock
                entries[id] = entry
                condition.unlock()
                return entry.chunk
            }
            if !pending.contains(id) { break }
            condition.wait()
        }
        pending.insert(id)
        condition.unlock()

        let result: NDBuffer?
        do {
            result = try decode()
        } catch {
            condition.lock()
            pending.remove(id)
            condition.broadcast()
            condition.unlock()
            throw error
        }

        condition.lock()
        pending.remove(id)
        if let result {
            decodeCount += 1
            keep(result, as: id)
        }
        condition.broadcast()
        condition.unlock()
        return result
    }

    /// Adds `chunk`, then drops least recently used entries until `capacity` holds.
    /// Called with the lock held.
    private func keep(_ chunk: NDBuffer, as id: String) {
        let size = chunk.bytes.count
        guard size <= capacity else { return }
        clock += 1
        entries[id] = Entry(chunk: chunk, lastUse: clock)
        held += size
        while held > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            held -= oldest.value.chunk.bytes.count
            entries[oldest.key] = nil
        }
    }
}
