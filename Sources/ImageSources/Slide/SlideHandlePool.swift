import Foundation
import Synchronization

/// Open OpenSlide handles for one slide: each worker borrows its own, so parallel region
/// reads do not queue on one handle's locks, and each handle's tile cache serves the worker
/// that filled it. A handle that failed is dead (OpenSlide's errors are sticky): it is
/// closed, and the next borrower opens a fresh one.
final class SlideHandlePool: @unchecked Sendable {
    let path: String
    private let idle: Mutex<[OpenSlideHandle]>

    /// `first`: the handle the opener already has (so opening a slide costs one open).
    init(path: String, first: OpenSlideHandle? = nil) {
        self.path = path
        idle = Mutex(first.map { [$0] } ?? [])
    }

    func withHandle<T>(_ body: (OpenSlideHandle) throws -> T) throws -> T {
        let handle = try idle.withLock { $0.popLast() } ?? OpenSlideHandle(path: path)
        let result: T
        do {
            result = try body(handle)
        } catch {
            if handle.error == nil { idle.withLock { $0.append(handle) } }
            throw error
        }
        idle.withLock { $0.append(handle) }
        return result
    }
}
