import Hummingbird
import NIOCore

/// A document the gateway generated (consolidated metadata), served like a stored object.
/// Its entity tag is a hash of its bytes, so it changes exactly when the content does.
struct MemoryObject: OpenedObject {
    let bytes: ByteBuffer
    let validators: Validators
    var size: Int { bytes.readableBytes }

    init(_ content: [UInt8]) {
        bytes = ByteBuffer(bytes: content)
        var hash: UInt64 = 14_695_981_039_346_656_037 // FNV-1a 64
        for b in content { hash = (hash ^ UInt64(b)) &* 1_099_511_628_211 }
        validators = Validators(etag: "\"g-\(String(content.count, radix: 16))-\(String(hash, radix: 16))\"", lastModified: nil)
    }

    /// An object whose version is known without hashing its bytes (a v2-view chunk).
    init(_ content: [UInt8], validators: Validators) {
        bytes = ByteBuffer(bytes: content)
        self.validators = validators
    }

    func body(_ range: Range<Int>) async throws -> ResponseBody {
        ResponseBody(byteBuffer: bytes.getSlice(at: range.lowerBound, length: range.count)!)
    }
}
