import Dispatch
import Synchronization

/// Runs an async call from a thread outside the concurrency pool (a conversion or watcher
/// thread) and waits for its result. Never call it on a thread of the pool.
public func waitForAsync<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let box = Mutex<Result<T, any Error>?>(nil)
    Task.detached {
        let result: Result<T, any Error>
        do { result = .success(try await operation()) } catch { result = .failure(error) }
        box.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    guard let result = box.withLock({ $0 }) else { throw WatchError.noAnswer }
    return try result.get()
}

public enum WatchError: Error, CustomStringConvertible, Equatable {
    case noAnswer
    case badFolder(String, String)
    case outputTaken(path: String, output: String, by: String)

    public var description: String {
        switch self {
        case .noAnswer: "no answer from the catalog"
        case let .badFolder(path, why): "watch folder \(path): \(why)"
        case let .outputTaken(path, output, other): "\(path): its output \(output) is already the output of \(other)"
        }
    }
}
