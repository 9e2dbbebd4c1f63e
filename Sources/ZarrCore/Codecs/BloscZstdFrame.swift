import CZstd

/// Blosc 1 frames with zstd inside, written here with reused zstd contexts
/// (`ZstdContexts`) instead of by `blosc_compress_ctx`, which calls `ZSTD_compress` — a
/// fresh context, allocated and cleared — for every block. The bytes are those c-blosc
/// 1.21 writes, rule for rule (its `compute_blocksize`, `write_compression_header`,
/// `blosc_c`); `BloscZstdFrameTests` compares the two on many sizes, type sizes, levels
/// and shuffles. Anything the rules below do not cover, and any frame blosc would store
/// uncompressed, is left to libblosc (`encode` returns nil).
enum BloscZstdFrame {
    /// Blosc's constants (blosc.h, blosc.c).
    private static let headerBytes = 16, minBufferSize = 128, l1 = 32 * 1024
    private static let maxBlocksize = (Int(Int32.max) - 255 * 4) / 3
    private static let formatVersion: UInt8 = 2, zstdFormatVersion: UInt8 = 1
    private static let doShuffle: UInt8 = 0x1, dontSplit: UInt8 = 0x10, zstdFormat: UInt8 = 4 << 5

    /// The frame for `bytes`, or nil when libblosc should write it: levels 0 and bit
    /// shuffle (not done here), buffers under 128 bytes or type sizes over 16 (blosc
    /// copies or re-sizes those), and data that does not compress.
    static func encode(_ bytes: [UInt8], clevel: Int, shuffle: Bool, typesize: Int, forcedBlocksize: Int) -> [UInt8]? {
        let n = bytes.count
        guard (1...9).contains(clevel), (1...16).contains(typesize), n >= minBufferSize, n <= Int(Int32.max) - headerBytes
        else { return nil }
        let blocksize = self.blocksize(clevel: clevel, typesize: typesize, nbytes: n, forced: forcedBlocksize)
        let leftover = n % blocksize
        let blocks = n / blocksize + (leftover > 0 ? 1 : 0)
        // zstd level from blosc's clevel (c-blosc's zstd_wrap_compress).
        let level = clevel < 9 ? Int32(2 * clevel - 1) : ZSTD_maxCLevel()
        let shuffled = shuffle && typesize > 1
        let capacity = n + headerBytes // what BloscCodec.encode gives libblosc: blosc's maxbytes
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: capacity) { dst, initialized in
            initialized = 0
            let d = dst.baseAddress!
            d[0] = formatVersion
            d[1] = zstdFormatVersion
            d[2] = (shuffle ? doShuffle : 0) | dontSplit | zstdFormat
            d[3] = UInt8(typesize)
            store32(d + 4, n)
            store32(d + 8, blocksize)
            var written = headerBytes + 4 * blocks
            let scratch: UnsafeMutablePointer<UInt8>? = shuffled ? .allocate(capacity: blocksize) : nil
            defer { scratch?.deallocate() }
            bytes.withUnsafeBufferPointer { src in
                ZstdContexts.shared.withContext { context in
                    guard let context else { failed = true; return }
                    for j in 0..<blocks {
                        store32(d + headerBytes + 4 * j, written)
                        let size = j == blocks - 1 && leftover > 0 ? leftover : blocksize
                        var block = src.baseAddress! + j * blocksize
                        if let scratch {
                            byteShuffle(block, size: size, typesize: typesize, into: scratch)
                            block = UnsafePointer(scratch)
                        }
                        // One stream per block (zstd blocks are never split), its length first.
                        written += 4
                        var room = size
                        if written + room > capacity {
                            room = capacity - written
                            guard room > 0 else { failed = true; return }
                        }
                        let z = ZSTD_compressCCtx(context, d + written, room, block, size, level)
                        var length = ZSTD_isError(z) != 0 ? 0 : z
                        if length == 0 || length == size {
                            // Incompressible: blosc stores the block as it is.
                            guard written + size <= capacity else { failed = true; return }
                            (d + written).update(from: block, count: size)
                            length = size
                        }
                        store32(d + written - 4, length)
                        written += length
                    }
                }
            }
            guard !failed else { return }
            store32(d + 12, written)
            initialized = written
        }
        return failed ? nil : out
    }

    /// c-blosc 1.21's `compute_blocksize` for zstd, which it never splits into streams.
    static func blocksize(clevel: Int, typesize: Int, nbytes: Int, forced: Int) -> Int {
        guard nbytes >= typesize else { return 1 }
        var size = nbytes
        if forced > 0 {
            size = Swift.min(Swift.max(forced, minBufferSize), maxBlocksize)
        } else if nbytes >= l1 {
            size = 2 * l1 // zstd is one of blosc's "high compression ratio" codecs
            switch clevel {
            case 1: size /= 2
            case 2: break
            case 3: size *= 2
            case 4, 5: size *= 4
            case 6, 7, 8: size *= 8
            default: size *= 16
            }
        }
        size = Swift.min(size, nbytes)
        if size > typesize { size = size / typesize * typesize }
        return size
    }

    /// Blosc's byte shuffle of one block: byte k of every element together, element
    /// order kept; the bytes past the last whole element stay where they are.
    static func byteShuffle(_ src: UnsafePointer<UInt8>, size: Int, typesize: Int, into dst: UnsafeMutablePointer<UInt8>) {
        let elements = size / typesize
        for k in 0..<typesize {
            let plane = dst + k * elements
            for i in 0..<elements { plane[i] = src[i * typesize + k] }
        }
        let tail = elements * typesize
        (dst + tail).update(from: src + tail, count: size - tail)
    }

    private static func store32(_ p: UnsafeMutablePointer<UInt8>, _ value: Int) {
        let v = UInt32(truncatingIfNeeded: value)
        p[0] = UInt8(truncatingIfNeeded: v)
        p[1] = UInt8(truncatingIfNeeded: v >> 8)
        p[2] = UInt8(truncatingIfNeeded: v >> 16)
        p[3] = UInt8(truncatingIfNeeded: v >> 24)
    }
}
