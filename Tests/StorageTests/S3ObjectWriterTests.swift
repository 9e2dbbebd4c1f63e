import Foundation
import Testing
@testable import Storage

/// A moto S3 server (the venv's `moto_server`, as the conformance tests use) on a free
/// port of 127.0.0.1, with one bucket; stopped when the value goes away. Spawned with
/// posix_spawn: Foundation's `Process.waitUntilExit` hung under the test runner.
final class MotoServer {
    /// The repository's venv, which `make test` creates before running the Swift suites.
    static let executable = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".venv/bin/moto_server").path
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    private var pid: pid_t = 0
    let endpoint: String

    init(bucket: String) throws {
        let port = try Self.freePort()
        endpoint = "http://127.0.0.1:\(port)"
        let arguments = [Self.executable, "-H", "127.0.0.1", "-p", String(port)]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // The runner's threads block signals, and a spawned process inherits the mask:
        // without a clean one the server would never hear the SIGTERM that stops it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, Self.executable, &actions, &attributes, &argv, environ) == 0 else {
            throw StorageError.failed(key: Self.executable, reason: "cannot start moto_server")
        }
        // Ready once the bucket can be made (connections are refused until it listens).
        let admin = store(bucket: bucket, multipartThreshold: 5 << 20, partSize: 5 << 20)
        for _ in 0..<200 {
            if let r = try? admin.send("PUT", key: nil), r.status == 200 { return }
            usleep(100_000)
        }
        stop()
        throw StorageError.failed(key: endpoint, reason: "moto_server did not start")
    }

    deinit { stop() }

    private func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<50 where waitpid(pid, &status, WNOHANG) == 0 { usleep(100_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL); waitpid(pid, &status, 0) }
        pid = 0
    }

    func store(bucket: String, multipartThreshold: Int, partSize: Int) -> S3Store {
        var c = S3Configuration(endpoint: endpoint, credentials: .init(accessKey: "test", secretKey: "test"))
        c.multipartThreshold = multipartThreshold
        c.partSize = partSize
        return S3Store(bucket: bucket, prefix: "writer", configuration: c, maxAttempts: 1)
    }

    /// A port the kernel just handed out on 127.0.0.1 (bound, read back, released).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw StorageError.failed(key: "127.0.0.1", reason: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// `S3Store.writer(for:)` against a real S3 protocol server: small objects are one PUT,
/// large ones a multipart upload sent part by part; nothing shows before `finish`, and
/// an aborted writer leaves neither an object nor an upload in progress.
@Suite(.enabled(if: MotoServer.isAvailable, "needs the venv's moto_server (make test creates it)"))
final class S3ObjectWriterTests {
    static let part = 5 << 20
    let server: MotoServer
    let store: S3Store

    init() throws {
        server = try MotoServer(bucket: "writer-tests")
        store = server.store(bucket: "writer-tests", multipartThreshold: Self.part, partSize: Self.part)
    }

    /// Bytes that differ from part to part, so a part sent twice or out of order shows.
    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) } }

    @Test func aLargeObjectArrivesWholeInPartsAndOnlyOnFinish() throws {
        let bytes = Self.pattern(2 * Self.part + 12345)
        let writer = try store.writer(for: "big")
        for start in stride(from: 0, to: bytes.count, by: 1 << 20) {
            try writer.append(Array(bytes[start..<min(bytes.count, start + (1 << 20))]))
        }
        #expect(try store.get("big") == nil)
        #expect(try store.inProgressUploads(of: "big")?.count == 1)
        try writer.finish()
        #expect(try store.get("big") == bytes)
        #expect(try store.inProgressUploads(of: "big")?.isEmpty == true)
    }

    @Test func aSmallObjectIsOnePutOnFinish() throws {
        let writer = try store.writer(for: "small")
        try writer.append([1, 2, 3])
        try writer.append([4])
        #expect(try store.inProgressUploads(of: "small")?.isEmpty == true)
        #expect(try store.get("small") == nil)
        try writer.finish()
        #expect(try store.get("small") == [1, 2, 3, 4])
        #expect(throws: StorageError.self) { try writer.append([5]) }
    }

    @Test func anAbortedWriterLeavesNothing() throws {
        let writer = try store.writer(for: "gone")
        try writer.append(Self.pattern(Self.part + 1 + Self.part))
        #expect(try store.inProgressUploads(of: "gone")?.count == 1)
        writer.abort()
        #expect(try store.get("gone") == nil)
        #expect(try store.inProgressUploads(of: "gone")?.isEmpty == true)
    }
}
