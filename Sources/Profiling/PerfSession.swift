// One perf recording from start to samples: a private scratch folder, perf record under `Signals`,
// --keep-perf-data, perf script parsed into a SampleProfile, and the folder removed on every way out (return,
// error, `Interrupted`). The two callers: a command (`workbench profile -- CMD`: the user's stdin, stdout and
// stderr, the command's fate passed on) and the workload re-run as a controlled child (its stderr captured, its
// PerfWorkloadReport read back).
//
//   /tmp/workbench-profile-<pid>-<random>/   perf.data, perf.err, ctl + ack (FIFOs), child.json, script.txt
import Foundation

public struct PerfSession {
    public let perf: Perf
    public var hz: Double = 250
    public var callGraph: PerfCallGraph = .dwarf
    /// Keep kernel frames (else their samples count for the user frame under them).
    public var kernelFrames = true
    /// --keep-perf-data: move the recording here.
    public var keepData: String?
    public var progress: Progress? = Progress()
    /// Said on stderr when the recording is kept.
    public var note: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public init(perf: Perf) { self.perf = perf }

    /// The session the options ask for: perf at `perfPath` (nil: on PATH), `callGraph` by name ("dwarf", "fp"),
    /// `hz` (nil: 250). Throws `ProfilingError` (perf missing or unusable, unknown call graph).
    public init(perfPath: String?, callGraph name: String, hz: Double?, kernelFrames: Bool, keepData: String?) throws {
        guard let c = PerfCallGraph(rawValue: name) else { throw ProfilingError("unknown --call-graph '\(name)' (known: dwarf, fp)") }
        self.init(perf: try Perf.locate(explicit: perfPath))
        callGraph = c; self.hz = hz ?? 250; self.kernelFrames = kernelFrames; self.keepData = keepData
    }

    public struct Result {
        public var samples: SampleProfile
        public var recording: Perf.Recording
        /// The workload's own report (workload sessions only).
        public var workload: PerfWorkloadReport?
        /// How the command ended: "exit status 0", "killed by SIGSEGV", "interrupted by SIGINT".
        public var fate: String {
            recording.outcome.interrupted.map { "interrupted by \(Signals.name($0))" } ?? recording.termination.description
        }
        /// The exit status to pass on and the line that says why, when the command failed on its own.
        public var failure: (exitCode: Int32, message: String)? {
            guard recording.outcome.interrupted == nil, recording.termination != .exited(0) else { return nil }
            if case .exited = recording.termination { return (recording.termination.exitCode, "the command ended with \(fate)") }
            return (recording.termination.exitCode, "the command was \(fate)")
        }
    }

    /// perf record of `argv` (argv[0] an absolute path: see `CommandLookup`) with the user's terminal, then the
    /// samples. SIGINT (Ctrl-C) stops the recording and the samples so far are returned (`recording.outcome
    /// .interrupted`); SIGTERM or SIGHUP, or a second SIGINT during perf script, throw `Interrupted`.
    public func command(_ argv: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Result {
        try Self.inScratch { dir in
            let data = dir + "/perf.data"
            let rec = try perf.record(output: data, hz: hz, callGraph: callGraph, command: argv, environment: environment,
                                      stdin: .inherit, stdout: .inherit, progress: progress)
            if let sig = rec.outcome.interrupted, sig != SIGINT { throw Interrupted(signal: sig) }
            var samples = try samplesOf(data, scratch: dir + "/script.txt")
            samples.durationNanos = Int64(rec.outcome.seconds * 1e9)
            return Result(samples: samples, recording: rec, workload: nil)
        }
    }

    /// perf record of the workload child `child(control, reportPath)` returns (it must enable perf through
    /// `control` and write its PerfWorkloadReport to `reportPath`). Throws `ProfilingError` with the child's last
    /// `workbench:` line if it failed, `Interrupted` if a stop signal ended it.
    public func workload(_ child: (Perf.Control, String) -> [String]) throws -> Result {
        try Self.inScratch { dir in
            let control = try PerfControl.create(in: dir)
            let data = dir + "/perf.data", reportPath = dir + "/child.json"
            let rec = try perf.record(output: data, hz: hz, callGraph: callGraph, control: control, command: child(control, reportPath),
                                      stderr: dir + "/perf.err", progress: progress)
            if let s = rec.outcome.interrupted { throw Interrupted(signal: s) }
            guard rec.termination == .exited(0), let report = PerfWorkloadReport.read(reportPath) else {
                let lines = rec.stderr.split(separator: "\n")
                let last = lines.last(where: { $0.hasPrefix("workbench:") }) ?? lines.last ?? ""
                throw ProfilingError("the profiled workload failed (\(rec.termination)): \(last)")
            }
            var samples = try samplesOf(data, scratch: dir + "/script.txt")
            samples.durationNanos = Int64(report.seconds * 1e9)
            return Result(samples: samples, recording: rec, workload: report)
        }
    }

    func samplesOf(_ data: String, scratch: String) throws -> SampleProfile {
        var input = data
        if let dest = keepData {
            let fm = FileManager.default
            try? fm.removeItem(atPath: dest)
            do { if rename(data, dest) != 0 { try fm.copyItem(atPath: data, toPath: dest) } }
            catch { throw ProfilingError("cannot keep perf.data as \(dest): \(error.localizedDescription)") }
            note("workbench: perf.data kept as \(dest)")
            input = dest
        }
        return PerfScript.samples(try perf.script(input: input, scratch: scratch, progress: progress), kernelFrames: kernelFrames)
    }

    /// Runs `body` in a fresh private folder under the temporary directory, removed afterwards whatever happens.
    public static func inScratch<T>(_ body: (String) throws -> T) throws -> T {
        let fm = FileManager.default
        let p = fm.temporaryDirectory.path + "/workbench-profile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do { try fm.createDirectory(atPath: p, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        catch { throw ProfilingError("cannot create a temporary folder \(p): \(error.localizedDescription)") }
        defer { try? fm.removeItem(atPath: p) }
        return try body(p)
    }

    /// The metadata of a perf run (the caller adds model, engine, workload, ops).
    public func metadata(_ samples: SampleProfile, seconds: Double, command: [String] = CommandLine.arguments) -> ProfileMetadata {
        var m = ProfileMetadata(command: command, backend: "perf", requestedHz: hz, samples: samples.total, seconds: seconds,
                                threads: Dictionary(uniqueKeysWithValues: samples.threads.map { ($0.name, $0.samples) }))
        m.callGraph = callGraph.rawValue
        m.perfVersion = perf.version
        return m
    }

    /// This executable's real path (the workload child is this binary again).
    public static func executablePath() throws -> String {
        guard let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            throw ProfilingError("cannot find this executable (/proc/self/exe)")
        }
        return p
    }
}
