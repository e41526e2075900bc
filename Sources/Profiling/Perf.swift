// The perf backend: find a usable perf, `perf record -e cpu-clock` with call graphs, `perf script` text
// parsed here (no Perl scripts) into the same stacks and frame names as the in-process sampler.
//
// `perf script -F comm,tid,time,period,event,ip,sym,dso` prints one block per sample, innermost frame first:
//
//     workbench 4242  1333.565642:    4000000 cpu-clock:
//     	ffffffff81a8a956 clear_page_erms ([kernel.kallsyms])
//     	          51c2a0 $s7Kernels18matmulForwardNaive...F (/work/main/.build/release/workbench)
//     	          4f5b3e [unknown] (/work/main/.build/release/workbench)
//     <blank line>
import CSampler
import Foundation

/// One sample of `perf script`: who, and its frames innermost first.
public struct PerfSample: Equatable, Sendable {
    public struct Frame: Equatable, Sendable {
        public var address: UInt64
        /// perf's symbol (mangled for Swift: perf 6.1 does not demangle it), or "[unknown]".
        public var symbol: String
        /// The object path, "[kernel.kallsyms]", or "[unknown]".
        public var dso: String
    }
    public var comm: String
    public var tid: Int
    public var period: Int
    public var event: String
    public var frames: [Frame]

    /// The stack as report frames, root first: Swift names demangled, kernel frames marked `_[k]`, unknown
    /// frames named by their object and address (`libfoo.so+0x1a2f0`).
    /// perf ends a call chain with address 0xffffffffffffffff where unwinding stopped: after a thread's entry
    /// function that is the normal end (the frame is dropped); anywhere else the stack is incomplete and its
    /// root is shown as "[unknown]".
    public var stack: Stack { stack(kernelFrames: true) }

    /// The stack as report frames; without `kernelFrames`, kernel frames are dropped and their samples count
    /// for the user-space frame under them (the view an in-process sampler has).
    public func stack(kernelFrames: Bool) -> Stack { reportFrames(kernelFrames: kernelFrames).map(\.name) }

    /// The stack as report frames with their modules and addresses, root first (see `stack(kernelFrames:)`).
    /// perf script prints user-space addresses relative to their object already (the address `addr2line`
    /// takes), kernel addresses absolute.
    public func reportFrames(kernelFrames: Bool = true) -> [Profiling.Frame] {
        var fs = kernelFrames ? frames : frames.filter { !$0.dso.hasPrefix("[kernel") }
        var incomplete = false
        if let last = fs.last, last.address == UInt64.max {
            fs.removeLast()
            let entries = ["_start", "__libc_start_main", "__libc_start_call_main", "clone", "clone3", "start_thread"]
            if let root = fs.last, !entries.contains(FrameName.unversioned(root.symbol)) { incomplete = true }
        }
        var stack: [Profiling.Frame] = incomplete ? [Profiling.Frame("[unknown]")] : []
        for f in fs.reversed() {
            let module = f.dso == "[unknown]" ? nil : f.dso
            if f.dso.hasPrefix("[kernel") {
                let name = f.symbol == "[unknown]" ? FrameName.kernelUnsymbolised(address: f.address) : FrameName.kernel(f.symbol)
                stack.append(Profiling.Frame(name, module: f.dso, address: f.address))
            } else if f.symbol == "[unknown]" || f.symbol.isEmpty {
                stack.append(Profiling.Frame(FrameName.unsymbolised(module: module, address: f.address), module: module, address: f.address))
            } else {
                let name = FrameName.function(f.symbol)
                stack.append(Profiling.Frame(name, symbol: name == f.symbol ? nil : f.symbol, module: module, address: f.address))
            }
        }
        return stack
    }

    /// The thread label: "comm-tid".
    public var threadLabel: String { "\(comm)-\(tid)" }
}

/// How perf records call stacks.
public enum PerfCallGraph: String, CaseIterable, Codable, Sendable {
    /// DWARF unwinding of a copy of each sample's user stack: correct Swift stacks, ~100x the data.
    case dwarf
    /// Frame-pointer walk: small, but loses the caller of every Swift leaf function (no frame there).
    case fp

    /// perf record's --call-graph argument (dwarf with a 16 KiB stack copy per sample).
    public var recordArgument: String { self == .dwarf ? "dwarf,16384" : "fp" }
}

