/// How one piece of work (an input, a region of a split image, its finishing step) stands,
/// in the words a job report records: `started` when a task takes it, then `done`
/// (converted now), `skipped` (its output was already complete) or `failed`.
public enum WorkStatus: String, Sendable, Codable, CaseIterable {
    case started, done, skipped, failed

    /// The item's output is complete, whether this run or an earlier one wrote it.
    public var isComplete: Bool { self == .done || self == .skipped }
}
