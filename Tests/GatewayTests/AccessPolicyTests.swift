import Foundation
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

    @Test func algorithmIsReadFromTheTokenHeader() {
        func token(_ header: String) -> String {
            let b64 = Data(header.utf8).base64EncodedString()
            return b64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "") + ".e30.c2ln"
        }
        #expect(AccessPolicy.algorithm(of: token(#"{"alg":"HS256"}"#)) == "HS256") // unpadded base64url
        #expect(AccessPolicy.algorithm(of: token(#"{"typ":"JWT","alg":"RS256","kid":"k?>"}"#)) == "RS256")
        #expect(AccessPolicy.algorithm(of: token(#"{"alg":256}"#)) == nil)
        #expect(AccessPolicy.algorithm(of: token(#"{"alg":null}"#)) == nil)
        #expect(AccessPolicy.algorithm(of: token(#"{"typ":"JWT"}"#)) == nil)
        #expect(AccessPolicy.algorithm(of: token(#"["alg"]"#)) == nil)
        #expect(AccessPolicy.algorithm(of: token(#"{"alg":"HS256"} trailing"#)) == nil)
        #expect(AccessPolicy.algorithm(of: "!!!.e30.c2ln") == nil)
        #expect(AccessPolicy.algorithm(of: "") == nil)
    }
}
