import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import Gateway

/// The sequencer answers a plain object request itself only when the fast path is on;
/// off (`TESSERA_FAST_PATH=0`), it hands every head straight on to the responder's side.
@Suite struct ConnectionSequencerTests {
    /// What one GET of a small public object does: the bytes the sequencer writes, and the
    /// bytes it hands on to the pipeline behind it.
    func exchange(fastPath: Bool) async throws -> (written: String, handedOn: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sequencer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("hello".utf8).write(to: folder.appendingPathComponent("obj"))
        var configuration = GatewayConfiguration()
        configuration.roots = [RootConfiguration(name: "data", location: folder.path)]
        configuration.accessLog = "off"
        let gateway = try await Gateway(configuration: configuration)

        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        let loop = channel.embeddedEventLoop
        let sequencer = ConnectionSequencer(gateway: gateway, files: fastPath ? gateway.fileCache(on: loop) : nil,
                                            connections: gateway.governor.connections(on: loop))
        try channel.pipeline.syncOperations.addHandler(sequencer)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).get()
        try channel.writeInbound(ByteBuffer(string: "GET /data/obj HTTP/1.1\r\nHost: x\r\n\r\n"))

        var written = "", handedOn = ""
        while let out = try channel.readOutbound(as: IOData.self) {
            if case let .byteBuffer(bytes) = out { written += String(buffer: bytes) }
        }
        while let bytes = try channel.readInbound(as: ByteBuffer.self) { handedOn += String(buffer: bytes) }
        return (written, handedOn)
    }

    @Test func answersItselfWithTheFastPathOn() async throws {
        let (written, handedOn) = try await exchange(fastPath: true)
        #expect(written.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(written.hasSuffix("\r\n\r\nhello"))
        #expect(handedOn.isEmpty)
    }

    @Test func handsEveryHeadOnWithTheFastPathOff() async throws {
        let (written, handedOn) = try await exchange(fastPath: false)
        #expect(written.isEmpty)
        #expect(handedOn == "GET /data/obj HTTP/1.1\r\nHost: x\r\n\r\n")
    }
}
