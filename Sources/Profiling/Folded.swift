// Folded stacks: Brendan Gregg's FlameGraph interchange format, read by flamegraph.pl, inferno and speedscope.
//
// One line per distinct stack: the frames from the root to the leaf joined by ';', one space, the count:
//
//     _start;main;Kernels.matmulForwardNaive(_:_:weight:bias:T:C:OC:columns:) 412
//     _start;main;GPT2.GPT2Model.forward(_:pos0:allLogits:);Kernels.geluForward(_:_:range:) 17
//
// The count is the text after the last space, so frame names may contain spaces. They may not contain ';'
// (the separator) or line breaks: the writer replaces ';' with ':' and line breaks with spaces.
import Foundation

public enum Folded {
    /// A frame name made safe for the format (';' -> ':', line breaks -> ' ', never empty).
    public static func escape(_ frame: String) -> String {
        var s = frame
        if s.contains(";") { s = s.replacingOccurrences(of: ";", with: ":") }
        if s.contains(where: { $0.isNewline }) {
            s = String(s.map { $0.isNewline ? " " : $0 })
        }
        return s.isEmpty ? "[empty]" : s
    }

    /// The folded text of `profile`: one line per stack, sorted by stack (stable output for golden files).
    public static func write(_ profile: StackProfile) -> String {
        var lines: [(String, Int)] = []
        lines.reserveCapacity(profile.counts.count)
        for (stack, count) in profile.counts {
            lines.append((stack.map(escape).joined(separator: ";"), count))
        }
        lines.sort { $0.0 < $1.0 }
        var out = ""
        for (s, c) in lines { out += "\(s) \(c)\n" }
        return out
    }

    /// Writes the folded text of `profile` to `path`. Throws `ProfilingError`.
    public static func write(_ profile: StackProfile, to path: String) throws {
        do { try Data(write(profile).utf8).write(to: URL(fileURLWithPath: path)) }
        catch { throw ProfilingError("cannot write \(path): \(error.localizedDescription)") }
    }

    /// Parses folded text. `source` names the input in error messages. Blank lines are skipped; any other
    /// line must be `frames count` with a non-negative integer count and no empty frame.
    public static func parse(_ text: String, source: String) throws -> StackProfile {
        var p = StackProfile()
        var lineNo = 0
        // ("\r\n" is one Character in Swift: split on both.)
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNo += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            guard let space = line.lastIndex(of: " ") else {
                throw ProfilingError("\(source): line \(lineNo) is not a folded stack ('frame;frame;... count'): \(preview(line))")
            }
            let countText = line[line.index(after: space)...]
            guard let count = Int(countText), count >= 0 else {
                throw ProfilingError("\(source): line \(lineNo) does not end with a sample count: \(preview(line))")
            }
            let stackText = line[..<space]
            let frames = stackText.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            if stackText.isEmpty || frames.contains(where: { $0.isEmpty }) {
                throw ProfilingError("\(source): line \(lineNo) has an empty frame: \(preview(line))")
            }
            if p.total.addingReportingOverflow(count).overflow {
                throw ProfilingError("\(source): line \(lineNo): the sample counts add up past \(Int.max)")
            }
            p.add(frames, count: count)
        }
        return p
    }

    /// Reads and parses the folded file at `path`. Throws `ProfilingError` (missing, unreadable, garbled).
    public static func read(path: String) throws -> StackProfile {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ProfilingError("\(path): no such file")
        }
        if isDir.boolValue { throw ProfilingError("\(path): is a directory, not a folded-stacks file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProfilingError("\(path): cannot read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ProfilingError("\(path): not UTF-8 text, not a folded-stacks file")
        }
        return try parse(text, source: path)
    }

    private static func preview(_ s: Substring) -> String {
        let t = s.count > 80 ? String(s.prefix(77)) + "..." : String(s)
        return "'\(t)'"
    }
}
