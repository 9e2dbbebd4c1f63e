import HTTPTypes
import NIOCore

/// A complete answer from the fast path: wire bytes (the response head, and a small body
/// read right behind it so both leave in one write), then for a large body the file
/// span the kernel sends itself (sendfile).
struct FastAnswer {
    var bytes: ByteBuffer
    var file: (object: FileObject, span: Range<Int>)?
    var close: Bool
}

extension Gateway {
    /// The complete answer to `request` if the fast path owns it, else nil (the
    /// responder then answers it). It owns GET/HEAD of a key in a local root anyone may
    /// read, when the request carries no credentials and the key is not metadata the
    /// gateway may generate. Failures are left to the responder too, which names them.
    /// The status and headers come from the same `ObjectResponse.plan` the responder uses.
    func fastAnswer(_ request: RawRequestHead, allocator: ByteBufferAllocator,
                    remote: @autoclosure () -> String) -> FastAnswer? {
        guard request.method != .other else { return nil }
        let start = ContinuousClock.now
        let method: HTTPRequest.Method = request.method == .get ? .get : .head
        let path = request.target.firstIndex(of: "?").map { request.target[..<$0] } ?? request.target
        guard case let .object(rootName, key, false) = RequestPath.parse(path), !key.isEmpty,
              let source = fastRoots[rootName] else { return nil }
        if policy.isEnabled && request.fields.authorization != nil { return nil }
        if consolidate && ConsolidatedMetadata.mayGenerate(key) { return nil }
        var plan: ObjectResponse.Plan?
        var object: FileObject?
        do {
            object = try source.openNow(key)
            if let object {
                plan = ObjectResponse.plan(size: object.size, validators: object.validators, key: key,
                                           method: method, headers: request.fields, cacheControl: cacheControl)
            }
        } catch {
            return nil
        }
        let status = plan?.status ?? .notFound
        let body = plan?.body.map { (object: object!, span: $0) }
        let inline = body.map { $0.span.count < FileObjectSource.sendfileThreshold } ?? true
        var bytes = allocator.buffer(capacity: 512 + (inline ? body?.span.count ?? 0 : 0))
        bytes.writeStatusLine(status)
        if let plan {
            plan.forEachField { bytes.writeField($0, $1) }
        } else {
            bytes.writeField(.contentLength, "0")
        }
        forEachCORSField(origin: request.fields.origin, method: method) { bytes.writeField($0, $1) }
        bytes.writeField(.date, HTTPDate.now())
        if request.close { bytes.writeField(.connection, "close") }
        bytes.writeStaticString("\r\n")
        if inline, let (object, span) = body {
            do { try object.read(span, into: &bytes) } catch { return nil }
        }
        metrics.started()
        record(method: method, path: String(request.target), range: request.fields.range, status: status.code,
               bytes: body?.span.count ?? 0, root: rootName, since: start, remote: remote())
        return FastAnswer(bytes: bytes, file: inline ? nil : body, close: request.close)
    }
}

extension ByteBuffer {
    mutating func writeStatusLine(_ status: HTTPResponse.Status) {
        writeStaticString("HTTP/1.1 ")
        writeString(String(status.code))
        writeStaticString(" ")
        writeString(status.reasonPhrase)
        writeStaticString("\r\n")
    }

    mutating func writeField(_ name: HTTPField.Name, _ value: String) {
        writeString(name.rawName)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}
