import Testing
@testable import Gateway

@Suite struct AccessPolicyTests {
    func policy() async throws -> AccessPolicy {
        try await AccessPolicy(configuration: AuthConfiguration(
            tokens: [.init(token: "s3cret", groups: ["lab"]), .init(token: "other", groups: ["guests"])],
            jwt: .init(hs256Secret: "a-jwt-secret-for-tests-32-bytes-long")
        ))
    }

    @Test func staticTokensMapToGroups() async throws {
        let p = try await policy()
        #expect(await p.identify(nil) == .anonymous)
        #expect(await p.identify("Bearer s3cret") == .member(["lab"]))
        #expect(await p.identify("Bearer s3cre") == .refused)
        #expect(await p.identify("Basic czNjcmV0") == .refused)
        #expect(await p.identify("Bearer not.a.jwt") == .refused)
    }

    @Test func decisionsHideNamesFromTheWrongCaller() async throws {
        let p = try await policy()
        let lab = AccessPolicy.Rule.groups(["lab"])
        #expect(p.decide(.everyone, for: .anonymous) == .allow)
        #expect(p.decide(.everyone, for: .refused) == .unauthorized)
        #expect(p.decide(lab, for: .anonymous) == .unauthorized)
        #expect(p.decide(nil, for: .anonymous) == .unauthorized) // unknown looks like private
        #expect(p.decide(lab, for: .member(["guests"])) == .hidden)
        #expect(p.decide(nil, for: .member(["guests"])) == .hidden)
        #expect(p.decide(lab, for: .member(["lab", "x"])) == .allow)
    }

    @Test func shortHMACSecretsAreRefused() async {
        await #expect(throws: ConfigurationError.self) {
            try await AccessPolicy(configuration: AuthConfiguration(jwt: .init(hs256Secret: "short")))
        }
    }

    @Test func constantTimeComparison() {
        #expect(AccessPolicy.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!AccessPolicy.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
        #expect(!AccessPolicy.constantTimeEqual(Array("abd".utf8), Array("abc".utf8)))
        #expect(!AccessPolicy.constantTimeEqual([], Array("a".utf8)))
    }
}
