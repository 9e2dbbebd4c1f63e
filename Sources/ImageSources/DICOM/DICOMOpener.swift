import Foundation
import ZarrCore

/// Opens a DICOM file (single- or multi-frame) or a folder holding one series, and
/// whole-slide microscopy instances (see `DICOMWholeSlide`).
///
/// Series: the slices are ordered by their position along the slice normal
/// (ImagePositionPatient · (row × column direction cosines)), never by file name or
/// InstanceNumber (the fallback only when no slice has a position); z spacing is the
/// median step between those positions, y/x spacing the PixelSpacing, in millimeter.
/// Pixel values are the stored values (exact, as pydicom's `pixel_array`), with
/// RescaleSlope/Intercept recorded; only a series whose slices rescale differently is
/// rescaled while reading (to float32), since its stored values are not comparable.
public enum DICOMOpener {
    static let wsiSOPClass = "1.2.840.10008.5.1.4.1.1.77.1.6"
    static let directorySOPClass = "1.2.840.10008.1.3.10"

    /// Whether the file at `path` starts like a DICOM Part 10 file.
    public static func isDICOMFile(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return DICOMHeader.hasPrefix([UInt8]((try? handle.read(upToCount: 132)) ?? Data()))
    }

    /// The regular, non-hidden files of a folder, sorted by name.
    static func folderFiles(_ folder: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        return names.map { (folder as NSString).appendingPathComponent($0) }.filter { path in
            var st = stat()
            return stat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
        }
    }

    /// Whether `folder` is one DICOM input: it holds regular files and all are DICOM
    /// (a DICOMDIR among them is allowed and skipped).
    /// A folder holding nothing but a DICOMDIR (a disc's root, its images in subfolders)
    /// is not one: it stays a batch folder.
    public static func isDICOMFolder(_ folder: String) -> Bool {
        guard let files = try? folderFiles(folder) else { return false }
        let images = files.filter { ($0 as NSString).lastPathComponent.uppercased() != "DICOMDIR" }
        return !images.isEmpty && files.allSatisfy(isDICOMFile)
    }

    static func open(path: String) throws -> SourceFile {
        let instance = try DICOMInstance(path: path)
        if instance.dataSet.string(DICOMTag.sopClassUID) == wsiSOPClass {
            return try DICOMWholeSlide.open(source: path, instances: [instance])
        }
        let image = try volume([instance], name: SourceOpener.stem(path), source: path)
        return SourceFile(path: path, format: .dicom, images: [image], fileBytes: instance.header.fileSize,
                          details: details([instance]))
    }

    static func openFolder(_ folder: String) throws -> SourceFile {
        let files = try folderFiles(folder)
        guard !files.isEmpty else { throw SourceError(folder, "the folder holds no files") }
        var instances = [DICOMInstance]()
        var bytes = 0
        for file in files {
            guard isDICOMFile(file) else { throw SourceError(folder, "holds '\((file as NSString).lastPathComponent)', which is not a DICOM file; a DICOM folder must hold only DICOM files") }
            let header = try DICOMHeader.read(path: file)
            bytes += header.fileSize
            // A DICOMDIR names its class in the file meta information only.
            let classes = [DICOMTag.sopClassUID, DICOMTag.mediaStorageSOPClassUID].map { header.dataSet.string($0) }
            if classes.contains(directorySOPClass) { continue }
            instances.append(try DICOMInstance(header: header))
        }
        guard !instances.isEmpty else { throw SourceError(folder, "holds only a DICOMDIR, no images") }
        let name = (folder as NSString).lastPathComponent
        if instances.contains(where: { $0.dataSet.string(DICOMTag.sopClassUID) == wsiSOPClass }) {
            var file = try DICOMWholeSlide.open(source: folder, instances: instances)
            file.fileBytes = bytes
            return file
        }
        // One series per input: two are two images the user must name separately.
        var series = [String: [String]]()
        for i in instances { series[i.dataSet.string(DICOMTag.seriesInstanceUID) ?? "(none)", default: []].append((i.path as NSString).lastPathComponent) }
        if series.count > 1 {
            let list = series.keys.sorted().map { "\($0) (\(series[$0]?.count ?? 0) files, e.g. '\(series[$0]?.first ?? "")')" }.joined(separator: " and ")
            throw SourceError(folder, "mixes \(series.count) DICOM series: \(list); put each series in its own folder")
        }
        let image = try volume(instances, name: name, source: folder)
        return SourceFile(path: folder, format: .dicom, images: [image], fileBytes: bytes, details: details(instances))
    }

