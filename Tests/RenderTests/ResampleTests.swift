@testable import Render
import Testing
import ZarrCore

@Suite struct ResampleTests {
    func plane<T>(_ t: DataType, _ w: Int, _ h: Int, _ values: [T]) -> PlaneBuffer {
        PlaneBuffer(dataType: t, width: w, height: h, bytes: TestImages.bytes(values))
    }
    func values<T: RenderScalar>(_ p: PlaneBuffer, _: T.Type) -> [T] { elements(p.bytes, as: T.self) }

    @Test func areaWeightsAreIntegerOverlaps() {
        let w = Resample2D.AxisWeights(source: 3, destination: 2)
        #expect(w.first == [0, 1])
        #expect(w.weights == [[2, 1], [1, 2]])
        let five = Resample2D.AxisWeights(source: 5, destination: 2)
        #expect(five.weights.map { $0.reduce(0, +) } == [5, 5])
    }

    @Test func areaOfIntegersRoundsHalfUpExactly() {
        // (2·10 + 20)/3 = 13.33 → 13; (20 + 2·31)/3 = 27.33 → 27
        let out = Resample2D.resample(plane(.uint8, 3, 1, [UInt8(10), 20, 31]), width: 2, height: 1, method: .area)
        #expect(values(out, UInt8.self) == [13, 27])
        #expect(values(Resample2D.resample(plane(.uint16, 2, 1, [UInt16(1), 2]), width: 1, height: 1, method: .area), UInt16.self) == [2])
        // −1.5 rounds half up to −1
        #expect(values(Resample2D.resample(plane(.int8, 2, 1, [Int8(-1), -2]), width: 1, height: 1, method: .area), Int8.self) == [-1])
        // 2-D: a 4×4 → 2×2 block mean
        let grid: [UInt16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
        let half = Resample2D.resample(plane(.uint16, 4, 4, grid), width: 2, height: 2, method: .area)
        #expect(values(half, UInt16.self) == [4, 6, 12, 14])  // 3.5→4, 5.5→6, 11.5→12, 13.5→14
    }

    @Test func areaOfFloats() {
        let out = Resample2D.resample(plane(.float32, 3, 1, [Float(1), 2, 4]), width: 1, height: 1, method: .area)
        #expect(values(out, Float.self) == [Float(7.0 / 3.0)])
    }

    @Test func nearestTakesTheCentresSourcePixel() {
        #expect(Resample2D.nearestIndices(source: 5, destination: 2) == [1, 3])
        #expect(Resample2D.nearestIndices(source: 4, destination: 4) == [0, 1, 2, 3])
        let out = Resample2D.resample(plane(.uint8, 5, 1, [UInt8(0), 10, 20, 30, 40]), width: 2, height: 1, method: .nearest)
        #expect(values(out, UInt8.self) == [10, 30])
    }

    @Test func sameSizeIsUntouched() {
        let p = plane(.float64, 2, 1, [0.1, 0.2])
        #expect(Resample2D.resample(p, width: 2, height: 1, method: .area) == p)
    }
}
