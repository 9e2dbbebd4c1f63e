extension DisplayWindow {
    /// The 8-bit level `⌊fraction(x)·255 + ½⌋` of one value.
    @inline(__always) func level8(_ x: Double) -> UInt8 { UInt8(quantise(fraction(x), max: 255)) }

    /// The 8-bit levels of the integers `first ..< first + count`: the window table of
    /// ≤16-bit data. Values below and above the window get the levels of −∞ and +∞ (the
    /// formula clamps them to exactly those), so only the values inside it are computed:
    /// a 1,000-value window of uint16 data computes 1,000 entries, not 65,536.
    func levels8(from first: Int, count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            let o = out.baseAddress!
            guard start.isFinite, end.isFinite else {
                for j in 0..<count { (o + j).initialize(to: level8(Double(first + j))) }
                initialized = count
                return
            }
            // Table positions of the first value inside the window and of the first above
            // it (a window of two neighbouring reals holds no integer: inside is empty).
            let lowest = Double(first), past = Double(first + count)
            let inside = Int(Swift.min(Swift.max(Swift.min(start, end).rounded(.up), lowest), past)) - first
            let above = Swift.max(inside, Int(Swift.min(Swift.max(Swift.max(start, end).rounded(.down) + 1, lowest), past)) - first)
            o.initialize(repeating: level8(-.infinity), count: inside)
            for j in inside..<above { (o + j).initialize(to: level8(Double(first + j))) }
            (o + above).initialize(repeating: level8(.infinity), count: count - above)
            initialized = count
        }
    }
}
