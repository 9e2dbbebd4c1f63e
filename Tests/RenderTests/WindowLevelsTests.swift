@testable import Render
import TestSupport
import Testing

@Suite struct WindowLevelsTests {
    /// The table built only inside the window equals the formula at every entry, for
    /// windows inside, across and beyond the int16 and uint16 domains, fractional, flat,
    /// inverted and reversed.
    @Test(arguments: [(0, 65536), (-32768, 65536), (-128, 256)])
    func levelsEqualTheFormulaEverywhere(_ first: Int, _ count: Int) {
        var windows: [(Double, Double)] = [(0, 65535), (1000.5, 1001.5), (100.0, 100.0), (100.5, 100.5), (-40000, 70000), (-1e300, 1e300),
                       (70000, 80000), (-90000, -80000), (5000.25, 3000.75), (-3.5, 250.2), (Double(first), Double(first))]
        var rng = SplitMix64(seed: 7)
        for _ in 0..<40 {
            let a = Double(Int(rng.next() % 140_000) - 70_000) + Double(rng.next() % 4) / 4
            windows.append((a, a + Double(rng.next() % 3000) / 2))
        }
        for (start, end) in windows {
            for inverted in [false, true] {
                let w = DisplayWindow(start: start, end: end, inverted: inverted)
                let table = w.levels8(from: first, count: count)
                let formula = (0..<count).map { UInt8(quantise(w.fraction(Double(first + $0)), max: 255)) }
                #expect(table == formula, "window \(start),\(end) inverted \(inverted) over \(first)..<\(first + count)")
            }
        }
    }

    @Test func infiniteEndsUseTheFormula() {
        let w = DisplayWindow(start: -.infinity, end: 10)
        #expect(w.levels8(from: 0, count: 20) == (0..<20).map { UInt8(quantise(w.fraction(Double($0)), max: 255)) })
    }
}
