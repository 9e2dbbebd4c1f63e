/// The report's numbers as Prometheus gauges (one family per number; labels `root`, `group`,
/// `state`). The gateway's `/metrics` sets these; kept here so the names and the numbers come
/// from the same report the CLI and the API print.
public struct StatusGauge: Sendable, Equatable {
    public var name: String
    public var help: String
    public var labels: [(String, String)]
    public var value: Int64

    /// Whether the series names an owner group or an uploader (`group`, `user` labels): who
    /// may see those is decided with `/api/status` (Docs/catalog.md, "Status").
    public var namesGroupsOrUsers: Bool { labels.contains { $0.0 == "group" || $0.0 == "user" } }

    public static func == (a: StatusGauge, b: StatusGauge) -> Bool {
        a.name == b.name && a.value == b.value && a.labels.elementsEqual(b.labels, by: { $0 == $1 })
    }
}

extension StatusReport {
    public var gauges: [StatusGauge] {
        var out = [StatusGauge]()
        func add(_ name: String, _ help: String, _ labels: [(String, String)], _ value: Int64) {
            out.append(StatusGauge(name: name, help: help, labels: labels, value: value))
        }
        for root in roots {
            let label = [("root", root.name)]
            add("tessera_root_datasets", "Ready catalogued datasets under the served root", label, root.datasets)
            add("tessera_root_stored_bytes", "Stored bytes of the ready datasets under the served root", label, root.storedBytes)
            if let disk = root.disk {
                add("tessera_root_filesystem_total_bytes", "Size of the file system holding the root (statvfs)", label, disk.totalBytes)
                add("tessera_root_filesystem_free_bytes", "Bytes available to unprivileged users on the root's file system (statvfs)",
                    label, disk.freeBytes)
                add("tessera_root_filesystem_used_bytes", "Bytes used on the root's file system (statvfs)", label, disk.usedBytes)
            }
        }
        for group in groups {
            // No owner group: an empty label, which Prometheus reads as the label being absent.
            let label = [("group", group.group ?? "")]
            add("tessera_group_datasets", "Ready catalogued datasets per owner group", label, group.datasets)
            add("tessera_group_stored_bytes", "Stored bytes of the ready datasets per owner group", label, group.storedBytes)
        }
        for state in Set(StatusReport.ingestStates).union(ingest.keys).sorted() {
            let n = ingest[state] ?? 0
            add("tessera_ingest_files", "Watch-ingest ledger files per state", [("state", state)], n)
        }
        for u in uploads {
            let label = [("user", u.uploader)]
            add("tessera_upload_used_bytes", "Bytes an uploader's complete and receiving uploads hold against the quota", label, u.usedBytes)
            if let quota = u.quotaBytes { add("tessera_upload_quota_bytes", "The uploader's quota", label, quota) }
        }
        return out
    }
}
