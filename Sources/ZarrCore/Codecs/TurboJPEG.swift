import CTurboJPEG

/// The one door to libjpeg-turbo (TurboJPEG 2.1, Debian bookworm's): 8-bit grey and RGB
/// images in and out, on pooled handles (`TurboJPEGHandles`), every failure a `Failure`
/// the caller words for its own file or key. The `imagecodecs_jpeg` chunk codec, the DICOM
/// frame decoder and the render route's encoder all go through here.
public enum TurboJPEG {
    /// A JPEG image's geometry, from its header.
    public struct Header: Sendable, Equatable {
        public let width: Int
        public let height: Int
        /// 1 for a grey image, 3 for colour (decoded to RGB).
        public let samples: Int
    }

    public enum Sampling: Sendable {
        case gray, full444
    }

    public enum Failure: Error, Equatable {
        /// No handle could be made (out of memory).
        case unavailable
        /// The bytes do not start a JPEG image; libjpeg-turbo's words.
        case header(String)
        /// CMYK or YCCK: neither grey nor RGB.
        case colorspace
        /// The scan does not decode; warnings (a truncated or corrupt scan) count, since
        /// their pixels would be made up.
        case data(String)
        case encode(String)

        public var description: String {
            switch self {
            case .unavailable: "libjpeg-turbo could not start (out of memory)"
            case .header(let why): "not a JPEG image (\(why))"
            case .colorspace: "a CMYK/YCCK JPEG image (Tessera reads grey and RGB)"
            case .data(let why): "JPEG data does not decode (\(why))"
            case .encode(let why): "JPEG compression failed (\(why))"
            }
        }
    }

    /// Decodes `bytes` to interleaved 8-bit samples: `samples` 1 or 3 converts to grey or
    /// RGB, nil keeps the image's own (grey stays grey, colour becomes RGB). `accept` sees
    /// the header before anything is allocated and throws to refuse the image. ISLOW IDCT
    /// and fancy upsampling: the defaults slide readers (OpenSlide, Pillow) decode with.
    public static func decode(_ bytes: [UInt8], samples wanted: Int? = nil, accept: (Header) throws -> Void) throws -> [UInt8] {
        try TurboJPEGHandles.decompressors.borrow { handle in
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            let status = bytes.withUnsafeBufferPointer {
                tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
            }
            guard status == 0 else { throw Failure.header(lastError(handle)) }
            let samples: Int
            if let wanted {
                samples = wanted
            } else {
                switch colorspace {
                case Int32(TJCS_GRAY.rawValue): samples = 1
                case Int32(TJCS_YCbCr.rawValue), Int32(TJCS_RGB.rawValue): samples = 3
                default: throw Failure.colorspace
                }
            }
            let header = Header(width: Int(width), height: Int(height), samples: samples)
            try accept(header)
            guard width > 0, height > 0, samples == 1 || samples == 3,
                  let n = checkedProduct([header.width, header.height, samples]) else { throw Failure.header("no pixels") }
            let format = samples == 1 ? TJPF_GRAY : TJPF_RGB
            var decoded: Int32 = -1
            let out = [UInt8](unsafeUninitializedCapacity: n) { dst, initialized in
                decoded = bytes.withUnsafeBufferPointer { src in
                    tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, width, 0, height, Int32(format.rawValue), 0)
                }
                initialized = decoded == 0 ? n : 0
            }
            guard decoded == 0 else { throw Failure.data(lastError(handle)) }
            return out
        }
    }

    /// The JPEG of a `width`×`height` image of `samples` (1 grey, 3 RGB) interleaved 8-bit
    /// samples per pixel, at libjpeg's `quality` (1...100).
    public static func encode(_ pixels: UnsafeBufferPointer<UInt8>, width: Int, height: Int, samples: Int,
                              sampling: Sampling, quality: Int) throws -> [UInt8] {
        guard samples == 1 || samples == 3, width >= 1, height >= 1, width <= Int(Int32.max), height <= Int(Int32.max),
              checkedProduct([width, height, samples]) == pixels.count else {
            throw Failure.encode("\(pixels.count) samples are not a \(width)×\(height) image of \(samples) per pixel")
        }
        let subsampling = sampling == .gray ? TJSAMP_GRAY : TJSAMP_444
        return try TurboJPEGHandles.compressors.borrow { handle in
            let bound = tjBufSize(Int32(width), Int32(height), Int32(subsampling.rawValue))
            guard bound != UInt.max, bound > 0 else { throw Failure.encode("no size bound for a \(width)×\(height) image") }
            var size = bound
            var status: Int32 = -1
            let out = [UInt8](unsafeUninitializedCapacity: Int(bound)) { dst, initialized in
                var target: UnsafeMutablePointer<UInt8>? = dst.baseAddress
                status = tjCompress2(handle, pixels.baseAddress, Int32(width), 0, Int32(height),
                                     Int32((samples == 1 ? TJPF_GRAY : TJPF_RGB).rawValue),
                                     &target, &size, Int32(subsampling.rawValue), Int32(quality), TJFLAG_NOREALLOC)
                initialized = status == 0 && size <= bound ? Int(size) : 0
            }
            guard status == 0, size <= bound else { throw Failure.encode(lastError(handle)) }
            return out
        }
    }

    private static func lastError(_ handle: tjhandle) -> String { String(cString: tjGetErrorStr2(handle)) }
}
