#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Storage

/// One JSON line per request, written with a single `write` so lines from concurrent
/// requests never interleave. Every field a client controls is escaped, so a hostile
/// path cannot forge a line.
final class AccessLog: Sendable {
    private let fd: Int32
    private let ownsDescriptor: Bool

    /// `stderr`, `stdout`, `off` (nil) or a file path (appended to).
    static func open(_ destination: String) throws -> AccessLog? {
        switch destination {
        case "off": return nil
        case "stderr": return AccessLog(fd: 2, owns: false)
        case "stdout": return AccessLog(fd: 1, owns: false)
        default:
            let fd = Glibc.open(destination, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw StorageError.failed(key: destination, reason: "cannot open the access log: \(String(cString: strerror(errno)))") }
            return AccessLog(fd: fd, owns: true)
        }
    }

    private init(fd: Int32, owns: Bool) {
        self.fd = fd
        ownsDescriptor = owns
    }

    deinit { if ownsDescriptor { close(fd) } }

    struct Entry {
        var time: Int
        var remote: String
        var method: String
        var path: String
        var range: String?
        var status: Int
        var bytes: Int
        var micros: Int
        var root: String?
    }

    func write(_ e: Entry) {
        var line = "{\"ts\":\"\(HTTPDate.iso8601(e.time))\",\"remote\":\(Self.quote(e.remote)),\"method\":\(Self.quote(e.method)),"
        line += "\"path\":\(Self.quote(e.path)),\"status\":\(e.status),\"bytes\":\(e.bytes),\"us\":\(e.micros)"
        if let range = e.range { line += ",\"range\":\(Self.quote(range))" }
        if let root = e.root { line += ",\"root\":\(Self.quote(root))" }
        line += "}\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
    }

    /// A JSON string literal; control characters and non-ASCII bytes are escaped.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20 || u.value == 0x7F || u.value > 0x7E:
                if u.value > 0xFFFF {
                    for unit in String(u).utf16 { out += "\\u" + hex4(UInt32(unit)) }
                } else {
                    out += "\\u" + hex4(u.value)
                }
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }
}
