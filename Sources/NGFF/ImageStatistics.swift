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
/// The file is written as version 2 ("TSS2", `ImageStatistics+V2.swift`: varints, a few
/// bytes a bin); version 1 ("TSS1", `ImageStatistics+V1.swift`: 16 bytes a bin), written by
/// earlier releases, is still read. Anything that does not parse whole, or whose checksum,
/// counts or bins do not add up, is refused naming the file.
public struct ImageStatistics: Sendable, Equatable {
    public static let fileName = StoreKey.bookkeepingPrefix + "-stats.bin"
    /// Far above any real file (≤ 65,536 bins per channel), so a damaged length cannot make
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

    /// The file's bytes: always version 2 (`ImageStatistics+V2.swift`).
    public var bytes: [UInt8] { encodedV2() }

    /// Parses a stats file of either version; `name` is what errors call it.
    public init(parsing bytes: [UInt8], name: String) throws {
        func bad(_ why: String) -> ImageStatisticsError { .damaged(name, why) }
        guard bytes.count >= 4, bytes[0..<3].elementsEqual("TSS".utf8) else { throw bad("it does not start with TSS1 or TSS2") }
        switch bytes[3] {
        case UInt8(ascii: "1"): self = try Self.parsedV1(bytes, name: name)
        case UInt8(ascii: "2"): self = try Self.parsedV2(bytes, name: name)
        default: throw bad("its version '\(String(decoding: bytes[0..<4], as: UTF8.self))' is not known (this Tessera reads TSS1 and TSS2)")
        }
    }

    /// Checks what both versions must agree on, and builds the value: the channel axis
    /// inside the shape and as long as the channel list, each channel's bins adding up to
    /// its count, and its extremes in order.
    static func validated(kind: Kind, dataType: DataType, channelAxis: Int?, shape: [Int], channels: [Channel],
                          bad: (String) -> ImageStatisticsError) throws -> ImageStatistics {
        if let channelAxis {
            guard channelAxis < shape.count else { throw bad("its channel axis \(channelAxis) is outside rank \(shape.count)") }
            guard shape[channelAxis] == channels.count else {
                throw bad("it has \(channels.count) channels for a channel axis of \(shape[channelAxis])")
            }
        }
        for (k, c) in channels.enumerated() {
            var sum = 0
            for n in c.bins where n != 0 {
                let (s, overflow) = sum.addingReportingOverflow(n)
                guard !overflow, n > 0 else { throw bad("channel \(k)'s counts overflow") }
                sum = s
            }
            guard sum == c.count else { throw bad("channel \(k)'s bins add up to \(sum), not its count \(c.count)") }
            guard c.count == 0 || (!c.min.isNaN && !c.max.isNaN && c.min <= c.max) else {
                throw bad("channel \(k)'s minimum and maximum are not in order")
            }
        }
        return ImageStatistics(kind: kind, dataType: dataType, channelAxis: channelAxis, shape: shape, channels: channels)
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
}

public enum ImageStatisticsError: Error, CustomStringConvertible, Equatable, Sendable {
    case damaged(String, String)

    public var description: String {
        switch self {
        case let .damaged(name, why): return "\(name) is not a usable statistics file: \(why)"
        }
    }

    /// What is wrong, without the file's name.
    public var reason: String {
        switch self {
        case let .damaged(_, why): return why
        }
    }
}
