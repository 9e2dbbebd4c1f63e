import ArgumentParser
import Catalog
import Conversion
import Dispatch
import Foundation
import Ingest

/// The CLI's `ConversionObserver`: writes each output's catalogue record through the store —
/// `converting` before the first chunk, `ready` with the harvest once the output is complete,
/// `failed` with the error. A write that fails fails the conversion with `CatalogWriteError`
/// (an output is never left silently uncatalogued).
///
/// The converter calls on its own threads and waits; each store call runs as a task on the
/// concurrency pool while the converting thread blocks, so the commands run the conversion
/// off the pool (`runOffThePool`), never blocking the threads the store needs.
final class CatalogRecorder: ConversionObserver {
    let store: any CatalogStore
    let url: String
    let access: DatasetRule

    init(store: any CatalogStore, url: String, access: DatasetRule) {
        self.store = store; self.url = url; self.access = access
    }

    func willConvert(_ c: ObservedConversion) throws {
        try write(Harvester.starting(dataset(c, output: nil)), harvest: nil, c)
    }

    func didConvert(_ c: ObservedConversion, output: ObservedOutput) throws {
        let (record, harvest) = Harvester.finished(dataset(c, output: output), metadata: c.metadata)
        try write(record, harvest: harvest, c)
    }

    func didFail(_ c: ObservedConversion, error: any Error) {
        // The conversion's own error is what the user sees; a failed write of the `failed`
        // row adds a line, not a second error.
        do {
            try write(Harvester.failed(dataset(c, output: nil), error: String(describing: error)), harvest: nil, c)
        } catch {
            logLine("tessera: warning: \(error)")
        }
    }

    func close() async {
        try? await store.close()
    }

    private func write(_ record: DatasetRecord, harvest: Harvest?, _ c: ObservedConversion) throws {
        let store = self.store
        do {
            _ = try waitFor { try await store.record(record, harvest: harvest) }
        } catch {
            throw CatalogWriteError(location: record.location, catalog: url, status: record.status, reason: String(describing: error))
        }
    }

    func dataset(_ c: ObservedConversion, output: ObservedOutput?) -> DatasetRecord {
        let dimensions = c.level0.map { l in
            Dimensions(shape: l.shape.map(Int64.init), axes: l.axes, dataType: l.dataType,
                       physical: zip(l.spacing, l.units).map { size, unit in size.map { PhysicalSize(size: $0, unit: unit) } })
        }
        return DatasetRecord(name: c.name, location: Self.absoluteLocation(c.destination), sourcePath: c.sourcePath,
                             sourcePart: c.part.isEmpty ? nil : c.part, format: c.format, sourceBytes: Int64(c.fileBytes),
                             storedBytes: output.map { Int64($0.outputBytes) }, checksum: c.checksum,
                             fileModified: c.fileModified, dimensions: dimensions, access: access, uploader: uploader(c))
    }

    /// Who uploaded the source, when it is an upload staged by the gateway
    /// (`PUT /api/uploads/{name}`, Docs/catalog.md "Uploads"): the dataset's provenance.
    func uploader(_ c: ObservedConversion) -> String? {
        guard let ledger = store as? any UploadLedger else { return nil }
        for path in Set([c.input, c.sourcePath]) {
            if let user = try? waitFor({ try await ledger.uploader(stagedPath: path) }) { return user }
        }
        return nil
    }

    /// A local output as an absolute, normalised path (the catalogue's `location` is unique);
    /// `s3://…` as given.
    static func absoluteLocation(_ destination: String) -> String {
        if destination.contains("://") { return destination }
        var path = URL(fileURLWithPath: destination).standardizedFileURL.path
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path
    }
}

/// A catalogue write that failed: the conversion fails with it.
struct CatalogWriteError: Error, CustomStringConvertible {
    var location: String
    var catalog: String
    var status: DatasetStatus
    var reason: String
    var description: String { "cannot record '\(location)' as \(status.rawValue) in the catalog \(catalog): \(reason)" }
}

/// Runs an async call from a thread outside the concurrency pool and waits for its result
/// (one implementation, shared with the watcher: `Ingest.waitForAsync`).
func waitFor<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    try waitForAsync(operation)
}

/// Runs a blocking body (a conversion whose observer waits on the catalogue) on a thread of
/// its own, so no thread of the concurrency pool is held while the store needs one.
func runOffThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// `reportingErrors` for async bodies.
func reportingErrorsAsync(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        FileHandle.standardError.write(Data("tessera: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
