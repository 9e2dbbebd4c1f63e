import Catalog
import Foundation
import Storage
import Synchronization
import ZarrCore

/// The work of one `catalog add`, in three stages joined by bounded queues so a walk of any
/// size holds a bounded amount in memory:
/// 1. `jobs` walker threads share the folders still to look at (`PendingFolders`, depth
///    first) and read each dataset they find (`NGFFDiscovery`), in parallel;
/// 2. the harvested records wait in a `BoundedHandoff` of two batches (a walker blocks when
///    the catalogue falls behind);
/// 3. one writer records them `batchSize` at a time, one transaction per batch
///    (`CatalogStore.recordBatch`); a batch that fails is retried one dataset at a time, so
///    one bad record names itself and the rest are still recorded.
/// Everything that cannot be read or recorded is kept as one line naming the path; the
/// command prints them, sorted, in its summary.
final class CatalogAddRun: @unchecked Sendable {
    struct Tally: Sendable {
        var added = 0, updated = 0, unchanged = 0
        var failures = [String]()
        var recorded: Int { added + updated + unchanged }
    }

    let catalog: any CatalogStore
    let rule: DatasetRule
    let jobs: Int
    let batchSize: Int
    /// Seconds between progress lines (0: none).
    let progressEvery: Double
    private let tally = Mutex(Tally())
    private let fatal = Mutex<(any Error)?>(nil)
    private let handoff: BoundedHandoff<RecordItem>
    private let started = Date()

    init(catalog: any CatalogStore, rule: DatasetRule, jobs: Int, batchSize: Int, progressEvery: Double) {
        self.catalog = catalog; self.rule = rule; self.jobs = max(1, jobs); self.batchSize = max(1, batchSize)
        self.progressEvery = progressEvery
        handoff = BoundedHandoff(capacity: 2 * max(1, batchSize))
    }

    /// Walks every location and records what it finds; blocks until all is written. Throws
    /// only when the catalogue itself cannot be written (nothing more would be recorded).
    func run(_ arguments: [String]) throws -> Tally {
        let writerDone = DispatchSemaphore(value: 0)
        let writer = Thread { [self] in
            writeAll()
            writerDone.signal()
        }
        writer.start()
        for argument in arguments where fatal.withLock({ $0 == nil }) {
            walk(argument)
        }
        handoff.close()
        writerDone.wait()
        if let error = fatal.withLock({ $0 }) { throw error }
        return tally.withLock { $0 }
    }

    private func fail(_ line: String) { tally.withLock { $0.failures.append(line) } }

    // MARK: walking and reading

    private func walk(_ argument: String) {
        let base = NGFFDiscovery.base(of: argument)
        let store: any Store
        do { store = try openStore(argument) } catch { return fail("\(argument): \(error)") }
        let unlisted = store.unlistedEntries(prefix: "")
        for entry in unlisted { fail("\(NGFFDiscovery.place(base, entry.key)): \(entry.kind), not read") }
        do {
            let root = try store.listFolder("")
            if root.map({ $0.objects.isEmpty && $0.folders.isEmpty }) ?? true, unlisted.isEmpty {
                return fail("\(argument): nothing to read there")
            }
        } catch {
            return fail("\(argument): \(error)")
        }
        let pending = PendingFolders([""])
        currentWalk.withLock { $0 = pending }
        defer { currentWalk.withLock { $0 = nil } }
        try? parallelFor(jobs, width: jobs) { [self] _ in
            while let folder = pending.next() {
                switch NGFFDiscovery.visit(store, folder: folder, base: base, problem: fail) {
                case let .dataset(attributes, collection):
                    pending.done(adding: [])
                    harvest(store, folder: folder, attributes: attributes, collection: collection, base: base)
                case let .descend(children):
                    pending.done(adding: children)
                case .leaf:
                    pending.done(adding: [])
                }
            }
        }
    }

    /// The walk under way, so a writer that cannot write stops it.
    private let currentWalk = Mutex<PendingFolders?>(nil)

    private func harvest(_ store: any Store, folder: String, attributes: [String: JSONValue], collection: Bool, base: String) {
        do {
            let found = try NGFFDiscovery.read(store, path: folder, attributes: attributes, collection: collection, base: base)
            var dataset = found.converted
            dataset.access = rule
            let (record, harvest) = Harvester.finished(dataset, metadata: found.metadata)
            handoff.put(RecordItem(record: record, harvest: harvest))
        } catch {
            fail("\(NGFFDiscovery.place(base, folder)): \(error)")
        }
    }

    // MARK: writing

    private func writeAll() {
        var lastProgress = Date()
        while let batch = handoff.take(upTo: batchSize, within: 1) {
            if fatal.withLock({ $0 != nil }) { continue } // drain, so no walker stays blocked
            write(batch)
            if progressEvery > 0, -lastProgress.timeIntervalSinceNow >= progressEvery {
                lastProgress = Date()
                let t = tally.withLock { $0 }
                let rate = Double(t.recorded) / max(1e-3, -started.timeIntervalSinceNow)
                logLine("catalog add: \(t.recorded) recorded (\(t.added) added, \(t.updated) updated, \(t.unchanged) unchanged), "
                        + "\(t.failures.count) failed, \(Int(rate.rounded())) datasets/s")
            }
        }
    }

    private func write(_ batch: [RecordItem]) {
        let catalog = catalog
        do {
            let outcomes = try waitFor { try await catalog.recordBatch(batch) }
            count(outcomes)
        } catch where batch.count > 1 {
            for item in batch where fatal.withLock({ $0 == nil }) { write([item]) }
        } catch {
            if case CatalogError.unreachable = error {
                fatal.withLock { if $0 == nil { $0 = error } }
                currentWalk.withLock { $0?.stop() }
            } else {
                fail("\(batch[0].record.location): \(error)")
            }
        }
    }

    private func count(_ outcomes: [RecordOutcome]) {
        tally.withLock { t in
            for outcome in outcomes {
                switch outcome {
                case .added: t.added += 1
                case .updated: t.updated += 1
                case .unchanged: t.unchanged += 1
                }
            }
        }
    }
}
