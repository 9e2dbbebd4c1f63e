import Catalog
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Storage
import ZarrCore

/// The browse page (`--browse`; Docs/serve.md, "Browse page"): server-rendered HTML, no
/// script. `GET /` lists the images of the roots the caller may see as thumbnail cards, with
/// a search box (`?q=`: the catalogue's search when one is configured, else a substring
/// match on path, name and channel labels). `GET /browse/{root}/{image}` is one image's page:
/// its metadata and links to open it (neuroglancer served here, napari, vizarr) and its
/// pictures. An image the caller may not see is never listed and its page is the 404 of a
/// missing one: the same decision as its objects (the root's rule, then the catalogue's).
struct BrowseRoute {
    let gateway: Gateway
    let index: BrowseIndex

    /// Cards on one page (`?page=N`, from 1).
    static let perPage = 100
    static let maxQueryBytes = 256

    func home(query: String?, host: String?, method: HTTPRequest.Method, identity: AccessPolicy.Identity) async -> Response {
        let parameters: [(name: String, value: String)]
        do { parameters = try QueryString.parse(query.map { $0[...] }) } catch { return page(.badRequest, "index", ["title": "Bad request", "error": error.message], method) }
        let q = parameters.last(where: { $0.name == "q" })?.value.trimmingCharacters(in: .whitespaces) ?? ""
        var context: [String: Any] = ["title": "Images", "searchHint": gateway.catalog == nil ? "name, path or channel" : "search the catalogue"]
        if !q.isEmpty { context["q"] = q }
        let pageText = parameters.last(where: { $0.name == "page" })?.value ?? "1"
        guard let pageNumber = Int(pageText), pageNumber >= 1, pageNumber <= 1_000_000 else {
            context["error"] = "page must be a whole number from 1"
            return page(.badRequest, "index", context, method)
        }
        guard q.utf8.count <= Self.maxQueryBytes else {
            context["error"] = "the search is longer than \(Self.maxQueryBytes) bytes"
            return page(.badRequest, "index", context, method)
        }
        var images = [BrowseImage]()
        var roots = [[String: Any]]()
        do {
            for name in gateway.roots.keys.sorted() {
                guard let root = gateway.roots[name], mayList(root: root, identity) else { continue }
                let found = try await index.images(root: name, store: root.store)
                let visible = found.images.filter { mayShow($0, root: root, identity) }
                var entry: [String: Any] = ["name": name, "count": visible.count]
                if let stopped = found.stopped { entry["stopped"] = stopped }
                roots.append(entry)
                images += visible
            }
            if !q.isEmpty { images = try await matching(images, q: q, identity: identity) }
        } catch let refusal as APIParameterError {
            context["error"] = "search: \(refusal.message)"
            context["roots"] = roots
            return page(.badRequest, "index", context, method)
        } catch {
            let id = gateway.errors.record("browse: \(error)")
            context["error"] = "cannot list the images; request id \(id)"
            return page(.badGateway, "index", context, method)
        }
        context["roots"] = roots
        context["imageCount"] = images.count
        let pageCount = max(1, (images.count + Self.perPage - 1) / Self.perPage)
        let first = (min(pageNumber, pageCount) - 1) * Self.perPage
        context["images"] = images[first..<min(images.count, first + Self.perPage)].map(card)
        if pageCount > 1 {
            func link(_ n: Int) -> String { "/?" + (q.isEmpty ? "" : "q=" + Self.queryValue(q) + "&") + "page=\(n)" }
            var pages: [String: Any] = ["number": min(pageNumber, pageCount), "count": pageCount]
            if pageNumber > 1 { pages["previous"] = link(min(pageNumber, pageCount) - 1) }
            if pageNumber < pageCount { pages["next"] = link(pageNumber + 1) }
            context["pages"] = pages
        }
        return page(.ok, "index", context, method)
    }

