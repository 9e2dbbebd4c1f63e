import ZarrCore

/// Version 1 of the stats file, written by earlier releases and still read (never written):
/// "TSS1", then little-endian UInt64 words — version (1), kind (0 exact, 1 keyed), data type
/// name (up to 8 ASCII bytes), channel axis (UInt64.max: none), rank, level-0 shape,
/// channels, and per channel: count of non-NaN values, NaN count, min and max (as Double bit
/// patterns), the number of non-empty bins, and (bin, count) pairs in rising bin order —
/// then an FNV-1a 64 checksum of every byte before it.
extension ImageStatistics {
    static func parsedV1(_ bytes: [UInt8], name: String) throws -> ImageStatistics {
        func bad(_ why: String) -> ImageStatisticsError { .damaged(name, why) }
        guard bytes.count >= 12 else { throw bad("it is truncated (\(bytes.count) bytes)") }
        guard bytes.count % 8 == 4 else { throw bad("it is truncated (\(bytes.count) bytes)") }
        let words: [UInt64] = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count - 4) / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 4 + 8 * $0, as: UInt64.self)) }
        }
        guard words.last == fnv1a(bytes[..<(bytes.count - 8)]) else {
            throw bad("its checksum does not match (truncated or damaged)")
        }
        let body = words.dropLast()
        var at = body.startIndex
        func next(_ what: String, max limit: UInt64 = UInt64(Int.max)) throws -> Int {
            guard at < body.endIndex else { throw bad("it ends before its \(what)") }
            let w = body[at]
            guard w <= limit else { throw bad("its \(what) (\(w)) is out of range") }
            at += 1
            return Int(w)
        }
        func nextBits(_ what: String) throws -> UInt64 {
            guard at < body.endIndex else { throw bad("it ends before its \(what)") }
            at += 1
            return body[at - 1]
        }
        let version = try next("version")
        guard version == 1 else { throw bad("version \(version) does not go with TSS1") }
        guard let kind = Kind(rawValue: UInt64(try next("kind", max: 1))) else { throw bad("unknown kind") }
        let typeName = unpackName(try nextBits("data type"))
        guard let dataType = DataType(rawValue: typeName), let layout = layout(dataType), layout.kind == kind else {
            throw bad("data type '\(typeName)' does not go with its kind")
        }
        let axisWord = try nextBits("channel axis")
        let rank = try next("rank", max: 32)
        var shape = [Int]()
        for _ in 0..<rank { shape.append(try next("shape")) }
        let channelCount = try next("channel count", max: 1 << 16)
        var channels = [Channel]()
        for k in 0..<channelCount {
            let count = try next("channel \(k) count"), nans = try next("channel \(k) NaN count")
            let lo = Double(bitPattern: try nextBits("channel \(k) minimum")), hi = Double(bitPattern: try nextBits("channel \(k) maximum"))
            let pairs = try next("channel \(k) bin count", max: UInt64(layout.bins))
            var bins = [Int](repeating: 0, count: layout.bins)
            var previous = -1
            for _ in 0..<pairs {
                let bin = try next("channel \(k) bin", max: UInt64(layout.bins - 1)), n = try next("channel \(k) bin count")
                guard bin > previous, n > 0 else { throw bad("channel \(k)'s bins are not rising and non-empty") }
                (bins[bin], previous) = (n, bin)
            }
            channels.append(Channel(count: count, nanCount: nans, min: lo, max: hi, bins: bins))
        }
        guard at == body.endIndex else { throw bad("it has \(body.endIndex - at) words after its last channel") }
        return try validated(kind: kind, dataType: dataType, channelAxis: axisWord == .max ? nil : Int(clamping: axisWord),
                             shape: shape, channels: channels, bad: bad)
    }

    static func unpackName(_ w: UInt64) -> String {
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) }.prefix { $0 != 0 }
        return String(decoding: bytes.filter { $0 < 0x80 }, as: UTF8.self)
    }

    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
