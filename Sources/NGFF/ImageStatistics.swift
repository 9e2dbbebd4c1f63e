import Foundation
import Storage
import ZarrCore

/// Per-channel statistics of every level-0 pixel of an image (all t and z), written at
/// conversion as `{image}/.tessera-stats.bin` so `stats=image` windows need no pixel read.
///
/// 8- and 16-bit types (and bool) keep an exact histogram: bin = value (+128 / +32768 for
/// signed types). Every other type keeps a 65,536-bin histogram of an order-preserving
/// 16-bit key (`key(_:)`, the top 16 bits of a float32's ordered bits: sign, exponent and
/// 7 mantissa bits), with the exact minimum and maximum and NaNs counted apart.
///
/// The file: "TSS1", then little-endian UInt64 words — version, kind (0 exact, 1 keyed),
/// data type name (up to 8 ASCII bytes), channel axis (UInt64.max: none), rank, level-0
/// shape, channels, and per channel: count of non-NaN values, NaN count, min and max (as
/// Double bit patterns), the number of non-empty bins, and (bin, count) pairs in rising
/// bin order — then an FNV-1a 64 checksum of every byte before it. Anything that does not
/// parse whole, or whose checksum, counts or bins do not add up, is refused.
public struct ImageStatistics: Sendable, Equatable {
    public static let fileName = StoreKey.bookkeepingPrefix + "-stats.bin"
    static let magic = Array("TSS1".utf8)
    static let version: UInt64 = 1
    /// Far above any real file (≤ 65,536 pairs per channel), so a damaged length cannot make
    /// the reader allocate without bound.
    public static let maxBytes = 256 << 20

    public enum Kind: UInt64, Sendable { case exact = 0, keyed = 1 }

    public struct Channel: Sendable, Equatable {
        /// Values counted (NaNs excluded).
        public var count: Int
        public var nanCount: Int
        /// Exact extremes of the non-NaN values (0 when there are none).
        public var min: Double
        public var max: Double
        /// `binCount` counts (see the type's comment for what a bin is).
        public var bins: [Int]

        public init(count: Int, nanCount: Int, min: Double, max: Double, bins: [Int]) {
            (self.count, self.nanCount, self.min, self.max, self.bins) = (count, nanCount, min, max, bins)
        }
    }

    public var kind: Kind
    public var dataType: DataType
    public var channelAxis: Int?
    public var shape: [Int]
    public var channels: [Channel]

    public init(kind: Kind, dataType: DataType, channelAxis: Int?, shape: [Int], channels: [Channel]) {
        (self.kind, self.dataType, self.channelAxis, self.shape, self.channels) = (kind, dataType, channelAxis, shape, channels)
    }

    /// Bins per channel of `kind`, and the value of bin 0 for exact histograms.
    public static func layout(_ dataType: DataType) -> (kind: Kind, bins: Int, offset: Int)? {
        switch dataType {
        case .bool, .uint8: return (.exact, 256, 0)
        case .int8: return (.exact, 256, 128)
        case .uint16: return (.exact, 65536, 0)
        case .int16: return (.exact, 65536, 32768)
        case .float16: return nil
        case .float32, .float64, .int32, .uint32, .int64, .uint64: return (.keyed, 65536, 0)
        }
    }

    /// The order-preserving 16-bit key of a (non-NaN) value: float32 bits with the sign
    /// flipped for positives and every bit flipped for negatives, top 16 kept.
    @inline(__always)
    public static func key(_ value: Float) -> Int {
        let u = value.bitPattern
        return Int((u ^ (u >> 31 == 0 ? 0x8000_0000 : 0xFFFF_FFFF)) >> 16)
    }

    /// The smallest float32 whose key is `bin` (NaN for the bins only NaNs have).
    public static func lowerEdge(_ bin: Int) -> Double {
        let ordered = UInt32(truncatingIfNeeded: bin) << 16
        let u = ordered & 0x8000_0000 != 0 ? ordered ^ 0x8000_0000 : ~ordered
        return Double(Float(bitPattern: u))
    }

    // MARK: - The file

    public var bytes: [UInt8] {
        var words: [UInt64] = [Self.version, kind.rawValue, Self.packName(dataType.rawValue),
                               channelAxis.map { UInt64($0) } ?? .max, UInt64(shape.count)]
        words += shape.map { UInt64($0) }
        words.append(UInt64(channels.count))
        for c in channels {
            words += [UInt64(c.count), UInt64(c.nanCount), c.min.bitPattern, c.max.bitPattern]
            let pairs = c.bins.enumerated().filter { $0.element > 0 }
            words.append(UInt64(pairs.count))
            for (bin, n) in pairs { words += [UInt64(bin), UInt64(n)] }
        }
        var out = Self.magic
        out.reserveCapacity(4 + 8 * (words.count + 1))
        for w in words { withUnsafeBytes(of: w.littleEndian) { out += $0 } }
        withUnsafeBytes(of: Self.fnv1a(out).littleEndian) { out += $0 }
        return out
    }

