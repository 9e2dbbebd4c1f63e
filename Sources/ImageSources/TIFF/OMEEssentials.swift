import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZarrCore

/// The OME-XML essentials the catalogue harvests (Docs/catalog.md, "Harvest"), as text
/// scopes (`textual`: OME writes numbers and dates as attribute text, typed by the harvest):
/// - `ome/Image[i]`: `AcquisitionDate`; `Pixels.<attribute>` (every attribute but ID, in
///   name order); `Channel.Name`, `Channel.EmissionWavelength`, `Channel.ExcitationWavelength`
///   (one row per channel that has it); `Plane.DeltaT`, `Plane.ExposureTime` of the first plane;
/// - `ome/Instrument[j]`: `Objective.NominalMagnification`, `Objective.LensNA`, `Objective.Immersion`;
/// - `ome/MapAnnotation[k]`: each `<M K="key">value</M>`.
public enum OMEEssentials {
    public static func scopes(_ xml: String) -> [JSONValue] {
        let collector = Collector()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.shouldProcessNamespaces = true
        parser.delegate = collector
        _ = parser.parse()
        return collector.scopes.map { scope in
            .object(["scope": .string(scope.name), "textual": true,
                     "entries": .array(scope.entries.map { .array([.string($0.0), .string($0.1)]) })])
        }
    }

    private final class Collector: NSObject, XMLParserDelegate {
        struct Scope { var name: String; var entries: [(String, String)] = [] }
        var scopes: [Scope] = []
        var counts: [String: Int] = [:]
        var text: String?
        var planeSeen = false
        var mapKey: String?
        var current: Int?

        func open(_ kind: String) {
            let n = counts[kind, default: 0]
            counts[kind] = n + 1
            scopes.append(Scope(name: "ome/\(kind)[\(n)]"))
            current = scopes.count - 1
        }

        func add(_ key: String, _ value: String?) {
            guard let value, let current else { return }
            scopes[current].entries.append((key, value))
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes a: [String: String] = [:]) {
            switch name {
            case "Image":
                open("Image")
                planeSeen = false
            case "Instrument": open("Instrument")
            case "MapAnnotation": open("MapAnnotation")
            case "AcquisitionDate": text = ""
            case "Pixels":
                for key in a.keys.sorted() where key != "ID" { add("Pixels.\(key)", a[key]) }
            case "Channel":
                for key in ["Name", "EmissionWavelength", "ExcitationWavelength"] { add("Channel.\(key)", a[key]) }
            case "Plane" where !planeSeen:
                planeSeen = true
                for key in ["DeltaT", "ExposureTime"] { add("Plane.\(key)", a[key]) }
            case "Objective":
                for key in ["NominalMagnification", "LensNA", "Immersion"] { add("Objective.\(key)", a[key]) }
            case "M":
                mapKey = a["K"]
                text = ""
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            text? += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "AcquisitionDate": add("AcquisitionDate", text?.trimmingCharacters(in: .whitespacesAndNewlines))
            case "M": if let key = mapKey { add(key, text ?? "") }
            case "Image", "Instrument", "MapAnnotation": current = nil
            default: break
            }
            if name == "AcquisitionDate" || name == "M" { text = nil; mapKey = nil }
        }
    }
}
