/// Finds an object key that appears twice in one JSON object. Readers disagree on which
/// of two `"shape"` members wins (Foundation keeps one, Python's json the last), so a
/// document with duplicates means different arrays to different readers: Zarr metadata
/// with one is refused. Runs on text a JSON parser has already accepted, so it only
/// tracks structure; it never recurses and never traps on odd input.
func firstDuplicateKey(_ bytes: [UInt8]) -> String? {
    /// One open container: an object's keys so far (nil for an array), and whether the
    /// next string in it is a key.
    struct Open {
        var keys: Set<String>?
        var expectingKey: Bool
    }
    var stack = [Open]()
    var i = 0
    let n = bytes.count
    while i < n {
        let b = bytes[i]
        switch b {
        case UInt8(ascii: "{"):
            stack.append(Open(keys: [], expectingKey: true))
            i += 1
        case UInt8(ascii: "["):
            stack.append(Open(keys: nil, expectingKey: false))
            i += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if !stack.isEmpty { stack.removeLast() }
            i += 1
        case UInt8(ascii: ","):
            if let top = stack.last, top.keys != nil { stack[stack.count - 1].expectingKey = true }
            i += 1
        case UInt8(ascii: "\""):
            let (text, next) = jsonString(bytes, from: i + 1)
            i = next
            guard let top = stack.last, top.keys != nil, top.expectingKey else { continue }
            if top.keys!.contains(text) { return text }
            stack[stack.count - 1].keys!.insert(text)
            stack[stack.count - 1].expectingKey = false
        default:
            i += 1
        }
    }
    return nil
}

/// The decoded text of the JSON string starting after its opening quote at `start`, and
/// the index after its closing quote. Escapes are decoded (`"sha\u0070e"` is `shape`);
/// malformed escapes decode to U+FFFD rather than failing.
private func jsonString(_ bytes: [UInt8], from start: Int) -> (String, Int) {
    var scalars = String.UnicodeScalarView()
    var raw = [UInt8]()
    var i = start
    func flushRaw() {
        if raw.isEmpty { return }
        scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
        raw.removeAll(keepingCapacity: true)
    }
    func hex4(_ at: Int) -> UInt32? {
        guard at + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for b in bytes[at..<(at + 4)] {
            guard let d = hexDigit(b) else { return nil }
            v = v << 4 | d
        }
        return v
    }
    while i < bytes.count {
        let b = bytes[i]
        if b == UInt8(ascii: "\"") { i += 1; break }
        guard b == UInt8(ascii: "\\"), i + 1 < bytes.count else { raw.append(b); i += 1; continue }
        flushRaw()
        let e = bytes[i + 1]
        i += 2
        switch e {
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "b"): scalars.append("\u{8}")
        case UInt8(ascii: "f"): scalars.append("\u{c}")
        case UInt8(ascii: "u"):
            guard var v = hex4(i) else { scalars.append("\u{FFFD}"); continue }
            i += 4
            // A high surrogate followed by an escaped low one is one scalar.
            if (0xD800..<0xDC00).contains(v), i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"),
               bytes[i + 1] == UInt8(ascii: "u"), let low = hex4(i + 2), (0xDC00..<0xE000).contains(low) {
                v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                i += 6
            }
            scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
        default: scalars.append(Unicode.Scalar(e)) // \" \\ \/
        }
    }
    flushRaw()
    return (String(scalars), i)
}

private func hexDigit(_ b: UInt8) -> UInt32? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
    default: return nil
    }
}
