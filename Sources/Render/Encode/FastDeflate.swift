import CDeflate

/// A zlib stream (RFC 1950/1951) for PNG's filtered rows, built for speed over ratio, the
/// way fast PNG encoders (fpnge, fpng) do it: no match finder. Each byte is a literal
/// coded with a dynamic Huffman code from the block's own histogram, except that a run of
/// one repeated byte becomes matches at distance 1, so the zeros a Sub filter leaves in
/// flat or empty areas shrink to almost nothing. On noisy pictures, where a match finder
/// mostly fails, this is about as small as zlib level 1 and several times faster
/// (Docs/render.md, "Encoders").
///
/// The input goes in slices of `sliceBytes`, one block each, so the code adapts to the
/// picture's parts and a slice that Huffman coding would not shrink goes out stored.
enum FastDeflate {
    static let sliceBytes = 128 * 1024
    /// Shortest run coded as a match (deflate's minimum match length).
    static let minimumRun = 3

    /// The zlib stream of `input`: header, blocks (the last one final), Adler-32.
    static func zlib(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let count = input.count
        let slices = (count + sliceBytes - 1) / sliceBytes
        // Each slice costs at most its stored form (5 bytes a 65,535-byte chunk, 1 of
        // padding); 2 header, 4 trailer, 8 slack for the bit writer's whole-word stores.
        let bound = 2 + count + slices * (5 * (sliceBytes / 65_535 + 1) + 1) + 5 + 4 + 8
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            let start = buffer.baseAddress!
            var writer = BitWriter(start)
            // CMF 0x78: deflate, 32 KiB window; FLG 0x01: fastest, check bits (0x7801 % 31 == 0).
            writer.put(0x0178, 16)
            writer.flush()
            let bytes = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
            if let bytes, count > 0 {
                var offset = 0
                while offset < count {
                    let end = min(offset + sliceBytes, count)
                    writeBlock(bytes, offset, end, final: end == count, &writer)
                    offset = end
                }
            } else {
                writeStored(UnsafeRawBufferPointer(start: nil, count: 0), final: true, &writer)
            }
            writer.alignToByte()
            let adler = libdeflate_adler32(1, input.baseAddress, count)
            writer.put(UInt64(adler.byteSwapped), 32)
            writer.flush()
            initialized = writer.out - start
            precondition(initialized <= bound - 8, "FastDeflate wrote past its bound")
        }
    }

    // MARK: Blocks

    /// One slice as a dynamic-Huffman block, or stored if that would be smaller.
    static func writeBlock(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, final: Bool, _ writer: inout BitWriter) {
        var counts = [UInt32](repeating: 0, count: literalLengthSymbols)
        let matches = counts.withUnsafeMutableBufferPointer { counts in
            var counter = SymbolCounter(counts: counts.baseAddress!)
            tokenize(p, start, end, &counter)
            return counter.matches
        }
        counts[endOfBlock] = 1
        let literals = HuffmanCode(counts: counts, maxLength: 15)
        let header = DynamicHeader(literals: literals)

        var bits = 3 + header.bits + matches  // each match's distance code is 1 bit
        for symbol in 0..<literalLengthSymbols {
            bits += Int(counts[symbol]) * (Int(literals.lengths[symbol]) + lengthExtraBits(symbol))
        }
        let chunks = (end - start + 65_534) / 65_535
        if bits >= 8 * (end - start) + chunks * (3 + 7 + 32) {
            writeStored(UnsafeRawBufferPointer(start: p + start, count: end - start), final: final, &writer)
            return
        }
        writer.put(final ? 1 : 0, 1)
        writer.put(2, 2)  // BTYPE 10: dynamic Huffman codes
        writer.flush()
        header.write(&writer)
        let tables = TokenTables(literals: literals)
        tables.literalBits.withUnsafeBufferPointer { literalBits in
            tables.matchBits.withUnsafeBufferPointer { matchBits in
                var emitter = TokenWriter(writer: writer, literalBits: literalBits.baseAddress!, matchBits: matchBits.baseAddress!)
                tokenize(p, start, end, &emitter)
                writer = emitter.writer
            }
        }
        writer.put(UInt64(literals.codes[endOfBlock]), UInt64(literals.lengths[endOfBlock]))
        writer.flush()
    }

    /// Stored blocks (BTYPE 00) of at most 65,535 bytes each; only the last may be final.
    static func writeStored(_ bytes: UnsafeRawBufferPointer, final: Bool, _ writer: inout BitWriter) {
        var offset = 0
        repeat {
            let n = min(bytes.count - offset, 65_535)
            writer.put(final && offset + n == bytes.count ? 1 : 0, 3)
            writer.alignToByte()
            writer.put(UInt64(n) | UInt64(~n & 0xFFFF) << 16, 32)
            writer.flush()
            if n > 0 { writer.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])) }
            offset += n
        } while offset < bytes.count
    }

    // MARK: Tokens

    /// What the tokenizer finds, in order: literals and runs repeating the previous byte.
    protocol TokenSink {
        mutating func literal(_ byte: UInt8)
        mutating func run(_ length: Int)
    }

    /// The one tokenization both passes share (the counting pass must see exactly the
    /// tokens the writing pass writes): each byte a literal, then the bytes repeating it,
    /// if at least `minimumRun`, as matches at distance 1 of at most 258 each.
    @inline(__always)
    static func tokenize<Sink: TokenSink>(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ sink: inout Sink) {
        var i = start
        while i < end {
            let byte = p[i]
            sink.literal(byte)
            i += 1
            guard i < end, p[i] == byte else { continue }
            var run = runLength(p, i, end, byte)
            while run >= minimumRun {
                let length = min(run, 258)
                sink.run(length)
                i += length
                run -= length
            }
        }
    }

    /// How many bytes from `i` equal `byte`, eight compared at a time.
    @inline(__always)
    static func runLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, _ byte: UInt8) -> Int {
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101
        var j = i
        while j + 8 <= end {
            let differ = UInt64(littleEndian: UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self)) ^ pattern
            if differ != 0 { return j - i + differ.trailingZeroBitCount >> 3 }
            j += 8
        }
        while j < end && p[j] == byte { j += 1 }
        return j - i
    }

    struct SymbolCounter: TokenSink {
        let counts: UnsafeMutablePointer<UInt32>
        var matches = 0

        @inline(__always) mutating func literal(_ byte: UInt8) { counts[Int(byte)] &+= 1 }

        @inline(__always) mutating func run(_ length: Int) {
            counts[Int(lengthSymbols[length])] &+= 1
            matches += 1
        }
    }

    /// A block's codes as bit strings ready to put: a literal's code, and a run's whole
    /// match (length code, its extra bits, the 1-bit distance code) as one string. Each
    /// entry holds the bits in its low 24 bits and their number in the high 8.
    struct TokenTables {
        let literalBits: [UInt32]
        let matchBits: [UInt32]

        init(literals: HuffmanCode) {
            literalBits = (0..<256).map { UInt32(literals.codes[$0]) | UInt32(literals.lengths[$0]) << 24 }
            matchBits = (0...258).map { length in
                guard length >= 3 else { return 0 }
                let symbol = Int(lengthSymbols[length])
                let codeLength = UInt32(literals.lengths[symbol])
                let extraBits = UInt32(lengthExtraBits(symbol))
                let extra = UInt32(length - lengthBase(symbol))
                // Distance code 0 (distance 1) is the 1-bit code 0: one more zero bit.
                return UInt32(literals.codes[symbol]) | extra << codeLength | (codeLength + extraBits + 1) << 24
            }
        }
    }

    struct TokenWriter: TokenSink {
        var writer: BitWriter
        let literalBits: UnsafePointer<UInt32>
        let matchBits: UnsafePointer<UInt32>

        @inline(__always) mutating func literal(_ byte: UInt8) { put(literalBits[Int(byte)]) }
        @inline(__always) mutating func run(_ length: Int) { put(matchBits[length]) }

        @inline(__always) mutating func put(_ entry: UInt32) {
            writer.put(UInt64(entry & 0xFF_FFFF), UInt64(entry >> 24))
            writer.flush()
        }
    }

    // MARK: Deflate's alphabets (RFC 1951 §3.2.5)

    static let endOfBlock = 256
    static let literalLengthSymbols = 286
    static let lengthBases: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                     35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtras: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                      3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]

    static func lengthBase(_ symbol: Int) -> Int { lengthBases[symbol - 257] }
    static func lengthExtraBits(_ symbol: Int) -> Int { symbol > 256 ? lengthExtras[symbol - 257] : 0 }

    /// Length symbol of each match length 3...258 (258 is symbol 285, not 284 with all
    /// extra bits set, which some decoders reject).
    static let lengthSymbols: [UInt16] = (0...258).map { length in
        guard length >= 3 else { return 0 }
        if length == 258 { return 285 }
        let index = lengthBases.lastIndex { $0 <= length }!
        return UInt16(257 + index)
    }
}

