import Catalog
import CatalogPostgres
import CatalogStores
import Foundation
import Testing

/// The stores every store-level test runs against. `.sqlite` is a file in a fresh temporary
/// folder; `.postgres` is a fresh database on the throwaway server `make test` starts
/// (`scripts/pg-test.sh`, URL in `TESSERA_TEST_POSTGRES`). Without that variable the
/// PostgreSQL case fails under `CI=true` and is cancelled (skipped) with a note otherwise.
enum CatalogBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A new, empty, migrated store of this kind.
    func makeCatalog() async throws -> TestCatalog {
        switch self {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let path = dir.appendingPathComponent("catalog.sqlite").path
            return try await TestCatalog(location: .sqlite(path: path), cleanup: .folder(dir.path))
        case .postgres:
            let server = try PostgresTestServer.fromEnvironment()
            let database = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            _ = try await server.psql(database: "postgres", "CREATE DATABASE \(database)")
            return try await TestCatalog(location: .postgres(server.settings(database: database)),
                                         cleanup: .database(server, database))
        }
    }
}

/// One store made for one test: the store, and what the tests need to look inside it with the
/// `sqlite3` / `psql` command-line tools.
struct TestCatalog {
    enum Cleanup { case folder(String), database(PostgresTestServer, String) }

    let location: CatalogLocation
    let store: any CatalogStore
    let cleanup: Cleanup

    init(location: CatalogLocation, cleanup: Cleanup) async throws {
        self.location = location
        self.cleanup = cleanup
        store = try await location.open()
    }

    /// Opens a second store on the same file or database (another process's view).
    func openAgain() async throws -> any CatalogStore { try await location.open() }

    /// Runs SQL with the store's command-line client; rows one a line, columns split by `|`.
    func sql(_ query: String) async throws -> String {
        switch cleanup {
        case let .folder(dir):
            return try await runTool("sqlite3", ["-batch", "-cmd", "PRAGMA foreign_keys=ON", "\(dir)/catalog.sqlite", query])
        case let .database(server, database):
            return try await server.psql(database: database, query)
        }
    }

    func close() async {
        try? await store.close()
        switch cleanup {
        case let .folder(dir): try? FileManager.default.removeItem(atPath: dir)
        case let .database(server, database): _ = try? await server.psql(database: "postgres", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        }
    }
}

/// The throwaway PostgreSQL server named by `TESSERA_TEST_POSTGRES`
/// (`postgres://USER@HOST:PORT/`), reached with `psql`.
struct PostgresTestServer: Sendable {
    let host: String
    let port: Int
    let user: String

    static func fromEnvironment() throws -> PostgresTestServer {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["TESSERA_TEST_POSTGRES"], !url.isEmpty else {
            if environment["CI"] == "true" {
                throw TestSetupError("TESSERA_TEST_POSTGRES is not set under CI=true: the PostgreSQL store is untested (make test starts a server with scripts/pg-test.sh)")
            }
            print("note: TESSERA_TEST_POSTGRES is not set; skipping the PostgreSQL case (scripts/pg-test.sh start DIR prints a URL)")
            try Test.cancel("TESSERA_TEST_POSTGRES is not set")
        }
        guard let parts = URLComponents(string: url), let host = parts.host, let port = parts.port else {
            throw TestSetupError("TESSERA_TEST_POSTGRES=\(url) is not postgres://USER@HOST:PORT/")
        }
        return PostgresTestServer(host: host, port: port, user: parts.user ?? "tessera")
    }

    func settings(database: String) -> PostgresCatalog.Settings {
        PostgresCatalog.Settings(host: host, port: port, user: user, password: nil, database: database)
    }

    func psql(database: String, _ query: String) async throws -> String {
        try await runTool("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", String(port),
                             "-U", user, "-d", database, "-c", query])
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a command-line tool found on PATH; its standard output, or an error with its stderr.
///
/// The child is waited for on a thread of its own, never on the Swift concurrency pool: a
/// blocking `waitUntilExit` (or pipe read) there holds one of the pool's few threads (two on a
/// 2-core CI machine) for as long as `psql` runs, and the suites that run meanwhile starve.
func runTool(_ tool: String, _ arguments: [String]) async throws -> String {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String, any Error>) in
        let thread = Thread {
            continuation.resume(with: Result { try runToolBlocking(tool, arguments) })
        }
        thread.name = "runTool \(tool)"
        thread.start()
    }
}

/// The blocking half of `runTool`, for its dedicated thread only. Standard error is read on a
/// second thread while standard output is read here, so a child filling one pipe while the
/// other is being drained cannot deadlock.
private func runToolBlocking(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [tool] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let errors = ErrorsReader(err.fileHandleForReading)
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errorText = errors.wait()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestSetupError("\(tool) failed (\(process.terminationStatus)): \(String(decoding: errorText, as: UTF8.self))")
    }
    return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Reads a pipe to its end on a thread of its own.
private final class ErrorsReader: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()  // written by the thread before `done` is signalled, read after

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
        thread.start()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

extension CatalogBackend {
    /// Runs `body` on a new store of this kind and removes the store afterwards, also when
    /// `body` throws.
    func withCatalog(_ body: (TestCatalog) async throws -> Void) async throws {
        let catalog = try await makeCatalog()
        do {
            try await body(catalog)
        } catch {
            await catalog.close()
            throw error
        }
        await catalog.close()
    }
}
