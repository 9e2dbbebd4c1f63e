import Foundation
import ImageSources

/// A list of `input,output` rows (`.csv`, or tab-separated `.tsv`), header row
/// `input,output` optional, fields optionally in double quotes. Relative inputs are
/// relative to the list's folder; outputs are relative to the job's output root and may
/// neither be absolute nor climb out of it. A bad row is an error naming `file:line`.
enum CSVInputs {
    static func isList(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".csv") || lower.hasSuffix(".tsv")
    }

    static func read(_ path: String) throws -> [PlanInput] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw PlanError.badRow(path, "cannot be read as UTF-8 text")
        }
        let separator: Character = path.lowercased().hasSuffix(".tsv") ? "\t" : ","
        let folder = (path as NSString).deletingLastPathComponent
        var out = [PlanInput]()
        var first = true
        // `\r\n` is one Character in Swift: split on any line break, not on "\n".
        for (n, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let row = "\(path):\(n + 1)"
            let fields = try splitFields(String(line), separator: separator, row: row)
            defer { first = false }
            if first, fields.map({ $0.lowercased() }) == ["input", "output"] { continue }
            guard fields.count == 2 else { throw PlanError.badRow(row, "expected 2 fields (input\(separator)output), found \(fields.count)") }
            out.append(try entry(input: fields[0], output: fields[1], folder: folder, row: row))
        }
        guard !out.isEmpty else { throw PlanError.noImages(path) }
        return out
    }

    static func entry(input: String, output: String, folder: String, row: String) throws -> PlanInput {
        guard !input.isEmpty else { throw PlanError.badRow(row, "the input is empty") }
        let name = try checkedOutput(output, row: row)
        if input.hasPrefix("s3://") { return PlanInput(input: input, output: name, origin: row) }
        let path = InputExpansion.absolutePath(input, relativeTo: folder)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw PlanError.badRow(row, "'\(input)' is a directory; list its files") }
        } else if SourceOpener.splitDatasetPath(path).1 == nil {
            throw PlanError.badRow(row, "'\(input)': no such file")
        }
        return PlanInput(input: path, output: name, origin: row)
    }

    /// An output name inside the root: relative, no `..`, no empty or `.` segments.
    static func checkedOutput(_ output: String, row: String) throws -> String {
        guard !output.isEmpty else { throw PlanError.badRow(row, "the output is empty") }
        guard !output.hasPrefix("/"), !output.contains("://") else { throw PlanError.badRow(row, "output '\(output)' must be relative to the output root") }
        let parts = output.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !parts.contains("..") else { throw PlanError.badRow(row, "output '\(output)' must not contain '..'") }
        guard !parts.isEmpty else { throw PlanError.badRow(row, "output '\(output)' names no folder") }
        return parts.joined(separator: "/")
    }

    /// The fields of one line; `"a,b"` keeps its separator, `""` inside quotes is a quote.
    static func splitFields(_ line: String, separator: Character, row: String) throws -> [String] {
        var fields = [String]()
        var field = ""
        var quoted = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    // A doubled quote is one quote; a single one ends the quoted part.
                    var lookahead = chars
                    if lookahead.next() == "\"" { field.append("\""); chars = lookahead } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == separator {
                fields.append(field.trimmingCharacters(in: .whitespaces))
                field = ""
            } else {
                field.append(c)
            }
        }
        guard !quoted else { throw PlanError.badRow(row, "a quoted field is not closed") }
        fields.append(field.trimmingCharacters(in: .whitespaces))
        return fields
    }
}
