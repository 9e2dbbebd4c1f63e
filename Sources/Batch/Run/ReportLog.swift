import Conversion
import Foundation
import Storage
import Synchronization
import ZarrCore

/// Where a job's tasks write their report lines (the manifest's `reports`). A folder:
/// one file per task, `task-00003.jsonl`, opened O_APPEND and written one line per
/// write(2), so a killed task leaves whole lines and reruns append. S3 has no append:
/// each line is its own object, `task-00003/<run>-<seq>.jsonl`, put as soon as written.
public final class ReportLog: Sendable {
    public let location: String
    private let run: String
    private let store: (any Store)?
    private let files = Mutex<[Int: Int32]>([:])
    private let sequence = Atomic<Int>(0)

    /// Opens (creating, for a folder) the reports location; fails at once, before any
    /// conversion, when it cannot be written.
    public init(location: String, run: String) throws {
        self.location = location
        self.run = run
        if location.hasPrefix("s3://") {
            store = try openStore(location)
        } else {
            store = nil
            try Self.makeWritableFolder(location, what: "reports folder")
        }
    }

    deinit { files.withLock { for fd in $0.values { close(fd) } } }

    public func append(_ line: ReportLine) throws {
        let bytes = try line.serialized()
        if let store {
            let seq = sequence.add(1, ordering: .relaxed).newValue
            try store.set("\(Self.taskName(line.task))/\(run)-\(Self.padded(seq, 6)).jsonl", bytes)
            return
        }
        try files.withLock { files in
            let fd: Int32
            if let open = files[line.task] { fd = open } else {
                let path = (location as NSString).appendingPathComponent(Self.fileName(task: line.task))
                fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw UsageError("cannot open report file \(path): \(String(cString: strerror(errno)))") }
                files[line.task] = fd
            }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count else {
                throw UsageError("cannot append to the report of task \(line.task) in \(location): \(String(cString: strerror(errno)))")
            }
        }
    }

    static func fileName(task: Int) -> String { taskName(task) + ".jsonl" }
    static func taskName(_ task: Int) -> String { "task-" + padded(task, 5) }
    static func padded(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `mkdir -p`, then a check that this user may create files there (a folder made
    /// read-only for the job's user is refused before anything is converted).
    public static func makeWritableFolder(_ path: String, what: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw UsageError("cannot create the \(what) \(path): \(JobManifest.reason(error))")
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw UsageError("cannot write into the \(what) \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// `host-pid-starttime`: tells two runs of one task apart.
    public static func runName() -> String {
        var host = [CChar](repeating: 0, count: 256)
        let name = gethostname(&host, host.count) == 0 ? String(cString: host) : "host"
        return "\(name)-\(getpid())-\(Int(Date().timeIntervalSince1970))"
    }
}

/// Reading every line a job's tasks wrote.
public enum ReportReading {
    /// Every report line under `location`, in file order; nothing when there are none yet.
    /// A line that is not a report line (a torn write of a killed task) is counted, not used.
    public static func lines(at location: String, task: Int? = nil) throws -> (lines: [ReportLine], unreadable: Int) {
        var out = [ReportLine]()
        var bad = 0
        func parse(_ bytes: [UInt8]) {
            for line in bytes.split(separator: 0x0A) where !line.isEmpty {
                if let l = try? JSONDecoder().decode(ReportLine.self, from: Data(line)) { out.append(l) } else { bad += 1 }
            }
        }
        if location.hasPrefix("s3://") {
            let store = try openStore(location)
            var keys = [String]()
            try store.listPages(prefix: task.map { ReportLog.taskName($0) + "/" } ?? "task-") { page in keys += page.map(\.key).filter { $0.hasSuffix(".jsonl") } }
            for key in keys.sorted() { if let bytes = try store.get(key) { parse(bytes) } }
        } else {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: location) else { return ([], 0) }
            for name in names.sorted() where name.hasPrefix("task-") && name.hasSuffix(".jsonl") && (task.map { name == ReportLog.fileName(task: $0) } ?? true) {
                let path = (location as NSString).appendingPathComponent(name)
                guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read report file \(path)") }
                parse(Array(data))
            }
        }
        return (out, bad)
    }

    /// Each item's latest line: by time, and among lines of the same time the ending
    /// one over `started`.
    public static func latest(_ lines: [ReportLine]) -> [WorkItemKey: ReportLine] {
        var latest = [WorkItemKey: ReportLine]()
        for line in lines {
            if let held = latest[line.item] {
                let newer = line.time > held.time || (line.time == held.time && held.status == .started)
                if !newer { continue }
            }
            latest[line.item] = line
        }
        return latest
    }
}
