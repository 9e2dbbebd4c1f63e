import NGFF
import Testing
import ZarrCore

@Suite struct NGFFAttributesTests {
    let v04: [String: JSONValue] = [
        "multiscales": [[
            "version": "0.4", "name": "img",
            "axes": [["name": "z", "type": "space"], ["name": "y", "type": "space"], ["name": "x", "type": "space"]],
            "datasets": [["path": "0", "coordinateTransformations": [["type": "scale", "scale": [1.0, 1.0, 1.0]]]],
                         ["path": "1", "coordinateTransformations": [["type": "scale", "scale": [2.0, 2.0, 2.0]]]]],
        ]],
        "omero": ["channels": [["label": "DAPI"]]],
        "custom": "kept",
    ]

    @Test func translatesBothWays() throws {
        let v05 = NGFFAttributes.translate(v04, to: .v05)
        #expect(v05["custom"] == "kept")
        #expect(v05["multiscales"] == nil)
        #expect(v05["ome"]?["version"] == "0.5")
        #expect(v05["ome"]?["multiscales"]?.arrayValue?.first?["version"] == nil)
        #expect(v05["ome"]?["omero"] == v04["omero"])
        #expect(NGFFAttributes.version(v05) == "0.5")
        let back = NGFFAttributes.translate(v05, to: .v04)
        #expect(back == v04)
    }

    @Test func levelsAndAxes() {
        let levels = NGFFAttributes.levelAxes(v04)
        #expect(levels.map(\.path) == ["0", "1"])
        #expect(levels[0].axes == ["z", "y", "x"])
        #expect(NGFFAttributes.translate(["a": 1], to: .v05) == ["a": 1])
    }
}
