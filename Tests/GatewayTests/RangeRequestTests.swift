import Testing
@testable import Gateway

/// `RangeRequest`: the `Range` header as the gateway reads it, and resolved against a size.
@Suite struct RangeRequestTests {
    @Test func parsesTheThreeForms() {
        #expect(RangeRequest(header: "bytes=0-99") == .closed(first: 0, last: 99))
        #expect(RangeRequest(header: "bytes=100-") == .closed(first: 100, last: nil))
        #expect(RangeRequest(header: "bytes=-16") == .suffix(16))
        #expect(RangeRequest(header: "Bytes=7-8") == .closed(first: 7, last: 8)) // the unit is case-insensitive
        #expect(RangeRequest(header: "bytesx=5-9") == .none) // another unit
        // The bytes unit written wrongly is still a range: never answered with the whole
        // body (issue 14.8: `bytes =0-4` got a 200).
        #expect(RangeRequest(header: " bytes = 5-9 ") == .unsatisfiable)
        #expect(RangeRequest(header: "bytes 0-4") == .unsatisfiable)
        #expect(RangeRequest(header: nil) == .none)
        #expect(RangeRequest(header: "items=0-5") == .none)
    }

    @Test(arguments: ["bytes=5-1", "bytes=", "bytes=-", "bytes=a-b", "bytes=0-1,4-5", "bytes=--1", "bytes=1-2-3", "bytes=0x10-"])
    func malformedOrMultipleIsUnsatisfiable(_ header: String) {
        #expect(RangeRequest(header: header[...]) == .unsatisfiable)
        #expect(RangeRequest(header: header[...]).resolve(size: 100) == .failure(.init()))
    }

    @Test func resolvesAgainstTheObjectSize() {
        #expect(RangeRequest(header: "bytes=0-99").resolve(size: 50) == .success(0..<50))
        #expect(RangeRequest(header: "bytes=10-19").resolve(size: 50) == .success(10..<20))
        #expect(RangeRequest(header: "bytes=49-").resolve(size: 50) == .success(49..<50))
        #expect(RangeRequest(header: "bytes=50-").resolve(size: 50) == .failure(.init()))
        #expect(RangeRequest(header: "bytes=-16").resolve(size: 50) == .success(34..<50))
        #expect(RangeRequest(header: "bytes=-500").resolve(size: 50) == .success(0..<50))
        #expect(RangeRequest(header: "bytes=-0").resolve(size: 50) == .failure(.init()))
        #expect(RangeRequest(header: "bytes=-1").resolve(size: 0) == .failure(.init()))
        #expect(RangeRequest(header: "bytes=0-99999999999999999999999").resolve(size: 50) == .success(0..<50))
        #expect(RangeRequest(header: "bytes=99999999999999999999999-").resolve(size: 50) == .failure(.init()))
        #expect(RangeRequest(header: nil).resolve(size: 50) == nil)
    }
}
