import ZarrCore

/// Version 2 of the stats file (written since session 28): a few bytes a non-empty bin
/// instead of version 1's 16.
///
///     "TSS2" | payload length: UInt32 LE | CRC-32C of the payload: UInt32 LE | payload
///
/// The payload is unsigned LEB128 varints: kind (0 exact, 1 keyed), the data type name's
/// length and ASCII bytes, channel axis + 1 (0: none), rank, the level-0 shape, the channel
/// count, and per channel: count of non-NaN values, NaN count, min and max (8 bytes each,
/// the Double bit patterns, little-endian), the number of non-empty bins and, when there
/// are any, the first one's index, then where the others are in one of two forms, whichever
/// is shorter —
/// - 0, gaps: for each following non-empty bin, its distance from the one before minus 1
///   (consecutive bins: one 0 byte each);
/// - 1, bitmap: the span (last − first) and ⌈span/8⌉ bytes, bit i (LSB first) set when bin
///   first + 1 + i is non-empty (dense histograms, such as a noisy 16-bit image's: a bit a bin);
/// then every non-empty bin's count as the zigzag varint of its difference from the count
/// before (the first from 0): neighbouring counts of a smooth histogram differ little.
extension ImageStatistics {
    static let magicV2 = Array("TSS2".utf8)
    static let headerBytesV2 = 12

