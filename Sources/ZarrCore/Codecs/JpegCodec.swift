/// Lossy 8-bit JPEG as imagecodecs' numcodecs codec writes and reads it (Zarr v2
/// compressor `{"id": "imagecodecs_jpeg", "level": Q}`), through libjpeg-turbo.
///
/// A chunk is coded as one grey JPEG image `rowLength` pixels wide (the chunk's last
/// extent) and as many rows as the rest of the chunk holds: a `c,y,x` chunk of 3×256×256
/// is a 768×256 image, its channel planes stacked. imagecodecs decodes that to a 768×256
/// array and zarr reshapes it to the chunk by element count, in C order, so the
/// elements come back in place. Decoding takes any 8-bit JPEG whose samples fill the
/// chunk (grey, or colour decoded to interleaved RGB as imagecodecs does), whatever its
/// width: what a reader needs is the element count, never the image's geometry.
///
/// Zarr v2 only: no Zarr v3 reader knows a JPEG codec (Docs/convert.md, "Lossy JPEG").
public struct JpegCodec: BytesToBytesCodec {
    public static let v2ID = "imagecodecs_jpeg"
    public static let qualities = 1...100
    public static let defaultQuality = 90
    /// libjpeg's JPEG_MAX_DIMENSION: no JPEG image is wider or taller.
    public static let maxDimension = 65500

    /// libjpeg's quality scale (imagecodecs' `level`).
    public var quality: Int
    /// Pixels per image row: the last extent of the chunks this codec encodes.
    public var rowLength: Int

    public init(quality: Int = JpegCodec.defaultQuality, rowLength: Int) {
        self.quality = quality
        self.rowLength = rowLength
    }

    /// The codec for writing chunks of `chunkShape` elements of `dataType`, or a usage
    /// error saying why JPEG cannot hold them: only 8-bit data, a quality in 1...100, and
    /// chunks whose image fits JPEG's 65500 × 65500 pixels.
    public init(quality: Int?, dataType: DataType, chunkShape: [Int]) throws {
        let quality = quality ?? Self.defaultQuality
        guard Self.qualities.contains(quality) else {
            throw UsageError("JPEG quality (--level) must be 1...100, got \(quality)")
        }
        guard dataType == .uint8 else {
            throw UsageError("JPEG holds 8-bit data only (uint8), not \(dataType.rawValue): use a lossless codec for this image")
        }
        let width = chunkShape.last ?? 1
        let rows = checkedProduct(Array(chunkShape.dropLast())) ?? Int.max
        guard width >= 1, rows >= 1, width <= Self.maxDimension, rows <= Self.maxDimension else {
            throw UsageError("a chunk of \(chunkShape.map(String.init).joined(separator: "×")) is a \(width)×\(rows) JPEG image; "
                             + "JPEG allows at most \(Self.maxDimension) × \(Self.maxDimension): choose smaller --chunks")
        }
        self.init(quality: quality, rowLength: width)
    }

    /// The numcodecs configuration of a stored array. Only what changes decoding is
    /// checked: abbreviated streams (`tables`, `header`) and colour conversions
    /// (`colorspace_*`) are refused; encoder-only members (subsampling, optimize, …) are
    /// ignored.
    init(v2 c: JSONValue, dataType: DataType, chunkShape: [Int], key: String) throws {
        guard dataType == .uint8 else {
            throw ZarrError.unsupported(key: key, what: "\(Self.v2ID) on dtype \(dataType.rawValue) (Tessera reads 8-bit JPEG chunks only)")
        }
        for member in ["tables", "header", "colorspace_data", "colorspace_jpeg"] {
            if let v = c[member], v != .null { throw ZarrError.unsupported(key: key, what: "\(Self.v2ID) with '\(member)'") }
        }
        let quality = c["level"]?.intValue ?? Self.defaultQuality
        self.init(quality: Self.qualities.contains(quality) ? quality : Self.defaultQuality, rowLength: max(1, chunkShape.last ?? 1))
    }

    /// No reader decodes this name in a v3 `codecs` list; it is never written there
    /// (convert and copy refuse, or replace it).
    public var metadata: JSONValue { codecMetadata(Self.v2ID, ["level": JSONValue(quality)]) }
    public var v2Metadata: JSONValue? { ["id": .string(Self.v2ID), "level": JSONValue(quality)] }

    public func encode(_ bytes: [UInt8]) throws -> [UInt8] {
        let rows = bytes.count / max(rowLength, 1)
        guard rows * rowLength == bytes.count, rows >= 1, rows <= Self.maxDimension, rowLength <= Self.maxDimension else {
            throw ZarrError.invalidRequest("JPEG: \(bytes.count) bytes are not an image of rows \(rowLength) pixels wide of at most \(Self.maxDimension) rows")
        }
        do {
            return try bytes.withUnsafeBufferPointer {
                try TurboJPEG.encode($0, width: rowLength, height: rows, samples: 1, sampling: .gray, quality: quality)
            }
        } catch let failure as TurboJPEG.Failure {
            throw ZarrError.invalidRequest(failure.description)
        }
    }

    /// Decodes to at most `maxDecodedSize` samples: the header's size is checked before
    /// anything is allocated.
    public func decode(_ bytes: [UInt8], maxDecodedSize: Int) throws -> [UInt8] {
        do {
            return try TurboJPEG.decode(bytes) { header in
                guard let n = checkedProduct([header.width, header.height, header.samples]), n <= maxDecodedSize else {
                    throw corrupt("JPEG image of \(header.width)×\(header.height)×\(header.samples) samples is more than the "
                                  + "\(maxDecodedSize) a chunk of this array holds")
                }
            }
        } catch let failure as TurboJPEG.Failure {
            throw corrupt(failure.description)
        }
    }

    /// tjBufSize's worst case for a 4:4:4 colour image of the chunk's geometry: three times
    /// the grey image this codec writes, and room for colour JPEGs other writers store.
    public func maxEncodedSize(_ n: Int) -> Int? {
        let rows = n / max(rowLength, 1) + 1
        return checkedProduct([(rowLength + 15) / 16 * 16, (rows + 15) / 16 * 16, 6]).flatMap { checkedSum([$0, 64 << 10]) }
    }
}
