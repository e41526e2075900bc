// Every JSON file the tool writes goes through one encoder: pretty, sorted keys, unescaped slashes,
// non-finite numbers as strings, and at the top level of every object `tool` (what wrote it) and `command`
// (the command line that did), beside the type's own `schema`.
import Foundation

public enum ToolJSON {
    /// The writer's name in every file.
    public static let tool = "workbench"

    /// The running command line as a shell would read it, the program named by its base name
    /// ("workbench compare matmul:naive matmul:tiled --json").
    public static let command: String = {
        var args = CommandLine.arguments
        if let first = args.first { args[0] = (first as NSString).lastPathComponent }
        return args.map(shellQuoted).joined(separator: " ")
    }()

    /// `value` (a type that encodes as a JSON object: every report is) encoded, `tool` and `command` added to
    /// its top-level object.
    public static func data<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(Stamped(value: value))
    }

    public static func string<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try data(value), as: UTF8.self)
    }

    /// `s` as one shell word (single-quoted when it holds anything but [A-Za-z0-9_./:=,+@%-]).
    public static func shellQuoted(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_./:=,+@%-".unicodeScalars.contains($0) }
        return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private struct Stamped<T: Encodable>: Encodable {
        let value: T
        enum Keys: String, CodingKey { case tool, command }
        func encode(to encoder: Encoder) throws {
            try value.encode(to: encoder)
            // the two fields beside the value's own (JSONEncoder merges keyed containers of one level)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(ToolJSON.tool, forKey: .tool)
            if !(value is RecordsItsCommand) { try c.encode(ToolJSON.command, forKey: .command) }
        }
    }
}

/// A report whose own `command` field already records the command line (a profile's metadata: its argv).
public protocol RecordsItsCommand {}
