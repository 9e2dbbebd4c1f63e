import Conversion
import Foundation

/// One unit of a task's work: a whole input, or one region of a split input.
public enum WorkItem: Sendable, Equatable {
    case whole(input: Int)
    case region(input: Int, region: Int)

    public var input: Int {
        switch self {
        case let .whole(k), let .region(k, _): return k
        }
    }

    public var region: Int? {
        if case let .region(_, r) = self { return r }
        return nil
    }

    /// The task the manifest gives this item to.
    public func task(in manifest: JobManifest) -> Int {
        switch self {
        case let .whole(k): return manifest.inputs[k].task ?? 0
        case let .region(k, r): return manifest.inputs[k].split?.regions[r].task ?? 0
        }
    }

    public func key(in manifest: JobManifest) -> WorkItemKey {
        WorkItemKey(output: manifest.inputs[input].output, region: region.map(ReportRegion.index))
    }

    /// Task `task`'s share: its whole inputs and its regions, in manifest order.
    public static func share(of task: Int, in manifest: JobManifest) -> [WorkItem] {
        var items = [WorkItem]()
        for (k, input) in manifest.inputs.enumerated() {
            if input.task == task { items.append(.whole(input: k)) }
            for (r, region) in (input.split?.regions ?? []).enumerated() where region.task == task {
                items.append(.region(input: k, region: r))
            }
        }
        return items
    }

    /// Every item of the job (any task) whose latest report line says it failed.
    public static func failed(in manifest: JobManifest, latest: [WorkItemKey: ReportLine]) -> [WorkItem] {
        var items = [WorkItem]()
        for (k, input) in manifest.inputs.enumerated() {
            let all: [WorkItem] = input.split.map { s in s.regions.indices.map { .region(input: k, region: $0) } } ?? [.whole(input: k)]
            items += all.filter { latest[$0.key(in: manifest)]?.status == .failed }
        }
        return items
    }

    /// bytes_in of the item: the file's bytes, shared among a split image's regions by
    /// their pixels (the last region takes the remainder, so they add up to the file).
    public func bytesIn(in manifest: JobManifest) -> Int {
        let input = manifest.inputs[self.input]
        guard let r = region, let regions = input.split?.regions else { return input.fileBytes }
        let pixels = regions.map { $0.shape.reduce(1) { a, b in a.multipliedReportingOverflow(by: b).partialValue } }
        let total = max(1, pixels.reduce(0, +))
        let shares = pixels.map { Int((Double(input.fileBytes) * Double($0) / Double(total)).rounded(.down)) }
        return r == regions.count - 1 ? input.fileBytes - shares.dropLast().reduce(0, +) : shares[r]
    }
}
