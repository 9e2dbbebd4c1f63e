import Foundation

extension JobReport {
    /// The human summary `tessera report` prints.
    public var text: String {
        var out = [String]()
        out.append("items: \(items) — \(done) done, \(failed) failed, \(running) running (or died), \(pending) pending")
        out.append("input: \(Self.bytes(bytesIn)) → output: \(Self.bytes(bytesOut)) in \(objects) chunks or shards")
        out.append(String(format: "time: %.1f s elapsed, %.1f s of item wall time, %.3f CPU-hours; throughput ", spanS, wallS, cpuS / 3600)
                   + Self.bytes(Int(throughputBytesPerS)) + "/s")
        out.append(String(format: "per TB of input: %.0f chunks or shards, %.2f CPU-hours", objectsPerTb, cpuHoursPerTb))
        for (name, table) in [("codec", blowupByCodec), ("input format", blowupByFormat)] where !table.isEmpty {
            let parts = table.keys.sorted().map { $0 + String(format: " %.3f", table[$0] ?? 0) }
            out.append("output/input bytes by \(name): " + parts.joined(separator: ", "))
        }
        out.append("peak RSS of a task: \(Self.bytes(peakRss))")
        if unreadableLines > 0 { out.append("unreadable report lines (torn by a killed task): \(unreadableLines)") }
        if !failures.isEmpty {
            out.append("failed:")
            for f in failures { out.append("  \(f.input)\(f.region.map { " (\($0))" } ?? "") [task \(f.task)]: \(f.error)") }
            out.append("retry only those: \(retry)")
            out.append("  (or rerun array tasks \(retryTasks.map(String.init).joined(separator: ",")), e.g. sbatch --array=\(retryTasks.map(String.init).joined(separator: ",")))")
        }
        return out.joined(separator: "\n")
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var v = Double(n), u = 0
        while v >= 1000, u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.2f ", v) + units[u]
    }
}