    /// `/browse/{root}/{image}`: only an image the index lists (and the caller may see) has a page.
    func dataset(rootName: String, image: String, host: String?, method: HTTPRequest.Method,
                 identity: AccessPolicy.Identity) async -> Response {
        guard let root = gateway.roots[rootName], mayList(root: root, identity) else { return notFound(method) }
        let path = image.hasSuffix("/") ? String(image.dropLast()) : image
        let found: BrowseIndex.RootImages
        do { found = try await index.images(root: rootName, store: root.store) } catch {
            let id = gateway.errors.record("browse \(rootName): \(error)")
            return page(.badGateway, "index", ["title": "Error", "error": "cannot list the images; request id \(id)"], method)
        }
        guard let item = found.images.first(where: { $0.path == path }), mayShow(item, root: root, identity) else { return notFound(method) }
        let base = Self.base(host: host)
        let dataURL = base.map { $0 + Self.objectPath(item.root, item.path) + "/" }
        var context = card(item)
        context["title"] = item.name
        context["quicklook"] = "/quicklook" + Self.objectPath(item.root, item.path)
        var rows: [[String: String]] = [["key": "root", "value": item.root], ["key": "path", "value": item.path.isEmpty ? "(the root)" : item.path],
                                        ["key": "NGFF", "value": item.version]]
        if !item.axes.isEmpty { rows.append(["key": "axes", "value": item.axes]) }
        if !item.shape.isEmpty { rows.append(["key": "shape", "value": item.shape.map(String.init).joined(separator: " × ")]) }
        if !item.dataType.isEmpty { rows.append(["key": "data type", "value": item.dataType]) }
        rows.append(["key": "levels", "value": String(item.levels)])
        if !item.channels.isEmpty { rows.append(["key": "channels", "value": item.channels.joined(separator: ", ")]) }
        if let problem = item.problem { rows.append(["key": "problem", "value": problem]) }
        context["rows"] = rows
        if let base, let dataURL {
            context["base"] = base
            if gateway.viewerAssets != nil { context["neuroglancer"] = Self.neuroglancerLink(item, dataURL: dataURL) }
            context["napari"] = "napari --plugin napari-ome-zarr \(Self.shellQuoted(dataURL))"
            context["napariPython"] = "viewer.open(\"\(dataURL)\", plugin=\"napari-ome-zarr\")"
            context["vizarr"] = "https://hms-dbmi.github.io/vizarr/?source=" + Self.queryValue(dataURL)
        }
        let picture = Self.objectPath(item.root, item.path)
        context["renders"] = [("thumbnail", "/thumbnail" + picture), ("quicklook", "/quicklook" + picture),
                              ("PNG", "/render" + picture + "?format=png"), ("TIFF", "/render" + picture + "?format=tiff"),
                              ("HDF5", "/render" + picture + "?format=hdf5"), ("npy", "/render" + picture + "?format=npy")]
            .map { ["label": $0.0, "href": $0.1] }
        if let attributes = Self.attributes(root.store, item) { context["attributes"] = attributes }
        return page(.ok, "dataset", context, method)
    }

    // MARK: Access: the same decisions as the image's objects

    private func mayList(root: Gateway.ServedRoot, _ identity: AccessPolicy.Identity) -> Bool {
        !gateway.policy.isEnabled || gateway.policy.decide(root.rule, for: identity) == .allow
    }

    private func mayShow(_ image: BrowseImage, root: Gateway.ServedRoot, _ identity: AccessPolicy.Identity) -> Bool {
        guard let access = gateway.datasetAccess?.index else { return true }
        switch access.decide(root: image.root, key: image.path, mode: root.datasets, viewer: gateway.viewer(identity)) {
        case .open, .restricted: return true
        case .missing, .hidden: return false
        }
    }

    /// With a catalogue: the images inside the datasets its search finds (for this caller);
    /// without: a case-insensitive substring of the path, name or a channel label.
    private func matching(_ images: [BrowseImage], q: String, identity: AccessPolicy.Identity) async throws -> [BrowseImage] {
        guard let catalog = gateway.catalog, let access = gateway.datasetAccess?.index else {
            let needle = q.lowercased()
            return images.filter { $0.searchText.contains(needle) }
        }
        let search = try gateway.searchParser.parse([("q", q), ("limit", "100")])
        let page = try await catalog.search(search, visibleTo: gateway.viewer(identity))
        let places = page.datasets.compactMap { access.served[$0.uid] }
        return images.filter { image in
            places.contains { $0.root == image.root && ($0.prefix.isEmpty || image.path == $0.prefix || image.path.hasPrefix($0.prefix + "/")) }
        }
    }

    // MARK: Building the page

    private func card(_ image: BrowseImage) -> [String: Any] {
        let path = Self.objectPath(image.root, image.path)
        var card: [String: Any] = ["name": image.name, "root": image.root, "path": image.path, "version": image.version,
                                   "levels": image.levels, "page": "/browse" + path + (image.path.isEmpty ? "/" : ""),
                                   "thumbnail": "/thumbnail" + path]
        if !image.axes.isEmpty { card["axes"] = image.axes }
        if !image.shape.isEmpty { card["shape"] = image.shape.map(String.init).joined(separator: " × ") }
        if !image.dataType.isEmpty { card["dtype"] = image.dataType }
        if !image.channels.isEmpty { card["channels"] = image.channels.joined(separator: ", ") }
        if let problem = image.problem { card["problem"] = problem }
        return card
    }

