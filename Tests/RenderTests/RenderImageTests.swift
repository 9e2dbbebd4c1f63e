@testable import Render
import Storage
import Testing
import ZarrCore

/// Metadata written by others: whatever it says, opening it is a named refusal, never a
/// crash or a division by zero later.
@Suite struct RenderImageTests {
    /// A 2-level yx uint8 image whose group attributes `edit` rewrites.
    func open(_ edit: (inout [String: JSONValue]) -> Void) throws -> RenderImage {
        let store = try TestImages.write(axes: ["y", "x"], dataType: .uint8,
                                         levels: [([4, 6], [UInt8](repeating: 7, count: 24)), ([2, 3], [UInt8](repeating: 7, count: 6))])
        guard case var .group(_, attributes) = try Node.open(store: store, path: "img"), var ome = attributes["ome"]?.objectValue,
              var ms = ome["multiscales"]?.arrayValue?.first?.objectValue else {
            Issue.record("test image has no multiscales")
            throw RenderError.encoder("setup")
        }
        edit(&ms)
        ome["multiscales"] = .array([.object(ms)])
        attributes["ome"] = .object(ome)
        try Node.writeGroupMetadata(format: .v3, attributes: attributes, store: store, path: "img")
        return try RenderImage.open(store: store, path: "img")
    }

    func refusal(_ edit: (inout [String: JSONValue]) -> Void) -> String? {
        do {
            _ = try open(edit)
            return nil
        } catch let RenderError.unsupportedImage(_, reason) {
            return reason
        } catch {
            return "unexpected \(error)"
        }
    }

    func datasets(_ scales: [[Double]]) -> JSONValue {
        .array(scales.enumerated().map { i, s in
            .object(["path": .string(String(i)), "coordinateTransformations": .array([.object(["type": "scale", "scale": .array(s.map(JSONValue.double))])])])
        })
    }

    @Test func wellFormedOpens() throws {
        let img = try open { _ in }
        #expect(img.levels.count == 2 && img.levels[1].factorX == 2 && img.width == 6 && img.height == 4)
    }

    @Test func hostileMultiscalesAreRefusedByName() {
        #expect(refusal { $0["axes"] = .array([.object(["name": "z"]), .object(["name": "x"])]) }?.contains("no 'y' and 'x'") == true)
        #expect(refusal { $0["datasets"] = .array([]) }?.contains("no datasets") == true)
        #expect(refusal { $0["datasets"] = .array([.object(["path": "9"])]) }?.contains("missing") == true)
        #expect(refusal { $0["datasets"] = .array([.object(["nopath": "0"])]) }?.contains("no path") == true)
        #expect(refusal { $0["datasets"] = datasets([[1, 1], [0, 0]]) }?.contains("positive multiple") == true)
        #expect(refusal { $0["datasets"] = datasets([[0, 0], [1, 1]]) } == nil, "a zero level-0 scale falls back to the shape ratio")
        #expect(refusal { $0["axes"] = .array([.object(["name": "c"]), .object(["name": "y"]), .object(["name": "x"])]) }?.contains("dimensions") == true)
    }

    @Test func omeroFamilyOtherThanLinearIsRefused() throws {
        let store = try TestImages.write(axes: ["y", "x"], dataType: .uint8, levels: [([1, 1], [0])],
                                         omero: .object(["channels": .array([.object(["family": "exponential"])])]))
        #expect(throws: RenderError.self) { try RenderImage.open(store: store, path: "img") }
    }

    @Test func malformedOmeroFallsBackToDefaults() throws {
        let store = try TestImages.write(axes: ["y", "x"], dataType: .uint8, levels: [([1, 1], [0])],
                                         omero: .object(["channels": .array([.object(["color": "nothex", "window": .object(["start": 9, "end": 1])])]),
                                                         "rdefs": .object(["defaultZ": -4])]))
        let img = try RenderImage.open(store: store, path: "img")
        let c = try #require(img.omero?.channels.first)
        #expect(c.color == (255, 255, 255) && c.window == nil && c.active)
        let plan = try RenderPlan(image: img, request: RenderRequest())
        #expect(plan.windows == [.percentiles(low: 0.1, high: 99.9, inverted: false)] && plan.z == 0)
    }
}
