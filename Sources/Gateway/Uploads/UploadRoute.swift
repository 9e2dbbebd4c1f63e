import Catalog
import Foundation
import HTTPTypes
import Hummingbird
import ImageSources
import NIOCore
import NIOHTTPTypes
import ZarrCore

/// `PUT /api/uploads/{name}` (Docs/catalog.md, "Uploads"): the caller's file, streamed to the
/// staging folder and handed to the watch ingest.
/// 1. Before a byte is read: credentials (401), upload group (403), name (400), a declared
///    `Content-Length` over `maxFileBytes` (413), free space (507), and the quota, taken as a
///    reservation in the catalogue in one serialised transaction (507).
/// 2. The body, buffer by buffer as it arrives (Hummingbird's request body is the channel's
///    inbound stream with backpressure, so memory stays a few buffers whatever the size),
///    written on NIO's thread pool. Bytes are counted as they come, whatever the headers
///    said: past `maxFileBytes` is a 413, past the reservation the reservation grows in
///    steps (a body without `Content-Length`), and a step that does not fit is a 507. No
///    byte is written beyond what is reserved.
/// 3. Its first bytes and name must be an input Tessera reads (415), checked on the first
///    buffer; complete, it is flushed, renamed to `STAGING/USER/NAME` (409 when that exists)
///    and recorded `staged` with its real size: `201 {"upload", "name", "bytes", "status"}`.
/// Any failure, a client gone mid-body included, deletes the part file and the reservation.
/// A refusal before the body's end closes the connection after the answer.
struct UploadRoute {
    let gateway: Gateway
    let uploads: Uploads
    /// For `100 Continue`, written once the checks before the body have passed.
    let channel: any Channel

    /// Bytes reserved at a time for a body of unknown length.
    static let reservationStep: Int64 = 64 << 20
    /// Writes are gathered into buffers of about this size (one thread-pool hop each).
    static let writeBytes = 1 << 20
    /// Enough of the head for every magic number `SourceOpener.recognises` looks at.
    static let sniffBytes = 1024

    /// The `{name}` part (still percent-encoded) of a path under `/api/uploads/`.
    static func name(in path: String) -> Substring? {
        let prefix = "/api/uploads/"
        guard path.hasPrefix(prefix) else { return nil }
        return path.dropFirst(prefix.count)
    }

