import NGFF
@testable import Render
import Storage
import ZarrCore

/// Small NGFF images written into a MemoryStore for the render's unit tests.
enum TestImages {
    /// An image group at `path` whose level i is `levels[i]` (shape and little-endian
    /// values), 2× per level on y and x, with `omero` when given.
    static func write(store: any Store = MemoryStore(), path: String = "img", axes: [String], dataType: DataType,
                      levels: [(shape: [Int], bytes: [UInt8])], omero: JSONValue? = nil,
                      format: ZarrFormat = .v3) throws -> any Store {
        var datasets = [NGFFDataset]()
        for (i, level) in levels.enumerated() {
            let key = joinKey(path, String(i))
            let metadata = ArrayMetadata(format: format, shape: level.shape, chunkShape: level.shape.map { max(1, min($0, 4)) }, dataType: dataType)
            let array = ZarrArray(store: store, path: key, metadata: metadata, concurrency: 1)
            try array.write(Region(shape: level.shape), NDBuffer(dataType: dataType, shape: level.shape, bytes: level.bytes))
            try array.writeMetadata()
            let f = Double(1 << i)
            datasets.append(NGFFDataset(path: String(i), scale: axes.map { ["y", "x"].contains($0) ? f : 1 }, translation: axes.map { _ in 0 }))
        }
        let version: NGFFVersion = format == .v3 ? .v05 : .v04
        var attributes = NGFFImageMetadata.image(version: version, name: "test",
                                                 axes: axes.map { NGFFAxis(name: $0, type: $0 == "c" ? "channel" : $0 == "t" ? "time" : "space", unit: nil) },
                                                 datasets: datasets, type: "mean", omero: nil, defaultZ: 0, extra: [:])
        if let omero {
            if format == .v3, var ome = attributes["ome"]?.objectValue {
                ome["omero"] = omero
                attributes["ome"] = .object(ome)
            } else {
                attributes["omero"] = omero
            }
        }
        try Node.writeGroupMetadata(format: format, attributes: attributes, store: store, path: path)
        return store
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { [UInt8]($0) } }

    static func omero(colors: [String], windows: [(Double, Double)], active: [Bool]? = nil) -> JSONValue {
        .object([
            "channels": .array(colors.indices.map { i in
                .object(["color": .string(colors[i]), "active": .bool(active?[i] ?? true),
                         "window": .object(["min": .double(0), "max": .double(65535),
                                            "start": .double(windows[i].0), "end": .double(windows[i].1)])])
            }),
            "rdefs": .object(["defaultT": 0, "defaultZ": 0]),
        ])
    }
}
