/// The state of an upload row (table `upload`, migration "3-uploads").
public enum UploadStatus: String, Sendable, Equatable {
    /// Its body is arriving; `bytes` is the reservation (what may still be written).
    case receiving
    /// Complete and moved into the staging folder, where the watcher ingests it.
    case staged
}

/// The answer to a reservation: taken, or refused because the uploader's usage plus the
/// request would pass the quota (`usedBytes` is the usage before the request).
public enum UploadReservation: Sendable, Equatable {
    case reserved
    case overQuota(usedBytes: Int64)
}

/// One uploader's bytes, for `tessera status` and `GET /api/status`.
public struct UploadUsage: Sendable, Equatable, Codable {
    public var uploader: String
    /// Reserved by uploads still receiving.
    public var receivingBytes: Int64
    /// Of complete uploads (staged or already converted: their files stay in the staging folder).
    public var stagedBytes: Int64
    public var stagedUploads: Int64
    /// The uploader's quota when the gateway's configuration is known (`tessera status --config`).
    public var quotaBytes: Int64?

    public init(uploader: String, receivingBytes: Int64, stagedBytes: Int64, stagedUploads: Int64, quotaBytes: Int64? = nil) {
        self.uploader = uploader; self.receivingBytes = receivingBytes; self.stagedBytes = stagedBytes
        self.stagedUploads = stagedUploads; self.quotaBytes = quotaBytes
    }

    public var usedBytes: Int64 { receivingBytes &+ stagedBytes }
}

/// The uploads' bookkeeping in the catalogue (Docs/catalog.md, "Uploads"). A user's usage is
/// the sum of `bytes` of their rows; every change of it that could pass a quota is one
/// transaction serialised per uploader (SQLite: the one writer; PostgreSQL: an advisory lock
/// on the uploader), so concurrent uploads never together take more than the quota.
public protocol UploadLedger: Sendable {
    /// Starts upload `id` with a reservation of `bytes`, if the uploader's usage plus `bytes`
    /// stays within `quota`.
    func reserveUpload(id: String, uploader: String, name: String, bytes: Int64, quota: Int64, holder: String,
                       now: Double) async throws -> UploadReservation

    /// Adds `bytes` to a receiving upload's reservation under the same rule (a body without
    /// `Content-Length` reserves as it arrives).
    func growUpload(id: String, uploader: String, by bytes: Int64, quota: Int64, now: Double) async throws -> UploadReservation

    /// Marks the upload complete at `stagedPath` with its real size (what the reservation
    /// shrinks to). False (nothing changed) when another upload is already staged there.
    func stageUpload(id: String, stagedPath: String, bytes: Int64, now: Double) async throws -> Bool

    /// Forgets an upload that did not complete (refused, failed, client gone), its
    /// reservation with it.
    func cancelUpload(id: String) async throws

    /// Forgets the receiving uploads of `holder` (a gateway that stopped without finishing
    /// them); returns how many.
    func dropReceivingUploads(holder: String) async throws -> Int

    /// The uploader's usage in bytes (receiving reservations + complete uploads).
    func uploadUsage(uploader: String) async throws -> Int64

    /// Every uploader's usage, sorted by name.
    func uploadUsages() async throws -> [UploadUsage]

    /// Who uploaded the file now staged at this path (nil: not an upload).
    func uploader(stagedPath: String) async throws -> String?
}
