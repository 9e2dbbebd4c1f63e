/// Deflate's bit order on raw memory: bits fill each byte from its least significant end.
/// A 64-bit buffer takes up to 56 bits per `put`; `flush` stores all 8 bytes of it
/// unaligned and advances by the whole bytes written, so the destination needs 8 bytes
/// of slack past the last byte and no bounds are checked here (the caller sized it).
struct BitWriter {
    private(set) var out: UnsafeMutablePointer<UInt8>
    private var buffer: UInt64 = 0
    private var count: UInt64 = 0

    init(_ out: UnsafeMutablePointer<UInt8>) { self.out = out }

    /// Appends the low `n` bits of `bits` (the rest must be zero); at most 56 bits may be
    /// pending, so call `flush` after each token.
    @inline(__always) mutating func put(_ bits: UInt64, _ n: UInt64) {
        buffer |= bits &<< count
        count &+= n
    }

    @inline(__always) mutating func flush() {
        UnsafeMutableRawPointer(out).storeBytes(of: buffer.littleEndian, as: UInt64.self)
        let bytes = count &>> 3
        out += Int(bytes)
        buffer = bytes == 8 ? 0 : buffer &>> (bytes &* 8)
        count &= 7
    }

    /// Pads with zero bits to a byte boundary and writes out everything pending (stored
    /// blocks and the zlib trailer start on a byte).
    mutating func alignToByte() {
        count = (count &+ 7) & ~7
        flush()
    }

    /// Bytes copied verbatim; only after `alignToByte`.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        UnsafeMutableRawPointer(out).copyMemory(from: base, byteCount: bytes.count)
        out += bytes.count
    }
}
