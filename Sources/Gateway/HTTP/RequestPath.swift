import Storage

/// What a request path names. The gateway decodes a path exactly once, here, and
/// refuses anything that could step outside a root before a store ever sees it.
public enum RequestTarget: Equatable, Sendable {
    case health
    case metrics
    /// A key inside a root; `key` is "" for the root itself. `isFolder` when the path
    /// ended in "/" (only meaningful with listing on).
    case object(root: String, key: String, isFolder: Bool)
    /// A route of the catalogue's JSON API (`/api/…`), the path after `/api/`, decoded.
    case api(String)
    /// A picture of an NGFF image (`/render|thumbnail|quicklook/{root}/{image}`): the root
    /// and the image group's key in it ("" when the root is the image).
    case render(RenderKind, root: String, image: String)
    /// The browse page's list of images (`GET /`).
    case browseIndex
    /// A browse page route: a dataset page `/browse/{root}/{image}`, or the stylesheet
    /// `/browse/style.css` (root "style.css", image "").
    case browse(root: String, image: String)
    /// A static file of the self-hosted sites: `/viewer…` (neuroglancer), `/docs…` (Swagger
    /// UI), `/openapi.yaml`. `file` is the decoded rest of the path ("" for the site's top).
    case site(SiteKind, file: String, isFolder: Bool)
    /// Malformed or hostile: answered 404, exactly like a key that does not exist.
    case rejected
}

/// The static sites the gateway can serve beside the data (Docs/serve.md, "Browse page").
public enum SiteKind: String, Sendable, CaseIterable {
    case viewer, docs
    case openapi = "openapi.yaml"
}

/// The picture routes: one renderer; thumbnail and quicklook add their defaults (`RenderPreset`).
public enum RenderKind: String, Sendable, CaseIterable {
    case render, thumbnail, quicklook
}

public enum RequestPath {
    /// The longest segment and the longest path (as sent, escapes included) a request may
    /// name. No Zarr key comes near either; a longer one is refused as a 404 before it
    /// reaches a store or any cache, so unique hostile keys cannot fill memory.
    static let maxSegmentBytes = 1024
    static let maxPathBytes = 4096

