import Catalog
import Conversion
import Foundation
import ImageSources
import Synchronization

/// `tessera watch`: scans the folders every `scanSeconds`, takes each file the stability rule
/// calls ready, claims it in the catalogue's ledger and converts it with `ConvertJob` (the
/// observer records the dataset), `jobs` files side by side. One log line per file.
/// Restart-safe: the ledger says what is done or failed (a failed file waits until it changes),
/// and a dead watcher's claim is taken over and its conversion resumed, keeping what it stored.
public final class Watcher: Sendable {
    public let settings: WatchSettings
    let ledger: any IngestLedger
    let observer: (any ConversionObserver)?
    let datasetUID: @Sendable (String) throws -> String?
    let log: @Sendable (String) -> Void
    let clock: any WatchClock
    let holder = IngestHolder.current()

    /// Work of the converting threads and what the scan knows (one lock: all cheap).
    struct Shared {
        var queue = [Ready]()
        var inFlight = Set<String>()
        /// Paths settled (converted, failed, or seen settled in the ledger) at this identity.
        var settled = [String: FileIdentity]()
        var stop = false
    }
    let shared = Mutex(Shared())
    let wake = NSCondition()

    struct Ready: Sendable {
        var found: DirectoryScanner.Found
        var folder: String
    }

    /// `datasetUID(location)`: the uid of the dataset the observer recorded at `location`.
    public init(settings: WatchSettings, ledger: any IngestLedger, observer: (any ConversionObserver)?,
                datasetUID: @escaping @Sendable (String) throws -> String?, clock: any WatchClock = SystemWatchClock(),
                log: @escaping @Sendable (String) -> Void) {
        self.settings = settings; self.ledger = ledger; self.observer = observer; self.datasetUID = datasetUID
        self.clock = clock; self.log = log
    }

    /// Runs until `stop()` (or forever); blocks the calling thread, which must not be one of
    /// the concurrency pool's (the ledger's calls are waited for).
    public func run() {
        let workers = (0..<max(1, settings.jobs)).map { _ in
            let t = Thread { [self] in workLoop() }
            t.stackSize = 8 << 20
            return t
        }
        workers.forEach { $0.start() }
        let scanners = settings.folders.map { folder in
            DirectoryScanner(root: folder, excluded: settings.output.contains("://") ? [] : [settings.output])
        }
        var tracker = StabilityTracker(stableSeconds: settings.stableSeconds)
        var warned = Set<String>()
        var lastRenewal = clock.monotonicSeconds()
        while !shared.withLock({ $0.stop }) {
            var present = Set<String>()
            for scanner in scanners {
                let found = scanner.scan { message in
                    if warned.insert(message).inserted { self.log("watch: warning: \(message)") }
                }
                let (monotonic, wall) = (clock.monotonicSeconds(), clock.wallSeconds())
                for f in found {
                    present.insert(f.path)
                    guard tracker.observe(f.path, f.observation, monotonic: monotonic, wall: wall) else { continue }
                    enqueue(Ready(found: f, folder: scanner.root))
                }
            }
            tracker.keepOnly(present)
            // Leases of running conversions, every third of a lease.
            let now = clock.monotonicSeconds()
            if now - lastRenewal >= settings.leaseSeconds / 3 {
                lastRenewal = now
                renewLeases()
            }
            Thread.sleep(forTimeInterval: min(settings.scanSeconds, settings.leaseSeconds / 3))
        }
    }

    public func stop() {
        shared.withLock { $0.stop = true }
        wake.broadcast()
    }

    func enqueue(_ ready: Ready) {
        let identity = ready.found.observation.identity
        let added = shared.withLock { s -> Bool in
            if s.settled[ready.found.path] == identity || s.inFlight.contains(ready.found.path) { return false }
            s.inFlight.insert(ready.found.path)
            s.queue.append(ready)
            return true
        }
        if added { wake.lock(); wake.signal(); wake.unlock() }
    }

    func workLoop() {
        while true {
            wake.lock()
            var next: Ready?
            while next == nil {
                let (item, stop) = shared.withLock { s -> (Ready?, Bool) in
                    s.queue.isEmpty ? (nil, s.stop) : (s.queue.removeFirst(), false)
                }
                if stop { wake.unlock(); return }
                next = item
                if next == nil { _ = wake.wait(until: Date().addingTimeInterval(1)) }
            }
            wake.unlock()
            guard let ready = next else { continue }
            let settledAs = ingest(ready)
            shared.withLock { s in
                s.inFlight.remove(ready.found.path)
                if let settledAs { s.settled[ready.found.path] = settledAs }
            }
        }
    }

    func renewLeases() {
        let paths = shared.withLock { Array($0.inFlight) }
        guard !paths.isEmpty else { return }
        let (ledger, holder, until) = (ledger, holder.text, clock.wallSeconds() + settings.leaseSeconds)
        do {
            try waitForAsync { try await ledger.renewIngestLeases(paths: paths, holder: holder, leaseUntil: until) }
        } catch {
            log("watch: warning: cannot renew leases: \(error)")
        }
    }

