import CTurboJPEG
import Synchronization

/// libjpeg-turbo handles kept for reuse across chunks. A handle is not thread-safe, so
/// each encode or decode borrows one for itself (at most one per worker thread is ever
/// out) and gives it back; a handle whose call failed is destroyed instead, so no error
/// state can leak into the next chunk.
final class TurboJPEGHandles: Sendable {
    private struct Handle: @unchecked Sendable { let raw: tjhandle }

    static let compressors = TurboJPEGHandles(make: { tjInitCompress() })
    static let decompressors = TurboJPEGHandles(make: { tjInitDecompress() })
    /// Idle handles kept beyond this are destroyed (more workers than this are rare).
    private static let keep = 64

    private let make: @Sendable () -> tjhandle?
    private let idle = Mutex<[Handle]>([])

    private init(make: @escaping @Sendable () -> tjhandle?) { self.make = make }

    func borrow<T>(_ body: (tjhandle) throws -> T) throws -> T {
        guard let handle = idle.withLock({ $0.popLast() }) ?? make().map(Handle.init) else {
            throw TurboJPEG.Failure.unavailable
        }
        let result: T
        do {
            result = try body(handle.raw)
        } catch {
            tjDestroy(handle.raw)
            throw error
        }
        let spare = idle.withLock { idle -> Handle? in
            guard idle.count < Self.keep else { return handle }
            idle.append(handle)
            return nil
        }
        if let spare { tjDestroy(spare.raw) }
        return result
    }
}
