/// A canonical Huffman code as deflate stores it (RFC 1951 §3.2.2): a length per symbol,
/// codes assigned in symbol order within each length. `codes` are bit-reversed, because
/// deflate packs bits from the least significant end but sends a Huffman code from its
/// first (most significant) bit: a reversed code can be OR-ed into the bit buffer as is.
struct HuffmanCode {
    var lengths: [UInt8]
    var codes: [UInt16]

    /// The optimal code for `counts` whose lengths do not exceed `maxLength` (15 for the
    /// literal/length and distance codes, 7 for the code-length code). Unused symbols get
    /// length 0. At least two symbols always get a code, so the code is complete: zlib and
    /// browsers reject an incomplete literal/length code, and a lone symbol would need a
    /// code of length 0.
    init(counts: [UInt32], maxLength: Int) {
        self.init(lengths: Self.limitedLengths(counts: counts, maxLength: maxLength))
    }

    /// Canonical codes for the given lengths (RFC 1951 §3.2.2's algorithm).
    init(lengths: [UInt8]) {
        var perLength = [UInt16](repeating: 0, count: 16)
        for l in lengths where l > 0 { perLength[Int(l)] += 1 }
        var next = [UInt16](repeating: 0, count: 16)
        var code: UInt16 = 0
        for bits in 1..<16 {
            code = (code &+ perLength[bits - 1]) << 1
            next[bits] = code
        }
        var codes = [UInt16](repeating: 0, count: lengths.count)
        for (symbol, l) in lengths.enumerated() where l > 0 {
            codes[symbol] = Self.reversed(next[Int(l)], bits: Int(l))
            next[Int(l)] &+= 1
        }
        self.lengths = lengths
        self.codes = codes
    }

    static func reversed(_ code: UInt16, bits: Int) -> UInt16 {
        var result: UInt16 = 0
        for i in 0..<bits where code & (1 << i) != 0 { result |= 1 << (bits - 1 - i) }
        return result
    }

    /// Huffman lengths (Moffat and Katajainen's in-place method on the sorted counts), then
    /// lengths over `maxLength` clamped and the Kraft sum repaired by lengthening the
    /// deepest codes that can take it; the lengths go back to the symbols from the rarest
    /// (longest) up, so frequent symbols keep the short codes.
    static func limitedLengths(counts: [UInt32], maxLength: Int) -> [UInt8] {
        var symbols = counts.indices.filter { counts[$0] > 0 }
        // Complete code: pad with unused symbols (count 0 sorts them rarest).
        var filler = 0
        while symbols.count < 2 && filler < counts.count {
            if counts[filler] == 0 { symbols.append(filler) }
            filler += 1
        }
        symbols.sort { (counts[$0], $0) < (counts[$1], $1) }
        var lengths = [UInt8](repeating: 0, count: counts.count)
        guard symbols.count >= 2 else { return lengths }
        var a = symbols.map { Int(counts[$0]) }
        minimumRedundancy(&a)

        // a[i] is the length for symbols[i]; a is non-increasing.
        var perLength = [Int](repeating: 0, count: maxLength + 1)
        for l in a { perLength[min(l, maxLength)] += 1 }
        var kraft = 0  // in units of 2^-maxLength
        for l in 1...maxLength { kraft += perLength[l] << (maxLength - l) }
        while kraft > 1 << maxLength {
            // Drop one deepest code and split a shallower leaf into two one level deeper:
            // the number of codes stays, the Kraft sum falls by one unit.
            perLength[maxLength] -= 1
            for l in stride(from: maxLength - 1, through: 1, by: -1) where perLength[l] > 0 {
                perLength[l] -= 1
                perLength[l + 1] += 2
                break
            }
            kraft -= 1
        }
        var i = 0
        for l in stride(from: maxLength, through: 1, by: -1) {
            for _ in 0..<perLength[l] {
                lengths[symbols[i]] = UInt8(l)
                i += 1
            }
        }
        return lengths
    }

    /// Moffat and Katajainen, "In-place calculation of minimum-redundancy codes" (1995):
    /// `a` holds weights in non-decreasing order (at least two) and comes back holding each
    /// one's code length, with no tree or heap allocated.
    static func minimumRedundancy(_ a: inout [Int]) {
        let n = a.count
        a.withUnsafeMutableBufferPointer { a in
            // Phase 1: internal nodes' weights, parents as indices.
            a[0] += a[1]
            var root = 0, leaf = 2
            for next in 1..<(n - 1) {
                if leaf >= n || a[root] < a[leaf] {
                    a[next] = a[root]; a[root] = next; root += 1
                } else {
                    a[next] = a[leaf]; leaf += 1
                }
                if leaf >= n || (root < next && a[root] < a[leaf]) {
                    a[next] += a[root]; a[root] = next; root += 1
                } else {
                    a[next] += a[leaf]; leaf += 1
                }
            }
            // Phase 2: internal nodes' depths.
            a[n - 2] = 0
            var next = n - 3
            while next >= 0 {
                a[next] = a[a[next]] + 1
                next -= 1
            }
            // Phase 3: leaves' depths.
            var available = 1, used = 0, depth = 0
            var r = n - 2
            next = n - 1
            while available > 0 {
                while r >= 0 && a[r] == depth { used += 1; r -= 1 }
                while available > used { a[next] = depth; next -= 1; available -= 1 }
                available = 2 * used; depth += 1; used = 0
            }
        }
    }
}