public enum PerfScript {
    /// Parses `perf script` output (fields comm,tid[,time][,period],event and call chains). Lines that are not
    /// a sample header, a frame or blank are an error (with their line number); warnings perf mixes in are not
    /// expected on stdout. Throws `ProfilingError`.
    public static func parse(_ text: String, source: String = "perf script output") throws -> [PerfSample] {
        var samples: [PerfSample] = []
        var current: PerfSample?
        var lineNo = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNo += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if let c = current { samples.append(c); current = nil }
                continue
            }
            if line.first == "\t" || line.first == " " {
                guard current != nil else {
                    throw ProfilingError("\(source): line \(lineNo): a frame line before any sample header")
                }
                guard let f = parseFrame(line) else {
                    throw ProfilingError("\(source): line \(lineNo) is not a perf frame ('address symbol (object)'): '\(line.prefix(100))'")
                }
                current!.frames.append(f)
                continue
            }
            if let c = current { samples.append(c) }
            guard let h = parseHeader(line) else {
                throw ProfilingError("\(source): line \(lineNo) is not a perf sample header ('comm tid time: period event:'): '\(line.prefix(100))'")
            }
            current = h
        }
        if let c = current { samples.append(c) }
        return samples
    }

    /// "comm tid [cpu] time: period event:" — comm may contain spaces; period and time are optional.
    static func parseHeader(_ line: Substring) -> PerfSample? {
        var s = line.trimmingCharacters(in: .whitespaces)
        guard s.hasSuffix(":") else { return nil }
        s.removeLast()
        // event: the last word (e.g. "cpu-clock", "cpu-clock:u" becomes "cpu-clock:u:" -> trailing ':' removed).
        var words = s.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard words.count >= 3, let event = words.popLast() else { return nil }
        var period = 1
        if let last = words.last, let p = Int(last) { period = p; words.removeLast() }
        // time "1333.565642:" (optional)
        if let last = words.last, last.hasSuffix(":"), Double(last.dropLast()) != nil { words.removeLast() }
        // cpu "[000]" (optional)
        if let last = words.last, last.hasPrefix("["), last.hasSuffix("]") { words.removeLast() }
        // tid, or pid/tid
        guard let tidWord = words.popLast(), !words.isEmpty else { return nil }
        let tidText = tidWord.split(separator: "/").last.map(String.init) ?? tidWord
        guard let tid = Int(tidText) else { return nil }
        return PerfSample(comm: words.joined(separator: " "), tid: tid, period: period, event: event, frames: [])
    }

    /// "\t<hex address> <symbol>[+0xoff] (<dso>)"
    static func parseFrame(_ line: Substring) -> PerfSample.Frame? {
        let s = line.drop { $0 == " " || $0 == "\t" }
        guard let space = s.firstIndex(of: " "), let address = UInt64(s[..<space], radix: 16) else { return nil }
        var rest = s[s.index(after: space)...].drop { $0 == " " }
        var dso = "[unknown]"
        if rest.hasSuffix(")"), let open = rest.range(of: " (", options: .backwards) {
            dso = String(rest[open.upperBound..<rest.index(before: rest.endIndex)])
            rest = rest[..<open.lowerBound]
        } else if rest.hasPrefix("("), rest.hasSuffix(")") {
            dso = String(rest.dropFirst().dropLast()); rest = ""
        }
        var symbol = String(rest)
        // "+0x1c" symbol offsets (when -F symoff is used)
        if let plus = symbol.range(of: "+0x", options: .backwards),
           symbol[plus.upperBound...].allSatisfy({ $0.isHexDigit }), !symbol[plus.upperBound...].isEmpty {
            symbol = String(symbol[..<plus.lowerBound])
        }
        return PerfSample.Frame(address: address, symbol: symbol.isEmpty ? "[unknown]" : symbol, dso: dso)
    }

    /// The samples as a stack profile (one count per sample), plus counts per thread id. Without
    /// `kernelFrames`, kernel frames are dropped (see `PerfSample.stack(kernelFrames:)`).
    public static func profile(_ samples: [PerfSample], kernelFrames: Bool = true) -> (stacks: StackProfile, byThread: [Int: Int]) {
        var byThread: [Int: Int] = [:]
        for s in samples where !s.frames.isEmpty { byThread[s.tid, default: 0] += 1 }
        return (self.samples(samples, kernelFrames: kernelFrames).stacks, byThread)
    }

    /// The samples with their frames' modules and addresses, labelled with their thread ("comm-tid"); the
    /// period is the first sample's (perf record -c fixes it) in nanoseconds of the cpu-clock event.
    public static func samples(_ samples: [PerfSample], kernelFrames: Bool = true) -> SampleProfile {
        var p = SampleProfile()
        for s in samples where !s.frames.isEmpty {
            p.add(Sample(frames: s.reportFrames(kernelFrames: kernelFrames), thread: s.threadLabel))
        }
        if let first = samples.first(where: { !$0.frames.isEmpty }), first.event.hasPrefix("cpu-clock") || first.event.hasPrefix("task-clock") {
            p.periodNanos = Int64(first.period)
        }
        return p
    }
}

