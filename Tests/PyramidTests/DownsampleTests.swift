@testable import Pyramid
import Testing
import ZarrCore

private func buffer<T>(_ values: [T], _ shape: [Int], _ type: DataType) -> NDBuffer {
    NDBuffer(dataType: type, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
}

private func values<T>(_ b: NDBuffer, as: T.Type) -> [T] {
    b.bytes.withUnsafeBytes { Array($0.bindMemory(to: T.self)) }
}

@Suite struct DownsampleTests {
    @Test func integerMeanRoundsHalfUpIncludingNegatives() throws {
        // Blocks (2x2): {1,2,3,4} = 2.5 → 3; {-1,-2,-3,-4} = -2.5 → -2; {0,0,0,1} = 0.25 → 0.
        let input = buffer([1, 2, -1, -2, 0, 0, 3, 4, -3, -4, 0, 1] as [Int16], [2, 6], .int16)
        let out = try downsample(input, factors: [2, 2], method: .mean)
        #expect(out.shape == [1, 3])
        #expect(values(out, as: Int16.self) == [3, -2, 0])
    }

    @Test func oddEdgesAverageOnlyExistingPixels() throws {
        // 3x3 → 2x2: the last row/column blocks are partial.
        let input = buffer([1, 2, 10, 3, 4, 20, 100, 200, 7] as [UInt8], [3, 3], .uint8)
        let out = try downsample(input, factors: [2, 2], method: .mean)
        #expect(out.shape == [2, 2])
        #expect(values(out, as: UInt8.self) == [3, 15, 150, 7])
    }

    /// The unsigned 8/16-bit fast path against a plain loop over blocks, on odd sizes.
    @Test(arguments: [[1, 2, 2], [2, 2, 2]]) func fastMeanMatchesPlainBlockLoop(factors: [Int]) throws {
        let shape = [5, 7, 9]
        var state: UInt32 = 7
        let input = (0..<(5 * 7 * 9)).map { _ -> UInt16 in state = state &* 1_664_525 &+ 1_013_904_223; return UInt16(state >> 16) }
        let out = try downsample(buffer(input, shape, .uint16), factors: factors, method: .mean)
        let os = zip(shape, factors).map { ($0 + $1 - 1) / $1 }
        var expected = [UInt16]()
        for z in 0..<os[0] { for y in 0..<os[1] { for x in 0..<os[2] {
            var sum = 0, n = 0
            for iz in (z * factors[0])..<min(shape[0], (z + 1) * factors[0]) {
                for iy in (y * 2)..<min(shape[1], y * 2 + 2) { for ix in (x * 2)..<min(shape[2], x * 2 + 2) {
                    sum += Int(input[(iz * shape[1] + iy) * shape[2] + ix]); n += 1
                } }
            }
            expected.append(UInt16((2 * sum + n) / (2 * n)))
        } } }
        #expect(out.shape == os)
        #expect(values(out, as: UInt16.self) == expected)
    }

    /// The 8-bit fast path (16-bit sums) against the same plain loop, with runs of 255
    /// (the largest sums) among the noise, on odd sizes.
    @Test(arguments: [[1, 2, 2], [2, 2, 2]]) func fast8BitMeanMatchesPlainBlockLoop(factors: [Int]) throws {
        let shape = [5, 7, 9]
        var state: UInt32 = 11
        let input = (0..<(5 * 7 * 9)).map { i -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return i % 11 < 4 ? 255 : UInt8(state >> 24)
        }
        let out = try downsample(buffer(input, shape, .uint8), factors: factors, method: .mean)
        let os = zip(shape, factors).map { ($0 + $1 - 1) / $1 }
        var expected = [UInt8]()
        for z in 0..<os[0] { for y in 0..<os[1] { for x in 0..<os[2] {
            var sum = 0, n = 0
            for iz in (z * factors[0])..<min(shape[0], (z + 1) * factors[0]) {
                for iy in (y * 2)..<min(shape[1], y * 2 + 2) { for ix in (x * 2)..<min(shape[2], x * 2 + 2) {
                    sum += Int(input[(iz * shape[1] + iy) * shape[2] + ix]); n += 1
                } }
            }
            expected.append(UInt8((2 * sum + n) / (2 * n)))
        } } }
        #expect(out.shape == os)
        #expect(values(out, as: UInt8.self) == expected)
        #expect(values(try downsample(buffer([UInt8](repeating: 255, count: 64), [2, 4, 8], .uint8), factors: factors, method: .mean),
                       as: UInt8.self).allSatisfy { $0 == 255 })
    }

    @Test func sixtyFourBitMeanDoesNotOverflow() throws {
        let big = UInt64.max - 1
        let input = buffer([big, big, big, UInt64.max] as [UInt64], [1, 2, 2], .uint64)
        let out = try downsample(input, factors: [1, 2, 2], method: .mean)
        #expect(values(out, as: UInt64.self) == [big]) // (3(max-1) + max) / 4 = max - 0.75 → rounds to max - 1
    }

    @Test func floatMeanMaxAndNaN() throws {
        let input = buffer([1, 2, .nan, 4, 3, 4, 1, 1] as [Float], [2, 4], .float32)
        #expect(values(try downsample(input, factors: [2, 2], method: .mean), as: Float.self)[0] == 2.5)
        #expect(values(try downsample(input, factors: [2, 2], method: .mean), as: Float.self)[1].isNaN)
        #expect(values(try downsample(input, factors: [2, 2], method: .max), as: Float.self)[0] == 4)
        #expect(values(try downsample(input, factors: [2, 2], method: .max), as: Float.self)[1].isNaN)
    }

    @Test func nearestTakesTheFirstPixelAndModeBreaksTiesLow() throws {
        let input = buffer([5, 9, 7, 7, 9, 5, 8, 8] as [UInt32], [2, 4], .uint32)
        #expect(values(try downsample(input, factors: [2, 2], method: .nearest), as: UInt32.self) == [5, 7])
        // {5,9,9,5}: 5 and 9 tie → 5; {7,7,8,8}: tie → 7.
        #expect(values(try downsample(input, factors: [2, 2], method: .mode), as: UInt32.self) == [5, 7])
    }

    @Test func leadingAxesAreBatchesAndZCanStay() throws {
        // c=2, z=2, y=2, x=2; halve y and x only.
        let input = buffer((0..<16).map { UInt16($0) }, [2, 2, 2, 2], .uint16)
        let out = try downsample(input, factors: [1, 1, 2, 2], method: .max)
        #expect(out.shape == [2, 2, 1, 1])
        #expect(values(out, as: UInt16.self) == [3, 7, 11, 15])
        #expect(throws: DownsampleError.self) { try downsample(input, factors: [2, 1, 1, 1, 1].dropLast().map { $0 }, method: .mean) }
    }
}
