@testable import Render
import Testing
import ZarrCore

@Suite struct WindowTests {
    @Test func fractionClampsFlipsAndBlanksNaN() {
        let w = DisplayWindow(start: 10, end: 20)
        #expect(w.fraction(5) == 0 && w.fraction(15) == 0.5 && w.fraction(25) == 1 && w.fraction(.nan) == 0)
        let inverted = DisplayWindow(start: 10, end: 20, inverted: true)
        #expect(inverted.fraction(12.5) == 0.75 && inverted.fraction(.nan) == 0)
        let flat = DisplayWindow(start: 7, end: 7)
        #expect(flat.fraction(6.9) == 0 && flat.fraction(7) == 1)
    }

    @Test func grayQuantisesHalfUp() {
        let plane = PlaneBuffer(dataType: .uint16, width: 4, height: 1, bytes: TestImages.bytes([UInt16(0), 257, 128, 65535]))
        let eight = Display.gray(plane, window: DisplayWindow(start: 0, end: 65535), bits: 8)
        // 128/65535·255 = 0.498 → 0
        #expect(eight.bytes == [0, 1, 0, 255])
        let sixteen = Display.gray(plane, window: DisplayWindow(start: 0, end: 65535), bits: 16)
        #expect(sixteen.bytes == plane.bytes, "window=none at 16 bits gives the stored values")
        // The table path (≤16-bit) and the per-value path (float) agree.
        let floats = PlaneBuffer(dataType: .float32, width: 4, height: 1, bytes: TestImages.bytes([Float(0), 257, 128, 65535]))
        #expect(Display.gray(floats, window: DisplayWindow(start: 0, end: 65535), bits: 8).bytes == eight.bytes)
    }

    @Test func compositeAddsColoursAndSaturates() {
        let a = PlaneBuffer(dataType: .uint8, width: 2, height: 1, bytes: [255, 128])
        let b = PlaneBuffer(dataType: .uint8, width: 2, height: 1, bytes: [255, 0])
        let out = Display.composite([a, b], windows: [DisplayWindow(start: 0, end: 255), DisplayWindow(start: 0, end: 255)],
                                    colors: [(255, 0, 0), (255, 255, 0)])
        // pixel 0: red 255+255 → 255, green 255; pixel 1: red 128/255·255 = 128
        #expect(out.bytes == [255, 255, 0, 128, 0, 0])
    }

    @Test func colormapIndexesTheTable() {
        let p = PlaneBuffer(dataType: .uint8, width: 2, height: 1, bytes: [0, 255])
        let out = Display.colormap(p, window: DisplayWindow(start: 0, end: 255), table: ColormapTables.viridis)
        #expect(out.bytes == [68, 1, 84] + Array(ColormapTables.viridis[765...767]))
    }
}