    private func page(_ status: HTTPResponse.Status, _ template: String, _ context: [String: Any], _ method: HTTPRequest.Method) -> Response {
        var context = context
        if gateway.docsAssets != nil { context["docs"] = true }
        if context["searchHint"] == nil { context["searchHint"] = "search" }
        let html = BrowseTemplates.library.render(context, withTemplate: template) ?? ""
        let bytes = ByteBuffer(string: html)
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8",
                                   .cacheControl: gateway.policy.isEnabled ? "private, no-cache" : "no-cache",
                                   .contentLength: String(bytes.readableBytes)]
        PageSecurity.browse.add(to: &headers)
        return Response(status: status, headers: headers, body: method == .head ? .init() : .init(byteBuffer: bytes))
    }

    private func notFound(_ method: HTTPRequest.Method) -> Response {
        page(.notFound, "index", ["title": "Not found", "error": "no such image"], method)
    }

    /// The stored group document (`zarr.json` or `.zattrs`), pretty-printed, up to 64 KiB.
    static func attributes(_ store: any Store, _ image: BrowseImage) -> String? {
        let key = joinKey(image.path, image.version == "0.5" ? ZarrKeys.v3 : ZarrKeys.attributes)
        guard let bytes = try? store.get(key, limit: 64 << 10), let document = try? JSONValue.parse(bytes, key: key) else { return nil }
        return String(decoding: document.serialized(), as: UTF8.self)
    }

    // MARK: URLs

    /// `/{root}/{path}` with each segment percent-encoded (keys are served decoded once).
    static func objectPath(_ root: String, _ path: String) -> String {
        "/" + DatasetSummary.escape(path.isEmpty ? root : root + "/" + path)
    }

    /// `http://{Host}` when the Host header is a plain host name or address with a port;
    /// anything else (spaces, `@`, paths) gets no absolute links.
    static func base(host: String?) -> String? {
        guard let host, !host.isEmpty, host.utf8.count <= 255 else { return nil }
        let bytes = Array(host.utf8)
        let name: ArraySlice<UInt8>, port: ArraySlice<UInt8>?
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let inner = bytes[1..<close]
            guard !inner.isEmpty, inner.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") }) else { return nil }
            name = bytes[...close]
            let rest = bytes[(close + 1)...]
            if rest.isEmpty { port = nil } else {
                guard rest.first == UInt8(ascii: ":") else { return nil }
                port = rest.dropFirst()
            }
        } else {
            let colon = bytes.firstIndex(of: UInt8(ascii: ":"))
            name = bytes[..<(colon ?? bytes.endIndex)]
            port = colon.map { bytes[($0 + 1)...] }
            guard !name.isEmpty, name.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) else { return nil }
        }
        if let port { guard !port.isEmpty, port.count <= 5, port.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil } }
        _ = name
        return "http://" + host
    }

    private static func isHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b) }
    private static func isAlnum(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }

    /// The self-hosted neuroglancer with one image layer: `zarr2://` for NGFF 0.4, `zarr3://`
    /// for 0.5, the contrast range from the first omero channel's window. A 2-D `yx` image is
    /// shown x across, y down (numpy's orientation).
    static func neuroglancerLink(_ image: BrowseImage, dataURL: String) -> String {
        var layer: [String: JSONValue] = ["type": .string("image"), "name": .string(image.name),
                                          "source": .string((image.version == "0.5" ? "zarr3://" : "zarr2://") + dataURL)]
        if let window = image.window {
            layer["shaderControls"] = .object(["normalized": .object(["range": .array([.double(window.start), .double(window.end)])])])
        }
        var state: [String: JSONValue] = ["layers": .array([.object(layer)]), "layout": .string("xy")]
        if image.axes == "yx" {
            state["dimensions"] = .object(["x": .array([.int(1), .string("")]), "y": .array([.int(1), .string("")])])
            state["displayDimensions"] = .array([.string("x"), .string("y")])
        }
        let json = String(decoding: JSONValue.object(state).compactSerialized(), as: UTF8.self)
        return "/viewer/v/tessera/#!" + queryValue(json)
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? ""
    }

    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
