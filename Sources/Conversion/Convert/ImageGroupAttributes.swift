import Foundation
import ImageSources
import NGFF
import ZarrCore

/// The attributes of an image's NGFF group, built in one place for every way an image is
/// converted (whole, or split into regions and finished later), so the documents are the
/// same bytes either way.
enum ImageGroupAttributes {
    /// The `tessera` attribute of image `d` of `file`: which file, format and part of it.
    static func tessera(file: SourceFile, image d: ImageDescription, options: ConvertOptions) -> JSONValue {
        var sourceInfo: [String: JSONValue] = ["file": .string((file.path as NSString).lastPathComponent),
                                               "format": .string(file.format.rawValue), "metadata": d.metadata]
        // Which part of the file this image is: HDF5 dataset or FITS HDU.
        for key in ["dataset", "hdu"] { if let v = d.metadata[key] { sourceInfo[key] = v } }
        return .object([
            "version": .string(tesseraVersion), "source": .object(sourceInfo),
            "downsample": .string(options.downsample.rawValue),
        ])
    }

    /// The group's attributes: multiscales over the plan's levels, omero channels when
    /// `windows` are given, and `extra` (the `tessera` attribute, `image-label`).
    static func image(_ d: ImageDescription, plan: ImagePlan, options: ConvertOptions, windows: [ChannelWindow]?,
                      extra: [String: JSONValue]) -> [String: JSONValue] {
        let omero = windows.map { omeroChannels(d, windows: $0) }
        let axes = d.axes.map { NGFFAxis(name: $0.name, type: $0.kind.rawValue, unit: $0.unit) }
        return NGFFImageMetadata.image(version: options.ngff, name: d.name, axes: axes, datasets: plan.datasets,
                                       type: options.downsample.rawValue, omero: omero,
                                       defaultZ: d.axisIndex("z").map { d.shape[$0] / 2 } ?? 0, extra: extra)
    }

    static func omeroChannels(_ d: ImageDescription, windows: [ChannelWindow]) -> [OmeroChannel] {
        let palette = ["FF0000", "00FF00", "0000FF", "FFFF00", "FF00FF", "00FFFF", "FFFFFF"]
        let count = d.channels.count
        return d.channels.enumerated().map { k, info in
            let color = info.color ?? (count == 1 ? "FFFFFF" : palette[k % palette.count])
            // A range the source dictates (RGB samples: 0–255) wins over the histogram's.
            let w = info.window.map(ChannelWindow.init(range:))
                ?? (k < windows.count ? windows[k] : ChannelWindow(min: 0, max: 0, start: 0, end: 0))
            return OmeroChannel(label: info.name ?? "Channel \(k)", color: color, window: (w.min, w.max, w.start, w.end),
                                integral: !d.dataType.isFloatingPoint)
        }
    }
}