/// A usable perf binary.
public struct Perf: Sendable {
    public let path: String
    public let version: String

    /// Finds perf (`explicit` path, else `perf` on PATH), checks that it runs and that this user may
    /// profile their own processes. Throws `ProfilingError` with one line saying how to fix it.
    public static func locate(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Perf {
        let install = "install it (Debian/Ubuntu: apt-get install linux-perf) or give its path with --perf PATH"
        var path: String
        if let e = explicit {
            guard FileManager.default.isExecutableFile(atPath: e) else {
                throw ProfilingError("perf not found at \(e): \(install)")
            }
            path = e
        } else {
            let dirs = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
            guard let found = dirs.map({ $0 + "/perf" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw ProfilingError("perf not found on PATH: \(install)")
            }
            path = found
        }
        let r = try run(path, ["--version"], environment: environment)
        let out = (r.stdout + r.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, out.hasPrefix("perf version") else {
            let first = out.split(separator: "\n").first.map(String.init) ?? "exit status \(r.status)"
            throw ProfilingError("perf at \(path) does not run (\(first)): \(install)")
        }
        if geteuid() != 0, let level = paranoidLevel(), level > 2 {
            throw ProfilingError("perf is not permitted: kernel.perf_event_paranoid is \(level); allow profiling your own processes with `sysctl kernel.perf_event_paranoid=1` (as root), or run as root")
        }
        return Perf(path: path, version: out.replacingOccurrences(of: "perf version ", with: ""))
    }

    /// Makes `bytes` of the calling thread's stack present (one write per page below the caller's frame).
    /// perf copies each sample's user stack in interrupt context, where pages cannot be faulted in: the copy
    /// stops at the first page never touched and DWARF unwinding loses every caller above it. A thread with a
    /// shallow stack calling a kernel with a big frame (kilobytes reserved, few written) hits exactly that.
    /// Call it on every thread of a workload before perf starts recording.
    public static func prefaultStack(bytes: Int) { ws_touch_stack(max(0, bytes)) }

    /// /proc/sys/kernel/perf_event_paranoid, if readable.
    public static func paranoidLevel() -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8) else { return nil }
        return Int(s.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Where perf record may be steered from inside the workload: the FIFOs of `--control`.
    public struct Control: Sendable {
        public let controlFIFO: String
        public let ackFIFO: String
        public init(controlFIFO: String, ackFIFO: String) { self.controlFIFO = controlFIFO; self.ackFIFO = ackFIFO }
    }

    /// `perf record -e cpu-clock -c <period> --call-graph ... -o output [--control ... -D -1] -- command`.
    /// One sample per 1/hz seconds of CPU time of each thread (a fixed period, so every sample weighs the same).
    public func recordArguments(output: String, hz: Double, callGraph: PerfCallGraph, control: Control?, command: [String]) -> [String] {
        let period = max(10_000, Int((1e9 / hz).rounded()))
        var a = ["record", "-e", "cpu-clock", "-c", "\(period)", "--call-graph", callGraph.recordArgument, "-o", output, "-q"]
        if let c = control { a += ["--control", "fifo:\(c.controlFIFO),\(c.ackFIFO)", "-D", "-1"] }
        return a + ["--"] + command
    }

    /// What `perf record` left: how it ended (perf passes the command's exit status on, and dies of the
    /// command's signal), the stop signal this process received meanwhile, and perf's stderr if captured.
    public struct Recording {
        public var outcome: ChildProcess.Outcome
        public var stderr: String
        /// The command's fate as perf reports it.
        public var termination: Termination { outcome.termination }
    }

    /// Runs `perf record` under `Signals` (see `ChildProcess.run`): a stop signal this process gets is forwarded
    /// to perf, which stops recording, ends the command (SIGTERM) and writes what it has. `stderr` nil: perf's
    /// and the command's stderr is this process's; else captured in that file and returned. Progress (elapsed,
    /// size of the data) goes to `progress`. Throws `ProfilingError` if perf recorded nothing (permissions, bad
    /// arguments), `Interrupted` if it was stopped before it could write anything.
    public func record(output: String, hz: Double, callGraph: PerfCallGraph, control: Control? = nil, command: [String],
                       environment: [String: String] = ProcessInfo.processInfo.environment,
                       stdin: ChildProcess.Stream = .null, stdout: ChildProcess.Stream = .stderr, stderr: String? = nil,
                       progress: Progress? = nil) throws -> Recording {
        let args = recordArguments(output: output, hz: hz, callGraph: callGraph, control: control, command: command)
        let outcome = try ChildProcess.run(path, args, environment: environment, stdin: stdin, stdout: stdout,
                                           stderr: stderr.map { .file($0) } ?? .inherit) { t in
            progress?.update(t, "recording: \(Progress.duration(t)), perf.data \(Progress.size(ofFile: output))")
        }
        progress?.clear()
        let text = stderr.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? NSNumber)?.intValue ?? 0
        if size == 0 {
            if let sig = outcome.interrupted { throw Interrupted(signal: sig) }
            let lines = text.split(separator: "\n").map(String.init)
            let reason = lines.first { $0.localizedCaseInsensitiveContains("permission") || $0.localizedCaseInsensitiveContains("paranoid") }
                ?? lines.first { !$0.isEmpty } ?? "\(outcome.termination)\(stderr == nil ? "; perf's message is above" : "")"
            if reason.localizedCaseInsensitiveContains("permission") || reason.localizedCaseInsensitiveContains("paranoid") {
                throw ProfilingError("perf record is not permitted (\(reason)); try `sysctl kernel.perf_event_paranoid=1` as root")
            }
            throw ProfilingError("perf record failed: \(reason)")
        }
        return Recording(outcome: outcome, stderr: text)
    }

    /// `perf script` of a recording, parsed; its text goes through `scratch` (a file). Throws `ProfilingError`,
    /// or `Interrupted` when a stop signal arrives meanwhile (perf script is stopped).
    public func script(input: String, scratch: String, progress: Progress? = nil) throws -> [PerfSample] {
        let args = ["script", "-i", input, "-F", "comm,tid,time,period,event,ip,sym,dso", "--no-inline"]
        let errPath = scratch + ".err"
        defer { try? FileManager.default.removeItem(atPath: scratch); try? FileManager.default.removeItem(atPath: errPath) }
        let o = try ChildProcess.run(path, args, stdout: .file(scratch), stderr: .file(errPath), grace: 2) { t in
            progress?.update(t, "perf script: \(Progress.duration(t)), \(Progress.size(ofFile: scratch)) of samples")
        }
        progress?.clear()
        if let sig = o.interrupted { throw Interrupted(signal: sig) }
        guard o.termination == .exited(0) else {
            let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            throw ProfilingError("perf script failed: \(err.split(separator: "\n").first.map(String.init) ?? o.termination.description)")
        }
        guard let text = try? String(contentsOfFile: scratch, encoding: .utf8) else {
            throw ProfilingError("perf script output in \(scratch) is not readable text")
        }
        return try PerfScript.parse(text)
    }

    /// Runs a program to completion with output captured in temporary files (no pipe can fill up).
    static func run(_ executable: String, _ args: [String], environment: [String: String], stdoutToStderr: Bool = false) throws -> (status: Int32, stdout: String, stderr: String) {
        let fm = FileManager.default
        let tmp = fm.temporaryDirectory.path + "/workbench-perf-\(getpid())-\(UUID().uuidString.prefix(8))"
        let outPath = tmp + ".out", errPath = tmp + ".err"
        fm.createFile(atPath: outPath, contents: nil); fm.createFile(atPath: errPath, contents: nil)
        defer { try? fm.removeItem(atPath: outPath); try? fm.removeItem(atPath: errPath) }
        guard let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath) else {
            throw ProfilingError("cannot create temporary files in \(fm.temporaryDirectory.path)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        p.environment = environment
        p.standardOutput = stdoutToStderr ? FileHandle.standardError : out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { throw ProfilingError("cannot run \(executable): \(error.localizedDescription)") }
        p.waitUntilExit()
        try? out.close(); try? err.close()
        let o = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (p.terminationStatus, o, e)
    }
}
