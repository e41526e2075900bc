// The A/B run: two sides (builds) measure the same suite in rounds, interleaved, in one run.
//
//   round 1: base, new     round 2: new, base     round 3: base, new ...
//
// Each round of a side is one measurement of the suite (for the real gate a fresh child process of that side's
// binary, `gate --measure`, so the process-to-process drift of layout and memory state, the largest noise of a
// gate metric, is inside the comparison rather than between a baseline and now). Both sides see the same host,
// load and thermal state, alternately first. The machine's load is read before the run (1 s) and around every
// measurement; a busy machine gets more full rounds. Then every metric still suspected, undecided or regressed
// gets more rounds (up to `maxRounds`, within the time budget), and those extension rounds measure only the cases
// that such metrics belong to (`gate --measure --cases`): an undecided attention ratio costs 0.3 s per side and
// round, not the whole suite's 18 s. Bench's GateABCompare gives the verdicts.
import Bench
import Foundation

/// One side of an A/B: something that measures the suite once per call.
public protocol GateSide: AnyObject {
    /// "base 3a96aa2c0d1e", "this build".
    var label: String { get }
    /// Measures the suite once (round `round`, 0-based): every case, or only those whose keys `cases` lists.
    func measure(round: Int, cases: [String]?) throws -> GateSideRound
}

/// A side measured in this process (tests, and anything without a second binary).
public final class InProcessGateSide: GateSide {
    public let label: String
    let suite: GateSuite
    public init(label: String, suite: GateSuite) { self.label = label; self.suite = suite }
    public func measure(round: Int, cases: [String]?) throws -> GateSideRound {
        try GateSuite.measure(suite.cases(), keys: cases)
    }
}

/// A side measured by a workbench binary through the child protocol (GateProtocol.swift), one process per round.
///
/// Identical sources built in two folders gave the same machine code (same kernel addresses, same section sizes)
/// and yet differed by 3.5 points in one tiny op's share in every one of 12 rounds: the process's start-up
/// state differs with the length of the executable's path (it is copied onto the stack, which shifts every stack
/// address) and of the file names it is handed. So every side runs a copy of its binary at a path of the same
/// length (`<scratch>/<slot>/workbench`, slots of equal length), writes to equally long file names, and gets an
/// environment padded by a per-round pseudo-random length that is the same for both sides of a round: the
/// sides of a round start from identical layouts, and layout effects vary from round to round instead of
/// biasing one side.
public final class ProcessGateSide: GateSide {
    public let label: String
    public let executable: String
    let slot: String
    let suite: String, threads: Int, instructions: Bool, calibrationSlowdown: Double?
    let scratch: String
    private var copy: String?
    /// A folder where every child's file is kept (`--keep-measurements`), or nil.
    public var keep: String?
    /// The last child's availability lines.
    public private(set) var availability: [String] = []

    /// `slot`: a short name, the same length for every side of one A/B ("a", "b"; "s0", "s1", ...).
    public init(label: String, executable: String, slot: String, suite: String, threads: Int, instructions: Bool,
                calibrationSlowdown: Double? = nil, scratch: String) {
        self.label = label; self.executable = executable; self.slot = slot; self.suite = suite; self.threads = threads
        self.instructions = instructions; self.calibrationSlowdown = calibrationSlowdown; self.scratch = scratch
    }

