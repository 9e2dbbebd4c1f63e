import ImageSources
import Testing
@testable import Conversion
@testable import ZarrCore

/// The HDF4 case of `DeclaredSizeLimit`: a contiguous SDS must fit its file at its coder's
/// bound; chunked or empty SDS may be sparse and are exempt, as HDF5 is.
@Suite struct DeclaredSizeLimitHDF4Tests {
    final class Stub: ImageSource, @unchecked Sendable {
        let description: ImageDescription
        init(shape: [Int], storage: [String: JSONValue]) {
            description = ImageDescription(name: "sds", axes: shape.count == 3 ? [ImageAxis(name: "z"), ImageAxis(name: "y"), ImageAxis(name: "x")]
                                           : [ImageAxis(name: "y"), ImageAxis(name: "x")],
                                           shape: shape, dataType: .uint16, metadata: .object(["storage": .object(storage)]))
        }
        func read(_ region: Region) throws -> NDBuffer { NDBuffer(dataType: .uint16, shape: region.shape, bytes: []) }
    }

    func file(_ shape: [Int], compression: String, chunks: JSONValue = .null, empty: Bool = false, bytes: Int) -> SourceFile {
        let storage: [String: JSONValue] = ["compression": .string(compression), "chunks": chunks, "empty": .bool(empty)]
        return SourceFile(path: "a.hdf", format: .hdf4, images: [Stub(shape: shape, storage: storage)], fileBytes: bytes)
    }

    @Test func uncompressedMustFitTheFile() throws {
        #expect(throws: SourceError.self) { try DeclaredSizeLimit.check(file([100, 100], compression: "none", bytes: 19_999), maxPixels: nil) }
        try DeclaredSizeLimit.check(file([100, 100], compression: "none", bytes: 20_000), maxPixels: nil)
    }

    @Test func deflateMayExpandAtMostZlibsBound() throws {
        #expect(throws: SourceError.self) { try DeclaredSizeLimit.check(file([4000, 4000], compression: "deflate", bytes: 1000), maxPixels: nil) }
        try DeclaredSizeLimit.check(file([4000, 4000], compression: "deflate", bytes: 32_000_000 / 1032 + 1), maxPixels: nil)
    }

    @Test func chunkedOrEmptySDSAreExempt() throws {
        try DeclaredSizeLimit.check(file([4000, 4000], compression: "deflate", chunks: JSONValue([256, 256]), bytes: 1000), maxPixels: nil)
        try DeclaredSizeLimit.check(file([4000, 4000], compression: "none", empty: true, bytes: 1000), maxPixels: nil)
    }

    @Test func theMessageNamesTheFileAndTheCoder() {
        do {
            try DeclaredSizeLimit.check(file([3, 4000, 4000], compression: "rle", bytes: 1000), maxPixels: nil)
            Issue.record("expected a refusal")
        } catch let error as SourceError {
            #expect(error.path == "a.hdf")
            #expect(error.reason.contains("RLE expands at most 64×"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
