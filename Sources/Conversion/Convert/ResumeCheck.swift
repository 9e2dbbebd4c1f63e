import Foundation
import Storage
import ZarrCore

/// `--resume` keeps stored objects only when this run would have written the very same
/// bytes: the output must be one `tessera convert` started (its `OutputMark`), with the
/// same byte-changing settings, from the same source file. Anything else is refused
/// before a byte is written, naming what differs.
enum ResumeCheck {
    /// Before any input is opened: the mark is there and the settings match.
    static func settings(_ store: any Store, location: String, options: ConvertOptions) throws -> OutputMark {
        guard let mark = try OutputMark.read(from: store) else {
            throw UsageError("cannot --resume '\(location)': it holds no record of a conversion Tessera started "
                             + "(written by another program or an older Tessera); use --overwrite to start again")
        }
        guard mark.command == "convert" else {
            throw UsageError("cannot --resume '\(location)': it was written by `tessera \(mark.command)`, not `tessera convert`")
        }
        let wanted = options.storedBytesSettings
        let differing = wanted.keys.sorted().filter { mark.settings[$0] != wanted[$0] }
        guard differing.isEmpty else {
            let was = differing.map { "\($0) \(mark.settings[$0] ?? "(unset)")" }.joined(separator: ", ")
            let now = differing.map { "\($0) \(wanted[$0] ?? "")" }.joined(separator: ", ")
            throw UsageError("cannot --resume '\(location)': it was started with \(was), this run asks for \(now); "
                             + "resume with the same settings, or use --overwrite to start again")
        }
        return mark
    }

    /// Once the input is open: it is the file the output was started from.
    static func source(_ identity: SourceIdentity, mark: OutputMark, location: String) throws {
        guard let recorded = mark.source else {
            throw UsageError("cannot --resume '\(location)': its record names no source file; use --overwrite to start again")
        }
        guard identity.isSameFile(as: recorded) else {
            let why = identity.differences(from: recorded).joined(separator: ", ")
            throw UsageError("cannot --resume '\(location)': it was started from '\(recorded.path)\(recorded.part)', "
                             + "this run reads '\(identity.path)\(identity.part)' (\(why)); resume from the same file, "
                             + "or use --overwrite to start again")
        }
    }
}

extension ConvertOptions {
    /// Every option that changes what is stored (pixels, layout, metadata), by flag name;
    /// defaults are recorded as such, so a resume must repeat the same flags.
    var storedBytesSettings: [String: String] {
        func shape(_ s: [Int]?) -> String { s.map { $0.map(String.init).joined(separator: ",") } ?? "default" }
        func file(_ p: String?) -> String { p.map(resolvedPath) ?? "none" }
        return [
            "--ngff": ngff.rawValue, "--chunks": shape(chunks), "--shards": shape(shards), "--codec": codec?.rawValue ?? "default",
            "--level": level.map(String.init) ?? "default", "--downsample": downsample.rawValue,
            "--downsample-z": zDownsampling.rawValue, "--pages-as": source.pagesAs, "--axes": source.axes ?? "default",
            "--fits-hdus": source.stackFITSHDUs ? "channels" : "each", "--use-existing-levels": useExistingLevels ? "yes" : "no",
            "--labels": file(labelsPath), "--window-from": file(windowFrom),
        ]
    }
}
