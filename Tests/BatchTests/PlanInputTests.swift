import Foundation
import Testing
@testable import Batch

/// A scratch folder removed when the test ends.
final class ScratchFolder {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "plan-inputs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ relative: String, _ text: String = "x") throws {
        let p = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
    }
}

@Suite struct PlanInputTests {
    @Test func globSegmentsMatchLikeTheShell() {
        #expect(GlobPattern("d/*.tif").matches(relativePath: "a.tif"))
        #expect(!GlobPattern("d/*.tif").matches(relativePath: "s/a.tif"))
        #expect(!GlobPattern("d/*.tif").matches(relativePath: ".hidden.tif"))
        #expect(GlobPattern("d/?.tif").matches(relativePath: "a.tif"))
        #expect(!GlobPattern("d/?.tif").matches(relativePath: "ab.tif"))
        #expect(GlobPattern("d/[ab].tif").matches(relativePath: "b.tif"))
        #expect(!GlobPattern("d/[ab].tif").matches(relativePath: "c.tif"))
        #expect(GlobPattern("d/**/*.tif").matches(relativePath: "a.tif"))
        #expect(GlobPattern("d/**/*.tif").matches(relativePath: "x/y/z/a.tif"))
        #expect(!GlobPattern("d/**/*.tif").matches(relativePath: "x/.git/a.tif"))
        #expect(GlobPattern("d/**/raw/*.tif").matches(relativePath: "p/raw/a.tif"))
        #expect(!GlobPattern("d/**/raw/*.tif").matches(relativePath: "p/cooked/a.tif"))
        #expect(GlobPattern("/abs/p*/x.tif").base == "/abs")
        #expect(GlobPattern("*.tif").base == ".")
    }

    @Test func globsAndFoldersWalkTheTreeSkippingHiddenAndLinkedFolders() throws {
        let d = try ScratchFolder()
        for f in ["a.tif", "b.TIFF", "notes.txt", ".hidden.tif", "s/c.tif", "s/t/d.fits", ".git/e.tif", "raw/p/f.h5"] { try d.file(f) }
        try FileManager.default.createSymbolicLink(atPath: d.path + "/link", withDestinationPath: d.path + "/s")
        try FileManager.default.createSymbolicLink(atPath: d.path + "/g.tif", withDestinationPath: d.path + "/a.tif")
        #expect(InputWalk.files(under: d.path) == ["a.tif", "b.TIFF", "g.tif", "raw/p/f.h5", "s/c.tif", "s/t/d.fits"].map { d.path + "/" + $0 })
        #expect(GlobPattern(d.path + "/*.tif").expand() == ["a.tif", "g.tif"].map { d.path + "/" + $0 })
        #expect(GlobPattern(d.path + "/**/*.tif").expand() == ["a.tif", "g.tif", "s/c.tif"].map { d.path + "/" + $0 })
        #expect(GlobPattern(d.path + "/**").expand().count == 7) // every visible file, notes.txt too
        #expect(GlobPattern(d.path + "/s/*/*.fits").expand() == [d.path + "/s/t/d.fits"])
    }

    @Test func expansionErrorsNameTheArgument() throws {
        let d = try ScratchFolder()
        try d.file("empty/notes.txt")
        #expect(throws: PlanError.missingInput("nope.tif")) { try InputExpansion.expand(["nope.tif"], workingDirectory: d.path) }
        #expect(throws: PlanError.globMatchesNothing("*.fits")) { try InputExpansion.expand(["*.fits"], workingDirectory: d.path) }
        #expect(throws: PlanError.noImages("empty")) { try InputExpansion.expand(["empty"], workingDirectory: d.path) }
    }

    @Test func csvRowsAreRelativeToTheListAndNamedExplicitly() throws {
        let d = try ScratchFolder()
        try d.file("in/a.tif")
        try d.file("in/b c.tif")
        try d.file("lists/job.csv", "input,output\n../in/a.tif,plate1/a.ome.zarr\r\n\n\"../in/b c.tif\",\"b,c.ome.zarr\"\n")
        let rows = try InputExpansion.expand(["lists/job.csv"], workingDirectory: d.path)
        #expect(rows == [PlanInput(input: d.path + "/in/a.tif", output: "plate1/a.ome.zarr", origin: d.path + "/lists/job.csv:2"),
                         PlanInput(input: d.path + "/in/b c.tif", output: "b,c.ome.zarr", origin: d.path + "/lists/job.csv:4")])
        try d.file("lists/job.tsv", "\(d.path)/in/a.tif\tx.ome.zarr\n")
        #expect(try InputExpansion.expand(["lists/job.tsv"], workingDirectory: d.path).map(\.output) == ["x.ome.zarr"])
    }

    @Test func badCSVRowsAreErrorsNamingTheRow() throws {
        let d = try ScratchFolder()
        try d.file("a.tif")
        let cases: [(String, String)] = [
            ("a.tif,/abs.ome.zarr\n", "must be relative"),
            ("a.tif,../up.ome.zarr\n", "must not contain '..'"),
            ("a.tif\n", "expected 2 fields"),
            ("a.tif,x,y\n", "expected 2 fields"),
            ("missing.tif,x\n", "no such file"),
            ("a.tif,\n", "the output is empty"),
            ("\"a.tif,x\n", "not closed"),
        ]
        for (i, (text, reason)) in cases.enumerated() {
            try d.file("l\(i).csv", "input,output\n" + text)
            do {
                _ = try InputExpansion.expand(["l\(i).csv"], workingDirectory: d.path)
                Issue.record("accepted \(text)")
            } catch let error as PlanError {
                #expect(error.description.hasPrefix(d.path + "/l\(i).csv:2: "), "\(error)")
                #expect(error.description.contains(reason), "\(error)")
            }
        }
    }

    @Test func absolutePathsResolveDotsAsText() {
        #expect(InputExpansion.absolutePath("a/../b/./c.tif", relativeTo: "/w") == "/w/b/c.tif")
        #expect(InputExpansion.absolutePath("/x//y.tif", relativeTo: "/w") == "/x/y.tif")
    }
}
