@testable import Render
import Storage
import Testing
import ZarrCore

/// The background kernels on small planes whose answers are known by hand; the
/// conformance test (test_render_subtract.py) holds them to scipy and skimage.
@Suite struct BackgroundFilterTests {
    func region(_ values: [Double], width: Int, height: Int) -> BackgroundRegion {
        BackgroundRegion(values: values, width: width, height: height, originX: 0, originY: 0, levelWidth: width, levelHeight: height,
                         needX: 0, needY: 0, needWidth: width, needHeight: height)
    }

    @Test func reflectIsScipysHalfSampleSymmetry() {
        // d c b a | a b c d | d c b a, and again beyond.
        #expect((-4...7).map { BackgroundRegion.reflect($0, 4) } == [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0])
        #expect(BackgroundRegion.reflect(-9, 4) == 0 && BackgroundRegion.reflect(5, 1) == 0)
    }

    @Test func medianTakesTheMiddleOfTheWindow() {
        // One bright pixel disappears under a 3×3 median; the edges reflect.
        var v = [Double](repeating: 10, count: 25)
        v[12] = 1000
        #expect(BackgroundFilters.median(region(v, width: 5, height: 5), size: 3) == [Double](repeating: 10, count: 25))
        let ramp = (0..<5).map(Double.init)
        #expect(BackgroundFilters.median(region(ramp, width: 5, height: 1), size: 3) == [0, 1, 2, 3, 4])
    }

    @Test func gaussianKeepsAFlatPlaneAndItsWeightsSumToOne() {
        let w = BackgroundFilters.gaussianWeights(sigma: 2.5)
        #expect(w.count == 2 * Int(4 * 2.5 + 0.5) + 1)
        #expect(abs(w.reduce(0, +) - 1) < 1e-15)
        let out = BackgroundFilters.gaussian(region([Double](repeating: 7, count: 30), width: 6, height: 5), sigma: 3)
        #expect(out.allSatisfy { abs($0 - 7) < 1e-12 })
    }

    @Test func rollingBallUnderAFlatPlaneIsThePlaneAndCutsPeaks() {
        var v = [Double](repeating: 100, count: 49)
        #expect(BackgroundFilters.rollingBall(region(v, width: 7, height: 7), radius: 2) == v)
        v[24] = 5000
        let out = BackgroundFilters.rollingBall(region(v, width: 7, height: 7), radius: 2)
        // Under the peak the ball rests on its neighbours one pixel away: 100 + (2 − √3).
        #expect(out[24] == 100 + (2 - Double(3).squareRoot()))
        #expect(out.enumerated().allSatisfy { $0.offset == 24 || $0.element == 100 })
    }

    @Test func upsamplingIsTheIdentityOnTheSameLevelAndInterpolatesAcross() {
        let b: [Double] = [0, 10, 20, 30]
        #expect(Upsample.apply(b, width: 4, originX: 0, originY: 0, levelWidth: 4, levelHeight: 1, ratioX: 1, ratioY: 1,
                               renderX: 0, renderY: 0, outWidth: 4, outHeight: 1) == b)
        // Twice as fine: s = (u + ½)/2 − ½ → −¼ (clamped 0), ¼, ¾, 1¼, …, clamped at 3.
        let fine = Upsample.apply(b, width: 4, originX: 0, originY: 0, levelWidth: 4, levelHeight: 1, ratioX: 0.5, ratioY: 1,
                                  renderX: 0, renderY: 0, outWidth: 8, outHeight: 1)
        #expect(fine == [0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30])
        // Render indices 2…4 reach B from s = 0.75 to 1.75: B pixels 0…2.
        let needed = Upsample.needed(start: 2, count: 3, ratio: 0.5, size: 4)
        #expect(needed.start == 0 && needed.count == 3)
    }
}

/// `subtract=image:` checks made by the plan, from metadata.
@Suite struct NamedBackgroundPlanTests {
    func images(background axes: [String], _ shapes: [[Int]], dataType: DataType = .uint16) throws -> (RenderImage, RenderImage) {
        let store = MemoryStore()
        let l0 = [UInt16](repeating: 7, count: 3 * 30 * 40), l1 = [UInt16](repeating: 7, count: 3 * 15 * 20)
        _ = try TestImages.write(store: store, axes: ["c", "y", "x"], dataType: .uint16,
                                 levels: [([3, 30, 40], TestImages.bytes(l0)), ([3, 15, 20], TestImages.bytes(l1))])
        let levels = shapes.map { shape in (shape, [UInt8](repeating: 0, count: shape.reduce(1, *) * dataType.size)) }
        _ = try TestImages.write(store: store, path: "dark", axes: axes, dataType: dataType, levels: levels)
        return (try RenderImage.open(store: store, path: "img"), try RenderImage.open(store: store, path: "dark"))
    }

    func plan(_ query: String, _ pair: (RenderImage, RenderImage), limits: RenderLimits = RenderLimits()) throws -> RenderPlan {
        try RenderPlan(image: pair.0, request: RenderRequest(parameters: RenderQuery.pairs(fromQuery: query)), limits: limits, background: pair.1)
    }

    @Test func aTwoDimensionalDarkFrameIsBroadcastOverChannels() throws {
        let p = try plan("subtract=image:lab/dark&format=npy", images(background: ["y", "x"], [[30, 40], [15, 20]]))
        guard case let .image(named)? = p.subtraction?.source else { Issue.record("not a named background"); return }
        #expect(!named.followsChannel && named.t == 0 && named.z == 0)
    }

    @Test func anotherShapeNamesBoth() throws {
        #expect(throws: RenderError.badParameter("subtract", "background image lab/dark has shape [30,41] at level 0, the image has [3,30,40]")) {
            try plan("subtract=image:lab/dark", images(background: ["y", "x"], [[30, 41], [15, 21]]))
        }
        #expect(throws: RenderError.badParameter("subtract", "background image lab/dark has no level 1, the image has [3,15,20]")) {
            try plan("subtract=image:lab/dark", images(background: ["y", "x"], [[30, 40]]))
        }
        #expect(throws: RenderError.badParameter("subtract", "background image lab/dark has shape [2,30,40] at level 0, the image has [3,30,40]")) {
            try plan("subtract=image:lab/dark", images(background: ["c", "y", "x"], [[2, 30, 40], [2, 15, 20]]))
        }
    }

    @Test func aWiderBackgroundCountsAgainstTheReadCap() throws {
        // The image's channel 0 reads 2,400 bytes; a float64 background of it 9,600.
        let pair = try images(background: ["y", "x"], [[30, 40], [15, 20]], dataType: .float64)
        #expect(throws: Never.self) { try plan("c=0&subtract=image:lab/dark", pair, limits: RenderLimits(maxReadBytes: 10_000)) }
        #expect((try? plan("c=0&subtract=image:lab/dark", pair, limits: RenderLimits(maxReadBytes: 5_000))) == nil)
        do {
            _ = try plan("c=0&subtract=image:lab/dark", pair, limits: RenderLimits(maxReadBytes: 5_000))
        } catch let e as RenderError {
            #expect(e.parameter == "subtract")
        }
    }
}
