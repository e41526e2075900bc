// `workbench gate --calibrate`: what the gate can catch on this machine, now.
//
// The gate's own A/B (GateAB) is run with this binary on both sides, the new side's default matmul doing 5, 10,
// 20 and 50 % more of its own work (CalibrationSlowdown.swift), plus a 0 % control (the same binary against
// itself: any regression there is a false alarm). To keep it to minutes, one base measurement per round serves
// every level, the levels' order rotates from round to round, and only the calibration part of the suite is
// measured: the matmul cases, with the default variant alone timed (the reference only checks it). A level is
// caught when the A/B finds a regression in any metric of the slowed variant; the last line is
// `smallest slowdown caught: N%` (or `none`).
import Bench
import Foundation
import Kernels

public struct GateCalibration: Codable, Equatable, Sendable {
    public static let schemaName = "workbench.gate.calibration/1"
    public static let percents: [Double] = [0, 5, 10, 20, 50]

    public struct Level: Codable, Equatable, Sendable {
        public var percent: Double
        /// Whether the A/B found a regression (for 0 %: a false alarm).
        public var caught: Bool
        public var regressions: [String]
        public var inconclusive: [String]
        /// The slowed variant's summary rows (geometric means over the shapes of each T).
        public var summaries: [GateRow]
    }

    public var schema = GateCalibration.schemaName
    public var suite: String
    public var variant: String
    public var rounds: Int
    public var seconds: Double
    public var loadBefore: LoadSummary?
    public var loadDuring: LoadSummary?
    public var policy: GateABPolicy
    public var levels: [Level]

    /// The smallest slowdown (above 0) caught, if any.
    public var smallestCaught: Double? { levels.filter { $0.percent > 0 && $0.caught }.map(\.percent).min() }
    /// Caught at every level from the smallest caught up (a gate that catches 10 % but not 20 % is broken).
    public var monotone: Bool {
        guard let s = smallestCaught else { return true }
        return levels.filter { $0.percent >= s }.allSatisfy(\.caught)
    }

    /// Measures the levels. `side(percent)` makes the side of one level (nil: the unslowed base).
    public static func run(suite: String, percents: [Double] = GateCalibration.percents, plan: GateABPlan,
                           policy: GateABPolicy = .standard, side: (Double?) -> GateSide,
                           log: (String) -> Void = { _ in }) throws -> GateCalibration {
        let t0 = monotonicSeconds()
        let before = MachineLoad.sample(seconds: 1)
        let rounds = before.busy ? plan.busyRounds : plan.rounds
        let base = side(nil)
        let levels = percents.map { side($0) }
        var baseRounds: [[GateMeasurement]] = []
        var levelRounds = [[[GateMeasurement]]](repeating: [], count: percents.count)
        var loads: [LoadSummary] = []
        for k in 0..<rounds {
            // Rotate the order so no level always runs right after the base.
            var order = Array(-1..<percents.count)
            order = Array(order[(k % order.count)...] + order[..<(k % order.count)])
            let r0 = monotonicSeconds()
            for i in order {
                let a = MachineLoad.snapshot()
                if i < 0 { baseRounds.append(try base.measure(round: k, cases: nil).measurements) }
                else { levelRounds[i].append(try levels[i].measure(round: k, cases: nil).measurements) }
                loads.append(MachineLoad.summary(from: a, to: MachineLoad.snapshot()))
            }
            let l = MachineLoad.combine(Array(loads.suffix(order.count)))
            log(String(format: "gate: calibration round %d of %d: %.1f s", k + 1, rounds, monotonicSeconds() - r0) + (l.map { "; \($0.text)" } ?? ""))
        }
        let variant = MatmulVariants.defaultName
        var out: [Level] = []
        for (i, p) in percents.enumerated() {
            let rows = GateABCompare.rows(base: baseRounds, new: levelRounds[i], reference: nil, policy: policy)
            let mine = rows.filter { $0.name.hasPrefix("matmul/\(variant)/") }
            out.append(Level(percent: p, caught: mine.contains { $0.verdict == .regression },
                             regressions: rows.filter { $0.verdict.fails }.map(\.name),
                             inconclusive: rows.filter { $0.verdict == .inconclusive }.map(\.name),
                             summaries: mine.filter { $0.name.split(separator: "/").count == 3 }))
        }
        return GateCalibration(suite: suite, variant: variant, rounds: rounds, seconds: monotonicSeconds() - t0,
                               loadBefore: before, loadDuring: MachineLoad.combine(loads), policy: policy, levels: out)
    }

    /// The report: one line per level, then `smallest slowdown caught: N%`.
    public func text() -> String {
        var lines = ["calibration: the gate's A/B on this machine, now: this binary against itself with the default matmul (\(variant)) doing N% more of its own work; suite \(suite), matmul cases, \(rounds) rounds per side"]
        lines.append("verdicts: \(policy.text)")
        if let l = loadBefore { lines.append("load before: \(l.text)\(l.busy ? " (busy)" : "")") }
        if let l = loadDuring { lines.append("load during: \(l.text)\(l.busy ? " (busy)" : "")") }
        lines.append("")
        for l in levels {
            let what = l.percent == 0 ? "  0% (control)" : String(format: "%3.0f%%", l.percent)
            let word = l.percent == 0 ? (l.caught ? "FALSE ALARM" : "no alarm") : (l.caught ? "caught" : "missed")
            let sums = l.summaries.map { "\($0.name) \($0.changeText) \($0.intervalText) p=\($0.pText) \($0.verdict.label)" }.joined(separator: "; ")
            var line = "\(what): \(word)"
            if !l.regressions.isEmpty { line += " (\(l.regressions.count) regressed)" }
            if !l.inconclusive.isEmpty { line += " (\(l.inconclusive.count) inconclusive)" }
            lines.append(line + (sums.isEmpty ? "" : ": " + sums))
        }
        lines.append(String(format: "calibration: %.0f s", seconds))
        if !monotone { lines.append("warning: the levels caught are not monotone (a smaller slowdown caught, a larger one missed): the machine is noisier than the rounds can resolve") }
        lines.append("smallest slowdown caught: " + (smallestCaught.map { String(format: "%g%%", $0) } ?? "none"))
        return lines.joined(separator: "\n") + "\n"
    }
}
