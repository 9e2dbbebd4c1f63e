import Foundation
import Synchronization
import Testing
@testable import Storage

/// `createIfAbsent` is how cluster tasks claim a step (an output's mark, the finishing of a
/// split image) without a lock server: of any number of callers exactly one gets true, and
/// the object it wrote is the one that stays.
enum CreateIfAbsentChecks {
    static func twoCallers(_ store: any Store) throws {
        #expect(try store.createIfAbsent("claims/finish", Array("first".utf8)))
        #expect(try !store.createIfAbsent("claims/finish", Array("second".utf8)))
        #expect(try store.get("claims/finish") == Array("first".utf8))
        // An object written by `set` counts as present too.
        try store.set("plain", [1])
        #expect(try !store.createIfAbsent("plain", [2]))
        #expect(try store.get("plain") == [1])
    }

    /// Racing threads: exactly one wins, and the stored bytes are the winner's, whole.
    /// `serverIsAtomic: false` is for moto, whose conditional PUT looks the key up and then
    /// stores without a lock between (moto/s3/responses.py), so under load two racers can
    /// both get 200 — a limit of the stand-in server, not of S3. There at least one must
    /// win, and the object must be one winner's bytes, whole.
    static func racingThreads(_ store: any Store, threads: Int = 8, rounds: Int = 10, serverIsAtomic: Bool = true) throws {
        for round in 0..<rounds {
            let key = "race/\(round)"
            let winners = Mutex([Int]())
            let failures = Mutex([String]())
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let body = Array("task \(t) ".utf8) + [UInt8](repeating: UInt8(t), count: 4096)
                do {
                    if try store.createIfAbsent(key, body) { winners.withLock { $0.append(t) } }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            let won = winners.withLock { $0 }
            if serverIsAtomic {
                #expect(won.count == 1, "round \(round): winners \(won)")
            } else {
                #expect(!won.isEmpty, "round \(round): nobody won")
            }
            let stored = try store.get(key)
            #expect(won.contains { stored == Array("task \($0) ".utf8) + [UInt8](repeating: UInt8($0), count: 4096) },
                    "round \(round): the stored object is no winner's bytes")
        }
    }
}

@Suite struct CreateIfAbsentTests {
    @Test func memoryTwoCallers() throws { try CreateIfAbsentChecks.twoCallers(MemoryStore()) }
    @Test func memoryRacingThreads() throws { try CreateIfAbsentChecks.racingThreads(MemoryStore()) }

    @Test func fileTwoCallers() throws {
        let folder = ScratchFolder()
        try CreateIfAbsentChecks.twoCallers(folder.store)
        // No temporaries are left beside the objects.
        let names = try FileManager.default.subpathsOfDirectory(atPath: folder.path)
        #expect(names.sorted() == ["claims", "claims/finish", "plain"])
    }

    @Test func fileRacingThreads() throws {
        let folder = ScratchFolder()
        try CreateIfAbsentChecks.racingThreads(folder.store)
        // Racing stores of their own (as separate processes would have) on one folder.
        let key = "race/stores"
        let winners = Mutex(0)
        let path = folder.path
        DispatchQueue.concurrentPerform(iterations: 6) { t in
            if (try? FileStore(path: path).createIfAbsent(key, [UInt8(t)])) == true { winners.withLock { $0 += 1 } }
        }
        #expect(winners.withLock { $0 } == 1)
        #expect(folder.store.removeStaleTemporaries() == 0)
    }
}

@Suite(.enabled(if: MotoServer.isAvailable, "needs the venv's moto_server (make test creates it)"))
final class S3CreateIfAbsentTests {
    let server: MotoServer
    let store: S3Store

    init() throws {
        server = try MotoServer(bucket: "claim-tests")
        store = server.store(bucket: "claim-tests", multipartThreshold: 5 << 20, partSize: 5 << 20)
    }

    @Test func twoCallers() throws { try CreateIfAbsentChecks.twoCallers(store) }
    @Test func racingThreads() throws {
        try CreateIfAbsentChecks.racingThreads(store, threads: 6, rounds: 3, serverIsAtomic: false)
    }
}
