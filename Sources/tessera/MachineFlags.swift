import ArgumentParser
import Batch
import Conversion
import ZarrCore

/// `--jobs`, `--memory` and `--no-fsync`: how much of this machine a conversion may use,
/// and how safely it writes. They change nothing that is stored, so a job manifest never
/// records them; `convert`, `run` and `finalize` take them from the command line through
/// this one group.
struct MachineFlags: ParsableArguments {
    @Option(help: "Parallel workers (default: cores).") var jobs: Int = defaultConcurrency
    @Option(help: "Memory for pixel buffers, e.g. 512MiB, 2GiB.") var memory = "1GiB"
    @Flag(name: .customLong("no-fsync"), help: "Skip flushing local output to disk before its metadata: faster, still atomic, but not safe against power loss.") var noFsync = false

    func apply(to options: inout ConvertOptions) throws {
        options.jobs = max(1, jobs)
        options.memoryLimit = try parseBytes(memory)
        options.fsync = !noFsync
    }
}

extension JobManifest {
    /// The options a task converts with: the manifest's recorded convert flags (parsed by
    /// the same group as `tessera convert`'s) sized to this machine.
    func convertOptions(on machine: MachineFlags) throws -> ConvertOptions {
        var options = try ConvertFlags.from(manifest: convert).options()
        try machine.apply(to: &options)
        options.progressBars = false
        return options
    }
}
