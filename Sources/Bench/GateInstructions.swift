// Instruction counts: the one timing-free performance metric. Two counters are tried on a command:
//   perf stat -x, -e instructions:u CMD...        hardware counter (absent under many hypervisors:
//                                                  perf prints "<not supported>")
//   valgrind --tool=callgrind --callgrind-out-file=F CMD...
//                                                  simulated, deterministic; valgrind cannot run code it
//                                                  has no decoder for (e.g. AVX-512 before 3.2x: SIGILL)
// Each gives a count or a one-line reason, which `workbench gate` prints under "metrics:".
import Foundation

/// Counts the instructions a command executes, with perf or callgrind.
public enum InstructionCounter {
    /// A count, or why there is none.
    public struct Outcome: Equatable, Sendable {
        public var tool: String
        public var count: Double?
        /// Why `count` is nil, in a few words.
        public var reason: String?
        public init(tool: String, count: Double? = nil, reason: String? = nil) { self.tool = tool; self.count = count; self.reason = reason }
    }

    /// `perf stat -x, -e instructions:u` over `command` (user-space instructions of the process and its threads).
    public static func perf(_ command: [String]) -> Outcome {
        let r = runTool(["perf", "stat", "-x", ",", "-e", "instructions:u", "--"] + command)
        if let why = r.launchProblem { return Outcome(tool: "perf", reason: why) }
        if r.status == 127 { return Outcome(tool: "perf", reason: "perf is not installed") }
        if r.status != 0 { return Outcome(tool: "perf", reason: "exit status \(r.status): \(lastLine(r.stderr))") }
        return parsePerf(r.stderr)
    }

    /// perf stat's CSV (`-x,`): "<count>,<unit>,instructions:u,...". "<not supported>" / "<not counted>" give a reason.
    public static func parsePerf(_ text: String) -> Outcome {
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count >= 3, f[2].hasPrefix("instructions") else { continue }
            let v = f[0].trimmingCharacters(in: .whitespaces)
            if let n = Double(v) { return Outcome(tool: "perf", count: n) }
            return Outcome(tool: "perf", reason: "perf stat -e instructions says \(v)")
        }
        return Outcome(tool: "perf", reason: "no instructions line in perf stat's output")
    }

    /// `valgrind --tool=callgrind` over `command`, its profile written to `outFile` (removed afterwards).
    public static func callgrind(_ command: [String], outFile: String) -> Outcome {
        defer { unlink(outFile) }
        let r = runTool(["valgrind", "--tool=callgrind", "--callgrind-out-file=\(outFile)"] + command)
        if let why = r.launchProblem { return Outcome(tool: "callgrind", reason: why) }
        if r.status == 127 { return Outcome(tool: "callgrind", reason: "valgrind is not installed") }
        if r.status != 0 {
            if r.stderr.contains("unhandled instruction bytes") || r.status == 128 + SIGILL {
                return Outcome(tool: "callgrind", reason: "valgrind cannot decode this binary's instructions (SIGILL on an unhandled instruction, e.g. AVX-512)")
            }
            if r.stderr.contains("debuginfo reader") {
                return Outcome(tool: "callgrind", reason: "valgrind cannot read this binary's debug information (\(lastLine(r.stderr)))")
            }
            return Outcome(tool: "callgrind", reason: "exit status \(r.status): \(lastLine(r.stderr))")
        }
        guard let text = try? String(contentsOfFile: outFile, encoding: .utf8) else {
            return Outcome(tool: "callgrind", reason: "no profile written to \(outFile)")
        }
        if let n = parseCallgrind(text) { return Outcome(tool: "callgrind", count: n) }
        return Outcome(tool: "callgrind", reason: "no summary/totals line in the callgrind profile")
    }

    /// The instruction total of a callgrind profile: its "summary:" line, else its "totals:" line (first event).
    public static func parseCallgrind(_ text: String) -> Double? {
        var totals: Double?
        for line in text.split(separator: "\n") {
            for key in ["summary:", "totals:"] where line.hasPrefix(key) {
                let v = line.dropFirst(key.count).split(separator: " ").first.flatMap { Double($0) }
                if key == "summary:", let v { return v }
                if totals == nil { totals = v }
            }
        }
        return totals
    }

    /// The first counter that works, trying perf then callgrind; the reasons of those that did not.
    public static func count(_ command: [String], scratchDirectory: String) -> (Outcome?, reasons: [String]) {
        var reasons: [String] = []
        let p = perf(command)
        if p.count != nil { return (p, reasons) }
        reasons.append("perf: \(p.reason ?? "?")")
        let c = callgrind(command, outFile: scratchDirectory + "/callgrind.out.\(getpid())")
        if c.count != nil { return (c, reasons) }
        reasons.append("callgrind: \(c.reason ?? "?")")
        return (nil, reasons)
    }

    struct ToolRun { var status: Int32; var stderr: String; var launchProblem: String? }

    /// Runs `args` through /usr/bin/env (PATH lookup), stdout discarded, stderr captured.
    static func runTool(_ args: [String]) -> ToolRun {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        do { try p.run() } catch { return ToolRun(status: -1, stderr: "", launchProblem: "cannot start \(args[0]): \(error.localizedDescription)") }
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return ToolRun(status: status, stderr: String(decoding: data, as: UTF8.self))
    }

    /// The last informative line of a tool's stderr, without valgrind's "==pid== " prefix.
    static func lastLine(_ s: String) -> String {
        let lines = s.split(separator: "\n").map { line -> String in
            var l = Substring(line)
            if l.hasPrefix("=="), let end = l.dropFirst(2).range(of: "== ") { l = l[end.upperBound...] }
            return l.trimmingCharacters(in: .whitespaces)
        }
        return lines.last { !$0.isEmpty && !$0.hasPrefix("Valgrind: I can't recover") } ?? "(no message)"
    }
}
