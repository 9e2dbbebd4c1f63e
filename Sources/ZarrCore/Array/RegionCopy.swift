import Foundation

/// Copies the block `size` from `src` (a C-order array of `srcShape`, starting at
/// `srcOrigin`) into `dst` (of `dstShape`, at `dstOrigin`). The innermost dimension is a
/// single memcpy, so the cost is one call per row of the block.
func copyBlock(
    src: UnsafeRawPointer, srcShape: [Int], srcOrigin: [Int],
    dst: UnsafeMutableRawPointer, dstShape: [Int], dstOrigin: [Int],
    size: [Int], elementSize: Int
) {
    let n = size.count
    if n == 0 { memcpy(dst, src, elementSize); return }
    if size.contains(0) { return }
    let srcStrides = cStrides(srcShape).map { $0 * elementSize }
    let dstStrides = cStrides(dstShape).map { $0 * elementSize }
    // Merge trailing dimensions that are contiguous in both buffers into one long row.
    var inner = n - 1
    var rowBytes = size[n - 1] * elementSize
    while inner > 0, size[inner] == srcShape[inner], size[inner] == dstShape[inner],
          srcOrigin[inner] == 0, dstOrigin[inner] == 0 {
        inner -= 1
        rowBytes *= size[inner]
    }
    var srcBase = 0, dstBase = 0
    for d in 0..<n {
        srcBase += srcOrigin[d] * srcStrides[d]
        dstBase += dstOrigin[d] * dstStrides[d]
    }
    if inner == 0 { memcpy(dst + dstBase, src + srcBase, rowBytes); return }
    let outer = Array(size[0..<inner])
    var idx = [Int](repeating: 0, count: inner)
    var s = srcBase, t = dstBase
    while true {
        memcpy(dst + t, src + s, rowBytes)
        var d = inner - 1
        while d >= 0 {
            idx[d] += 1
            s += srcStrides[d]
            t += dstStrides[d]
            if idx[d] < outer[d] { break }
            s -= srcStrides[d] * outer[d]
            t -= dstStrides[d] * outer[d]
            idx[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}

extension NDBuffer {
    /// The block `region` (in this buffer's coordinates) as a new buffer.
    public func extract(_ region: Region) -> NDBuffer {
        if region.origin.allSatisfy({ $0 == 0 }) && region.shape == shape { return self }
        if region.isEmpty { return NDBuffer(dataType: dataType, shape: region.shape, bytes: []) }
        let count = region.elementCount * dataType.size
        let out = [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
            bytes.withUnsafeBytes { src in
                copyBlock(src: src.baseAddress!, srcShape: shape, srcOrigin: region.origin,
                          dst: UnsafeMutableRawPointer(dst.baseAddress!), dstShape: region.shape,
                          dstOrigin: Array(repeating: 0, count: shape.count),
                          size: region.shape, elementSize: dataType.size)
            }
            initialized = count
        }
        return NDBuffer(dataType: dataType, shape: region.shape, bytes: out)
    }

    /// Copies `size` elements of `source` starting at `sourceOrigin` into this buffer at
    /// `origin`.
    public mutating func paste(_ source: NDBuffer, from sourceOrigin: [Int], to origin: [Int], size: [Int]) {
        if size.contains(0) { return }
        let shape = self.shape
        let elementSize = dataType.size
        bytes.withUnsafeMutableBytes { dst in
            source.bytes.withUnsafeBytes { src in
                copyBlock(src: src.baseAddress!, srcShape: source.shape, srcOrigin: sourceOrigin,
                          dst: dst.baseAddress!, dstShape: shape, dstOrigin: origin,
                          size: size, elementSize: elementSize)
            }
        }
    }
}

extension NDBuffer {
    /// Copies `region` out of a C-order array of `shape` that lives at `base` (a mapped
    /// file, a C library's buffer) without an intermediate copy of the whole source.
    public init(copying region: Region, from base: UnsafeRawPointer, shape: [Int], dataType: DataType) {
        let count = region.elementCount * dataType.size
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { dst, initialized in
            if count > 0 {
                copyBlock(src: base, srcShape: shape, srcOrigin: region.origin,
                          dst: UnsafeMutableRawPointer(dst.baseAddress!), dstShape: region.shape,
                          dstOrigin: Array(repeating: 0, count: shape.count), size: region.shape, elementSize: dataType.size)
            }
            initialized = count
        }
        self.init(dataType: dataType, shape: region.shape, bytes: bytes)
    }
}

/// Sets the block `size` at `origin` of the C-order array `dst` (of `shape`) to `pattern`
/// (one element's bytes): how reads fill the parts of a region no stored chunk covers.
func fillBlock(dst: UnsafeMutableRawPointer, shape: [Int], origin: [Int], size: [Int], pattern: [UInt8]) {
    let n = size.count
    let elementSize = pattern.count
    if size.contains(0) { return }
    if n == 0 { pattern.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress!, byteCount: elementSize) }; return }
    let strides = cStrides(shape).map { $0 * elementSize }
    let row = repeatedPattern(pattern, count: size[n - 1])
    let uniformByte: UInt8? = pattern.allSatisfy({ $0 == pattern[0] }) ? pattern[0] : nil
    var base = 0
    for d in 0..<n { base += origin[d] * strides[d] }
    let outer = Array(size[0..<(n - 1)])
    row.withUnsafeBytes { rowBytes in
        func fillRow(_ offset: Int) {
            if let b = uniformByte { memset(dst + offset, Int32(b), rowBytes.count) } else { (dst + offset).copyMemory(from: rowBytes.baseAddress!, byteCount: rowBytes.count) }
        }
        var idx = [Int](repeating: 0, count: n - 1)
        var offset = base
        while true {
            fillRow(offset)
            var d = n - 2
            while d >= 0 {
                idx[d] += 1
                offset += strides[d]
                if idx[d] < outer[d] { break }
                offset -= strides[d] * outer[d]
                idx[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
