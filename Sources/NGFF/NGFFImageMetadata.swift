import ZarrCore

/// One level of an image as `multiscales.datasets` lists it.
public struct NGFFDataset: Sendable {
    public var path: String
    public var scale: [Double]
    public var translation: [Double]

    public init(path: String, scale: [Double], translation: [Double]) {
        self.path = path
        self.scale = scale
        self.translation = translation
    }
}

/// An axis as NGFF declares it.
public struct NGFFAxis: Sendable {
    public var name: String
    public var type: String
    public var unit: String?

    public init(name: String, type: String, unit: String?) {
        self.name = name
        self.type = type
        self.unit = unit
    }
}

/// One channel of the transitional `omero` rendering block.
public struct OmeroChannel: Sendable {
    public var label: String
    public var color: String
    public var window: (min: Double, max: Double, start: Double, end: Double)
    /// Integer data gets integer window values.
    public var integral: Bool

    public init(label: String, color: String, window: (min: Double, max: Double, start: Double, end: Double), integral: Bool) {
        self.label = label
        self.color = color
        self.window = window
        self.integral = integral
    }
}

/// Builds the NGFF attributes Tessera writes, always in 0.5 shape first and translated
/// to 0.4 by `NGFFAttributes.translate`, so both versions come from one description.
public enum NGFFImageMetadata {
    /// Attributes of an image group: `multiscales`, `omero`, plus `extra` (non-NGFF keys).
    public static func image(version: NGFFVersion, name: String, axes: [NGFFAxis], datasets: [NGFFDataset],
                             type: String, omero: [OmeroChannel]?, defaultZ: Int, extra: [String: JSONValue]) -> [String: JSONValue] {
        let multiscale: JSONValue = .object([
            "name": .string(name),
            "axes": .array(axes.map { axis in
                var o: [String: JSONValue] = ["name": .string(axis.name), "type": .string(axis.type)]
                if let unit = axis.unit { o["unit"] = .string(unit) }
                return .object(o)
            }),
            "datasets": .array(datasets.map { d in
                .object([
                    "path": .string(d.path),
                    "coordinateTransformations": .array([
                        .object(["type": "scale", "scale": .array(d.scale.map(number))]),
                        .object(["type": "translation", "translation": .array(d.translation.map(number))]),
                    ]),
                ])
            }),
            "type": .string(type),
        ])
        var ome: [String: JSONValue] = ["version": .string(NGFFVersion.v05.rawValue), "multiscales": .array([multiscale])]
        if let omero { ome["omero"] = omeroBlock(name: name, channels: omero, defaultZ: defaultZ) }
        return finish(ome, version: version, extra: extra)
    }

    /// The root of a bioformats2raw layout: images at `0/`, `1/`, … and `OME/`.
    public static func bioformats2rawRoot(version: NGFFVersion, extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        finish(["version": .string(NGFFVersion.v05.rawValue), "bioformats2raw.layout": 3], version: version, extra: extra)
    }

    /// The `OME/` group of a bioformats2raw layout, listing the series.
    public static func omeSeries(version: NGFFVersion, series: [String]) -> [String: JSONValue] {
        finish(["version": .string(NGFFVersion.v05.rawValue), "series": .array(series.map { .string($0) })], version: version, extra: [:])
    }

    /// The `labels/` group listing label images.
    public static func labelsGroup(version: NGFFVersion, names: [String]) -> [String: JSONValue] {
        finish(["version": .string(NGFFVersion.v05.rawValue), "labels": .array(names.map { .string($0) })], version: version, extra: [:])
    }

    static func omeroBlock(name: String, channels: [OmeroChannel], defaultZ: Int) -> JSONValue {
        .object([
            "name": .string(name),
            "channels": .array(channels.map { c in
                func value(_ v: Double) -> JSONValue {
                    guard v.isFinite else { return .double(0) }
                    return c.integral && abs(v) < 9e15 ? .int(Int64(v)) : .double(v)
                }
                return .object([
                    "label": .string(c.label), "color": .string(c.color), "active": true, "coefficient": 1,
                    "family": "linear", "inverted": false,
                    "window": .object(["min": value(c.window.min), "max": value(c.window.max),
                                       "start": value(c.window.start), "end": value(c.window.end)]),
                ])
            }),
            "rdefs": .object(["model": channels.count == 1 ? "greyscale" : "color", "defaultZ": JSONValue(defaultZ), "defaultT": 0]),
        ])
    }

    /// 0.5: NGFF keys under `ome`; 0.4: translated to top-level keys with per-object versions.
    static func finish(_ ome: [String: JSONValue], version: NGFFVersion, extra: [String: JSONValue]) -> [String: JSONValue] {
        var attributes = extra
        // Keys the caller already put under `ome` (e.g. `image-label`) stay beside ours.
        attributes["ome"] = .object((extra["ome"]?.objectValue ?? [:]).merging(ome) { _, ours in ours })
        return version == .v05 ? attributes : NGFFAttributes.translate(attributes, to: .v04)
    }

    /// Whole numbers as integers keeps metadata tidy (`1` rather than `1.0`).
    static func number(_ v: Double) -> JSONValue {
        v == v.rounded() && abs(v) < 9e15 ? .int(Int64(v)) : .double(v)
    }
}