    /// The most the pixels of a DICOM image can expand over the bytes that hold them, and
    /// the compression's name (for `DeclaredSizeLimit`).
    public static func expansion(of image: ImageDescription) -> (Int, String) {
        let syntax = image.metadata["transferSyntax"]?.stringValue ?? ""
        var ratio = DICOMSyntaxNames.expansion(syntax)
        if image.metadata["rescale"]?["applied"]?.boolValue == true { ratio *= 4 }
        // A sparse slide's absent tiles cost no bytes: only the present ones must fit.
        if let grid = image.metadata["tiles"]?["grid"]?.intValue, let present = image.metadata["tiles"]?["present"]?.intValue,
           present < grid {
            let (r, overflow) = ratio.multipliedReportingOverflow(by: (grid + max(present, 1) - 1) / max(present, 1))
            ratio = overflow ? Int.max : r
        }
        return (ratio, DICOMSyntaxNames.name(syntax))
    }

    static func details(_ instances: [DICOMInstance]) -> [(label: String, value: String)] {
        let ds = instances[0].dataSet
        var out: [(label: String, value: String)] = []
        let syntaxes = Array(Set(instances.map(\.syntax))).sorted()
        out.append(("transfer syntax", syntaxes.map { "\(DICOMSyntaxNames.name($0)) (\($0))" }.joined(separator: ", ")))
        if let m = ds.string(DICOMTag.modality) { out.append(("modality", m)) }
        out.append(("photometric", instances[0].format.photometric))
        if instances.count > 1 { out.append(("instances", String(instances.count))) }
        return out
    }

    /// A series' instances (or one multi-frame instance) as one image.
    static func volume(_ instances: [DICOMInstance], name: String, source: String) throws -> DICOMVolume {
        let first = instances[0]
        for i in instances.dropFirst() where i.format.rows != first.format.rows || i.format.columns != first.format.columns
            || i.format.samples != first.format.samples || i.format.dataType != first.format.dataType {
            throw SourceError(source, "'\((i.path as NSString).lastPathComponent)' is \(i.format.rows) × \(i.format.columns) × \(i.format.samples) \(i.format.dataType.rawValue), '\((first.path as NSString).lastPathComponent)' is \(first.format.rows) × \(first.format.columns) × \(first.format.samples) \(first.format.dataType.rawValue): the slices of one series must match")
        }
        if instances.count > 1, let multi = instances.first(where: { $0.frames > 1 }) {
            throw SourceError(source, "holds several instances and '\((multi.path as NSString).lastPathComponent)' has \(multi.frames) frames; convert multi-frame instances one file at a time")
        }
        let shared = first.dataSet.item(DICOMTag.sharedFunctionalGroupsSequence)
        let measures = shared?.item(DICOMTag.pixelMeasuresSequence)
        var slices: [(instance: Int, frame: Int)]
        var zSpacing: Double?
        var positions: [Double]?
        if instances.count == 1 {
            slices = (0..<first.frames).map { (0, $0) }
            zSpacing = measures?.double(DICOMTag.spacingBetweenSlices) ?? first.dataSet.double(DICOMTag.spacingBetweenSlices)
            if first.frames > 1 {
                positions = multiFramePositions(first)
                if zSpacing == nil, let p = positions { zSpacing = medianStep(p) }
            }
        } else {
            let order = try sliceOrder(instances, source: source)
            slices = order.indices.map { ($0, 0) }
            positions = order.positions
            zSpacing = order.positions.map(medianStep) ?? nil
        }
        let f = first.format
        let pixelSpacing = measures?.doubles(DICOMTag.pixelSpacing) ?? first.dataSet.doubles(DICOMTag.pixelSpacing)
        // Rescale per slice: an enhanced multi-frame's per-frame functional group, else its
        // shared one, else the top level.
        let rescales: [(slope: Double, intercept: Double)] = slices.map { s in
            let ds = instances[s.instance].dataSet
            let perFrame = ds.sequence(DICOMTag.perFrameFunctionalGroupsSequence)
            let t = (s.frame < perFrame.count ? perFrame[s.frame].item(DICOMTag.pixelValueTransformationSequence) : nil)
                ?? ds.item(DICOMTag.sharedFunctionalGroupsSequence)?.item(DICOMTag.pixelValueTransformationSequence)
            return (t?.double(DICOMTag.rescaleSlope) ?? ds.double(DICOMTag.rescaleSlope) ?? 1,
                    t?.double(DICOMTag.rescaleIntercept) ?? ds.double(DICOMTag.rescaleIntercept) ?? 0)
        }
        let uniform = rescales.allSatisfy { $0.slope == rescales[0].slope && $0.intercept == rescales[0].intercept }
        let dataType: DataType = uniform ? f.dataType : .float32

        // NGFF order: c, z, y, x.
        var axes = [ImageAxis](), shape = [Int](), spacing = [Double](), block = [Int]()
        if f.samples == 3 {
            axes.append(ImageAxis(name: "c"))
            shape.append(3)
            spacing.append(1)
            block.append(3)
        }
        if slices.count > 1 {
            axes.append(ImageAxis(name: "z", unit: zSpacing != nil ? "millimeter" : nil))
            shape.append(slices.count)
            spacing.append(zSpacing ?? 1)
            block.append(1)
        }
        let unit = pixelSpacing?.count == 2 ? "millimeter" : nil
        axes += [ImageAxis(name: "y", unit: unit), ImageAxis(name: "x", unit: unit)]
        shape += [f.rows, f.columns]
        spacing += pixelSpacing?.count == 2 ? [pixelSpacing![0], pixelSpacing![1]] : [1, 1]
        block += [f.rows, f.columns]

        var metadata: [String: JSONValue] = [
            "dicom": first.dataSet.json,
            "transferSyntax": .string(first.syntax),
            "photometricInterpretation": .string(f.photometric),
        ]
        if instances.count > 1 {
            metadata["files"] = .array(slices.map { .string((instances[$0.instance].path as NSString).lastPathComponent) })
        }
        if let positions { metadata["slicePositions"] = .array(positions.map { .double($0) }) }
        metadata["rescale"] = .object([
            "slope": .double(rescales[0].slope), "intercept": .double(rescales[0].intercept),
            "type": first.dataSet.string(DICOMTag.rescaleType).map(JSONValue.string) ?? .null,
            "applied": .bool(!uniform),
        ])
        let channels: [ChannelInfo] = f.samples == 3
            ? (f.bitsAllocated == 8 ? ChannelInfo.rgb : ["red", "green", "blue"].map { ChannelInfo(name: $0) })
            : []
        let description = ImageDescription(
            name: name, axes: axes, shape: shape, dataType: dataType, spacing: spacing, channels: channels,
            metadata: .object(metadata), readBlock: block,
            hasPhysicalSizes: pixelSpacing?.count == 2 || zSpacing != nil)
        return DICOMVolume(description: description, instances: instances, slices: slices, rescale: uniform ? nil : rescales)
    }

