import ZarrCore

/// The data formats (npy, tiff, h5): values, not pictures. Each gets the same
/// description of what was rendered (Docs/render.md, "Data output"): the TIFF's
/// ImageDescription and the HDF5 `render` attribute hold it as JSON.
enum DataEncoder {
    static func encode(_ plan: RenderPlan, dataType: DataType, shape: [Int], data: [UInt8]) throws -> [UInt8] {
        switch plan.request.format {
        case .npy: return NPYEncoder.encode(dataType: dataType, shape: shape, data: data)
        case .tiff: return try TIFFEncoder.encode(dataType: dataType, shape: shape, data: data, description: description(plan, dataType))
        case .h5:
            var attributes = [(String, String)]()
            attributes.append(("axes", shape.count == 3 ? "cyx" : "yx"))
            attributes.append(("render", text(description(plan, dataType))))
            if let multiscales = plan.image.ngffMetadata["multiscales"] { attributes.append(("ome_multiscales", text(multiscales))) }
            if let omero = plan.image.ngffMetadata["omero"] { attributes.append(("omero", text(omero))) }
            return try HDF5Encoder.encode(dataType: dataType, shape: shape, data: data, attributes: attributes)
        case .png, .jpeg:
            throw RenderError.encoder("format \(plan.request.format.rawValue) is a picture, not data")
        }
    }

    /// What was rendered, in the plan's terms (no server paths).
    static func description(_ plan: RenderPlan, _ dataType: DataType) -> JSONValue {
        func int(_ v: Int) -> JSONValue { .int(Int64(v)) }
        var o: [String: JSONValue] = [
            "tessera": .string("render"),
            "level": int(plan.level),
            "t": int(plan.t),
            "z": int(plan.z),
            "channels": .array(plan.channels.map(int)),
            // x, y, width, height of the region read, in the level's pixels.
            "region": .array([plan.readX, plan.readY, plan.readWidth, plan.readHeight].map(int)),
            "size": .array([plan.outputWidth, plan.outputHeight].map(int)),
            "resample": .string(plan.request.resample.rawValue),
            "dtype": .string(dataType.rawValue),
        ]
        if let summary = plan.subtraction?.summary { o["subtract"] = .string(summary) }
        return .object(o)
    }

    static func text(_ v: JSONValue) -> String { String(decoding: v.compactSerialized(), as: UTF8.self) }
}
