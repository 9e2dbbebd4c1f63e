import ArgumentParser
import Conversion
import Foundation
import Gateway
import ZarrCore

@main
struct Tessera: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Convert scientific images to OME-NGFF Zarr, re-encode Zarr stores, and serve them over HTTP.",
        version: tesseraVersion,
        subcommands: [ConvertCommand.self, InfoCommand.self, CopyCommand.self, ServeCommand.self,
                      PlanCommand.self, RunCommand.self, ReportCommand.self, FinalizeCommand.self,
                      CatalogCommand.self, RenderCommand.self, WatchCommand.self, StatusCommand.self]
    )

    static func main() async {
        if CommandLine.arguments.dropFirst().first == "serve" { GatewayServer.runConcurrencyOnEventLoops() }
        tuneAllocatorForChunkBuffers()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Runs a command body, turning any failure into one line on stderr and exit code 1:
/// users see what went wrong and where, never a stack trace.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        let message = String(describing: error)
        FileHandle.standardError.write(Data("tessera: error: \(message)\n".utf8))
        throw ExitCode.failure
    }
}

/// Writes a line to stderr (logs and progress; stdout is for results).
func logLine(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