    /// The environment padding of round `round`: 0..<4096 characters, the same for every side.
    static func padding(round: Int) -> String {
        var z = UInt64(round + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return String(repeating: "x", count: Int((z ^ (z >> 31)) % 4096))
    }

    /// The binary, copied once to `<scratch>/<slot>/workbench`.
    func binary() throws -> String {
        if let copy { return copy }
        let dir = scratch + "/" + slot
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let dst = dir + "/workbench"
        try? FileManager.default.removeItem(atPath: dst)
        do { try FileManager.default.copyItem(atPath: executable, toPath: dst) } catch {
            throw GateInputError("cannot copy \(executable) to \(dst): \(error.localizedDescription)")
        }
        chmod(dst, 0o755)
        copy = dst
        return dst
    }

    public func measure(round: Int, cases: [String]?) throws -> GateSideRound {
        let out = scratch + "/out-\(slot)-round\(round).json", errPath = scratch + "/err-\(slot)-round\(round).txt"
        unlink(out)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try binary())
        p.arguments = GateProtocol.arguments(suite: suite, round: round, jsonOut: out, threads: threads,
                                             instructions: instructions, cases: cases, calibrationSlowdown: calibrationSlowdown)
        var env = ProcessInfo.processInfo.environment
        env["WORKBENCH_GATE_PAD"] = ProcessGateSide.padding(round: round)
        p.environment = env
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let err = FileHandle(forWritingAtPath: errPath)
        p.standardOutput = FileHandle.nullDevice; p.standardInput = FileHandle.nullDevice
        p.standardError = err ?? FileHandle.nullDevice
        do { try p.run() } catch {
            throw GateInputError("cannot start \(executable): \(error.localizedDescription)")
        }
        p.waitUntilExit()
        try? err?.close()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let last = stderr.split(separator: "\n").last.map(String.init) ?? "(no message)"
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            if stderr.contains("--measure") && (stderr.contains("nknown option") || stderr.contains("nexpected argument")) {
                throw GateProtocolError("\(label)'s binary does not know `gate --measure` (it predates the child protocol): \(last)")
            }
            let how = p.terminationReason == .uncaughtSignal ? "signal \(p.terminationStatus)" : "exit status \(p.terminationStatus)"
            throw GateInputError("\(label): `gate --measure` failed (\(how)): \(last)")
        }
        guard let data = FileManager.default.contents(atPath: out) else {
            throw GateProtocolError("\(label)'s binary exited 0 but wrote no \(out)")
        }
        let file = try GateMeasurementFile.decode(data, path: out)
        guard file.round == round, file.suite == suite else {
            throw GateProtocolError("\(label)'s child measured suite \(file.suite) round \(file.round), asked for \(suite) round \(round)")
        }
        availability = file.availability
        if let keep {
            let name = keep + "/" + label.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined() + "-round\(round).json"
            try? FileManager.default.removeItem(atPath: name)
            try? FileManager.default.copyItem(atPath: out, toPath: name)
        }
        unlink(out); unlink(errPath)
        return GateSideRound(measurements: file.measurements, cases: file.cases)
    }
}

/// How many rounds an A/B measures.
public struct GateABPlan: Codable, Equatable, Sendable {
    /// Full rounds per side on a quiet machine.
    public var rounds: Int
    /// Full rounds per side when the machine is busy (before or during).
    public var busyRounds: Int
    /// The most rounds per side of any metric, extension rounds included.
    public var maxRounds: Int
    /// Rounds added per extension, at least (and at least a quarter of the rounds so far).
    public var step: Int
    /// No extension starts that would end after this many seconds of measuring (its cost estimated from the
    /// cases' own times in the last rounds).
    public var budgetSeconds: Double

    public init(rounds: Int, busyRounds: Int, maxRounds: Int, step: Int = 2, budgetSeconds: Double = 780) {
        self.rounds = rounds; self.busyRounds = busyRounds; self.maxRounds = maxRounds; self.step = step
        self.budgetSeconds = budgetSeconds
    }

    /// `rounds` full rounds (busy: 2 more); undecided metrics up to 8x as many (at most 64), extensions of at least
    /// 2 rounds and a quarter of those so far.
    public init(rounds: Int = 8) {
        self.init(rounds: rounds, busyRounds: rounds + 2, maxRounds: max(rounds + 2, min(64, 8 * rounds)), step: 2)
    }
}

/// What an A/B run measured.
public struct GateABRun {
    /// base[k], new[k]: round k's measurements (every case in the first `fullRounds`, then the extensions' cases).
    public var base: [[GateMeasurement]] = []
    public var new: [[GateMeasurement]] = []
    public var fullRounds = 0
    public var loadBefore: LoadSummary?
    /// Per measurement (both sides), the load while it ran.
    public var loads: [LoadSummary] = []
    public var notes: [String] = []
    public var seconds = 0.0
    public var rows: [GateRow] = []
    public var loadDuring: LoadSummary? { MachineLoad.combine(loads) }
}