/// A dynamic block's header after BFINAL and BTYPE: HLIT, HDIST, HCLEN, the code-length
/// code and the literal/length and distance code lengths in its run-length coding.
/// The distance code is always two codes of length 1 although only distance 1 (code 0) is
/// used: a complete code, which every inflater accepts.
struct DynamicHeader {
    static let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    static let distanceLengths: [UInt8] = [1, 1]

    let literalCount: Int
    /// Code-length symbols 0...18 with their extra bits' value.
    let items: [(symbol: UInt8, extra: UInt8)]
    let lengthCode: HuffmanCode
    let lengthCodeCount: Int

    init(literals: HuffmanCode) {
        var count = FastDeflate.literalLengthSymbols
        while count > 257 && literals.lengths[count - 1] == 0 { count -= 1 }
        literalCount = count
        items = Self.runLengthCoded(Array(literals.lengths[0..<count]) + Self.distanceLengths)
        var counts = [UInt32](repeating: 0, count: 19)
        for item in items { counts[Int(item.symbol)] += 1 }
        lengthCode = HuffmanCode(counts: counts, maxLength: 7)
        var n = 19
        while n > 4 && lengthCode.lengths[Self.order[n - 1]] == 0 { n -= 1 }
        lengthCodeCount = n
    }

    static func extraBits(_ symbol: UInt8) -> Int { symbol == 16 ? 2 : symbol == 17 ? 3 : symbol == 18 ? 7 : 0 }

