import Foundation
import ImageSources

/// Where each input goes, relative to the output root: its path relative to the common
/// folder of all local inputs (of all S3 inputs, for those), the image extension
/// replaced by `.ome.zarr` — `a/x.tif` and `b/x.tif` keep their folders apart. Inputs
/// that would still meet (`x.tif` and `x.tiff`) keep their whole file name
/// (`x.tif.ome.zarr`); CSV rows name theirs. Names depend only on the set of inputs, not
/// their order. Two inputs left with one name, or one output inside another, is an error.
public enum OutputNaming {
    public static func names(for inputs: [PlanInput]) throws -> [String] {
        let parts = inputs.map { $0.output == nil ? pathParts($0.input) : nil }
        let localBase = commonFolder(parts.compactMap { p in p.flatMap { $0.s3 ? nil : $0.folder } })
        let s3Base = commonFolder(parts.compactMap { p in p.flatMap { $0.s3 ? $0.folder : nil } })
        func name(_ p: Parts, full: Bool) -> String {
            let rel = Array(p.folder.dropFirst((p.s3 ? s3Base : localBase).count))
            let file = (full ? p.file : SourceOpener.stem(p.file)) + p.dataset + ".ome.zarr"
            return (rel + [file]).joined(separator: "/")
        }
        // Each short name once (stems are what a plan of 10^5 inputs spends its naming on).
        let short = parts.map { p in p.map { name($0, full: false) } }
        var shortCount = [String: Int]()
        for n in short.compactMap({ $0 }) { shortCount[n, default: 0] += 1 }
        let names = inputs.indices.map { i in
            inputs[i].output ?? short[i].map { shortCount[$0, default: 0] > 1 ? parts[i].map { name($0, full: true) } ?? $0 : $0 } ?? ""
        }
        try checkUnique(names, inputs)
        return names
    }

    struct Parts {
        var s3: Bool
        var folder: [String]
        var file: String
        /// `-entry-data` for `scan.h5:/entry/data`, so two datasets of a file differ.
        var dataset: String
    }

    static func pathParts(_ input: String) -> Parts {
        let s3 = input.hasPrefix("s3://")
        var path = s3 ? String(input.dropFirst("s3://".count)) : input
        var dataset = ""
        if !s3 {
            let (file, ds) = SourceOpener.splitDatasetPath(input)
            if let ds {
                path = file
                dataset = "-" + ds.split(separator: "/").joined(separator: "-")
            }
        }
        var components = path.split(separator: "/").map(String.init)
        let file = components.popLast() ?? path
        return Parts(s3: s3, folder: components, file: file, dataset: dataset)
    }

    static func commonFolder(_ folders: [[String]]) -> [String] {
        guard var common = folders.first else { return [] }
        for f in folders.dropFirst() {
            var n = 0
            while n < min(common.count, f.count), common[n] == f[n] { n += 1 }
            common.removeLast(common.count - n)
        }
        return common
    }

    /// No two inputs share an output, and no output lies inside another.
    static func checkUnique(_ names: [String], _ inputs: [PlanInput]) throws {
        var owner = [String: Int]()
        for (i, n) in names.enumerated() {
            if let j = owner[n] { throw PlanError.collision(output: n, inputs: [described(inputs[j]), described(inputs[i])]) }
            owner[n] = i
        }
        for (i, n) in names.enumerated() {
            var folder = n
            while let slash = folder.lastIndex(of: "/") {
                folder = String(folder[..<slash])
                if let j = owner[folder] { throw PlanError.collision(output: n, inputs: [described(inputs[j]), described(inputs[i])]) }
            }
        }
    }

    static func described(_ p: PlanInput) -> String { p.origin == p.input || p.output == nil ? p.input : "\(p.input)' ('\(p.origin)" }
}
