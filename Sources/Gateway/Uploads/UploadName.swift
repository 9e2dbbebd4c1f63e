import Storage

/// The `{name}` of `PUT /api/uploads/{name}`: one file name the watcher will take, decoded
/// once. Letters, digits, `.`, `_` and `-` only, 1…200 bytes, not starting with a dot (no
/// hidden files, no `.` or `..`), no `..` anywhere, so it can never name another folder.
enum UploadName {
    static let maxBytes = 200

    /// The decoded name, or why it is refused.
    static func parse(_ raw: Substring) -> Result<String, UploadRefusal> {
        guard let bytes = PercentDecoding.bytes(raw, plusIsSpace: false), !bytes.isEmpty else {
            return .failure(.badName("the upload needs a file name: PUT /api/uploads/{name}"))
        }
        guard bytes.count <= maxBytes else { return .failure(.badName("the file name is longer than \(maxBytes) bytes")) }
        let allowed = bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        let name = String(decoding: bytes, as: UTF8.self)
        guard allowed else {
            return .failure(.badName("the file name may hold only letters, digits, '.', '_' and '-' (no path separators)"))
        }
        guard bytes.first != UInt8(ascii: "."), !name.contains("..") else {
            return .failure(.badName("the file name may not start with '.' or contain '..'"))
        }
        return .success(name)
    }
}
