import Testing
@testable import Gateway

/// `ConnectionLimits`: the connection cap derived from the descriptor limit.
@Suite struct ConnectionLimitsTests {
    @Test func keepsDescriptorsInReserveAtEveryLimit() {
        for limit in [128, 256, 1024, 4096, 65_536, 1 << 20] {
            let l = ConnectionLimits(configuration: GatewayConfiguration(), descriptorLimit: limit, openAtStart: 12, loops: 2)
            // Connections (a socket and a file each), cached files and the reserve fit.
            #expect(l.connectionsHard * 2 + l.cachedFilesPerLoop * 2 + l.reserve <= max(limit, 64) + 32, "limit \(limit)")
            #expect(l.connections < l.connectionsHard && l.reserve >= 32 + 12)
        }
        var configuration = GatewayConfiguration()
        configuration.maxConnections = 10
        #expect(ConnectionLimits(configuration: configuration, descriptorLimit: 4096, openAtStart: 12, loops: 2).connections == 10)
        #expect(ConnectionLimits(configuration: GatewayConfiguration(), descriptorLimit: 4096, openAtStart: 12, loops: 2).header == .seconds(60))
    }
}
