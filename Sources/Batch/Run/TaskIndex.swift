import Foundation

/// Which task of the job this process is: `--task`, else the array index the batch
/// engine sets. A missing, garbled or out-of-range index is refused before anything is
/// written, naming where it came from.
public enum TaskIndex {
    /// The engines' array-index variables, in the order they are looked at: Slurm,
    /// Kubernetes Indexed Job, AWS Batch array job, Google Batch.
    public static let variables = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "BATCH_TASK_INDEX"]

    public static func resolve(option: Int?, environment: [String: String], tasks: Int) throws -> Int {
        if let option {
            guard (0..<tasks).contains(option) else {
                throw TaskIndexError("--task \(option) is out of range: this job has tasks 0..\(tasks - 1)")
            }
            return option
        }
        for name in variables {
            guard let raw = environment[name] else { continue }
            let text = raw.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, text.allSatisfy(\.isASCII), let value = Int(text) else {
                throw TaskIndexError("\(name)='\(raw)' is not a task index (a whole number 0..\(tasks - 1))")
            }
            guard (0..<tasks).contains(value) else {
                throw TaskIndexError("\(name)=\(value) is out of range: this job has tasks 0..\(tasks - 1)")
            }
            return value
        }
        throw TaskIndexError("no task index: pass --task I, or run as an array task (\(variables.joined(separator: ", ")))")
    }
}

public struct TaskIndexError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
