// `workbench gate` as one library call: the CLI parses its flags into a `GateRequest`, calls `GateCommand.run`,
// prints the outcome's text and exits with its code. What each action does:
//
//   compare (default)   A/B: this binary against a git revision (`--against REV`, default: the baseline's
//                       commit) built in .build/gate-base/, both measured in interleaved rounds in this run
//                       (GateAB.swift). Falls back to the committed baseline's numbers (GateSession) when there
//                       is no git history, the revision is not in it, or it predates the child protocol; the
//                       header says which comparison ran and why.
//   updateBaseline      measures the suite `runs` times and writes the baseline (with HEAD's commit: the
//                       revision later A/B runs build).
//   measure             the child protocol (GateProtocol.swift): one measurement, written as JSON.
//   calibrate           which injected slowdowns the A/B catches here, now (Calibration.swift).
// Exit codes: GateExitCode (0 pass, 1 regression, 2 bad input, 3 inconclusive).
import Bench
import Foundation
import Kernels

public struct GateRequest: Sendable {
    public enum Action: Sendable, Equatable {
        case compare, updateBaseline, calibrate
        case measure(round: Int, jsonOut: String)
    }
    public var action: Action = .compare
    public var suite = "full"
    /// Default: the suite's (Profiles/baseline.json, Profiles/baseline-quick.json).
    public var baselinePath: String?
    /// The base revision of the A/B (default: the baseline's commit).
    public var against: String?
    /// Compare with the committed baseline's numbers; no A/B.
    public var baselineOnly = false
    /// update: runs of the suite combined into the baseline.
    public var runs = 1
    /// baseline comparison: re-measurements of a metric past its threshold before it fails.
    public var retries = 2
    /// Workers of the generations (1: CPU clock).
    public var threads = 1
    public var instructions = true
    /// measure (child) only: the calibration part of the suite, the default matmul this many % slower.
    public var calibrationSlowdown: Double?
    /// measure (child) only: the keys of the cases to measure (nil: every case).
    public var cases: [String]?
    public var markdown: String?
    public var json: String?
    /// A/B and calibration: keep every child's measurement file in this folder (for analysis).
    public var keepMeasurements: String?
    /// This binary: the new side of an A/B, the instruction counter's subject, the calibration's children.
    public var executable: String
    /// Where the checkout is (git commands run here; relative paths are relative to the process's directory).
    public var directory: String
    public var plan = GateABPlan()
    public var policy = GateABPolicy.standard

    public init(executable: String, directory: String = FileManager.default.currentDirectoryPath) {
        self.executable = executable; self.directory = directory
    }
}

/// What the CLI prints and how it exits.
public struct GateOutcome {
    public var output: String
    public var exitCode: GateExitCode
    public var report: GateReport?
    public var calibration: GateCalibration?
}