    func encodedV2() -> [UInt8] {
        var p = [UInt8]()
        // Clamped, not trapping: every value is a count or a size, never negative here.
        func put(_ v: Int) { LEB128.append(UInt64(clamping: v), to: &p) }
        func putBits(_ d: Double) { withUnsafeBytes(of: d.bitPattern.littleEndian) { p += $0 } }
        put(Int(kind.rawValue))
        let name = Array(dataType.rawValue.utf8)
        put(name.count)
        p += name
        put(channelAxis.map { $0 + 1 } ?? 0)
        put(shape.count)
        for d in shape { put(d) }
        put(channels.count)
        for c in channels {
            put(c.count)
            put(c.nanCount)
            putBits(c.min)
            putBits(c.max)
            let filled = c.bins.indices.filter { c.bins[$0] > 0 }
            put(filled.count)
            guard let first = filled.first, let last = filled.last else { continue }
            put(first)
            var gaps = [UInt8]()
            for (a, b) in zip(filled, filled.dropFirst()) { LEB128.append(UInt64(b - a - 1), to: &gaps) }
            let span = last - first
            if gaps.count <= (span + 7) / 8 {
                put(0)
                p += gaps
            } else {
                put(1)
                put(span)
                var bitmap = [UInt8](repeating: 0, count: (span + 7) / 8)
                for bin in filled.dropFirst() {
                    let i = bin - first - 1
                    bitmap[i >> 3] |= 1 << UInt8(i & 7)
                }
                p += bitmap
            }
            var previous = 0
            for bin in filled {
                // Both are in 0…Int.max, so the difference cannot overflow.
                LEB128.append(LEB128.zigzag(Int64(c.bins[bin] - previous)), to: &p)
                previous = c.bins[bin]
            }
        }
        var out = Self.magicV2
        out.reserveCapacity(Self.headerBytesV2 + p.count)
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: p.count).littleEndian) { out += $0 }
        withUnsafeBytes(of: crc32c(p).littleEndian) { out += $0 }
        return out + p
    }

    static func parsedV2(_ bytes: [UInt8], name: String) throws -> ImageStatistics {
        func bad(_ why: String) -> ImageStatisticsError { .damaged(name, why) }
        guard bytes.count >= headerBytesV2 else { throw bad("it is truncated (\(bytes.count) bytes, shorter than its header)") }
        func word(_ at: Int) -> UInt32 {
            bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        }
        let length = Int(word(4)), have = bytes.count - headerBytesV2
        guard have >= length else { throw bad("it is truncated (\(have) of its \(length) payload bytes)") }
        guard have == length else { throw bad("it has \(have - length) bytes after its \(length) payload bytes") }
        let payload = Array(bytes[headerBytesV2...])
        guard crc32c(payload) == word(8) else { throw bad("its checksum does not match (damaged)") }

        var r = LEB128.Reader(payload, from: 0, to: payload.count)
        func next(_ what: String, max limit: Int = Int.max) throws -> Int {
            let v: UInt64
            do { v = try r.next() } catch .ended { throw bad("it ends before its \(what)") } catch { throw bad("its \(what) is not a valid number") }
            guard v <= UInt64(limit) else { throw bad("its \(what) (\(v)) is out of range") }
            return Int(v)
        }
        func raw(_ n: Int, _ what: String) throws -> ArraySlice<UInt8> {
            do { return try r.take(n) } catch { throw bad("it ends before its \(what)") }
        }
        func bits(_ what: String) throws -> Double {
            var w: UInt64 = 0
            for (i, b) in try raw(8, what).enumerated() { w |= UInt64(b) << (8 * UInt64(i)) }
            return Double(bitPattern: w)
        }

        guard let kind = Kind(rawValue: UInt64(try next("kind", max: 1))) else { throw bad("unknown kind") }
        let typeName = String(decoding: try raw(try next("data type length", max: 16), "data type"), as: UTF8.self)
        guard let dataType = DataType(rawValue: typeName), let layout = layout(dataType), layout.kind == kind else {
            throw bad("data type '\(typeName)' does not go with its kind")
        }
        let axis = try next("channel axis", max: 33)
        let rank = try next("rank", max: 32)
        var shape = [Int]()
        for _ in 0..<rank { shape.append(try next("shape")) }
        let channelCount = try next("channel count", max: 1 << 16)
        var channels = [Channel]()
        for k in 0..<channelCount {
            let count = try next("channel \(k) count"), nans = try next("channel \(k) NaN count")
            let lo = try bits("channel \(k) minimum"), hi = try bits("channel \(k) maximum")
            let filledCount = try next("channel \(k) non-empty bin count", max: layout.bins)
            var bins = [Int](repeating: 0, count: layout.bins)
            if filledCount > 0 {
                var filled = [try next("channel \(k) first bin", max: layout.bins - 1)]
                filled.reserveCapacity(filledCount)
                switch try next("channel \(k) bin form", max: 1) {
                case 0:
                    for _ in 1..<filledCount {
                        let gap = try next("channel \(k) bin gap", max: layout.bins)
                        let bin = filled[filled.count - 1] + gap + 1
                        guard bin < layout.bins else { throw bad("channel \(k)'s bin \(bin) is past the last (\(layout.bins - 1))") }
                        filled.append(bin)
                    }
                default:
                    let span = try next("channel \(k) bin span", max: layout.bins - 1 - filled[0])
                    for (byteIndex, byte) in try raw((span + 7) / 8, "channel \(k) bin bitmap").enumerated() where byte != 0 {
                        for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 {
                            let i = byteIndex * 8 + bit
                            guard i < span else { throw bad("channel \(k)'s bitmap marks a bin past its span") }
                            filled.append(filled[0] + 1 + i)
                        }
                    }
                    guard filled.count == filledCount, filled.last == filled[0] + span else {
                        throw bad("channel \(k)'s bitmap marks \(filled.count) bins ending at \(filled.last ?? 0), not \(filledCount) ending at \(filled[0] + span)")
                    }
                }
                var previous: Int64 = 0
                for bin in filled {
                    let delta: UInt64
                    do { delta = try r.next() } catch { throw bad("it ends before channel \(k)'s counts") }
                    let (n, overflow) = previous.addingReportingOverflow(LEB128.unzigzag(delta))
                    guard !overflow, n > 0 else { throw bad("channel \(k)'s bin \(bin) has a count that is not positive") }
                    (bins[bin], previous) = (Int(n), n)
                }
            }
            channels.append(Channel(count: count, nanCount: nans, min: lo, max: hi, bins: bins))
        }
        guard r.at == r.end else { throw bad("it has \(r.end - r.at) bytes after its last channel") }
        return try validated(kind: kind, dataType: dataType, channelAxis: axis == 0 ? nil : axis - 1,
                             shape: shape, channels: channels, bad: bad)
    }
}
