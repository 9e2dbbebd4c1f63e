import ZarrCore

/// JPEG through libjpeg-turbo (`TurboJPEG`): gray images as one-component JPEGs, RGB with
/// 4:4:4 sampling (colour detail matters in microscopy composites).
public enum JPEGEncoder {
    public static func encode(_ image: DisplayImage, quality: Int) throws -> [UInt8] {
        guard image.bits == 8 else { throw RenderError.encoder("JPEG takes 8-bit samples, not \(image.bits)-bit") }
        guard image.width <= 65535, image.height <= 65535 else {
            throw RenderError.encoder("JPEG is limited to 65535 pixels a side (\(image.width)×\(image.height))")
        }
        let gray = image.samplesPerPixel == 1
        do {
            return try image.bytes.withUnsafeBufferPointer {
                try TurboJPEG.encode($0, width: image.width, height: image.height, samples: image.samplesPerPixel,
                                     sampling: gray ? .gray : .full444, quality: quality)
            }
        } catch let failure as TurboJPEG.Failure {
            throw RenderError.encoder("libjpeg-turbo: \(failure.description)")
        }
    }
}