    /// One ready file: claim, convert, record. Returns the identity the file is now settled
    /// at (nil: try again at a later scan, e.g. the catalogue was unreachable or the file
    /// changed while it converted).
    func ingest(_ ready: Ready) -> FileIdentity? {
        let path = ready.found.path
        let relative = displayName(ready)
        // Looked at again now: a file that changed since the scan waits for the next one.
        guard let now = FileObservation.of(path: path), now == ready.found.observation else { return nil }
        let identity = now.identity
        let ledger = self.ledger
        do {
            let state = try waitForAsync { try await ledger.ingestState(path: path) }
            if let state, state.settles(identity) {
                if state.status == .failed { log("watch: skipped \(relative) (unchanged since it failed: \(state.error ?? "no error recorded"))") }
                return identity
            }
            let output = try outputName(ready)
            let dead: Set<String> = state.flatMap(\.holder).map { holder.knowsDead($0) ? [$0] : [] } ?? []
            let (me, lease, wall) = (holder.text, clock.wallSeconds() + settings.leaseSeconds, clock.wallSeconds())
            let claim = try waitForAsync {
                try await ledger.claimIngest(path: path, identity: identity, output: output, holder: me, leaseUntil: lease,
                                             deadHolders: dead, now: wall)
            }
            guard let claim else { return nil }  // another watcher has it
            return convert(ready, identity: identity, claim: claim, relative: relative)
        } catch let error as WatchError {
            // No output name free (both names taken by other paths): said once per identity;
            // it is looked at again when it changes or the watcher restarts.
            log("watch: failed \(relative): \(error)")
            return identity
        } catch {
            log("watch: warning: \(relative) not taken this time: \(error)")
            return nil
        }
    }

    func convert(_ ready: Ready, identity: FileIdentity, claim: IngestClaim, relative: String) -> FileIdentity? {
        let path = ready.found.path
        let destination = joinLocation(settings.output, claim.output)
        var options = settings.options
        // The machine's workers and memory shared among the files converting now (one file
        // alone gets them all), like ConvertJob's batches.
        let width = max(1, min(settings.jobs, shared.withLock { $0.inFlight.count }))
        options.jobs = max(1, options.jobs / width)
        options.memoryLimit = max(64 << 20, options.memoryLimit / width)
        options.progressBars = false
        // A dead watcher's conversion of this very file resumes, keeping what it stored; a
        // changed file replaces Tessera's own old output.
        let previous = claim.previous
        let resume = (previous == nil || (previous?.status == .converting && previous?.identity == identity))
        options.resume = resume
        options.overwrite = !resume
        // The converter's own lines (levels done, objects kept) only when asked for: the
        // watch log is one line per file.
        let log = self.log
        let verbose = settings.verbose
        let detail: @Sendable (String) -> Void = { line in if verbose { log("watch: \(relative): \(line)") } }
        var job = ConvertJob(inputs: [path], output: destination, options: options, log: detail)
        job.observer = observer
        let started = Date()
        let ledger = self.ledger
        let me = holder.text
        do {
            let s = try job.run()
            let uid = try? datasetUID(destination)
            let seconds = Date().timeIntervalSince(started)
            let kept = s.skipped > 0 ? ", \(s.skipped) objects kept from before" : ""
            try waitForAsync {
                try await ledger.finishIngest(path: path, holder: me, status: .done, datasetUID: uid ?? nil, error: nil,
                                              now: Date().timeIntervalSince1970)
            }
            log(String(format: "watch: converted %@ → %@ (%d images, %.1f MB, %.1f s%@)%@", relative, destination, s.images,
                       Double(s.outputBytes) / 1e6, seconds, kept, (uid ?? nil).map { " dataset \($0)" } ?? ""))
            return identity
        } catch {
            let message = String(describing: error)
            do {
                try waitForAsync {
                    try await ledger.finishIngest(path: path, holder: me, status: .failed, datasetUID: nil, error: message,
                                                  now: Date().timeIntervalSince1970)
                }
            } catch {
                log("watch: warning: cannot record the failure of \(relative): \(error)")
                return nil
            }
            log("watch: failed \(relative): \(message)")
            return identity
        }
    }

    /// The path as the log shows it: relative to its watched folder (with the folder's name
    /// when several are watched).
    func displayName(_ ready: Ready) -> String {
        settings.folders.count > 1 ? (ready.folder as NSString).lastPathComponent + "/" + ready.found.relative : ready.found.relative
    }

    /// Where a path's output goes, relative to the output root: its folders under the watched
    /// folder (under the folder's name when several are watched), its stem + `.ome.zarr`; if
    /// another path already has that output (`x.tif` beside `x.fits`), the whole file name.
    /// The ledger keeps the name a path got first, so it never changes.
    func outputName(_ ready: Ready) throws -> String {
        let rel = displayName(ready)
        let folder = (rel as NSString).deletingLastPathComponent
        let file = (rel as NSString).lastPathComponent
        let ledger = self.ledger
        let path = ready.found.path
        for candidate in [SourceOpener.stem(file), file] {
            let name = (folder.isEmpty ? "" : folder + "/") + candidate + ".ome.zarr"
            let holder = try waitForAsync { try await ledger.ingestPath(output: name) }
            if holder == nil || holder == path { return name }
        }
        let name = (folder.isEmpty ? "" : folder + "/") + file + ".ome.zarr"
        throw WatchError.outputTaken(path: path, output: name, by: (try? waitForAsync { try await ledger.ingestPath(output: name) } ?? nil) ?? "?")
    }
}
