@testable import Render
import Testing

/// The render grammar on its own: every value parses to what Docs/render.md says, and
/// every bad value is one `badParameter` naming the parameter.
@Suite struct RenderRequestTests {
    func parse(_ query: String) throws -> RenderRequest {
        try RenderRequest(parameters: RenderQuery.pairs(fromQuery: query))
    }

    func rejected(_ query: String) -> String? {
        do {
            _ = try parse(query)
            return nil
        } catch let e as RenderError {
            return e.parameter
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func defaults() throws {
        let r = try parse("")
        #expect(r == RenderRequest())
        #expect(r.format == .png && r.bits == 8 && r.quality == 90 && r.resample == .area && r.stats == .region)
        #expect(r.level == nil && r.window == nil && r.region == nil && r.size == nil && r.channels == nil)
    }

    @Test func everyParameter() throws {
        let r = try parse("format=jpg&level=2&t=1&z=3&c=0,2&region=10,20,300,400&size=128&window=p1,p99.5&quality=75&resample=nearest&colormap=gray")
        #expect(r.format == .jpeg)
        #expect(r.level == 2 && r.t == 1 && r.z == 3)
        #expect(r.channels == [0, 2])
        #expect(r.region == PixelRect(x: 10, y: 20, width: 300, height: 400))
        #expect(r.size == SizeSpec(width: 128, height: 128))
        #expect(r.window == .percentiles(1, 99.5))
        #expect(r.quality == 75 && r.resample == .nearest && r.colormap == .gray)
    }

    @Test func windows() throws {
        #expect(try parse("window=omero").window == .omero)
        #expect(try parse("window=none").window == WindowSpec.none)
        #expect(try parse("window=-5,1e3").window == .range(-5, 1000))
        #expect(try parse("window=p0,p100").window == .percentiles(0, 100))
        #expect(try parse("size=100,50").size == SizeSpec(width: 100, height: 50))
    }

    @Test func subtractionGrammar() throws {
        #expect(try parse("subtract=120").subtract == .constant(120))
        #expect(try parse("subtract=p5").subtract == .percentile(5))
        #expect(try parse("subtract=image:lab/dark.ome.zarr/0").subtract == .image("lab/dark.ome.zarr/0"))
        #expect(try parse("subtract=ball:50").subtract == .rollingBall(radius: 50))
        #expect(try parse("subtract=median:9&negative=keep").negative == .keep)
        #expect(try parse("subtract=gaussian:2.5&negative=shift:100").negative == .shift(100))
        #expect(try parse("format=npy&subtract=p1").format == .npy)
    }

    @Test func percentDecoding() throws {
        #expect(try parse("region=1%2C2%2C3%2C4").region == PixelRect(x: 1, y: 2, width: 3, height: 4))
    }

    @Test(arguments: [
        ("level=-1", "level"), ("level=two", "level"), ("t=-1", "t"), ("z=1.5", "z"),
        ("c=", "c"), ("c=0,0", "c"), ("c=1,x", "c"), ("c=-2", "c"),
        ("region=1,2,3", "region"), ("region=0,0,0,10", "region"), ("region=-1,0,5,5", "region"),
        ("region=0,0,4611686018427387904,10", "region"), ("region=a,b,c,d", "region"),
        ("size=0", "size"), ("size=10,20,30", "size"), ("size=-4", "size"),
        ("format=gif", "format"),
        ("window=5,1", "window"), ("window=1,1", "window"), ("window=p99,p1", "window"), ("window=p101,p2", "window"),
        ("window=abc", "window"), ("window=p1,99", "window"), ("window=nan,5", "window"), ("window=1,inf", "window"),
        ("window=0x10,0x20", "window"), ("window=1,2,3", "window"),
        ("stats=all", "stats"), ("subtract=ball:0", "subtract"), ("subtract=image:onlyroot", "subtract"),
        ("subtract=image:root/../x", "subtract"), ("subtract=tophat:3", "subtract"), ("subtract=p200", "subtract"),
        ("subtract=5&negative=shift:x", "negative"), ("negative=keep", "negative"),
        ("colormap=jet", "colormap"), ("bits=12", "bits"), ("bits=16&format=jpeg", "bits"),
        ("quality=0", "quality"), ("quality=101", "quality"), ("quality=80", "quality"),
        ("resample=cubic", "resample"), ("level=1&level=2", "level"), ("frobnicate=1", "frobnicate"),
        ("format=npy&window=p1,p99", "window"), ("format=npy&colormap=gray", "colormap"),
        ("bits=16&colormap=viridis", "colormap"), ("level=", "level"),
    ])
    func badValuesNameTheirParameter(query: String, parameter: String) {
        #expect(rejected(query) == parameter, "query \(query)")
    }

    @Test func overlongQueryIsRefusedUnparsed() {
        let query = "window=p1,p99&" + String(repeating: "x", count: 3 * 1024)
        #expect(rejected(query) == "query")
    }

    @Test func errorsAnswerAsJSON() {
        let bad = RenderError.badParameter("window", "min must be below max (got 5,1)")
        #expect(bad.status == 400)
        #expect(String(decoding: bad.json, as: UTF8.self) == #"{"error":"window: min must be below max (got 5,1)","parameter":"window"}"#)
        #expect(String(decoding: RenderError.notImplemented("subtract=").json, as: UTF8.self) == #"{"error":"subtract= is not implemented yet"}"#)
        #expect(RenderError.imageNotFound("x").status == 404 && RenderError.notImplemented("x").status == 501)
    }

    @Test func messagesAreOneLine() {
        do {
            _ = try parse("window=5,1")
            Issue.record("accepted")
        } catch {
            #expect(String(describing: error) == "window: min must be below max (got 5,1)")
        }
    }
}
