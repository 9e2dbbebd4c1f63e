import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The parts of an OME-XML document a conversion needs: per image, its dimensions,
/// physical sizes, channels, and which TIFF page holds which plane.
struct OMEDocument {
    struct Channel {
        var name: String?
        var color: String?
        var samplesPerPixel: Int?
    }

    /// A `TiffData` element: `planeCount` planes starting at plane (z, c, t) live in
    /// consecutive IFDs from `ifd`, in `fileName` (nil = the file holding the XML).
    struct TiffData {
        var ifd: Int?
        var firstZ = 0, firstC = 0, firstT = 0
        var planeCount: Int?
        var fileName: String?
    }

    struct Image {
        var name: String?
        var dimensionOrder = "XYZCT"
        var pixelType = ""
        var sizes: [Character: Int] = [:]
        /// Physical size per axis letter (X, Y, Z, T) with its NGFF unit.
        var physical: [Character: (value: Double, unit: String)] = [:]
        var channels: [Channel] = []
        var tiffData: [TiffData] = []

        func size(_ axis: Character) -> Int { max(1, sizes[axis] ?? 1) }

        /// The plane index of (z, c, t) when planes are stored in `dimensionOrder`.
        func planeIndex(z: Int, c: Int, t: Int, channelPlanes: Int) -> Int {
            var index = 0, stride = 1
            for axis in dimensionOrder.dropFirst(2) {
                let (value, extent) = axis == "Z" ? (z, size("Z")) : axis == "C" ? (c, channelPlanes) : (t, size("T"))
                index += value * stride
                stride *= extent
            }
            return index
        }
    }

    var images: [Image] = []

    static func parse(_ xml: String, path: String) throws -> OMEDocument {
        let collector = Collector()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldProcessNamespaces = true
        parser.delegate = collector
        guard parser.parse() else {
            throw SourceError(path, "malformed OME-XML: \(parser.parserError.map { "\($0.localizedDescription)" } ?? "parse error")")
        }
        return OMEDocument(images: collector.images)
    }

    /// Maps OME's unit symbols to the NGFF (UDUNITS) names readers expect.
    static func ngffUnit(_ symbol: String) -> String? {
        let table: [String: String] = [
            "Å": "angstrom", "pm": "picometer", "nm": "nanometer", "µm": "micrometer", "μm": "micrometer", "um": "micrometer",
            "mm": "millimeter", "cm": "centimeter", "dm": "decimeter", "m": "meter", "km": "kilometer", "in": "inch", "ft": "foot",
            "s": "second", "ms": "millisecond", "µs": "microsecond", "μs": "microsecond", "ns": "nanosecond", "ps": "picosecond",
            "min": "minute", "h": "hour", "d": "day",
        ]
        return table[symbol]
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var images: [Image] = []
        var current: Image?
        var inPixels = false
        var pendingTiffData: TiffData?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes a: [String: String] = [:]) {
            switch name {
            case "Image":
                current = Image(name: a["Name"])
            case "Pixels":
                guard current != nil else { return }
                inPixels = true
                current!.dimensionOrder = a["DimensionOrder"] ?? "XYZCT"
                current!.pixelType = a["Type"] ?? ""
                for axis in "XYZCT" { current!.sizes[axis] = a["Size\(axis)"].flatMap { Int($0) } }
                for axis in "XYZ" {
                    if let v = a["PhysicalSize\(axis)"].flatMap(Double.init), v > 0 {
                        let unit = a["PhysicalSize\(axis)Unit"].flatMap(OMEDocument.ngffUnit) ?? "micrometer"
                        current!.physical[axis] = (v, unit)
                    }
                }
                if let v = a["TimeIncrement"].flatMap(Double.init), v > 0 {
                    current!.physical["T"] = (v, a["TimeIncrementUnit"].flatMap(OMEDocument.ngffUnit) ?? "second")
                }
            case "Channel" where inPixels:
                current?.channels.append(Channel(name: a["Name"], color: a["Color"].flatMap(Self.hexColor),
                                                 samplesPerPixel: a["SamplesPerPixel"].flatMap { Int($0) }))
            case "TiffData" where inPixels:
                pendingTiffData = TiffData(ifd: a["IFD"].flatMap { Int($0) }, firstZ: a["FirstZ"].flatMap { Int($0) } ?? 0,
                                           firstC: a["FirstC"].flatMap { Int($0) } ?? 0, firstT: a["FirstT"].flatMap { Int($0) } ?? 0,
                                           planeCount: a["PlaneCount"].flatMap { Int($0) })
            case "UUID":
                if pendingTiffData != nil { pendingTiffData!.fileName = a["FileName"] }
            default: break
            }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "TiffData":
                if let t = pendingTiffData { current?.tiffData.append(t) }
                pendingTiffData = nil
            case "Pixels": inPixels = false
            case "Image":
                if let image = current { images.append(image) }
                current = nil
            default: break
            }
        }

        /// OME colours are signed 32-bit RGBA integers.
        static func hexColor(_ text: String) -> String? {
            guard let v = Int64(text) else { return nil }
            let rgba = UInt32(truncatingIfNeeded: v)
            return String(format: "%06X", rgba >> 8)
        }
    }
}
