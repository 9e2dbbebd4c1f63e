import Testing
@testable import ZarrCore

@Suite struct FillValueTests {
    @Test func floatSpecialFillValues() throws {
        for t in [DataType.float16, .float32, .float64] {
            for s in ["NaN", "Infinity", "-Infinity"] {
                let f = try FillValue(json: .string(s), type: t, key: "k")
                #expect(f.json(t) == .string(s))
            }
        }
        let nan32 = try FillValue(json: "0x7fc00001", type: .float32, key: "k")
        #expect(nan32.bytes == [0x01, 0x00, 0xc0, 0x7f])
    }

    @Test func integerFillValuesAreRangeChecked() throws {
        #expect(try FillValue(json: .uint(UInt64.max), type: .uint64, key: "k").json(.uint64) == .uint(UInt64.max))
        #expect(try FillValue(json: -128, type: .int8, key: "k").bytes == [0x80])
        #expect(throws: ZarrError.self) { try FillValue(json: 256, type: .uint8, key: "a/.zarray") }
        #expect(throws: ZarrError.self) { try FillValue(json: -1, type: .uint16, key: "k") }
        #expect(throws: ZarrError.self) { try FillValue(json: "NaN", type: .int32, key: "k") }
        #expect(try FillValue(json: .null, type: .float32, key: "k").isZero)
        #expect(try FillValue(json: true, type: .bool, key: "k").bytes == [1])
    }
}
