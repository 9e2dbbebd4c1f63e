import ZarrCore

/// A DM image's tags as the source metadata Tessera keeps: the file's version and byte
/// order, the image's index, type, dimensions and calibrations (units as DM wrote them,
/// reciprocal and energy units included), and its whole tag group as JSON.
enum DMMetadata {
    /// Arrays longer than this are summarised (their type and length), not listed: the
    /// pixels themselves are an array, and some tags hold kilobytes of printer settings.
    static let maxListedElements = 256

    static func json(_ entry: DMImageEntry, document: DMDocument, axes: [String]) -> JSONValue {
        func calibration(_ c: DMCalibration) -> JSONValue {
            .object(["origin": number(c.origin), "scale": number(c.scale), "units": .string(c.units)])
        }
        var calibrations = [String: JSONValue]()
        for (axis, c) in zip(axes, entry.calibrations) { calibrations[axis] = calibration(c) }
        var out: [String: JSONValue] = [
            "dmVersion": JSONValue(document.version),
            "littleEndian": .bool(document.littleEndian),
            "imageIndex": JSONValue(entry.index),
            "dataType": JSONValue(entry.dataType),
            "dataTypeName": .string(DMImageType.name(entry.dataType)),
            "dimensions": JSONValue(entry.dimensions),
            "calibrations": .object(calibrations),
            "tags": group(entry.tags),
        ]
        if let b = entry.brightness { out["brightness"] = calibration(b) }
        if let name = entry.name { out["name"] = .string(name) }
        return .object(out)
    }

    /// A group whose entries are all unlabelled is a list; otherwise an object (unlabelled
    /// entries named `#i`, repeated labels `label#i`).
    static func group(_ g: DMGroup) -> JSONValue {
        if !g.entries.isEmpty, g.entries.allSatisfy({ $0.label.isEmpty }) { return .array(g.entries.map { value($0.value) }) }
        var object = [String: JSONValue]()
        for (i, e) in g.entries.enumerated() {
            var key = e.label.isEmpty ? "#\(i)" : e.label
            if object[key] != nil { key += "#\(i)" }
            // The pixels are an array too: however small, they are summarised, never listed.
            object[key] = e.label == "Data" ? summary(e.value) : value(e.value)
        }
        return .object(object)
    }

    static func value(_ v: DMValue) -> JSONValue {
        switch v {
        case let .int(i): return .int(i)
        case let .uint(u): return .uint(u)
        case let .real(d): return number(d)
        case let .bool(b): return .bool(b)
        case let .text(s): return .string(s)
        case let .structure(fields): return .array(fields.map(value))
        case let .group(g): return group(g)
        case let .array(a):
            if let text = a.utf16Text, a.count <= 4096 { return .string(text) }
            if let values = a.values, values.count <= maxListedElements { return .array(values.map(value)) }
            return summary(v)
        }
    }

    static func summary(_ v: DMValue) -> JSONValue {
        guard case let .array(a) = v else { return value(v) }
        return .object(["arrayOf": .string(a.elementType == 15 ? "struct" : "type \(a.elementType)"), "count": JSONValue(a.count)])
    }

    /// JSON has no NaN or infinity.
    static func number(_ d: Double) -> JSONValue { d.isFinite ? .double(d) : .string(String(d)) }
}
