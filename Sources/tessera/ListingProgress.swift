import Foundation

/// Progress of a long listing as lines on stderr ("listed 120000 objects, 1.2 GiB in
/// 3.1 s"), at most one per `interval` seconds, so a listing of millions of objects shows
/// it is moving and stdout keeps only the answer. A listing that ends within the first
/// interval prints nothing; one that printed progress ends with a last line of totals.
final class ListingProgress {
    private let interval: Double
    private let label: String
    private let start = Date()
    private var lastLine: Double
    private var printed = false

    /// `interval` 0 prints after every page.
    init(label: String, interval: Double) {
        self.label = label
        self.interval = max(0, interval)
        lastLine = 0
    }

    /// The listing so far: `objects` objects of `bytes` bytes.
    func update(objects: Int, bytes: Int) {
        let now = Date().timeIntervalSince(start)
        guard now - lastLine >= interval else { return }
        lastLine = now
        line(objects: objects, bytes: bytes, now: now)
    }

    /// The listing is complete.
    func finish(objects: Int, bytes: Int) {
        if printed { line(objects: objects, bytes: bytes, now: Date().timeIntervalSince(start), done: true) }
    }

    private func line(objects: Int, bytes: Int, now: Double, done: Bool = false) {
        printed = true
        let text = String(format: "%@: %@ %d objects, %@ in %.1f s\n", label, done ? "listed" : "listing…", objects,
                          ByteCount.text(bytes), now)
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Byte counts for people: "512 B", "1.5 KiB", "3.2 GiB".
enum ByteCount {
    static func text(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }
}
