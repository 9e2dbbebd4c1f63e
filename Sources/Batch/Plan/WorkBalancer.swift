/// Spreads weighted work items over tasks: largest first, each onto the task with the
/// least work so far (LPT scheduling; within 4/3 of the best possible, and within a
/// fraction of one item of the mean when items are many and small). Ties go to the lower
/// item and task index, so the same weights always give the same assignment.
public enum WorkBalancer {
    /// The task of each item.
    public static func assign(_ weights: [Int], tasks: Int) -> [Int] {
        let tasks = max(1, tasks) // the caller refuses fewer than one; never a crash here
        let order = weights.indices.sorted { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
        var heap = TaskHeap(tasks: tasks)
        var task = [Int](repeating: 0, count: weights.count)
        for i in order {
            task[i] = heap.addToLeastLoaded(weights[i])
        }
        return task
    }

    /// The total weight per task.
    public static func loads(_ weights: [Int], tasks assignment: [Int], count: Int) -> [Int] {
        var loads = [Int](repeating: 0, count: count)
        for (w, t) in zip(weights, assignment) { loads[t] = loads[t] &+ w }
        return loads
    }
}

/// A binary min-heap of (load, task): the least-loaded task in O(log tasks).
struct TaskHeap {
    private var items: [(load: Int, task: Int)]

    init(tasks: Int) { items = (0..<tasks).map { (0, $0) } } // sorted already: a valid heap

    private func less(_ a: Int, _ b: Int) -> Bool {
        items[a].load != items[b].load ? items[a].load < items[b].load : items[a].task < items[b].task
    }

    /// Adds `weight` to the least-loaded task and returns that task.
    mutating func addToLeastLoaded(_ weight: Int) -> Int {
        let task = items[0].task
        items[0].load = items[0].load &+ max(0, weight)
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < items.count, less(l, smallest) { smallest = l }
            if r < items.count, less(r, smallest) { smallest = r }
            if smallest == i { return task }
            items.swapAt(i, smallest)
            i = smallest
        }
    }
}
