import Catalog
import CatalogPostgres
import CatalogStores
import Foundation
import Testing

/// What only the PostgreSQL store has: its own migration table, and a server that is not there.
@Suite struct PostgresStoreTests {
    @Test func aDeadServerIsOneClearErrorNotAHang() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let port = try freePort()
        let location = CatalogLocation.postgres(.init(host: "127.0.0.1", port: port, user: "tessera", password: nil, database: "cat"))
        let started = ContinuousClock.now
        do {
            let store = try await location.open()
            try? await store.close()
            Issue.record("opened a catalog on a dead server")
        } catch let error as CatalogError {
            guard case let .unreachable(message) = error else { Issue.record("not unreachable: \(error)"); return }
            #expect(message.contains("127.0.0.1:\(port)"), "\(message)")
            // Refused at once, not given up on after the connect bound.
            #expect(!message.contains("did not answer"), "\(message)")
        }
        // Not a hang. The bound is loose on purpose: alone this takes milliseconds, but in the
        // whole suite on 2 cores the task can wait a long time for a thread of the cooperative
        // pool (40 s and 118 s were seen), which says nothing about the store.
        #expect(ContinuousClock.now - started < .seconds(300))
    }

    @Test func migrationsAreRecordedOnce() async throws {
        try await CatalogBackend.postgres.withCatalog { catalog in
            #expect(try await catalog.sql("SELECT id FROM tessera_migrations ORDER BY id") ==
                    CatalogMigrations.all(.postgres).map(\.id).joined(separator: "\n"))
            let again = try await catalog.openAgain()
            try await again.close()
            #expect(try await catalog.sql("SELECT count(*) FROM tessera_migrations") == String(CatalogMigrations.all(.postgres).count))
        }
    }
}

func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestSetupError("bind failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