public enum GateAB {
    /// Measures `base` and `new` in interleaved rounds per `plan` and compares them (`reference`: the
    /// committed baseline, for the correctness metrics).
    public static func run(base: GateSide, new: GateSide, plan: GateABPlan, policy: GateABPolicy = .standard,
                           reference: Baseline?, log: (String) -> Void = { _ in }) throws -> GateABRun {
        var run = GateABRun()
        let t0 = monotonicSeconds()
        let before = MachineLoad.sample(seconds: 1)
        run.loadBefore = before
        var full = before.busy ? plan.busyRounds : plan.rounds
        if before.busy { run.notes.append("the machine is busy (\(before.text)): \(plan.busyRounds) full rounds per side instead of \(plan.rounds)") }
        var target = full
        // From the children's records: which case measured each metric, and each case's seconds (both sides, latest).
        var caseOf: [String: String] = [:]
        var caseOrder: [String] = []
        var caseSeconds: [String: [Double]] = [:]
        var overhead = 0.0   // per round, the seconds not spent in cases (process starts, set-up, files)
        var selected: [String]? = nil
        struct Extension { var from: Int; var to: Int; var cases: [String]; var open: Int; var names: String }
        var extensions: [Extension] = []
        var k = 0
        while true {
            while k < target {
                let keys = k < full ? nil : selected
                let r0 = monotonicSeconds()
                let order: [GateSide] = k % 2 == 0 ? [base, new] : [new, base]
                var parts: [String] = []
                var inCases = 0.0
                for (i, side) in order.enumerated() {
                    let a = MachineLoad.snapshot()
                    let s0 = monotonicSeconds()
                    let got = try side.measure(round: k, cases: keys)
                    let load = MachineLoad.summary(from: a, to: MachineLoad.snapshot())
                    run.loads.append(load)
                    if side === base { run.base.append(got.measurements) } else { run.new.append(got.measurements) }
                    for c in got.cases {
                        if caseSeconds[c.key] == nil { caseOrder.append(c.key) }
                        var pair = caseSeconds[c.key] ?? [0, 0]
                        pair[i] = c.seconds
                        caseSeconds[c.key] = pair
                        inCases += c.seconds
                        for m in c.metrics { caseOf[m] = c.key }
                    }
                    parts.append(String(format: "%@ %.1f s", side.label, monotonicSeconds() - s0))
                }
                if keys == nil { overhead = max(0, monotonicSeconds() - r0 - inCases) }
                let l = MachineLoad.combine(Array(run.loads.suffix(2)))
                let what = keys.map { " (\($0.joined(separator: ", ")))" } ?? ""
                log("gate: round \(k + 1) of \(target)\(what): \(parts.joined(separator: ", "))\(l.map { "; \($0.text)" } ?? "")")
                k += 1
            }
            if selected == nil, let during = run.loadDuring, during.busy, full < plan.busyRounds {
                run.notes.append("the machine became busy while measuring (\(during.text)): \(plan.busyRounds) full rounds per side instead of \(full)")
                full = plan.busyRounds
                target = full
                continue
            }
            run.rows = GateABCompare.rows(base: run.base, new: run.new, reference: reference, policy: policy)
            let open = run.rows.filter { $0.needsMoreRounds(policy) }
            guard !open.isEmpty, k < plan.maxRounds else { break }
            // Only the cases of the open metrics (all of them if a metric's case is not known).
            let wanted = Set(open.map { caseOf[$0.name] })
            let keys: [String]? = wanted.contains(nil) ? nil : caseOrder.filter { wanted.contains($0) }
            let perRound = overhead + (keys ?? caseOrder).reduce(0) { $0 + (caseSeconds[$1]?.reduce(0, +) ?? 0) }
            let next = min(plan.maxRounds, k + max(plan.step, k / 4))
            let elapsed = monotonicSeconds() - t0
            guard elapsed + perRound * Double(next - k) <= plan.budgetSeconds else {
                run.notes.append(String(format: "%d metric%@ suspected or undecided after %d rounds; no more rounds: the time budget (%.0f s) would be exceeded", open.count, open.count == 1 ? "" : "s", k, plan.budgetSeconds))
                break
            }
            let names = open.prefix(3).map(\.name).joined(separator: ", ") + (open.count > 3 ? ", ..." : "")
            let list = keys ?? ["every case"]
            if var last = extensions.last, last.cases == list, last.to == k {
                last.to = next
                extensions[extensions.count - 1] = last
            } else {
                extensions.append(Extension(from: k, to: next, cases: list, open: open.count, names: names))
            }
            log("gate: \(open.count) metric\(open.count == 1 ? "" : "s") suspected or undecided after \(k) rounds (\(names)): \(next - k) more rounds of \(list.joined(separator: ", "))")
            selected = keys
            target = next
        }
        run.fullRounds = full
        for e in extensions {
            run.notes.append("after \(e.from) rounds \(e.open) metric\(e.open == 1 ? " was" : "s were") suspected or undecided (\(e.names)): rounds \(e.from + 1)-\(e.to) measured \(e.cases.joined(separator: ", "))")
        }
        run.seconds = monotonicSeconds() - t0
        return run
    }
}
