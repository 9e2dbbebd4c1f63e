import Foundation

/// Folders a tree walk still has to look at, shared by its workers. Last in, first out, so
/// the walk goes depth first and what waits is at most the folders beside the current path,
/// never the whole tree. `next` blocks until there is a folder, or returns nil once every
/// folder has been looked at (none waiting, none being looked at) or the walk was stopped.
final class PendingFolders: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: [String]
    private var busy = 0
    private var stopped = false

    init(_ roots: [String]) { waiting = roots.reversed() }

    func next() -> String? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped { return nil }
            if let folder = waiting.popLast() { busy += 1; return folder }
            if busy == 0 { return nil }
            condition.wait()
        }
    }

    /// The folder taken by `next` has been looked at; `children` are to be looked at too.
    func done(adding children: [String]) {
        condition.lock()
        busy -= 1
        waiting.append(contentsOf: children.reversed())
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the walk early (the catalogue cannot be written): `next` returns nil from now on.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A bounded hand-over between producer threads and one consumer: `put` blocks while
/// `capacity` items wait (so producers never run ahead of the consumer by more than that),
/// `take` hands over up to a batch at once.
final class BoundedHandoff<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items = [Item]()
    private var closed = false
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    func put(_ item: Item) {
        condition.lock()
        while items.count >= capacity, !closed { condition.wait() }
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// No more items will come.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Up to `count` items: waits until that many are there, or the hand-over is closed, or
    /// `seconds` have passed with at least one there. Nil once closed and empty.
    func take(upTo count: Int, within seconds: Double) -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        var deadline = Date(timeIntervalSinceNow: seconds)
        while items.count < count, !closed {
            if condition.wait(until: deadline) { continue }
            if !items.isEmpty { break }
            deadline = Date(timeIntervalSinceNow: seconds)
        }
        if items.isEmpty { return nil }
        let batch = Array(items.prefix(count))
        items.removeFirst(batch.count)
        condition.broadcast()
        return batch
    }
}
