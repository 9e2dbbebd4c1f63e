import Foundation
import ImageSources
import Storage
import ZarrCore

/// Told about each input a conversion writes, so something outside the converter (the CLI's
/// catalogue writer) can record it without the converter knowing of catalogues. Called on
/// the converting thread, which waits for it: `willConvert` must have finished (a catalogue
/// row written) before the first chunk is, and a throw stops that input's conversion with the
/// error (never a silently uncatalogued output).
public protocol ConversionObserver: Sendable {
    /// The input is open, its output prepared; nothing of the image written yet.
    func willConvert(_ conversion: ObservedConversion) throws
    /// The output's top-level metadata is written: the conversion is complete.
    func didConvert(_ conversion: ObservedConversion, output: ObservedOutput) throws
    /// The conversion failed after `willConvert` returned.
    func didFail(_ conversion: ObservedConversion, error: any Error)
}

/// One input being converted, as plain values.
public struct ObservedConversion: Sendable {
    /// The input as given (a path, or `file.h5:/dataset`).
    public var input: String
    public var sourcePath: String
    /// The part of the source (an HDF5 dataset path), empty for the whole file.
    public var part: String
    public var format: String
    /// The output location as given (a path or `s3://…`).
    public var destination: String
    public var name: String
    public var fileBytes: Int
    /// Seconds since 1970 of the source's modification.
    public var fileModified: Double?
    /// The source's identity (size and sampled checksum), as the resume check knows it.
    public var checksum: String
    /// Level 0 of the first image.
    public var level0: ObservedImage?
    /// The file's metadata in `MetadataFlattener`'s input form (`SourceMetadata.of`).
    public var metadata: JSONValue
}

/// What a level-0 image is: shape and axes in NGFF order, the data type, pixel sizes.
public struct ObservedImage: Sendable {
    public var shape: [Int]
    public var axes: [String]
    public var units: [String?]
    public var dataType: String
    /// Physical size of a pixel per axis, `nil` where the source gave none.
    public var spacing: [Double?]
}

/// What was written.
public struct ObservedOutput: Sendable {
    public var images: Int
    /// Everything stored under the output once it is complete — chunks (written now or kept
    /// from a resumed run), metadata, Tessera's mark — as one listing of it counts them
    /// (`ConvertJob.storedBytes`): the catalogue's `stored_bytes`, what `du` of the folder sums.
    public var outputBytes: Int
}

extension ConvertJob {
    /// The bytes of every object under `store`'s root, from one paged listing; `fallback`
    /// (the chunk bytes this run wrote) when the listing fails, so a catalogue record is
    /// never refused over a count.
    static func storedBytes(_ store: any Store, orElse fallback: Int) -> Int {
        var total = 0
        do {
            try store.listPages(prefix: "") { page in
                for entry in page { total = total.addingReportingOverflow(max(0, entry.size)).overflow ? Int.max : total + max(0, entry.size) }
            }
        } catch {
            return fallback
        }
        return total
    }
}

extension ObservedConversion {
    init(input: String, source: SourceFile, part: String, identity: SourceIdentity, destination: String) {
        let level0 = source.images.first.map { image -> ObservedImage in
            let d = image.description
            let spacing = d.axes.indices.map { i -> Double? in
                d.hasPhysicalSizes && d.axes[i].kind == .space ? d.spacing[i] : nil
            }
            return ObservedImage(shape: d.shape, axes: d.axisNames, units: d.axes.map(\.unit), dataType: d.dataType.rawValue,
                                 spacing: spacing)
        }
        self.init(input: input, sourcePath: identity.path, part: part, format: source.format.rawValue, destination: destination,
                  name: SourceOpener.stem(source.path) + (part.isEmpty ? "" : part), fileBytes: source.fileBytes,
                  fileModified: Double(identity.modified) / 1e9,
                  checksum: "crc32c-samples:\(identity.fingerprint) size:\(identity.size)", level0: level0,
                  metadata: SourceMetadata.of(source))
    }
}
