import Foundation
import Synchronization

/// Generated consolidated metadata, kept for a few seconds: a viewer opening an image asks
/// for it once, but a page of viewers would otherwise each trigger a hierarchy walk.
/// Short-lived on purpose, so a finished conversion shows up without a restart.
///
/// Requests that arrive while a document is being generated wait for that one
/// generation instead of each walking the hierarchy again (single flight). The cache is
/// bounded by entries and by bytes (keys included, so misses under long hostile keys
/// count too).
final class GeneratedDocuments: Sendable {
    private enum Slot {
        case ready(made: ContinuousClock.Instant, object: MemoryObject?, cost: Int)
        case pending(Task<MemoryObject?, any Error>)
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    let lifetime: Duration
    let maximumEntries: Int
    let maximumBytes: Int
    /// Called once per generation actually run (the metrics count them).
    private let onGenerate: @Sendable () -> Void

    init(lifetime: Duration = .seconds(5), maximumEntries: Int = 4096, maximumBytes: Int = 64 << 20,
         onGenerate: @escaping @Sendable () -> Void = {}) {
        self.lifetime = lifetime
        self.maximumEntries = maximumEntries
        self.maximumBytes = maximumBytes
        self.onGenerate = onGenerate
    }

    /// Bytes the cache holds (for tests and metrics).
    var cachedBytes: Int { state.withLock { $0.bytes } }

    /// The cached document for `id`, the one being generated for it, or a new one from
    /// `make` (nil: nothing to generate).
    func document(_ id: String, make: @escaping @Sendable () async throws -> [UInt8]?) async throws -> MemoryObject? {
        let now = ContinuousClock.now
        enum Found { case hit(MemoryObject?), wait(Task<MemoryObject?, any Error>) }
        let found: Found = state.withLock { state in
            switch state.slots[id] {
            case let .ready(made, object, _)? where now - made < lifetime:
                return .hit(object)
            case let .pending(task)?:
                return .wait(task)
            default:
                onGenerate()
                let task = Task { try await make().map(MemoryObject.init) }
                if case let .ready(_, _, cost)? = state.slots[id] { state.bytes -= cost }
                state.slots[id] = .pending(task)
                return .wait(task)
            }
        }
        guard case let .wait(task) = found else {
            if case let .hit(object) = found { return object }
            return nil
        }
        do {
            let object = try await task.value
            settle(id, task, object: object, made: now)
            return object
        } catch {
            settle(id, task, object: nil, made: nil)
            throw error
        }
    }

    /// Replaces the pending slot of `task` by its result (or drops it after a failure),
    /// keeping the cache within its bounds.
    private func settle(_ id: String, _ task: Task<MemoryObject?, any Error>, object: MemoryObject?, made: ContinuousClock.Instant?) {
        state.withLock { state in
            guard case let .pending(current)? = state.slots[id], current == task else { return }
            state.slots[id] = nil
            guard let made else { return }
            let cost = id.utf8.count + (object?.size ?? 0) + 64
            if state.slots.count >= maximumEntries || state.bytes + cost > maximumBytes {
                let now = ContinuousClock.now
                state.slots = state.slots.filter { _, slot in
                    if case let .ready(made, _, _) = slot { return now - made < lifetime }
                    return true
                }
                if state.slots.count >= maximumEntries || state.bytes + cost > maximumBytes {
                    state.slots = state.slots.filter { if case .pending = $1 { true } else { false } }
                }
                state.bytes = state.slots.values.reduce(0) { sum, slot in
                    if case let .ready(_, _, cost) = slot { return sum + cost }
                    return sum
                }
            }
            guard cost <= maximumBytes else { return }
            state.slots[id] = .ready(made: made, object: object, cost: cost)
            state.bytes += cost
        }
    }
}
