import Storage
import HTTPTypes
import NIOCore

/// A complete answer from the fast path: wire bytes (the response head, and a small body
/// read right behind it so both leave in one write), then for a large body the file
/// span the kernel sends itself (sendfile), with a transfer begun on its lease that
/// `FileBodySender` ends once NIO is done.
struct FastAnswer {
    var bytes: ByteBuffer
    var file: (lease: OpenFileLease, span: Range<Int>)?
    var close: Bool
}

extension Gateway {
    /// The complete answer to `request` if the fast path owns it, else nil (the
    /// responder then answers it). It owns GET/HEAD of a key in a local root anyone may
    /// read, when the request carries no credentials and the key is not metadata the
    /// gateway may generate. Failures are left to the responder too, which names them.
    /// The status and headers come from the same `ObjectResponse.plan` the responder uses.
    /// `head` is the request head's bytes, for the access log's target.
    func fastAnswer(_ request: RawRequestHead, head: ByteBuffer, files: OpenFileCache, allocator: ByteBufferAllocator,
                    remote: @autoclosure () -> String) -> FastAnswer? {
        guard request.method != .other else { return nil }
        let start = ContinuousClock.now
        let method: HTTPRequest.Method = request.method == .get ? .get : .head
        guard case let .object(rootName, key, false) = request.route, !key.isEmpty,
              let source = fastRoots[rootName] else { return nil }
        if policy.isEnabled && request.fields.authorization != nil { return nil }
        if consolidate && ConsolidatedMetadata.mayGenerate(key) { return nil }
        if v2View && V2ViewRoute.owns(key) { return nil }
        // Keys in datasets not everyone may see (or outside ready datasets of a
        // `datasets: catalog` root) go to the responder, which asks the catalogue.
        if let index = datasetAccess?.index, let mode = roots[rootName]?.datasets,
           mode == .catalog || index.hasRestricted(rootName),
           index.decide(root: rootName, key: key, mode: mode, viewer: .anonymous) != .open {
            return nil
        }
        let lease: OpenFileLease
        do { lease = try files.lease(source, root: rootName, key: key, now: start) } catch { return nil }
        let file = lease.file
        var transferGoesOn = false
        defer { if !transferGoesOn { lease.endTransfer() } }
        let plan = file.map {
            ObjectResponse.plan(size: $0.size, validators: $0.validators, key: key, method: method,
                                headers: request.fields, cacheControl: cacheControl)
        }
        let status = plan?.status ?? .notFound
        let body = plan?.body
        let inline = body.map { FileBodySender.readsInline($0.count) } ?? true
        var bytes = allocator.buffer(capacity: 512 + (inline ? body?.count ?? 0 : 0))
        bytes.writeStatusLine(status)
        if let plan {
            plan.forEachField { bytes.writeField($0, $1) }
        } else {
            bytes.writeField(.contentLength, "0")
        }
        // Only public roots are answered here; a root holding datasets not everyone may see
        // says it varies with credentials on every answer, as the responder does for it.
        let credentials = datasetAccess != nil && variesWithCredentials(rootName)
        if let cors = anyOriginCORSFields {
            bytes.writeImmutableBuffer(cors)
            if credentials { bytes.writeField(.vary, "Authorization") }
        } else {
            forEachCORSField(origin: request.fields.origin, method: method) { bytes.writeField($0, $1) }
            bytes.writeField(.vary, credentials ? "Origin, Authorization" : "Origin")
            bytes.writeField(.xContentTypeOptions, "nosniff")
        }
        bytes.writeField(.date, HTTPDate.now())
        if request.close { bytes.writeField(.connection, "close") }
        bytes.writeStaticString("\r\n")
        if inline, let span = body, let file {
            do { try file.read(span, into: &bytes, path: rootName + "/" + key) } catch { return nil }
        }
        record(method: method,
               path: head.getString(at: head.readerIndex + request.target.lowerBound, length: request.target.count) ?? "-",
               range: request.fields.range, status: status.code, bytes: body?.count ?? 0, root: rootName, since: start,
               remote: remote())
        guard !inline, let span = body else { return FastAnswer(bytes: bytes, file: nil, close: request.close) }
        transferGoesOn = true
        return FastAnswer(bytes: bytes, file: (lease, span), close: request.close)
    }
}

extension ByteBuffer {
    /// The status line. The statuses an object answer has get their standard line written
    /// whole (HTTPTypes compares statuses by code alone, as this does);
    /// `FastAnswerHeadTests` checks each against the general form.
    mutating func writeStatusLine(_ status: HTTPResponse.Status) {
        switch status.code {
        case 200: writeStaticString("HTTP/1.1 200 OK\r\n")
        case 206: writeStaticString("HTTP/1.1 206 Partial Content\r\n")
        case 304: writeStaticString("HTTP/1.1 304 Not Modified\r\n")
        case 404: writeStaticString("HTTP/1.1 404 Not Found\r\n")
        case 412: writeStaticString("HTTP/1.1 412 Precondition Failed\r\n")
        case 416: writeStaticString("HTTP/1.1 416 Range Not Satisfiable\r\n")
        default: writeGeneralStatusLine(status)
        }
    }

    mutating func writeGeneralStatusLine(_ status: HTTPResponse.Status) {
        writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
    }

    /// `name: value` and CRLF, copied in with one capacity check: a head is a dozen of
    /// these, and four separate writes each cost more than the copying.
    mutating func writeField(_ name: HTTPField.Name, _ value: String) {
        var name = name.rawName, value = value
        name.withUTF8 { name in
            value.withUTF8 { value in
                let count = name.count + value.count + 4
                writeWithUnsafeMutableBytes(minimumWritableBytes: count) { out in
                    var at = 0
                    func put(_ bytes: UnsafeRawBufferPointer) {
                        UnsafeMutableRawBufferPointer(rebasing: out[at..<(at + bytes.count)]).copyMemory(from: bytes)
                        at += bytes.count
                    }
                    put(UnsafeRawBufferPointer(name))
                    out[at] = UInt8(ascii: ":")
                    out[at + 1] = UInt8(ascii: " ")
                    at += 2
                    put(UnsafeRawBufferPointer(value))
                    out[at] = UInt8(ascii: "\r")
                    out[at + 1] = UInt8(ascii: "\n")
                    return count
                }
            }
        }
    }
}
