import Foundation
import ZarrCore

/// One pyramid level of a slide as an image `c, y, x` (`c` = red, green, blue) of uint8.
/// A region is read with `openslide_read_region` on the calling worker's own handle, in bands
/// of at most `bandPixels` pixels so the ARGB scratch buffer stays small whatever the region.
final class SlideImage: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    let pool: SlideHandlePool
    let level: Int
    /// Level-0 pixels per pixel of this level (OpenSlide's region origin is in level-0 pixels).
    let downsample: Double
    let pixels: PremultipliedARGB
    /// The slide's lower levels (for level 0 only): width, height, downsample.
    let lowerLevels: [(width: Int, height: Int, downsample: Double)]
    /// Level 0 read as the TIFF page it is, when the slide allows (`AperioLevelZero`).
    let tiffLevelZero: TIFFImage?

    static let bandPixels = 4 << 20

    init(description: ImageDescription, pool: SlideHandlePool, level: Int, downsample: Double, pixels: PremultipliedARGB,
         lowerLevels: [(width: Int, height: Int, downsample: Double)] = [], tiffLevelZero: TIFFImage? = nil) {
        self.description = tiffLevelZero?.description ?? description
        self.pool = pool
        self.level = level
        self.downsample = downsample
        self.pixels = pixels
        self.lowerLevels = lowerLevels
        self.tiffLevelZero = tiffLevelZero
    }

    func read(_ region: Region) throws -> NDBuffer {
        let shape = description.shape
        guard region.origin.count == 3, region.shape.count == 3, Region(shape: shape).contains(region) else {
            throw SourceError(pool.path, "region \(region) is outside the slide level of shape \(shape)")
        }
        if let tiffLevelZero { return try tiffLevelZero.read(region) }
        let channels = region.origin[0]..<(region.origin[0] + region.shape[0])
        let (y0, height) = (region.origin[1], region.shape[1])
        let (x0, width) = (region.origin[2], region.shape[2])
        let plane = width * height // both ≤ the level's sides, each ≤ 2^31: no overflow in Int
        let count = plane * channels.count
        guard count > 0 else { return NDBuffer(dataType: .uint8, shape: region.shape, bytes: []) }
        let bandRows = max(1, min(height, Self.bandPixels / width))
        let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: bandRows * width)
        defer { scratch.deallocate() }
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = count
            let out = buffer.baseAddress!
            do {
                try pool.withHandle { handle in
                    var row = 0
                    while row < height {
                        let rows = min(bandRows, height - row)
                        try handle.readRegion(into: scratch, x: levelZero(x0), y: levelZero(y0 + row), level: level,
                                              width: width, height: rows)
                        pixels.convert(scratch, count: rows * width, channels: channels, into: out + row * width, planeStride: plane)
                        row += rows
                    }
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return NDBuffer(dataType: .uint8, shape: region.shape, bytes: bytes)
    }

    /// A coordinate of this level in level-0 pixels, as openslide-python computes it for
    /// `read_region` callers (level coordinate × downsample, truncated).
    private func levelZero(_ v: Int) -> Int { level == 0 ? v : Int(Double(v) * downsample) }
}

extension SlideImage: StoredPyramid {
    /// The slide's own lower levels (`--use-existing-levels`; `tessera info` lists them),
    /// each read with OpenSlide at that level.
    func reducedLevels() -> [any ImageSource] {
        lowerLevels.enumerated().map { k, l in
            var d = description
            d.shape = [3, l.height, l.width]
            d.readBlock = [3, min(description.readBlock[1], l.height), min(description.readBlock[2], l.width)]
            return SlideImage(description: d, pool: pool, level: k + 1, downsample: l.downsample, pixels: pixels)
        }
    }
}

/// An associated image of a slide (label, macro, thumbnail, …): small pictures OpenSlide
/// only reads whole. Each read decodes it whole (bounded at open by `maxPixels`) and cuts
/// the region out; conversions read such an image in one or a few blocks.
final class SlideAssociatedImage: ImageSource, @unchecked Sendable {
    let description: ImageDescription
    let pool: SlideHandlePool
    let associatedName: String
    let pixels: PremultipliedARGB

    /// 16 Mi pixels (64 MiB of ARGB): real labels and macros are a few megapixels.
    static let maxPixels = 16 << 20

    init(description: ImageDescription, pool: SlideHandlePool, name: String, pixels: PremultipliedARGB) {
        self.description = description
        self.pool = pool
        self.associatedName = name
        self.pixels = pixels
    }

    func read(_ region: Region) throws -> NDBuffer {
        let shape = description.shape
        guard region.origin.count == 3, region.shape.count == 3, Region(shape: shape).contains(region) else {
            throw SourceError(pool.path, "region \(region) is outside associated image '\(associatedName)' of shape \(shape)")
        }
        let (height, width) = (shape[1], shape[2])
        let channels = region.origin[0]..<(region.origin[0] + region.shape[0])
        let (y0, rows) = (region.origin[1], region.shape[1])
        let (x0, cols) = (region.origin[2], region.shape[2])
        let count = channels.count * rows * cols
        guard count > 0 else { return NDBuffer(dataType: .uint8, shape: region.shape, bytes: []) }
        let whole = UnsafeMutablePointer<UInt32>.allocate(capacity: width * height)
        defer { whole.deallocate() }
        try pool.withHandle { try $0.readAssociatedImage(associatedName, into: whole) }
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = count
            let out = buffer.baseAddress!
            for r in 0..<rows {
                pixels.convert(whole + (y0 + r) * width + x0, count: cols, channels: channels, into: out + r * cols,
                               planeStride: rows * cols)
            }
        }
        return NDBuffer(dataType: .uint8, shape: region.shape, bytes: bytes)
    }
}
