import ZarrCore

/// How one channel is drawn, read from the image's `omero` block (transitional in NGFF,
/// but what napari, vizarr and OMERO agree on).
public struct DisplayChannel: Sendable, Equatable {
    public var label: String?
    /// 0–255 per component; white when omero gives none.
    public var color: (red: Double, green: Double, blue: Double)
    /// `window.start/end`, nil when the block has no usable window.
    public var window: (start: Double, end: Double)?
    public var active: Bool
    public var inverted: Bool

    public static func == (a: DisplayChannel, b: DisplayChannel) -> Bool {
        a.label == b.label && a.color == b.color && a.active == b.active && a.inverted == b.inverted
            && a.window?.start == b.window?.start && a.window?.end == b.window?.end
    }
}

/// The parts of `omero` a render uses. Unknown or malformed fields fall back to the
/// defaults (a display hint is not worth refusing an image over), except a `family`
/// other than `linear`, which would draw something other than what the image asks for.
public struct OmeroReadModel: Sendable, Equatable {
    public var channels: [DisplayChannel]
    public var defaultT: Int?
    public var defaultZ: Int?

    /// nil when `omero` is absent or has no channel list.
    public init?(_ omero: JSONValue?, image: String) throws {
        guard let omero, let list = omero["channels"]?.arrayValue else { return nil }
        channels = try list.enumerated().map { i, c in
            if let family = c["family"]?.stringValue, family != "linear" {
                throw RenderError.unsupportedImage(image, "omero channel \(i) has family '\(family)'; only 'linear' is drawn")
            }
            var window: (Double, Double)?
            if let s = c["window"]?["start"]?.doubleValue, let e = c["window"]?["end"]?.doubleValue, s.isFinite, e.isFinite, s <= e {
                window = (s, e)
            }
            return DisplayChannel(label: c["label"]?.stringValue, color: Self.color(c["color"]?.stringValue) ?? (255, 255, 255),
                                  window: window, active: c["active"]?.boolValue ?? true, inverted: c["inverted"]?.boolValue ?? false)
        }
        defaultT = omero["rdefs"]?["defaultT"]?.intValue
        defaultZ = omero["rdefs"]?["defaultZ"]?.intValue
    }

    /// `RRGGBB`, or `RRGGBBAA` with the alpha ignored; nil for anything else.
    static func color(_ hex: String?) -> (Double, Double, Double)? {
        guard let hex, hex.count == 6 || hex.count == 8, let v = UInt32(hex.prefix(6), radix: 16) else { return nil }
        return (Double((v >> 16) & 0xFF), Double((v >> 8) & 0xFF), Double(v & 0xFF))
    }
}
