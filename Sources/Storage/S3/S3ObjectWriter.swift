/// An object streamed to S3 from a bounded buffer: bytes gather until they fill one part
/// (`S3Configuration.partSize`); when more arrive, that part goes up as the first of a
/// multipart upload, and so on one part at a time, so memory stays at one part whatever
/// the object's size. An object that never outgrows one part is one PUT on `finish`.
/// Nothing appears under the key before `finish`; a writer given up (or dropped)
/// aborts its upload, so no parts stay behind.
final class S3ObjectWriter: ObjectWriter {
    private let store: S3Store
    private let key: String
    private var pending = [UInt8]()
    private var upload: (parts: MultipartUpload, id: String)?
    private var etags = [String]()
    private var uploaded = 0  // bytes sent in parts so far
    private var done = false

    init(store: S3Store, key: String) throws {
        try StoreKey.validate(key)
        self.store = store
        self.key = key
    }

    deinit { abort() }

    func append(_ bytes: [UInt8]) throws {
        guard !done else { throw StorageError.failed(key: store.describe(key), reason: "written after it was finished") }
        let partSize = store.configuration.partSize
        var rest = bytes[...]
        do {
            while !rest.isEmpty {
                // A full part goes up only once more bytes follow it: the last part may be
                // short, every other one may not, and an object of one part is one PUT.
                if pending.count == partSize { try sendPart() }
                let take = min(partSize - pending.count, rest.count)
                if pending.capacity < pending.count + take {
                    // Grown to at most one part, never to the doubling past it.
                    pending.reserveCapacity(min(partSize, max(pending.count + take, 2 * pending.capacity)))
                }
                pending += rest.prefix(take)
                rest = rest.dropFirst(take)
            }
        } catch {
            abort()
            throw error
        }
    }

    /// Sends the buffered part (starting the multipart upload with the first one).
    private func sendPart() throws {
        if upload == nil {
            let parts = MultipartUpload(store: store, key: key)
            upload = (parts, try parts.create())
        }
        guard let (parts, id) = upload else { return }
        etags.append(try parts.uploadPart(etags.count + 1, pending, id: id))
        uploaded += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    func finish() throws {
        guard !done else { throw StorageError.failed(key: store.describe(key), reason: "written after it was finished") }
        guard let (parts, id) = upload else {
            done = true
            return try store.set(key, pending)
        }
        do {
            etags.append(try parts.uploadPart(etags.count + 1, pending, id: id))
            try parts.complete(etags, id: id, size: uploaded + pending.count)
            done = true
            pending = []
        } catch {
            abort()
            throw error
        }
    }

    func abort() {
        guard !done else { return }
        done = true
        pending = []
        if let (parts, id) = upload { parts.abort(id) }
    }
}

extension S3Store {
    /// A writer that streams the object as a multipart upload once it is large.
    public func writer(for key: String) throws -> any ObjectWriter { try S3ObjectWriter(store: self, key: key) }
}
