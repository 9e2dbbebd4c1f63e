import Foundation
@testable import ImageSources
import Testing

@Suite struct FITSOpenerTests {
    /// A primary HDU header of 80-byte cards padded to 2880 bytes, and zero data.
    static func fits(axes: [Int]) -> Data {
        var cards = ["SIMPLE  =                    T", "BITPIX  =                    8",
                     "NAXIS   = \(String(repeating: " ", count: 20 - String(axes.count).count))\(axes.count)"]
        for (i, n) in axes.enumerated() {
            let key = "NAXIS\(i + 1)".padding(toLength: 8, withPad: " ", startingAt: 0)
            cards.append("\(key)= \(String(repeating: " ", count: 20 - String(n).count))\(n)")
        }
        cards.append("END")
        var header = cards.map { $0.padding(toLength: 80, withPad: " ", startingAt: 0) }.joined()
        header += String(repeating: " ", count: (2880 - header.count % 2880) % 2880)
        let bytes = axes.reduce(1, *)
        return Data(header.utf8) + Data(count: (bytes + 2879) / 2880 * 2880)
    }

    /// The process's descriptors open on `path`. Only those: the other suites run in
    /// parallel in this process and open and close files of their own meanwhile.
    static func descriptors(on path: String) -> Int {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == real }.count
    }

    /// An image with more axes than NGFF allows is refused, and refusing it closes the file
    /// (it used to leak one descriptor per attempt).
    @Test func tooManyAxesIsRefusedWithoutLeakingTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("six-axes-\(UUID().uuidString).fits").path
        try Self.fits(axes: [2, 2, 2, 2, 2, 2]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The count sees a descriptor on the file (so a zero below means something).
        let held = try #require(FileHandle(forReadingAtPath: path))
        #expect(Self.descriptors(on: path) == 1)
        try held.close()
        for _ in 0..<20 {
            #expect(throws: SourceError.self) { try SourceOpener.open(path) }
        }
        #expect(Self.descriptors(on: path) == 0)
    }
}
