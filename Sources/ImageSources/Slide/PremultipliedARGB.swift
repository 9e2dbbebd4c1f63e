import Foundation

/// OpenSlide's pixels — 32-bit words 0xAARRGGBB with the colour premultiplied by alpha —
/// turned into RGB. Two steps, each as the reference reader does it, so Tessera's pixels equal
/// openslide-python's byte for byte:
/// 1. un-premultiply as openslide-python's `_convert.c` does: alpha 255 → the colour as is;
///    alpha 0 → 0; otherwise `255 · c / a` in integers, truncated to 8 bits;
/// 2. composite onto the slide's background colour (`openslide.background-color`, white when
///    absent) as openslide-python's `get_thumbnail` does with Pillow's `paste(tile, mask=tile)`:
///    `(c · a + bg · (255 − a)) / 255`, rounded the way Pillow's `DIV255` rounds.
/// Opaque pixels (every pixel of a TIFF-based slide's tissue) therefore keep their colour
/// exactly; transparent ones (gaps between MIRAX/VMS tiles) become the background.
struct PremultipliedARGB: Sendable, Equatable {
    /// Background red, green, blue.
    var background: (UInt8, UInt8, UInt8)

    static func == (a: Self, b: Self) -> Bool { a.background == b.background }

    /// `openslide.background-color` is six hex digits (`RRGGBB`); anything else means white.
    init(backgroundHex: String?) {
        let hex = backgroundHex?.trimmingCharacters(in: .whitespaces) ?? ""
        if hex.count == 6, let v = UInt32(hex, radix: 16) {
            background = (UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF))
        } else {
            background = (255, 255, 255)
        }
    }

    /// One sample: `c` premultiplied, `a` alpha, `bg` background sample.
    @inline(__always)
    static func composite(_ c: UInt32, alpha a: UInt32, background bg: UInt32) -> UInt8 {
        if a == 255 { return UInt8(truncatingIfNeeded: c) }
        let straight = a == 0 ? 0 : UInt32(UInt8(truncatingIfNeeded: 255 * c / a))
        return blend(straight, alpha: a, background: bg)
    }

    /// A straight (not premultiplied) sample `c` with alpha `a` over background `bg`, as
    /// Pillow's `paste` with a mask blends: `(c · a + bg · (255 − a)) / 255`, rounded by DIV255.
    @inline(__always)
    static func blend(_ c: UInt32, alpha a: UInt32, background bg: UInt32) -> UInt8 {
        let t = c * a + bg * (255 - a) + 128
        return UInt8(truncatingIfNeeded: ((t >> 8) + t) >> 8)
    }

    /// Writes samples `channels` (0 red, 1 green, 2 blue) of `count` pixels to planes
    /// `planeStride` bytes apart starting at `out` (channel `channels.lowerBound` first).
    func convert(_ src: UnsafePointer<UInt32>, count: Int, channels: Range<Int>, into out: UnsafeMutablePointer<UInt8>,
                 planeStride: Int) {
        let bg = [UInt32(background.0), UInt32(background.1), UInt32(background.2)]
        for (k, channel) in channels.enumerated() {
            let shift = UInt32(16 - 8 * channel)
            let b = bg[channel]
            let dst = out + k * planeStride
            for i in 0..<count {
                let v = src[i]
                dst[i] = Self.composite(v >> shift & 0xFF, alpha: v >> 24, background: b)
            }
        }
    }
}
