import Foundation
import Storage

/// A local file standing for an input, so the image readers (which read files through
/// their C libraries) can open S3 objects. A local input stands for itself.
///
/// Header only: a sparse temporary file of the object's size holding its first and last
/// MiB (two ranged GETs) — where TIFF, HDF5 and FITS keep what describes the image, for
/// sizing a plan without downloading it. When that is not enough to open it, or when
/// pixels are needed, the whole object is streamed in pieces of 16 MiB (never whole in
/// memory).
public struct StagedInput: Sendable {
    /// The file to open.
    public let path: String
    /// The temporary folder to remove, nil for a local input.
    let folder: String?
    /// Whether only the head and tail of the object are present.
    public let headerOnly: Bool

    static let edge = 1 << 20
    static let piece = 16 << 20

    public static func stage(_ input: String, headerOnly: Bool) throws -> StagedInput {
        guard input.hasPrefix("s3://") else { return StagedInput(path: input, folder: nil, headerOnly: false) }
        let (bucket, key) = try S3Inputs.split(input)
        let store = try S3Store(url: "s3://\(bucket)")
        guard let size = try store.size(key) else { throw PlanError.missingInput(input) }
        let folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("tessera-stage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The object's own name: readers look at extensions (.fits.gz, an HDF5 user block).
        let path = (folder as NSString).appendingPathComponent(S3Inputs.lastSegment(key))
        let staged = StagedInput(path: path, folder: folder, headerOnly: headerOnly && size > 2 * edge)
        do {
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw PlanError.cannotWrite(path, String(cString: strerror(errno))) }
            defer { close(fd) }
            guard ftruncate(fd, off_t(size)) == 0 else { throw PlanError.cannotWrite(path, String(cString: strerror(errno))) }
            let ranges: [(Int, Int)] = staged.headerOnly
                ? [(0, edge), (size - edge, edge)]
                : stride(from: 0, to: size, by: piece).map { ($0, min(piece, size - $0)) }
            for (offset, length) in ranges {
                guard let bytes = try store.get(key, range: .slice(offset: offset, length: length)), bytes.count == length else {
                    throw StorageError.failed(key: input, reason: "the object changed while it was read (expected \(length) bytes at \(offset))")
                }
                try writeAll(fd, bytes, at: offset, path: path)
            }
        } catch {
            staged.remove()
            throw error
        }
        return staged
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            guard n > 0 else { throw PlanError.cannotWrite(path, String(cString: strerror(errno))) }
            done += n
        }
    }

    /// Removes the temporary copy (nothing for a local input).
    public func remove() {
        if let folder { try? FileManager.default.removeItem(atPath: folder) }
    }
}