    /// Instances sorted along the slice normal; with the sorted positions (nil when the
    /// slices have none and InstanceNumber ordered them).
    static func sliceOrder(_ instances: [DICOMInstance], source: String) throws -> (indices: [Int], positions: [Double]?) {
        let named = { (i: Int) in (instances[i].path as NSString).lastPathComponent }
        let orientations = instances.map { $0.dataSet.doubles(DICOMTag.imageOrientationPatient) }
        let places = instances.map { $0.dataSet.doubles(DICOMTag.imagePositionPatient) }
        if let o = orientations[0], o.count == 6, places.allSatisfy({ $0?.count == 3 }) {
            for (i, other) in orientations.enumerated() {
                guard let other, other.count == 6, zip(o, other).allSatisfy({ abs($0 - $1) < 1e-4 }) else {
                    throw SourceError(source, "'\(named(i))' has another Image Orientation (Patient) than '\(named(0))': not one stack of parallel slices")
                }
            }
            let normal = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]]
            let along = places.map { p in p![0] * normal[0] + p![1] * normal[1] + p![2] * normal[2] }
            let order = along.indices.sorted { along[$0] < along[$1] }
            for k in 1..<order.count where abs(along[order[k]] - along[order[k - 1]]) < 1e-6 {
                throw SourceError(source, "'\(named(order[k - 1]))' and '\(named(order[k]))' are at the same slice position (\(along[order[k]]) mm): several echoes, phases or times in one series are not one z-stack")
            }
            return (order, order.map { along[$0] })
        }
        let numbers = instances.map { $0.dataSet.integer(DICOMTag.instanceNumber) }
        guard numbers.allSatisfy({ $0 != nil }), Set(numbers.map { $0! }).count == numbers.count else {
            throw SourceError(source, "its slices have neither Image Position/Orientation (Patient) nor distinct Instance Numbers: their order is unknown")
        }
        return (numbers.indices.sorted { numbers[$0]! < numbers[$1]! }, nil)
    }

    /// Frame positions along the normal of an enhanced multi-frame instance, when every
    /// frame has one.
    static func multiFramePositions(_ instance: DICOMInstance) -> [Double]? {
        let ds = instance.dataSet
        let perFrame = ds.sequence(DICOMTag.perFrameFunctionalGroupsSequence)
        let shared = ds.item(DICOMTag.sharedFunctionalGroupsSequence)
        guard perFrame.count == instance.frames,
              let o = shared?.item(DICOMTag.planeOrientationSequence)?.doubles(DICOMTag.imageOrientationPatient)
                ?? perFrame.first?.item(DICOMTag.planeOrientationSequence)?.doubles(DICOMTag.imageOrientationPatient)
                ?? ds.doubles(DICOMTag.imageOrientationPatient), o.count == 6 else { return nil }
        let normal = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]]
        var out = [Double]()
        for frame in perFrame {
            guard let p = frame.item(DICOMTag.planePositionSequence)?.doubles(DICOMTag.imagePositionPatient), p.count == 3 else { return nil }
            out.append(p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2])
        }
        return out
    }

    /// The median distance between neighbouring positions (nil for fewer than two).
    static func medianStep(_ positions: [Double]) -> Double? {
        guard positions.count > 1 else { return nil }
        let steps = zip(positions.dropFirst(), positions).map { abs($0 - $1) }.sorted()
        let m = steps[steps.count / 2]
        return m > 0 ? m : nil
    }
}
