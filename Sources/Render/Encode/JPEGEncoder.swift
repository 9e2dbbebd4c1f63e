import CTurboJPEG

/// JPEG through TurboJPEG 2.1 (Debian's libjpeg-turbo): gray images as one-component
/// JPEGs, RGB with 4:4:4 sampling (colour detail matters in microscopy composites).
/// One compressor per call, as the DICOM decoder does with its decompressors: creating
/// one is cheap next to compressing a picture.
public enum JPEGEncoder {
    public static func encode(_ image: DisplayImage, quality: Int) throws -> [UInt8] {
        guard image.bits == 8 else { throw RenderError.encoder("JPEG takes 8-bit samples, not \(image.bits)-bit") }
        guard image.width <= 65535, image.height <= 65535 else {
            throw RenderError.encoder("JPEG is limited to 65535 pixels a side (\(image.width)×\(image.height))")
        }
        guard let handle = tjInitCompress() else { throw RenderError.encoder("libjpeg-turbo could not start a compressor") }
        defer { tjDestroy(handle) }
        let gray = image.samplesPerPixel == 1
        let format = gray ? Int32(TJPF_GRAY.rawValue) : Int32(TJPF_RGB.rawValue)
        let sampling = gray ? Int32(TJSAMP_GRAY.rawValue) : Int32(TJSAMP_444.rawValue)
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let rc = image.bytes.withUnsafeBufferPointer { src in
            tjCompress2(handle, src.baseAddress, Int32(image.width), 0, Int32(image.height), format,
                        &buffer, &size, sampling, Int32(quality), 0)
        }
        defer { if let buffer { tjFree(buffer) } }
        guard rc == 0, let buffer else {
            throw RenderError.encoder("libjpeg-turbo: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }
}
