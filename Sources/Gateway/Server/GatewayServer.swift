import Hummingbird
import Logging
import NIOCore

/// Runs the gateway on Hummingbird until SIGTERM or SIGINT, then stops accepting,
/// lets in-flight responses finish (swift-service-lifecycle's graceful shutdown) and returns.
public enum GatewayServer {
    public static func run(
        _ gateway: Gateway, host: String, port: Int,
        onRunning: @escaping @Sendable (_ boundPort: Int) async -> Void
    ) async throws {
        var logger = Logger(label: "tessera.serve")
        logger.logLevel = .warning // one access-log line per request is the request log
        let app = Application(
            responder: GatewayResponder(gateway: gateway),
            configuration: .init(address: .hostname(host, port: port), serverName: nil, backlog: 1024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger
        )
        try await app.runService()
    }
}
