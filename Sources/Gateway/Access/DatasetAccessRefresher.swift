import Catalog
import Synchronization

/// The gateway's current `DatasetAccessIndex` and the task keeping it fresh: it polls the
/// catalogue's access version every `refreshSeconds` and, when it moved, reads the snapshot,
/// builds a new index off the event loop and swaps it in whole. Readers copy the current
/// index under a lock held for a pointer copy only.
final class DatasetAccessRefresher: Sendable {
    private let current = Mutex(DatasetAccessIndex.empty)
    let store: any CatalogStore
    let interval: Duration
    /// The served roots as configured (also what `GET /api/status` reports on).
    let roots: [(name: String, location: String)]
    private let onError: @Sendable (String) -> Void

    init(store: any CatalogStore, roots: [(name: String, location: String)], interval: Duration,
         onError: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.roots = roots
        self.interval = interval
        self.onError = onError
    }

    var index: DatasetAccessIndex { current.withLock { $0 } }

    /// Reads the snapshot when the version moved (or always with `force`).
    func refresh(force: Bool = false) async throws {
        let version = try await store.accessVersion()
        guard force || version != index.version else { return }
        let snapshot = try await store.accessSnapshot()
        let built = DatasetAccessIndex(snapshot: snapshot, roots: roots)
        current.withLock { if built.version >= $0.version || force { $0 = built } }
    }

    /// Polls until cancelled. A failing store keeps the last index (access as last known) and
    /// is reported once per run of failures.
    func run() async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await refresh()
                failing = false
            } catch {
                if !failing { onError("catalog access refresh failed (keeping the last snapshot): \(error)") }
                failing = true
            }
            try? await Task.sleep(for: interval)
        }
    }
}
