import Crypto
import Foundation

/// The entity tag S3 gives an object made by a multipart upload,
/// `"<md5 of the parts' binary md5s>-<part count>"`: predicted so that a completion whose
/// answer was lost can be recognised by a HEAD. MD5 here is S3's checksum, not security.
enum MultipartETag {
    /// The MD5 of `bytes` (swift-crypto's `Insecure.MD5`).
    static func md5(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.MD5.hash(data: bytes)) }

    /// The entity tag S3 gives the object of these parts (their entity tags, quoted or
    /// not), or nil when a part's tag is not a plain MD5 (e.g. parts encrypted with KMS).
    static func of(_ partETags: [String]) -> String? {
        var joined = [UInt8]()
        for tag in partETags {
            let hex = Array(tag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).utf8)
            guard hex.count == 32 else { return nil }
            for i in stride(from: 0, to: 32, by: 2) {
                guard let byte = UInt8(String(decoding: hex[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
                joined.append(byte)
            }
        }
        return "\"" + md5(joined).map { String(format: "%02x", $0) }.joined() + "-\(partETags.count)\""
    }
}
