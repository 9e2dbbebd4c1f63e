@testable import Render
import Storage
import Testing
import TestSupport
import ZarrCore

/// Every check of a plan comes from metadata: a refused render reads no chunk.
@Suite struct RenderPlanTests {
    /// A 3-channel czyx uint16 image, 2 z, 40×30 at level 0 and 20×15 at level 1.
    func image(store: any Store = MemoryStore()) throws -> RenderImage {
        let l0 = (0..<(3 * 2 * 30 * 40)).map { UInt16($0 % 4000) }
        let l1 = (0..<(3 * 2 * 15 * 20)).map { UInt16($0 % 1000) }
        let s = try TestImages.write(store: store, axes: ["c", "z", "y", "x"], dataType: .uint16,
                                     levels: [([3, 2, 30, 40], TestImages.bytes(l0)), ([3, 2, 15, 20], TestImages.bytes(l1))],
                                     omero: TestImages.omero(colors: ["FF0000", "00FF00", "0000FF"], windows: [(0, 4000), (10, 20), (0, 100)],
                                                             active: [true, false, true]))
        return try RenderImage.open(store: s, path: "img")
    }

    func refusal(_ query: String, limits: RenderLimits = RenderLimits()) throws -> RenderError? {
        let store = RecordingStore()
        let img = try image(store: store)
        let before = store.reads
        defer { #expect(store.reads == before, "a planned render reads nothing") }
        do {
            _ = try RenderPlan(image: img, request: RenderRequest(parameters: RenderQuery.pairs(fromQuery: query)), limits: limits)
            return nil
        } catch let e as RenderError {
            return e
        }
    }

    @Test func opensTheImageModel() throws {
        let img = try image()
        #expect(img.levels.count == 2 && img.channelCount == 3 && img.depth == 2 && img.width == 40 && img.height == 30)
        #expect(img.levels[1].factorX == 2 && img.levels[1].factorZ == 1)
        #expect(img.omero?.channels.map(\.active) == [true, false, true])
        let green = try #require(img.omero?.channels[1].color)
        #expect(green == (0, 255, 0))
    }

    @Test func defaultsComeFromOmero() throws {
        let plan = try RenderPlan(image: image(), request: RenderRequest())
        #expect(plan.channels == [0, 2], "the active channels")
        #expect(plan.mode == .composite)
        #expect(plan.windows == [.fixed(DisplayWindow(start: 0, end: 4000)), .fixed(DisplayWindow(start: 0, end: 100))])
        #expect(plan.level == 0 && plan.outputWidth == 40 && plan.outputHeight == 30)
    }

    @Test func sizePicksTheLevelAndRegionMapsToIt() throws {
        // Level 0's region fitted in 14×14 is 14×11; level 1 reads 18×14, enough.
        let plan = try RenderPlan(image: image(), request: RenderRequest(parameters: [("size", "14"), ("region", "4,2,36,28"), ("c", "1"), ("z", "1")]))
        #expect(plan.level == 1 && plan.readX == 2 && plan.readY == 1 && plan.readWidth == 18 && plan.readHeight == 14)
        #expect(plan.outputWidth == 14 && plan.outputHeight == 11)
        #expect(plan.mode == .gray(bits: 8) && plan.z == 1)
        // 20×20 needs more than level 1's 18 pixels across: level 0.
        let finer = try RenderPlan(image: image(), request: RenderRequest(parameters: [("size", "20"), ("region", "4,2,36,28")]))
        #expect(finer.level == 0 && finer.outputWidth == 20 && finer.outputHeight == 16)
        let forced = try RenderPlan(image: image(), request: RenderRequest(parameters: [("size", "100"), ("level", "1"), ("region", "4,2,36,28")]))
        #expect(forced.outputWidth == 18 && forced.outputHeight == 14, "no upsampling")
    }

    @Test func badRequestsNameTheirParameterAndReadNothing() throws {
        #expect(try refusal("level=2")?.parameter == "level")
        #expect(try refusal("c=3")?.parameter == "c")
        #expect(try refusal("z=2")?.parameter == "z")
        #expect(try refusal("t=1")?.parameter == "t")
        #expect(try refusal("region=0,0,41,10")?.parameter == "region")
        #expect(try refusal("region=39,29,1,2")?.parameter == "region")
        #expect(try refusal("c=0,1&colormap=viridis")?.parameter == "colormap")
        #expect(try refusal("c=0,1&bits=16")?.parameter == "bits")
        #expect(try refusal("size=30", limits: RenderLimits(maxOutputPixels: 100))?.parameter == "size")
        #expect(try refusal("", limits: RenderLimits(maxOutputPixels: 100))?.parameter == "region")
        #expect(try refusal("c=0", limits: RenderLimits(maxReadBytes: 1000))?.parameter == "region")
        #expect(try refusal("format=npy&subtract=5") == nil)
        #expect(try refusal("format=tiff") == nil)
        #expect(try refusal("format=h5&subtract=median:9") == nil)
        // No background given (the caller found none): the 404 of a missing image.
        #expect(try refusal("subtract=image:lab/dark") == .imageNotFound("lab/dark"))
        // 500 pixels of ball at a 40-pixel image's only level: over the radius cap.
        #expect(try refusal("subtract=ball:500")?.parameter == "subtract")
        #expect(try refusal("subtract=median:501")?.parameter == "subtract")
        #expect(try refusal("c=0&window=p1,p99") == nil)
    }

    @Test func windowNoneNeedsIntegers() throws {
        let store = try TestImages.write(axes: ["y", "x"], dataType: .float32, levels: [([2, 2], TestImages.bytes([Float(0), 1, 2, 3]))])
        let img = try RenderImage.open(store: store, path: "img")
        #expect(throws: RenderError.self) { try RenderPlan(image: img, request: RenderRequest(parameters: [("window", "none")])) }
        let plan = try RenderPlan(image: img, request: RenderRequest())
        #expect(plan.windows == [.percentiles(low: 0.1, high: 99.9, inverted: false)], "no omero: p0.1,p99.9")
    }

    @Test func missingImageAndArrayAreNamed() throws {
        let store = try TestImages.write(axes: ["y", "x"], dataType: .uint8, levels: [([2, 2], [1, 2, 3, 4])])
        #expect(throws: RenderError.imageNotFound("memory:nothing")) { try RenderImage.open(store: store, path: "nothing") }
        #expect(throws: RenderError.self) { try RenderImage.open(store: store, path: "img/0") }
    }

    @Test func rendersNPYAndPNG() throws {
        let img = try image()
        let npy = try Renderer.render(RenderPlan(image: img, request: RenderRequest(parameters: [("format", "npy"), ("c", "2"), ("z", "1"), ("level", "1"), ("region", "2,2,4,2")])))
        // level 1 values: index ((2·2 + 1)·15 + y)·20 + x, mod 1000, at y = 1, x = 1…2
        let header = npy.bytes.count - 2 * 2
        #expect(String(decoding: npy.bytes[10..<header], as: UTF8.self).hasPrefix("{'descr': '<u2', 'fortran_order': False, 'shape': (1, 2), }"))
        let base = ((2 * 2 + 1) * 15 + 1) * 20 + 1
        #expect(Array(npy.bytes[header...]) == TestImages.bytes([UInt16(base % 1000), UInt16((base + 1) % 1000)]))
        let png = try Renderer.render(RenderPlan(image: img, request: RenderRequest()))
        #expect(png.contentType == "image/png" && png.bytes.starts(with: [0x89, 0x50]))
        #expect(png.width == 40 && png.height == 30 && png.windows.count == 2)
    }
}
