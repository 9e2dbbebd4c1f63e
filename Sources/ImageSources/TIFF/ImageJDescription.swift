import Foundation

/// The `ImageJ=` description ImageJ and tifffile (`imagej=True`) write into the first page:
/// `key=value` lines saying how the pages of a hyperstack are ordered (channels fastest,
/// then slices, then frames) and the physical units of the resolution tags.
struct ImageJDescription: Equatable {
    var images = 1
    var channels = 1
    var slices = 1
    var frames = 1
    /// z step, in `unit`.
    var spacing: Double?
    /// The length unit of `spacing` and of the resolution tags, as an NGFF name.
    var unit: String?
    /// Seconds (or `timeUnit`) between frames.
    var frameInterval: Double?
    var timeUnit: String?

    /// channels · slices · frames, or nil when that overflows (a hostile description).
    var hyperstackPlanes: Int? {
        let (cz, o1) = channels.multipliedReportingOverflow(by: slices)
        let (czt, o2) = cz.multipliedReportingOverflow(by: frames)
        return o1 || o2 ? nil : czt
    }

    /// Nil when `text` is not an ImageJ description.
    init?(_ text: String?) {
        guard let text, text.hasPrefix("ImageJ=") else { return nil }
        var values = [String: String]()
        for line in text.split(whereSeparator: \.isNewline) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq]).trimmingCharacters(in: .whitespaces)] =
                String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        }
        func count(_ key: String) -> Int { values[key].flatMap { Int($0) }.map { max(1, $0) } ?? 1 }
        channels = count("channels")
        slices = count("slices")
        frames = count("frames")
        images = values["images"].flatMap { Int($0) }.map { max(1, $0) } ?? hyperstackPlanes ?? 1
        spacing = values["spacing"].flatMap(Double.init).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        unit = values["unit"].flatMap(Self.ngffLengthUnit)
        frameInterval = values["finterval"].flatMap(Double.init).flatMap { $0 > 0 && $0.isFinite ? $0 : nil }
        timeUnit = Self.ngffTimeUnit(values["tunit"] ?? "sec")
    }

    /// ImageJ writes `micron`, `um`, `\u00B5m` (escaped, as Java properties do) or `µm`.
    static func ngffLengthUnit(_ text: String) -> String? {
        let unescaped = text.replacingOccurrences(of: "\\u00B5", with: "µ").replacingOccurrences(of: "\\u00b5", with: "µ")
        switch unescaped.lowercased() {
        case "micron", "microns", "micrometer", "micrometre": return "micrometer"
        case "nanometer", "nanometre": return "nanometer"
        case "millimeter", "millimetre": return "millimeter"
        case "inch", "inches": return "inch"
        default:
            guard let unit = OMEDocument.ngffUnit(unescaped), !["second", "millisecond", "microsecond", "nanosecond",
                                                                "picosecond", "minute", "hour", "day"].contains(unit) else { return nil }
            return unit
        }
    }

    static func ngffTimeUnit(_ text: String) -> String? {
        switch text.lowercased() {
        case "sec", "s", "second", "seconds": return "second"
        case "ms", "msec", "millisecond", "milliseconds": return "millisecond"
        case "min", "minute", "minutes": return "minute"
        case "h", "hr", "hour", "hours": return "hour"
        default: return OMEDocument.ngffUnit(text)
        }
    }
}