    func answer(_ request: Request, name rawName: Substring, identity: AccessPolicy.Identity) async -> Response {
        let method = request.method
        let user: String
        switch identity {
        case .anonymous, .refused:
            return UploadRefusal.unauthenticated.response(closing: true, method)
        case let .member(name, groups):
            guard let name, !name.isEmpty else {
                return UploadRefusal.forbidden("these credentials name no user, and uploads are counted per user").response(closing: true, method)
            }
            if let allowed = uploads.configuration.groups, groups.isDisjoint(with: allowed) {
                return UploadRefusal.forbidden("uploads are for members of \(allowed.sorted().joined(separator: ", "))")
                    .response(closing: true, method)
            }
            user = name
        }
        let name: String
        switch UploadName.parse(rawName) {
        case let .success(n): name = n
        case let .failure(refusal): return refusal.response(closing: true, method)
        }
        let maxBytes = uploads.configuration.resolvedMaxFileBytes
        var declared: Int64?
        if let text = request.headers[.contentLength] {
            guard let n = Int64(text), n >= 0 else { return UploadRefusal.badLength.response(closing: true, method) }
            declared = n
        }
        if let declared, declared > maxBytes { return UploadRefusal.tooLarge(maxFileBytes: maxBytes).response(closing: true, method) }
        let firstReservation = declared ?? min(Self.reservationStep, maxBytes)
        if let refusal = await roomRefusal(firstReservation) { return refusal.response(closing: true, method) }

        let id = UUID().uuidString.lowercased()
        let part: PartFile
        do {
            part = try await uploads.staging.createPart(id: id)
        } catch {
            return failure(error, method)
        }
        let quota = uploads.configuration.quota(of: user)
        let ledger = uploads.ledger
        do {
            switch try await ledger.reserveUpload(id: id, uploader: user, name: name, bytes: firstReservation, quota: quota,
                                                 holder: uploads.staging.holder, now: Date().timeIntervalSince1970) {
            case .reserved: break
            case let .overQuota(used):
                await part.discard()
                return UploadRefusal.overQuota(quotaBytes: quota, usedBytes: used, requestBytes: firstReservation)
                    .response(closing: true, method)
            }
        } catch {
            await part.discard()
            return failure(error, method)
        }
        // From here every way out but success deletes the part file (closed once), the file
        // placed under its staged name if it got that far, and the reservation.
        var closed = false
        var placed: String?
        func undo() async {
            await part.discard(closing: !closed)
            if let placed { await uploads.staging.remove(placed) }
            try? await ledger.cancelUpload(id: id)
        }
        do {
            // A client that waits for leave to send (curl above 1 KiB) is told to go on only
            // now; a refusal above reaches it before any of its body is sent.
            if request.headers[.expect]?.lowercased() == "100-continue" {
                try await channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue)))
            }
            let bytes = try await receive(request.body, into: part, id: id, user: user, name: name, declared: declared,
                                          reserved: firstReservation, quota: quota)
            closed = true  // `finish` closes the file, also when it fails
            try await part.finish()
            let staged = uploads.staging.stagedPath(user: user, name: name)
            guard try await uploads.staging.place(part, at: staged) else {
                await undo()
                return UploadRefusal.exists("an upload named \(name) is already staged for \(user)").response(closing: false, method)
            }
            placed = staged
            guard try await ledger.stageUpload(id: id, stagedPath: staged, bytes: bytes, now: Date().timeIntervalSince1970) else {
                await undo()
                return UploadRefusal.exists("an upload named \(name) is already staged for \(user)").response(closing: false, method)
            }
            gateway.uploadLog("upload: \(user) staged \(name) (\(bytes) bytes) as upload \(id)")
            var response = JSONAnswer.make(.created, JSONValue.object([
                "upload": .string(id), "name": .string(name), "bytes": .int(bytes), "status": .string(UploadStatus.staged.rawValue),
            ]).compactSerialized(), method)
            response.headers[.location] = "/api/uploads/\(name)"
            return response
        } catch let refusal as Interrupted {
            await undo()
            return refusal.refusal.response(closing: refusal.closing, method)
        } catch {
            // The client went away (the body's stream failed), or a write or the catalogue failed.
            await undo()
            return failure(error, method)
        }
    }

    /// A refusal in the middle of the body; `closing`: the body was not read to its end.
    struct Interrupted: Error {
        var refusal: UploadRefusal
        var closing: Bool
    }

    /// Reads the body into the part file; returns its length.
    private func receive(_ body: RequestBody, into part: PartFile, id: String, user: String, name: String, declared: Int64?,
                         reserved first: Int64, quota: Int64) async throws -> Int64 {
        let maxBytes = uploads.configuration.resolvedMaxFileBytes
        var reserved = first
        var received: Int64 = 0
        var written: Int64 = 0
        var pending = ByteBuffer()
        var sniffed = false
        var head = [UInt8]()
        func flush() async throws {
            guard pending.readableBytes > 0 else { return }
            if !sniffed {
                sniffed = true
                guard SourceOpener.recognises(head: head, name: name) else { throw Interrupted(refusal: .notRecognised, closing: true) }
            }
            try await part.write(pending, at: written)
            written += Int64(pending.readableBytes)
            pending.clear()
        }
        for try await buffer in body {
            let n = Int64(buffer.readableBytes)
            received += n
            if received > maxBytes { throw Interrupted(refusal: .tooLarge(maxFileBytes: maxBytes), closing: true) }
            if received > reserved {
                // A body of unknown length: more room, a step at a time (never past the cap).
                let step = min(max(Self.reservationStep, received - reserved), maxBytes - reserved)
                if let refusal = await roomRefusal(step) { throw Interrupted(refusal: refusal, closing: true) }
                switch try await uploads.ledger.growUpload(id: id, uploader: user, by: step, quota: quota, now: Date().timeIntervalSince1970) {
                case .reserved: reserved += step
                case let .overQuota(used):
                    throw Interrupted(refusal: .overQuota(quotaBytes: quota, usedBytes: used, requestBytes: received), closing: true)
                }
            }
            if head.count < Self.sniffBytes { head += buffer.getBytes(at: buffer.readerIndex, length: min(buffer.readableBytes, Self.sniffBytes - head.count)) ?? [] }
            var buffer = buffer
            pending.writeBuffer(&buffer)
            if pending.readableBytes >= Self.writeBytes || (!sniffed && head.count >= Self.sniffBytes) { try await flush() }
        }
        if let declared, received != declared { throw Interrupted(refusal: .incomplete, closing: true) }
        if !sniffed {
            guard SourceOpener.recognises(head: head, name: name) else { throw Interrupted(refusal: .notRecognised, closing: false) }
            sniffed = true
        }
        try await flush()
        return received
    }

    /// 507 when the staging file system would keep less than `minFreeBytes` after `bytes` more.
    private func roomRefusal(_ bytes: Int64) async -> UploadRefusal? {
        guard let free = await uploads.staging.freeBytes() else { return nil }
        let (needed, overflow) = bytes.addingReportingOverflow(uploads.configuration.resolvedMinFreeBytes)
        return overflow || free < needed ? .diskFull(freeBytes: free, requestBytes: bytes) : nil
    }

    /// A failure on the server's side: a request id in the answer, the cause in the log.
    private func failure(_ error: any Error, _ method: HTTPRequest.Method) -> Response {
        let id = gateway.errors.record("upload: \(error)")
        var response = JSONAnswer.error(.internalServerError, "the upload failed; request id \(id)", method)
        response.headers[.xRequestID] = id
        response.headers[.connection] = "close"
        return response
    }
}

/// The gateway's upload settings and their state, made once when `uploads:` is configured.
struct Uploads: Sendable {
    let configuration: UploadConfiguration
    let staging: StagingArea
    let ledger: any UploadLedger
}
