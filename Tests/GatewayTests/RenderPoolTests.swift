import Foundation
import Synchronization
import Testing
@testable import Gateway

/// A latch the test opens while a render thread waits on it.
private final class Gate: Sendable {
    private let open = Mutex(false)
    func release() { open.withLock { $0 = true } }
    func wait() -> Int {
        while !open.withLock({ $0 }) { usleep(1000) }
        return 1
    }
    /// Without holding a thread of the cooperative pool (2 on a 2-core machine).
    func waitSuspending() async {
        while !open.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(1)) }
    }
}

/// Renders run on their own bounded threads: past `concurrency` running and `queue`
/// waiting, a request is refused at once (the route's 503), never queued without bound.
@Suite struct RenderPoolTests {
    @Test func refusesPastTheQueueAndAdmitsAgainOnceFree() async throws {
        let pool = RenderPool(concurrency: 1, queue: 1)
        let gate = Gate()
        let first = Task { try await pool.run { gate.wait() } }
        let second = Task { try await pool.run { gate.wait() } }
        // Wait until one runs and one waits.
        for _ in 0..<2000 where pool.load != (1, 1) { try await Task.sleep(for: .milliseconds(2)) }
        #expect(pool.load == (1, 1))
        await #expect(throws: RenderPoolBusy.self) { try await pool.run { 0 } }
        gate.release()
        #expect(try await first.value == 1)
        #expect(try await second.value == 1)
        #expect(pool.load == (0, 0))
        #expect(try await pool.run { 5 } == 5)
    }

    @Test func errorsReachTheCallerAndFreeTheSlot() async throws {
        struct Failed: Error {}
        let pool = RenderPool(concurrency: 1, queue: 0)
        await #expect(throws: Failed.self) { try await pool.run { () throws -> Int in throw Failed() } }
        #expect(pool.load == (0, 0))
        #expect(try await pool.run { 2 } == 2)
    }
}

/// Identical renders in flight run once; the next one after it finished runs again.
@Suite struct RenderFlightsTests {
    @Test func concurrentRequestsForOneMaterialShareOneRender() async throws {
        let flights = RenderFlights()
        let gate = Gate()
        let runs = Runs()
        let work: @Sendable () async throws -> RenderedPicture = {
            runs.add()
            await gate.waitSuspending()
            return RenderedPicture(bytes: [1, 2], contentType: "image/png")
        }
        let first = Task { try await flights.run("m", work) }
        for _ in 0..<2000 where flights.count == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let second = Task { try await flights.run("m", work) }
        let other = Task { try await flights.run("n", work) }
        try await Task.sleep(for: .milliseconds(50))
        gate.release()
        let (a, b, c) = (try await first.value, try await second.value, try await other.value)
        #expect(a.value.bytes == [1, 2] && b.value.bytes == [1, 2] && c.value.bytes == [1, 2])
        #expect(!a.shared && b.shared && !c.shared)
        #expect(runs.count == 2)
        #expect(flights.count == 0)
        _ = try await flights.run("m", work)
        #expect(runs.count == 3)
    }
}

private final class Runs: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