    /// Parses a stats file; `name` is what errors call it.
    public init(parsing bytes: [UInt8], name: String) throws {
        func bad(_ why: String) -> ImageStatisticsError { .damaged(name, why) }
        guard bytes.count >= 12, Array(bytes[0..<4]) == Self.magic else { throw bad("it does not start with TSS1") }
        guard bytes.count % 8 == 4 else { throw bad("it is truncated (\(bytes.count) bytes)") }
        let words: [UInt64] = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count - 4) / 8).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 4 + 8 * $0, as: UInt64.self)) }
        }
        guard words.last == Self.fnv1a(Array(bytes[..<(bytes.count - 8)])) else {
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
        guard version == Self.version else { throw bad("version \(version) is not known (this Tessera reads \(Self.version))") }
        guard let kind = Kind(rawValue: UInt64(try next("kind", max: 1))) else { throw bad("unknown kind") }
        let typeName = Self.unpackName(try nextBits("data type"))
        guard let dataType = DataType(rawValue: typeName), let layout = Self.layout(dataType), layout.kind == kind else {
            throw bad("data type '\(typeName)' does not go with its kind")
        }
        let axisWord = try nextBits("channel axis")
        let rank = try next("rank", max: 32)
        let channelAxis: Int? = axisWord == .max ? nil : Int(axisWord)
        if let channelAxis, channelAxis >= rank { throw bad("its channel axis \(channelAxis) is outside rank \(rank)") }
        var shape = [Int]()
        for _ in 0..<rank { shape.append(try next("shape")) }
        let channelCount = try next("channel count", max: 1 << 16)
        if let channelAxis, shape[channelAxis] != channelCount { throw bad("it has \(channelCount) channels for a channel axis of \(shape[channelAxis])") }
        var channels = [Channel]()
        for k in 0..<channelCount {
            let count = try next("channel \(k) count"), nans = try next("channel \(k) NaN count")
            let lo = Double(bitPattern: try nextBits("channel \(k) minimum")), hi = Double(bitPattern: try nextBits("channel \(k) maximum"))
            let pairs = try next("channel \(k) bin count", max: UInt64(layout.bins))
            var bins = [Int](repeating: 0, count: layout.bins)
            var sum = 0, previous = -1
            for _ in 0..<pairs {
                let bin = try next("channel \(k) bin", max: UInt64(layout.bins - 1)), n = try next("channel \(k) bin count")
                guard bin > previous, n > 0 else { throw bad("channel \(k)'s bins are not rising and non-empty") }
                let (s, overflow) = sum.addingReportingOverflow(n)
                guard !overflow else { throw bad("channel \(k)'s counts overflow") }
                (bins[bin], sum, previous) = (n, s, bin)
            }
            guard sum == count else { throw bad("channel \(k)'s bins add up to \(sum), not its count \(count)") }
            guard count == 0 || (!lo.isNaN && !hi.isNaN && lo <= hi) else { throw bad("channel \(k)'s minimum and maximum are not in order") }
            channels.append(Channel(count: count, nanCount: nans, min: lo, max: hi, bins: bins))
        }
        guard at == body.endIndex else { throw bad("it has \(body.endIndex - at) words after its last channel") }
        self.init(kind: kind, dataType: dataType, channelAxis: channelAxis, shape: shape, channels: channels)
    }

    /// The image's stats file at `imagePath`, or nil when it has none; a damaged file throws
    /// `ImageStatisticsError.damaged` naming it.
    public static func read(store: any Store, imagePath: String) throws -> ImageStatistics? {
        let key = joinKey(imagePath, fileName)
        guard let bytes = try store.get(key, limit: maxBytes) else { return nil }
        return try ImageStatistics(parsing: bytes, name: store.describe(key))
    }

    /// Writes the file beside the image's metadata (the store's `set` publishes whole:
    /// a temporary file renamed into place on disk, one PUT on S3).
    public func write(store: any Store, imagePath: String) throws {
        try store.set(joinKey(imagePath, Self.fileName), bytes)
    }

    static func packName(_ name: String) -> UInt64 {
        var w: UInt64 = 0
        for (i, b) in name.utf8.prefix(8).enumerated() { w |= UInt64(b) << (8 * UInt64(i)) }
        return w
    }

    static func unpackName(_ w: UInt64) -> String {
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: w >> (8 * UInt64($0))) }.prefix { $0 != 0 }
        return String(decoding: bytes.filter { $0 < 0x80 }, as: UTF8.self)
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

public enum ImageStatisticsError: Error, CustomStringConvertible, Equatable, Sendable {
    case damaged(String, String)

    public var description: String {
        switch self {
        case let .damaged(name, why): return "\(name) is not a usable statistics file: \(why)"
        }
    }
}
