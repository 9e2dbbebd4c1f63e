import Testing
@testable import ZarrCore

@Suite struct DataTypeTests {
    @Test func v2TypeStringsRoundTrip() throws {
        for t in DataType.allCases {
            let (parsed, big) = try #require(DataType.parseV2(t.v2TypeString))
            #expect(parsed == t)
            #expect(!big)
        }
        #expect(DataType.parseV2(">u2")! == (.uint16, true))
        #expect(DataType.parseV2("<c8") == nil)
        #expect(DataType.parseV2("|O") == nil)
    }
}
