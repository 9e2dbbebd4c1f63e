import Dispatch
import Foundation
import Synchronization

/// The default worker count: the cores this process may use.
public var defaultConcurrency: Int { ProcessInfo.processInfo.activeProcessorCount }

/// A pointer handed to parallel workers that write disjoint parts of one buffer.
public struct SharedPointer: @unchecked Sendable {
    public init(base: UnsafeMutableRawPointer) { self.base = base }
    public let base: UnsafeMutableRawPointer
}
