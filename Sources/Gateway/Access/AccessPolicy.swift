import Foundation
import JWTKit

/// Who may read which root. Off unless configured: with no tokens and no JWT keys every
/// root is public.
///
/// Credentials arrive as `Authorization: Bearer …`: either a static token (compared in
/// constant time against every configured one, so timing says nothing about a secret) or a JWT signed with the
/// configured HS256 secret or RS256 public key, whose `groups` claim (name configurable)
/// lists the caller's groups and whose `sub` claim (name configurable) names the user. A
/// static token names a user only when its entry says `user:`.
public struct AccessPolicy: Sendable {
    /// Whether anybody may read the root, or only members of these groups.
    public enum Rule: Sendable, Equatable {
        case everyone
        case groups(Set<String>)
    }

    public enum Identity: Sendable, Equatable {
        case anonymous
        /// A verified caller: the user (nil when the credentials name none) and the groups.
        case member(user: String?, groups: Set<String>)
        /// Credentials were sent but do not verify (bad token, bad signature, expired).
        case refused

        public var isMember: Bool { if case .member = self { true } else { false } }
    }

    public enum Decision: Sendable, Equatable {
        case allow
        /// 401 with a Bearer challenge.
        case unauthorized
        /// 404, identical to a missing root, so hidden names do not leak.
        case hidden
    }

    private let tokenGroups: [(token: [UInt8], user: String?, groups: Set<String>)]
    private let hmacKeys: JWTKeyCollection?
    private let rsaKeys: JWTKeyCollection?
    private let groupsClaim: String
    private let userClaim: String
    private let issuer: String?
    private let audience: String?

    public var isEnabled: Bool { !tokenGroups.isEmpty || hmacKeys != nil || rsaKeys != nil }

    public init(configuration: AuthConfiguration) async throws {
        tokenGroups = try (configuration.tokens ?? []).map { (Array(try $0.resolvedToken().utf8), $0.user, Set($0.groups)) }
        groupsClaim = configuration.jwt?.groupsClaim ?? "groups"
        userClaim = configuration.jwt?.userClaim ?? "sub"
        issuer = configuration.jwt?.issuer
        audience = configuration.jwt?.audience
        if let secret = try configuration.jwt?.resolvedHS256Secret() {
            // RFC 7518 §3.2: an HS256 key shorter than the hash output is weak (and jwt-kit traps on it).
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError("auth.jwt: the HS256 secret has \(secret.utf8.count) bytes; it needs at least 32")
            }
            hmacKeys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        } else {
            hmacKeys = nil
        }
        if let pem = try configuration.jwt?.resolvedRS256PublicKey() {
            rsaKeys = await JWTKeyCollection().add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256)
        } else {
            rsaKeys = nil
        }
    }

    /// The caller behind an `Authorization` header value (nil when absent).
    public func identify(_ authorization: Substring?) async -> Identity {
        guard let authorization else { return .anonymous }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .refused }
        let token = String(parts[1].trimmingSpaces)
        if let found = staticTokenMember(Array(token.utf8)) { return found }
        // The header's alg picks the key set, so an RS256 public key can never be
        // misused as an HMAC secret (algorithm confusion).
        let keys: JWTKeyCollection?
        switch Self.algorithm(of: token) {
        case "HS256": keys = hmacKeys
        case "RS256": keys = rsaKeys
        default: keys = nil
        }
        guard let keys, let payload = try? await keys.verify(token, as: GatewayClaims.self) else { return .refused }
        if let issuer, payload.iss?.value != issuer { return .refused }
        if let audience, !(payload.aud?.value.contains(audience) ?? false) { return .refused }
        return .member(user: payload.user(claim: userClaim), groups: Set(payload.groups(claim: groupsClaim)))
    }

    /// The member a static token names: every entry is compared (constant time each), and
    /// entries sharing a token add their groups; the first entry naming a user names it.
    private func staticTokenMember(_ token: [UInt8]) -> Identity? {
        var groups: Set<String>?, user: String?
        for entry in tokenGroups where Self.constantTimeEqual(entry.token, token) {
            groups = (groups ?? []).union(entry.groups)
            if user == nil { user = entry.user }
        }
        return groups.map { .member(user: user, groups: $0) }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }

    public func decide(_ rule: Rule?, for identity: Identity) -> Decision {
        switch (rule, identity) {
        case (.everyone, .refused), (nil, .refused): return .unauthorized
        case (.everyone, _): return .allow
        case (nil, .anonymous): return .unauthorized // unknown roots look like private ones
        case (nil, .member): return .hidden
        case (.groups, .anonymous), (.groups, .refused): return .unauthorized
        case let (.groups(allowed), .member(_, groups)): return allowed.isDisjoint(with: groups) ? .hidden : .allow
        }
    }

    /// The `alg` of a compact JWS header, without verifying anything; nil unless the
    /// header is a JSON object whose `alg` is a string.
    static func algorithm(of token: String) -> String? {
        guard let header = token.split(separator: ".", omittingEmptySubsequences: false).first else { return nil }
        var b64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64) else { return nil }
        return (try? JSONDecoder().decode(JOSEHeader.self, from: data))?.alg
    }

    /// The one header parameter the gateway reads itself (jwt-kit reads the header again
    /// when it verifies, with the same decoder).
    private struct JOSEHeader: Decodable {
        var alg: String?
    }
}

/// The claims the gateway reads; `exp` is required so a leaked token does not live forever.
struct GatewayClaims: JWTPayload {
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var extra: [String: ClaimValue]

    enum ClaimValue: Codable, Sendable {
        case strings([String])
        case string(String)
        case other

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode([String].self) { self = .strings(v) }
            else if let v = try? c.decode(String.self) { self = .string(v) }
            else { self = .other }
        }

        func encode(to encoder: any Encoder) throws {}
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        exp = try c.decode(ExpirationClaim.self, forKey: Key(stringValue: "exp"))
        nbf = try c.decodeIfPresent(NotBeforeClaim.self, forKey: Key(stringValue: "nbf"))
        iss = try c.decodeIfPresent(IssuerClaim.self, forKey: Key(stringValue: "iss"))
        aud = try c.decodeIfPresent(AudienceClaim.self, forKey: Key(stringValue: "aud"))
        var extra = [String: ClaimValue]()
        for key in c.allKeys where !["exp", "nbf", "iss", "aud"].contains(key.stringValue) {
            extra[key.stringValue] = try c.decode(ClaimValue.self, forKey: key)
        }
        self.extra = extra
    }

    func encode(to encoder: any Encoder) throws {}

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }

    /// The user the token names: a string claim (`sub` by default), nil when absent or not a string.
    func user(claim: String) -> String? {
        switch claim {
        case "iss", "aud", "exp", "nbf": nil
        default: if case let .string(v) = extra[claim], !v.isEmpty { v } else { nil }
        }
    }

    func groups(claim: String) -> [String] {
        switch extra[claim] {
        case let .strings(v): v
        case let .string(v): v.split(separator: " ").map(String.init)
        default: []
        }
    }
}
