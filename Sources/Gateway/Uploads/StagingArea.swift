import Catalog
import Foundation
import NIOCore
import NIOPosix

/// The uploads' folders: bodies arrive in `STAGING/.tessera-staging/.incoming/HOLDER.ID.part`
/// and complete uploads are renamed to `STAGING/USER/NAME`, where a `tessera watch STAGING`
/// takes them (it skips hidden folders and `*.part`). Every file operation runs on NIO's
/// thread pool, never on an event loop (those run every connection's answers).
struct StagingArea: Sendable {
    /// Absolute and standardised, as `tessera watch` names the files it finds there.
    let root: String
    let incoming: String
    /// This gateway process (`HOST.PID`): the holder of its receiving uploads and the prefix
    /// of its part files, so a restarted gateway finds what a dead one left.
    let holder: String

    init(root: String) throws {
        var path = URL(fileURLWithPath: root).standardizedFileURL.path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        self.root = path
        incoming = path + "/.tessera-staging/.incoming"
        holder = "\(ProcessInfo.processInfo.hostName).\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: incoming, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError("uploads.staging '\(root)': cannot create \(incoming): \(error.localizedDescription)")
        }
    }

    /// A user's folder name: the user as given when it is a plain name, else with every
    /// other byte (and a leading dot) written `%XX`, so no user names a folder outside.
    static func folderName(_ user: String) -> String {
        var out = ""
        for (i, b) in user.utf8.enumerated() {
            let plain = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: "@") || (b == UInt8(ascii: ".") && i > 0)
            out += plain ? String(UnicodeScalar(b)) : String(format: "%%%02X", b)
        }
        return out.isEmpty ? "%00" : out
    }

    func stagedPath(user: String, name: String) -> String { root + "/" + Self.folderName(user) + "/" + name }

    /// Bytes free for an unprivileged writer on the staging file system (nil: unknown).
    func freeBytes() async -> Int64? {
        let root = self.root
        return try? await NIOThreadPool.singleton.runIfActive {
            var s = statvfs()
            guard statvfs(root, &s) == 0 else { return nil }
            let (free, overflow) = Int64(s.f_bavail).multipliedReportingOverflow(by: Int64(s.f_frsize))
            return overflow ? Int64.max : free
        }
    }

    func createPart(id: String) async throws -> PartFile {
        let path = incoming + "/" + holder + "." + id + ".part"
        return try await NIOThreadPool.singleton.runIfActive {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw UploadIOError("cannot create \(path): \(String(cString: strerror(errno)))") }
            return PartFile(fd: fd, path: path)
        }
    }

    /// Gives the complete part file its staged name (creating the user's folder); fails
    /// with `EEXIST` rather than replace a file already there.
    func place(_ part: PartFile, at staged: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive {
            let folder = (staged as NSString).deletingLastPathComponent
            if mkdir(folder, 0o750) != 0 && errno != EEXIST {
                throw UploadIOError("cannot create \(folder): \(String(cString: strerror(errno)))")
            }
            if link(part.path, staged) != 0 {
                if errno == EEXIST { return false }
                throw UploadIOError("cannot move \(part.path) to \(staged): \(String(cString: strerror(errno)))")
            }
            unlink(part.path)
            return true
        }
    }

    /// Deletes a file this gateway placed (a staged upload the catalogue then refused).
    func remove(_ path: String) async {
        _ = try? await NIOThreadPool.singleton.runIfActive { unlink(path) }
    }

    /// At start: part files of gateways on this host that are no longer running are
    /// deleted, and their reservations with them. Returns what was swept, for the log.
    func sweep(_ ledger: any UploadLedger) async -> [String] {
        let host = ProcessInfo.processInfo.hostName
        let names = (try? FileManager.default.contentsOfDirectory(atPath: incoming)) ?? []
        var holders = Set<String>()
        var swept = [String]()
        for name in names where name.hasPrefix(host + ".") && name.hasSuffix(".part") {
            let rest = name.dropFirst(host.count + 1)
            guard let dot = rest.firstIndex(of: "."), let pid = Int32(rest[..<dot]) else { continue }
            if pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH { continue }
            unlink(incoming + "/" + name)
            holders.insert("\(host).\(pid)")
            swept.append(name)
        }
        for holder in holders { _ = try? await ledger.dropReceivingUploads(holder: holder) }
        return swept
    }
}

/// An upload's file while its body arrives. Written in order; closed exactly once, by
/// `finish` (kept) or `discard` (deleted).
struct PartFile: Sendable {
    let fd: Int32
    let path: String

    func write(_ buffer: ByteBuffer, at offset: Int64) async throws {
        let (fd, path) = (fd, path)
        try await NIOThreadPool.singleton.runIfActive {
            try buffer.withUnsafeReadableBytes { raw in
                guard let base = raw.baseAddress else { return }
                var done = 0
                while done < raw.count {
                    let n = pwrite(fd, base + done, raw.count - done, off_t(offset) + off_t(done))
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw UploadIOError("cannot write \(path): \(String(cString: strerror(errno)))")
                    }
                    done += n
                }
            }
        }
    }

    /// Flushes to disk and closes (an upload answered 201 survives a power cut).
    func finish() async throws {
        let (fd, path) = (fd, path)
        try await NIOThreadPool.singleton.runIfActive {
            let synced = fsync(fd) == 0
            let message = String(cString: strerror(errno))
            close(fd)
            if !synced { throw UploadIOError("cannot flush \(path): \(message)") }
        }
    }

    func discard(closing: Bool = true) async {
        let (fd, path) = (fd, path)
        _ = try? await NIOThreadPool.singleton.runIfActive {
            if closing { close(fd) }
            unlink(path)
        }
    }
}

struct UploadIOError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
