import Foundation
import JWTKit
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
        #expect(await p.identify("Bearer s3cret") == .member(user: nil, groups: ["lab"]))
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
        #expect(p.decide(lab, for: .member(user: nil, groups: ["guests"])) == .hidden)
        #expect(p.decide(nil, for: .member(user: nil, groups: ["guests"])) == .hidden)
        #expect(p.decide(lab, for: .member(user: nil, groups: ["lab", "x"])) == .allow)
    }

    @Test func staticTokensNameTheirUser() async throws {
        let p = try await AccessPolicy(configuration: AuthConfiguration(tokens: [
            .init(token: "alice-token", groups: ["lab"], user: "alice"), .init(token: "anon-token", groups: ["lab"]),
        ]))
        #expect(await p.identify("Bearer alice-token") == .member(user: "alice", groups: ["lab"]))
        #expect(await p.identify("Bearer anon-token") == .member(user: nil, groups: ["lab"]))
    }

    struct TestClaims: JWTPayload {
        var exp: ExpirationClaim
        var sub: String?
        var preferred_username: String?
        var groups: [String]
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    @Test func jwtSubjectNamesTheUser() async throws {
        let secret = "a-jwt-secret-for-tests-32-bytes-long"
        let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let exp = ExpirationClaim(value: Date().addingTimeInterval(600))
        let token = try await keys.sign(TestClaims(exp: exp, sub: "bob", preferred_username: "Bob B", groups: ["g"]))
        let bySub = try await AccessPolicy(configuration: AuthConfiguration(jwt: .init(hs256Secret: secret)))
        #expect(await bySub.identify("Bearer \(token)"[...]) == .member(user: "bob", groups: ["g"]))
        let byName = try await AccessPolicy(configuration: AuthConfiguration(jwt: .init(hs256Secret: secret, userClaim: "preferred_username")))
        #expect(await byName.identify("Bearer \(token)"[...]) == .member(user: "Bob B", groups: ["g"]))
        let noSub = try await keys.sign(TestClaims(exp: exp, sub: nil, preferred_username: nil, groups: ["g"]))
        #expect(await bySub.identify("Bearer \(noSub)"[...]) == .member(user: nil, groups: ["g"]))
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