public enum GateCommand {
    /// Checks the request, then runs it. Bad input throws `GateInputError` (one line, exit 2) before anything is measured.
    public static func run(_ r: GateRequest, log: @escaping (String) -> Void = { _ in }) throws -> GateOutcome {
        let spec = try GateSuiteSpec.named(r.suite)
        guard (0...10).contains(r.retries) else { throw GateInputError("--retries must be in 0...10, got \(r.retries)") }
        guard (1...20).contains(r.runs) else { throw GateInputError("--runs must be in 1...20, got \(r.runs)") }
        guard (1...256).contains(r.threads) else { throw GateInputError("--threads must be in 1...256, got \(r.threads)") }
        if r.runs > 1 && r.action != .updateBaseline { throw GateInputError("--runs only applies with --update-baseline") }
        if let p = r.calibrationSlowdown {
            guard case .measure = r.action else { throw GateInputError("--calibration-slowdown is part of the child protocol: only with --measure (use --calibrate)") }
            guard p.isFinite, (0...1000).contains(p) else { throw GateInputError("--calibration-slowdown must be a percentage in 0...1000, got \(p)") }
        }
        if let keys = r.cases {
            guard case .measure = r.action else { throw GateInputError("--cases is part of the child protocol: only with --measure") }
            for k in keys where !spec.caseKeys.contains(k) {
                throw GateInputError("--cases: unknown case '\(k)' (the \(spec.name) suite's: \(spec.caseKeys.joined(separator: ", ")))")
            }
        }
        if r.against != nil && r.baselineOnly { throw GateInputError("--against and --baseline-only contradict each other (A/B or committed numbers)") }
        if r.action != .compare && (r.against != nil || r.baselineOnly) {
            throw GateInputError("--against and --baseline-only only apply to a comparison (not with --update-baseline, --measure or --calibrate)")
        }
        let path = r.baselinePath ?? spec.defaultBaseline
        var outputs = [r.markdown, r.json].compactMap { $0 }
        if r.action == .updateBaseline { outputs.append(path) }
        if case .measure(let round, let out) = r.action {
            guard round >= 0 else { throw GateInputError("--round must be >= 0, got \(round)") }
            outputs.append(out)
        }
        for out in outputs { try checkWritable(out) }
        if let k = r.keepMeasurements {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: k, isDirectory: &isDir), isDir.boolValue else {
                throw GateInputError("--keep-measurements: folder \(k) does not exist")
            }
        }
        // Fixed-width name: a child's allocations then have the same sizes whatever its pid (see ProcessGateSide).
        let scratch = NSTemporaryDirectory() + String(format: "/workbench-gate-%07d-%08x", getpid(), UInt32.random(in: 0...UInt32.max))
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        switch r.action {
        case .measure(let round, let out): return try measure(r, spec: spec, round: round, out: out, scratch: scratch, log: log)
        case .updateBaseline: return try update(r, spec: spec, path: path, scratch: scratch, log: log)
        case .calibrate: return try calibrate(r, spec: spec, scratch: scratch, log: log)
        case .compare: return try compare(r, spec: spec, path: path, scratch: scratch, log: log)
        }
    }

    // MARK: baseline files

    /// Reads and checks a baseline for `spec`: missing (with the exact command that makes it), malformed,
    /// another format, another suite, no metrics, metric names the suite does not know: one line each.
    public static func loadBaseline(_ path: String, spec: GateSuiteSpec, suite: GateSuite) throws -> Baseline {
        let make = spec.updateCommand(baselinePath: path)
        guard FileManager.default.fileExists(atPath: path) else {
            throw GateInputError("baseline \(path) not found: make it with `\(make)`")
        }
        let b: Baseline
        do { b = try Baseline.load(path: path) } catch let e as BaselineError {
            throw GateInputError(e.description.replacingOccurrences(of: "`workbench gate --update-baseline --runs 5`", with: "`\(make)`"))
        }
        try validate(b, path: path, spec: spec, suite: suite)
        return b
    }

    /// The checks of a parsed baseline against the suite that will compare with it.
    public static func validate(_ b: Baseline, path: String, spec: GateSuiteSpec, suite: GateSuite) throws {
        if b.suite != spec.name {
            let flag = b.suite == "quick" ? "--quick" : b.suite == "full" ? "(no --quick)" : "--suite \(b.suite)"
            throw GateInputError("baseline \(path) was made by the \(b.suite) suite, not \(spec.name): use `workbench gate \(flag)` or another --baseline")
        }
        let make = spec.updateCommand(baselinePath: path)
        if b.metrics.isEmpty {
            throw GateInputError("baseline \(path) has no metrics: it cannot gate anything; re-make it with `\(make)`")
        }
        let unknown = b.metrics.map(\.name).filter { !suite.knows($0) }
        if !unknown.isEmpty {
            let some = unknown.prefix(3).joined(separator: ", ") + (unknown.count > 3 ? ", ..." : "")
            throw GateInputError("baseline \(path) names \(unknown.count) metric\(unknown.count == 1 ? "" : "s") the \(spec.name) suite does not measure (\(some)): made by another version of the gate? re-make it with `\(make)`")
        }
    }

    static func checkWritable(_ path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw GateInputError("cannot write \(path): folder \(dir) does not exist")
        }
    }

    static func write(_ data: Data, to path: String) throws {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw GateInputError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func environment(threads: Int) -> BaselineEnvironment {
        BaselineEnvironment(fingerprint: Bench.Machine.fingerprint(), threads: threads, build: GateBaseBuild.configuration)
    }

    // MARK: actions

    static func measure(_ r: GateRequest, spec: GateSuiteSpec, round: Int, out: String, scratch: String,
                        log: @escaping (String) -> Void) throws -> GateOutcome {
        let slow = r.calibrationSlowdown
        let suite = try GateSuite(spec: spec, threads: r.threads, slowdowns: slow.map { [Slowdown.defaultMatmul(percent: $0)] } ?? [],
                                  selection: slow == nil ? .all : .calibration, scratch: scratch)
        let t0 = monotonicSeconds()
        let (cases, availability) = slow == nil ? suite.casesAndAvailability(instructions: r.instructions, executable: r.executable)
                                                 : (suite.cases(), suite.availability)
        let measured = try GateSuite.measure(cases, keys: r.cases, log: log)
        let file = GateMeasurementFile(suite: spec.name, round: round, build: GateBaseBuild.configuration, fingerprint: Bench.Machine.fingerprint(),
                                       availability: availability, calibrationSlowdown: slow, seconds: monotonicSeconds() - t0,
                                       measurements: measured.measurements, cases: measured.cases)
        try write(try file.encoded(), to: out)
        return GateOutcome(output: "", exitCode: .success)
    }

    static func update(_ r: GateRequest, spec: GateSuiteSpec, path: String, scratch: String,
                       log: @escaping (String) -> Void) throws -> GateOutcome {
        let suite = try GateSuite(spec: spec, threads: r.threads, scratch: scratch)
        let t0 = monotonicSeconds()
        let (cases, availability) = suite.casesAndAvailability(instructions: r.instructions, executable: r.executable)
        let root = GateGit.root(of: r.directory).path
        let commit = root.flatMap { Provenance.gitHead(directory: $0) }
        var warnings: [String] = []
        if let root, GateGit.isDirty(root: root) {
            warnings.append("gate: warning: the working tree differs from HEAD: the baseline records commit \(commit?.prefix(12) ?? "?"), which A/B runs will build as the base, but measured the changed tree; commit first, then make the baseline")
        }
        if commit == nil { warnings.append("gate: warning: no git commit here: the baseline records none, so `workbench gate` can only compare with its numbers (no A/B)") }
        if GateBaseBuild.configuration == "debug" { warnings.append("gate: warning: a debug build made this baseline; CI compares release builds") }
        for w in warnings { log(w) }
        let load = MachineLoad.snapshot()
        let measured = try GateSession.measureAll(cases: cases, runs: r.runs, log: log)
        let during = MachineLoad.summary(from: load, to: MachineLoad.snapshot())
        let (b, capped) = try Baseline.make(runs: measured, policy: spec.policy, suite: spec.name, date: Provenance.isoDate(),
                                            commit: commit, environment: environment(threads: r.threads),
                                            availability: availability, protocolVersion: GateProtocol.version, path: path)
        try b.write(to: path)
        var out = baselineTable(b) + "\n"
        for name in capped {
            out += "gate: warning: \(name) is noisier than the \(spec.name) policy's cap allows; its threshold was capped\n"
        }
        out += "load: \(during.text)\(during.busy ? " (busy: thresholds from this run are wide; make baselines on a quiet machine)" : "")\n"
        out += String(format: "wrote %@: %d metrics, %d run%@, commit %@, %.1f s\n", path, b.metrics.count, r.runs, r.runs == 1 ? "" : "s",
                      String(commit?.prefix(12) ?? "none"), monotonicSeconds() - t0)
        return GateOutcome(output: out, exitCode: .success)
    }

    static func calibrate(_ r: GateRequest, spec: GateSuiteSpec, scratch: String,
                          log: @escaping (String) -> Void) throws -> GateOutcome {
        if GateBaseBuild.configuration == "debug" { log("gate: warning: calibrating a debug build; CI gates release builds") }
        let c = try GateCalibration.run(suite: spec.name, plan: r.plan, policy: r.policy, side: { p in
            let s = ProcessGateSide(label: p.map { $0 == 0 ? "control" : String(format: "+%g%%", $0) } ?? "base", executable: r.executable,
                                    slot: String(format: "s%04.0f", p.map { $0 * 10 } ?? 9999), suite: spec.name, threads: r.threads,
                                    instructions: false, calibrationSlowdown: p ?? 0, scratch: scratch)
            s.keep = r.keepMeasurements
            return s
        }, log: log)
        if let json = r.json {
            try write(try ToolJSON.data(c), to: json)
        }
        return GateOutcome(output: c.text(), exitCode: .success, calibration: c)
    }

    static func compare(_ r: GateRequest, spec: GateSuiteSpec, path: String, scratch: String,
                        log: @escaping (String) -> Void) throws -> GateOutcome {
        let suite = try GateSuite(spec: spec, threads: r.threads, scratch: scratch)
        // The baseline first: a bad file fails in a second, not after the suite. With --against it is optional
        // (correctness is then compared with the base build).
        var base: Baseline?
        if r.against == nil || FileManager.default.fileExists(atPath: path) {
            base = try loadBaseline(path, spec: spec, suite: suite)
        }
        // Which comparison: the A/B when a revision with the protocol can be built, else the committed numbers.
        var fallback: String?
        var rev: GateRevision?
        var root: String?
        if r.baselineOnly {
            fallback = "--baseline-only"
        } else {
            let (top, why) = GateGit.root(of: r.directory)
            root = top
            if let against = r.against {
                guard let top else { throw GateInputError("--against \(against): no git history here (\(why ?? "?")): the A/B builds revisions from the repository") }
                rev = try GateGit.resolve(against, root: top)
            } else if let commit = base?.commit {
                if let top {
                    do { rev = try GateGit.resolve(commit, root: top) } catch {
                        fallback = "the baseline's commit \(commit.prefix(12)) is not in this repository's history (a shallow clone? `git fetch --unshallow`)"
                    }
                } else {
                    fallback = "no git history here (\(why ?? "?"))"
                }
            } else {
                fallback = "the baseline records no commit"
            }
            if let v = rev, let top, let why = GateGit.protocolSupport(v, root: top) {
                fallback = why
                rev = nil
            }
        }
        if let rev, let root {
            do {
                return try ab(r, spec: spec, path: path, baseline: base, rev: rev, root: root, scratch: scratch, log: log)
            } catch let e as GateProtocolError {
                fallback = e.message
            }
        }
        let reason = fallback ?? "no revision to build"
        guard let base else {
            throw GateInputError("no A/B possible (\(reason)) and no baseline at \(path) to compare with: make it with `\(spec.updateCommand(baselinePath: path))`")
        }
        log("gate: no A/B: \(reason); comparing with the committed baseline's numbers")
        return try compareWithBaseline(r, spec: spec, suite: suite, path: path, baseline: base, reason: reason, scratch: scratch, log: log)
    }

    /// The fallback: this build's measurements against the baseline file's numbers and thresholds.
    static func compareWithBaseline(_ r: GateRequest, spec: GateSuiteSpec, suite: GateSuite, path: String, baseline: Baseline,
                                    reason: String, scratch: String, log: @escaping (String) -> Void) throws -> GateOutcome {
        let made = baseline.protocolVersion ?? 1
        guard made == GateProtocol.version else {
            throw GateInputError("no A/B (\(reason)), and baseline \(path) holds numbers of gate protocol \(made) (what its metrics meant then), this build measures protocol \(GateProtocol.version): re-make it with `\(spec.updateCommand(baselinePath: path))`")
        }
        var notes = ["comparison: this build's numbers against the committed baseline's (no A/B: \(reason)); ratios measured on another host of the same kind can differ by 5-14 %"]
        let before = MachineLoad.sample(seconds: 1)
        var spec = spec
        var retries = r.retries
        var suite = suite
        if before.busy {
            // Longer, not wider: more rounds per shape and more re-measurements; the thresholds stay.
            spec.rounds = spec.rounds * 3 / 2
            retries += 2
            suite = try GateSuite(spec: spec, threads: r.threads, scratch: scratch)
            notes.append("the machine is busy (\(before.text)): \(spec.rounds) rounds per shape and \(retries) re-measurements; thresholds unchanged")
        }
        let (cases, availability) = suite.casesAndAvailability(instructions: r.instructions, executable: r.executable)
        let t0 = monotonicSeconds()
        let s0 = MachineLoad.snapshot()
        var report = try GateSession.run(cases: cases, baseline: baseline, baselinePath: path, environment: environment(threads: r.threads),
                                         availability: availability, retries: retries, log: log)
        report.mode = .baseline
        report.notes = notes
        report.loadBefore = before
        report.loadDuring = MachineLoad.summary(from: s0, to: MachineLoad.snapshot())
        return try finish(report, r, seconds: monotonicSeconds() - t0)
    }

    /// The A/B: build the base, measure both in interleaved rounds, compare.
    static func ab(_ r: GateRequest, spec: GateSuiteSpec, path: String, baseline: Baseline?, rev: GateRevision, root: String,
                   scratch: String, log: @escaping (String) -> Void) throws -> GateOutcome {
        log("gate: A/B: this build against \(rev.text)")
        let t0 = monotonicSeconds()
        let bin = try GateBaseBuild.build(rev, root: root, log: log)
        let built = monotonicSeconds() - t0
        // Instruction counts only where a counter works (tried once, with this binary).
        var instructions = r.instructions
        var instructionLine = GateSuite.instructionsNotTried
        if instructions {
            let probe = try GateSuite(spec: .quick, threads: 1, scratch: scratch + "/probe")
            let (c, line) = probe.instructionCase(executable: r.executable)
            instructionLine = line
            instructions = c != nil
        }
        let baseSide = ProcessGateSide(label: "base \(rev.short)", executable: bin, slot: "a", suite: spec.name, threads: r.threads,
                                       instructions: instructions, scratch: scratch)
        let newSide = ProcessGateSide(label: "this build", executable: r.executable, slot: "b", suite: spec.name, threads: r.threads,
                                      instructions: instructions, scratch: scratch)
        baseSide.keep = r.keepMeasurements
        newSide.keep = r.keepMeasurements
        let run = try GateAB.run(base: baseSide, new: newSide, plan: r.plan, policy: r.policy, reference: baseline, log: log)
        var availability = newSide.availability.filter { !$0.hasPrefix("instructions:") }
        availability.append(instructionLine)
        var report = GateReport(suite: spec.name, baselinePath: baseline == nil ? "(none)" : path, baselineDate: baseline?.date ?? "-",
                                baselineCommit: baseline?.commit, environmentMismatch: nil, availability: availability,
                                rows: run.rows, reruns: 0)
        report.mode = .ab
        report.abPolicy = r.policy
        report.loadBefore = run.loadBefore
        report.loadDuring = run.loadDuring
        let k = run.base.count
        let extended = k > run.fullRounds ? ", then to \(k) rounds of the cases of suspected or undecided metrics" : ""
        report.notes = [
            "comparison: A/B, this build (\(r.executable)) against base \(rev.text)\(r.against == nil ? ", the baseline's commit" : ""), built in \(GateBaseBuild.folder(rev, root: root)) (\(String(format: "%.0f s", built)))",
            "rounds: \(run.fullRounds) of the whole suite per side\(extended), interleaved (base first in odd rounds), each a fresh `gate --measure` process of a copy of each binary at paths of equal length, the environment padded per round; \(String(format: "%.0f s", run.seconds)) measuring",
            "correctness: absolute, every round, against \(baseline == nil ? "the base build (no baseline at \(path))" : "the committed baseline \(path)")",
        ] + run.notes
        return try finish(report, r, seconds: monotonicSeconds() - t0)
    }

    static func finish(_ report: GateReport, _ r: GateRequest, seconds: Double) throws -> GateOutcome {
        if let markdown = r.markdown { try write(Data(report.markdown().utf8), to: markdown) }
        if let json = r.json {
            try write(try ToolJSON.data(report), to: json)
        }
        let out = report.table() + String(format: "gate: %.1f s\n", seconds)
        return GateOutcome(output: out, exitCode: report.exitCode, report: report)
    }

    /// The baseline as written: value, spread and threshold of every metric.
    public static func baselineTable(_ b: Baseline) -> String {
        var rows = [["metric", "value", "spread", "threshold", "samples"]]
        for m in b.metrics {
            let row = GateRow(name: m.name, kind: m.kind, unit: m.unit, baseline: m.value, now: nil, change: nil,
                              threshold: m.threshold, verdict: .pass)
            let value = m.kind == .exact ? "\(m.text!.split(separator: " ").count) words" : row.baselineText
            rows.append([m.name, value, m.kind == .exact ? "-" : GateFormat.value(m.spread, unit: m.unit),
                         row.thresholdText, "\(m.samples)"])
        }
        var w = [Int](repeating: 0, count: 5)
        for r in rows { for i in 0..<5 { w[i] = max(w[i], r[i].count) } }
        return (b.availability.map { "metrics: \($0)" } + [""] + rows.map { r in
            r.enumerated().map { i, s in i == 0 ? s.padding(toLength: w[0], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: w[i] - s.count) + s }.joined(separator: "  ")
        }).joined(separator: "\n")
    }
}
