import Testing
@testable import Render

@Suite struct RenderPresetTests {
    @Test func thumbnailDefaultsAndOverrides() throws {
        let plain = try RenderPreset.thumbnail.request([])
        #expect(plain.size == SizeSpec(width: 128, height: 128))
        #expect(plain.window == .percentiles(1, 99))
        #expect(plain.format == .png)
        let overridden = try RenderPreset.thumbnail.request([("size", "64"), ("window", "0,100")])
        #expect(overridden.size == SizeSpec(width: 64, height: 64))
        #expect(overridden.window == .range(0, 100))
    }

    @Test func quicklookIsAJPEGWhoseQualityGoesWithTheFormat() throws {
        let plain = try RenderPreset.quicklook.request([])
        #expect(plain.format == .jpeg)
        #expect(plain.quality == 85)
        #expect(plain.size == SizeSpec(width: 1024, height: 1024))
        // A data format drops the picture-only defaults instead of refusing them.
        let data = try RenderPreset.quicklook.request([("format", "npy")])
        #expect(data.format == .npy)
        #expect(data.window == nil)
        let png = try RenderPreset.quicklook.request([("format", "png")])
        #expect(png.format == .png)
        #expect(png.window == .percentiles(1, 99))
    }

    @Test func badOverridesAreRefusedByName() {
        for (pairs, parameter) in [([("size", "0")], "size"), ([("colour", "red")], "colour"), ([("level", "-1")], "level"),
                                   ([("format", "png"), ("format", "jpeg")], "format")] {
            do {
                _ = try RenderPreset.thumbnail.request(pairs)
                Issue.record("\(pairs) was accepted")
            } catch let error as RenderError {
                #expect(error.parameter == parameter)
                #expect(error.status == 400)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