    /// Header size in bits (after BFINAL and BTYPE).
    var bits: Int {
        var total = 5 + 5 + 4 + 3 * lengthCodeCount
        for item in items { total += Int(lengthCode.lengths[Int(item.symbol)]) + Self.extraBits(item.symbol) }
        return total
    }

    func write(_ writer: inout BitWriter) {
        writer.put(UInt64(literalCount - 257), 5)
        writer.put(UInt64(Self.distanceLengths.count - 1), 5)
        writer.put(UInt64(lengthCodeCount - 4), 4)
        writer.flush()
        for i in 0..<lengthCodeCount {
            writer.put(UInt64(lengthCode.lengths[Self.order[i]]), 3)
            writer.flush()
        }
        for item in items {
            let s = Int(item.symbol)
            writer.put(UInt64(lengthCode.codes[s]), UInt64(lengthCode.lengths[s]))
            writer.put(UInt64(item.extra), UInt64(Self.extraBits(item.symbol)))
            writer.flush()
        }
    }

    /// Code lengths with repeats folded: 16 repeats the previous length 3–6 times, 17 and
    /// 18 write 3–10 and 11–138 zeros.
    static func runLengthCoded(_ lengths: [UInt8]) -> [(symbol: UInt8, extra: UInt8)] {
        var items = [(symbol: UInt8, extra: UInt8)]()
        var i = 0
        while i < lengths.count {
            let l = lengths[i]
            var run = 1
            while i + run < lengths.count && lengths[i + run] == l { run += 1 }
            i += run
            if l == 0 {
                while run >= 11 {
                    let k = min(run, 138)
                    items.append((18, UInt8(k - 11)))
                    run -= k
                }
                if run >= 3 {
                    items.append((17, UInt8(run - 3)))
                    run = 0
                }
            } else {
                items.append((l, 0))
                run -= 1
                while run >= 3 {
                    let k = min(run, 6)
                    items.append((16, UInt8(k - 3)))
                    run -= k
                }
            }
            for _ in 0..<run { items.append((l, 0)) }
        }
        return items
    }
}