    /// Routes a raw (still percent-encoded) request path.
    ///
    /// Each segment is percent-decoded once and must then be valid UTF-8 (so overlong
    /// encodings fail), contain no `/`, `\`, NUL or control character, and be neither
    /// `.`, `..` nor empty. A `%2f` therefore never becomes a separator and `%252e`
    /// stays the literal name `%2e`, which no root contains. A segment of Tessera's own
    /// bookkeeping (`StoreKey.isBookkeeping`: output marks, job reports, split state) is
    /// refused like a missing key: it names source files and hosts, and no reader needs it.
    public static func parse(_ raw: Substring) -> RequestTarget {
        var raw = raw
        return raw.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// `parse` on the path's bytes as sent, which the fast path has in hand (it never
    /// makes a String of the whole target).
    static func parse(_ raw: UnsafeRawBufferPointer) -> RequestTarget {
        guard raw.first == UInt8(ascii: "/"), raw.count <= maxPathBytes else { return .rejected }
        if raw.elementsEqual("/healthz".utf8) { return .health }
        if raw.elementsEqual("/metrics".utf8) { return .metrics }
        if raw.count == 1 { return .browseIndex }
        let path = UnsafeRawBufferPointer(rebasing: raw.dropFirst())
        let target = path.contains(UInt8(ascii: "%")) ? parseSegments(Substring(decoding: path, as: UTF8.self)) : parseUnescaped(path)
        // `api` is a reserved root name: its paths are the catalogue's routes.
        if case let .object("api", key, _) = target { return .api(key) }
        if case let .object("browse", key, _) = target {
            guard !key.isEmpty else { return .rejected }
            let slash = key.firstIndex(of: "/")
            return .browse(root: String(key[..<(slash ?? key.endIndex)]), image: slash.map { String(key[key.index(after: $0)...]) } ?? "")
        }
        if case let .object(first, key, isFolder) = target, let site = SiteKind(rawValue: first) { return .site(site, file: key, isFolder: isFolder) }
        // So are the picture routes: the rest of the path is `{root}/{image}`, decoded and
        // refused exactly as an object's key.
        if case let .object(first, key, _) = target, let kind = RenderKind(rawValue: first) {
            guard !key.isEmpty else { return .rejected }
            let slash = key.firstIndex(of: "/")
            return .render(kind, root: String(key[..<(slash ?? key.endIndex)]),
                           image: slash.map { String(key[key.index(after: $0)...]) } ?? "")
        }
        return target
    }

    /// Root names the gateway's own routes take (`GatewayConfiguration.validated` refuses
    /// them as root names).
    static let reservedRootNames: Set<String> = Set(["healthz", "metrics", "api", "browse"] + RenderKind.allCases.map(\.rawValue)
                                                                         + SiteKind.allCases.map(\.rawValue))

    /// The general case: split, decode each segment, join.
    static func parseSegments(_ path: Substring) -> RequestTarget {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let isFolder = segments.count > 1 && segments.last == ""
        if isFolder { segments.removeLast() }
        var decoded = [String]()
        decoded.reserveCapacity(segments.count)
        for segment in segments {
            guard let part = decodeSegment(segment), part.utf8.count <= maxSegmentBytes else { return .rejected }
            decoded.append(part)
        }
        guard let root = decoded.first else { return .rejected }
        return .object(root: root, key: decoded.dropFirst().joined(separator: "/"), isFolder: isFolder)
    }

    /// `parse` for a path without escapes (nearly every request): the segments are
    /// checked in place and the key is the path's own tail, so nothing is split or joined.
    static func parseUnescaped(_ bytes: UnsafeRawBufferPointer) -> RequestTarget {
        var end = bytes.count
        let isFolder = end > 0 && bytes[end - 1] == UInt8(ascii: "/")
        if isFolder { end -= 1 }
        var rootEnd = -1
        var segmentStart = 0
        for index in 0...end {
            if index == end || bytes[index] == UInt8(ascii: "/") {
                let length = index - segmentStart
                let segment = bytes[segmentStart..<index]
                guard length > 0, length <= maxSegmentBytes, !(length <= 2 && segment.allSatisfy { $0 == UInt8(ascii: ".") }),
                      !StoreKey.isBookkeeping(segment)
                else { return .rejected }
                if rootEnd < 0 { rootEnd = index }
                segmentStart = index + 1
            } else if forbidden(bytes[index]) {
                return .rejected
            }
        }
        let root = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<rootEnd]), as: UTF8.self)
        let key = rootEnd == end ? "" : String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(rootEnd + 1)..<end]), as: UTF8.self)
        return .object(root: root, key: key, isFolder: isFolder)
    }

    /// The last segment of a key (the whole key when it has no `/`), as bytes: what
    /// decides a key's media type and whether the gateway may generate it.
    static func lastSegment(of key: Substring) -> Substring.UTF8View {
        let bytes = key.utf8
        return bytes[(bytes.lastIndex(of: UInt8(ascii: "/")).map(bytes.index(after:)) ?? bytes.startIndex)...]
    }

    static func decodeSegment(_ segment: Substring) -> String? {
        // Most segments have no escapes: check them in place (they are already valid
        // UTF-8, being part of a String) and copy once.
        if !segment.utf8.contains(UInt8(ascii: "%")) {
            guard !segment.isEmpty, segment != ".", segment != "..", !segment.utf8.contains(where: forbidden),
                  !StoreKey.isBookkeeping(segment.utf8)
            else { return nil }
            return String(segment)
        }
        guard let bytes = PercentDecoding.bytes(segment, plusIsSpace: false) else { return nil }
        guard !bytes.isEmpty, bytes != [0x2E], bytes != [0x2E, 0x2E], !bytes.contains(where: forbidden),
              !StoreKey.isBookkeeping(bytes)
        else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Bytes no decoded segment may hold: control characters, `/` (a decoded `%2f` must
    /// never become a separator) and `\` (a separator elsewhere).
    private static func forbidden(_ b: UInt8) -> Bool {
        b < 0x20 || b == 0x7F || b == UInt8(ascii: "/") || b == UInt8(ascii: "\\")
    }
}
