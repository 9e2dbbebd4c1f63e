import ZarrCore

/// Runs a `SubtractionPlan` on the planes read (Docs/render.md, "Background
/// subtraction"): `r = x − bg` in float64 on the render grid, then the negative policy
/// and the output type. Resampling and windows come after, on the result.
enum Subtraction {
    struct Result {
        var planes: [PlaneBuffer]
        /// What was done, with the values a percentile gave (`X-Tessera-Subtract`).
        var summary: String
    }

    /// `reuse`: where computed backgrounds are kept (`BackgroundCache`), nil to compute each.
    static func apply(_ s: SubtractionPlan, plan: RenderPlan, planes: [PlaneBuffer], concurrency: Int,
                      reuse: BackgroundReuse? = nil) throws -> Result {
        /// A background plane from the cache, or computed. Its key: the source's versions,
        /// then everything the plane depends on besides them.
        func background(_ what: String, _ compute: () throws -> [Double]) rethrows -> [Double] {
            guard let reuse else { return try compute() }
            return try reuse.cache.plane(reuse.source + "\n" + what, compute: compute)
        }
        let grid = "t\(plan.t) render level \(plan.level) x\(plan.readX) y\(plan.readY) w\(plan.readWidth) h\(plan.readHeight)"
        let image = plan.image
        var backgrounds = [[Double]?]()   // nil: a constant per channel
        var constants = [Double]()
        var summary = s.summary
        var integral = true
        switch s.source {
        case let .constant(v):
            constants = planes.map { _ in v }
            integral = v == v.rounded()
        case let .percentile(p):
            constants = planes.map { Percentile.linear($0, [p])[0] }
            integral = constants.allSatisfy { $0 == $0.rounded() }
            summary += " = " + constants.map(DisplayWindow.text).joined(separator: ";")
        case let .image(named):
            for c in plan.channels {
                let region = named.region(channel: c, readX: plan.readX, readY: plan.readY, width: plan.readWidth, height: plan.readHeight)
                backgrounds.append(try background("image \(named.reference) origin \(region.origin) shape \(region.shape) \(grid)") {
                    let buffer = try named.image.levels[plan.level].reader.read(region, concurrency: concurrency)
                    return doubles(PlaneBuffer(dataType: buffer.dataType, width: plan.readWidth, height: plan.readHeight, bytes: buffer.bytes))
                })
            }
            integral = [.bool, .uint8, .int8, .uint16, .int16].contains(named.image.dataType)
        case let .smooth(smooth):
            let level = image.levels[smooth.level]
            for c in plan.channels {
                backgrounds.append(try background("smooth \(smooth) c\(c) \(grid)") {
                    let buffer = try level.reader.read(smooth.region(axes: image.axes, t: plan.t, channel: c), concurrency: concurrency)
                    let read = PlaneBuffer(dataType: buffer.dataType, width: smooth.readWidth, height: smooth.readHeight, bytes: buffer.bytes)
                    let region = BackgroundRegion(values: doubles(read), width: smooth.readWidth, height: smooth.readHeight,
                                                  originX: smooth.readX, originY: smooth.readY,
                                                  levelWidth: smooth.levelWidth, levelHeight: smooth.levelHeight,
                                                  needX: smooth.needX, needY: smooth.needY, needWidth: smooth.needWidth, needHeight: smooth.needHeight)
                    let estimate: [Double]
                    switch smooth.kernel {
                    case let .ball(r): estimate = BackgroundFilters.rollingBall(region, radius: r)
                    case let .median(k): estimate = BackgroundFilters.median(region, size: k)
                    case let .gaussian(sigma): estimate = BackgroundFilters.gaussian(region, sigma: sigma)
                    }
                    return Upsample.apply(estimate, width: smooth.needWidth, originX: smooth.needX, originY: smooth.needY,
                                          levelWidth: smooth.levelWidth, levelHeight: smooth.levelHeight,
                                          ratioX: smooth.ratioX, ratioY: smooth.ratioY,
                                          renderX: plan.readX, renderY: plan.readY,
                                          outWidth: plan.readWidth, outHeight: plan.readHeight)
                })
            }
            integral = false
        }
        let outputType = SubtractionPlan.outputType(image: image.dataType, negative: s.negative, integralBackground: integral)
        var out = [PlaneBuffer]()
        for (i, plane) in planes.enumerated() {
            let x = doubles(plane)
            var r = [Double](repeating: 0, count: x.count)
            if i < backgrounds.count, let bg = backgrounds[i] {
                for k in r.indices { r[k] = x[k] - bg[k] }
            } else {
                let v = constants[i]
                for k in r.indices { r[k] = x[k] - v }
            }
            out.append(withScalarType(outputType, Finish(values: r, negative: s.negative, dataType: outputType,
                                                         width: plane.width, height: plane.height)))
        }
        if outputType != image.dataType { summary += "; values as \(outputType.rawValue)" }
        return Result(planes: out, summary: summary)
    }

    static func doubles(_ plane: PlaneBuffer) -> [Double] {
        withScalarType(plane.dataType, ToDoubles(bytes: plane.bytes))
    }

    private struct ToDoubles: ScalarVisitor {
        let bytes: [UInt8]
        func visit<T: RenderScalar>(_: T.Type) -> [Double] { elements(bytes, as: T.self).map(\.double) }
    }

    /// The negative policy and the cast to the output type: integers round half to even
    /// (numpy's `rint`) and clip to the type (`clip`: at 0 too); floats are cast.
    private struct Finish: ScalarVisitor {
        let values: [Double]
        let negative: NegativePolicy
        let dataType: DataType
        let width: Int, height: Int

        func visit<T: RenderScalar>(_: T.Type) -> PlaneBuffer {
            let range = RenderPlan.typeRange(dataType)
            var shift = 0.0, floor = -Double.infinity
            switch negative {
            case .clip: floor = 0
            case .keep: break
            case let .shift(n): shift = n
            }
            let out: [T] = values.map { r in
                var v = r + shift
                if let range {
                    if v.isNaN { return T(fromDouble: 0) }
                    v = v.rounded(.toNearestOrEven)
                    v = min(max(v, Swift.max(range.min, floor)), range.max)
                } else if v < floor {
                    v = floor
                }
                return T(fromDouble: v)
            }
            return PlaneBuffer(dataType: dataType, width: width, height: height, bytes: bytesOf(out))
        }
    }
}
