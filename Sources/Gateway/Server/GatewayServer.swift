import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix

/// Runs the gateway on Hummingbird until SIGTERM or SIGINT, then stops accepting,
/// lets in-flight responses finish (swift-service-lifecycle's graceful shutdown) and returns.
public enum GatewayServer {
    /// Makes NIO's event loops Swift Concurrency's global executor, so a request's handler
    /// runs on the thread that read it instead of hopping to the cooperative pool and back
    /// (two thread switches per request, the largest single cost in a profile of small
    /// answers). Must be called first thing on the main thread; `tessera serve` only, as
    /// conversion work belongs on its own worker threads.
    @discardableResult
    public static func runConcurrencyOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    public static func run(
        _ gateway: Gateway, host: String, port: Int,
        onRunning: @escaping @Sendable (_ boundPort: Int) async -> Void
    ) async throws {
        var logger = Logger(label: "tessera.serve")
        logger.logLevel = .warning // one access-log line per request is the request log
        let app = Application(
            responder: GatewayResponder(gateway: gateway),
            server: HTTPServerBuilder { responder in
                GatewayChannel(responder: responder, gateway: gateway,
                               fastPath: ProcessInfo.processInfo.environment["TESSERA_FAST_PATH"] != "0")
            },
            configuration: .init(address: .hostname(host, port: port), serverName: nil, backlog: 1024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
        guard let access = gateway.datasetAccess else {
            try await app.runService()
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await access.run() }
            group.addTask { try await app.runService() }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

}
