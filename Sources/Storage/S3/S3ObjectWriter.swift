/// An object streamed to S3: parts are gathered until the object is larger than the
/// multipart threshold, then sent as a multipart upload one part at a time (memory stays
/// at about one part); an object that never grows that large is one PUT on `finish`.
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
        pending += bytes
        let partSize = store.configuration.partSize
        guard upload != nil || pending.count > max(store.configuration.multipartThreshold, partSize) else { return }
        do {
            if upload == nil {
                let parts = MultipartUpload(store: store, key: key)
                upload = (parts, try parts.create())
            }
            // Keep the tail back: the last part may be short, every other one may not.
            while pending.count > partSize, let (parts, id) = upload {
                etags.append(try parts.uploadPart(etags.count + 1, Array(pending[..<partSize]), id: id))
                pending.removeFirst(partSize)
                uploaded += partSize
            }
        } catch {
            abort()
            throw error
        }
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
