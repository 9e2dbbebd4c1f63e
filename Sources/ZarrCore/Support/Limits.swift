import Storage

/// The bounds Tessera puts on what it reads, because metadata and chunk headers come
/// from whoever wrote the store (Docs/limits.md says why each number is what it is).
public enum Limits {
    /// A metadata document (`zarr.json`, `.zarray`, `.zattrs`, ...) larger than this is
    /// refused before it is parsed: real ones, OME attributes included, are kilobytes.
    public static let metadataBytes = 64 << 20

    /// No stored object is read whole if it is larger than this (Storage's bound, which
    /// S3 answers are cut off at too).
    public static let objectBytes = StorageLimits.objectBytes

    /// The most bytes a compressor may turn `n` bytes into: zstd's, deflate's and blosc's
    /// worst cases are all below n + n/256 + 64 KiB; n/16 leaves room for other writers
    /// (several frames, gzip header fields). nil if that does not fit in an Int.
    public static func compressedBound(_ n: Int) -> Int? {
        checkedSum([n, n / 16, 64 << 10])
    }
}

/// The product of sizes read from metadata, or nil if it does not fit in an Int. A
/// zero anywhere makes the product zero, whatever the other factors are.
public func checkedProduct(_ values: [Int]) -> Int? {
    if values.contains(0) { return 0 }
    var product = 1
    for v in values {
        let (p, overflow) = product.multipliedReportingOverflow(by: v)
        if overflow { return nil }
        product = p
    }
    return product
}

/// The sum of sizes, or nil if it does not fit in an Int.
public func checkedSum(_ values: [Int]) -> Int? {
    var sum = 0
    for v in values {
        let (s, overflow) = sum.addingReportingOverflow(v)
        if overflow { return nil }
        sum = s
    }
    return sum
}

/// ⌈a / b⌉ for a ≥ 0, b > 0, without the `a + b - 1` that overflows near Int.max.
public func ceilDiv(_ a: Int, _ b: Int) -> Int { a / b + (a % b == 0 ? 0 : 1) }

/// `a + b`, clamped to Int.max: for totals of sizes a listing reports (a server may say
/// anything), where a wrong-but-huge total is better than a crash.
public func saturatingAdd(_ a: Int, _ b: Int) -> Int {
    let (s, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? Int.max : Int.min) : s
}
