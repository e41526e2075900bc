// Running a gate suite: cases (closures that measure a group of metrics) against a baseline, with the
// re-measurement of failing performance metrics that keeps one fluke from turning CI red.
// Bench knows nothing about GPT-2: the suite's cases are built by `workbench gate`.
import Foundation

/// One group of metrics measured together (e.g. every matmul variant on one shape, interleaved, or one
/// generation workload). `measure` may be called again to re-measure a failing metric of the group.
public struct GateCase {
    /// A short stable name ("matmul-T64", "gen-tiny"): what the A/B's child protocol selects cases by.
    public var key: String
    public var name: String
    public var measure: () throws -> [GateMeasurement]
    public init(key: String? = nil, name: String, measure: @escaping () throws -> [GateMeasurement]) {
        self.key = key ?? name; self.name = name; self.measure = measure
    }
}

/// How a gate run compared.
public enum GateMode: String, Codable, Sendable {
    /// This build against another one (a git revision) measured in the same run, rounds interleaved.
    case ab
    /// This build's measurements against the numbers in the committed baseline file.
    case baseline
}

/// The outcome of a gate run: every row, plus what the table's header says.
public struct GateReport: Codable, Equatable, Sendable {
    /// What this JSON is (`workbench gate --json`).
    public static let schemaName = "workbench.gate.report/1"
    public var schema: String = GateReport.schemaName
    public var mode: GateMode = .baseline
    /// Lines the header shows before the table: which comparison, against what, and why (fallbacks).
    public var notes: [String] = []
    /// How busy the machine was before and during the measurement (nil where /proc is missing).
    public var loadBefore: LoadSummary?
    public var loadDuring: LoadSummary?
    /// A/B: the policy the verdicts follow.
    public var abPolicy: GateABPolicy?
    public var suite: String
    public var baselinePath: String
    public var baselineDate: String
    public var baselineCommit: String?
    /// Why machine-dependent metrics were not compared (nil when the environment matches the baseline's).
    public var environmentMismatch: String?
    /// Which metric families were measured in this run, and why any were not.
    public var availability: [String]
    public var rows: [GateRow]
    /// Re-measurements of cases made because a metric failed its first measurement.
    public var reruns: Int

    public init(suite: String, baselinePath: String, baselineDate: String, baselineCommit: String?,
                environmentMismatch: String?, availability: [String], rows: [GateRow], reruns: Int) {
        self.suite = suite; self.baselinePath = baselinePath; self.baselineDate = baselineDate
        self.baselineCommit = baselineCommit; self.environmentMismatch = environmentMismatch
        self.availability = availability; self.rows = rows; self.reruns = reruns
    }

    public var failures: [GateRow] { rows.filter { $0.verdict.fails } }
    /// Metrics the machine was too noisy to decide.
    public var undecided: [GateRow] { rows.filter { $0.verdict == .inconclusive } }
    /// 1 on any failure, else 3 when a metric is inconclusive, else 0.
    public var exitCode: GateExitCode { !failures.isEmpty ? .regression : !undecided.isEmpty ? .inconclusive : .success }
    /// Why the run is inconclusive, in a few words ("machine too noisy: ..."), or nil.
    public var inconclusiveReason: String? {
        guard exitCode == .inconclusive else { return nil }
        let load = [loadBefore.map { "before: \($0.text)" }, loadDuring.map { "during: \($0.text)" }].compactMap { $0 }
        let names = undecided.prefix(3).map(\.name).joined(separator: ", ") + (undecided.count > 3 ? ", ..." : "")
        return "machine too noisy: \(undecided.count) metric\(undecided.count == 1 ? "" : "s") could not be decided (\(names))"
            + (load.isEmpty ? "" : "; \(load.joined(separator: "; "))")
    }
    /// How many rows got each verdict.
    public func count(_ v: GateVerdict) -> Int { rows.reduce(0) { $0 + ($1.verdict == v ? 1 : 0) } }
}

public enum GateSession {
    /// Measures every case once and compares against `baseline`. A performance metric past its threshold
    /// has its case re-measured, up to `retries` more times; it fails only if every measurement is past the
    /// threshold (the row shows the attempt with the smallest change). Correctness metrics are deterministic
    /// and never re-measured. Baseline metrics no case measured are reported as `dropped`.
    /// Errors thrown by a case propagate (a broken suite is not a regression).
    public static func run(cases: [GateCase], baseline: Baseline, baselinePath: String, environment: BaselineEnvironment,
                           availability: [String], retries: Int, log: (String) -> Void = { _ in }) throws -> GateReport {
        let mismatch = baseline.environment.mismatch(environment)
        var rows: [GateRow] = []
        var measured = Set<String>()
        var reruns = 0
        for c in cases {
            log("gate: \(c.name)")
            let ms = try c.measure()
            var caseRows = ms.map { m in
                GateCompare.row(baseline: baseline.metric(m.name), now: m, comparable: mismatch == nil, why: mismatch.map { _ in "machine differs" })
            }
            for m in ms { measured.insert(m.name) }
            var attempt = 1
            while attempt <= retries {
                let failing = caseRows.indices.filter { caseRows[$0].verdict == .regression && caseRows[$0].kind.isPerformance }
                if failing.isEmpty { break }
                log("gate: \(c.name): re-measuring \(failing.count) metric\(failing.count == 1 ? "" : "s") past the threshold (\(caseRows[failing[0]].name)\(failing.count > 1 ? ", ..." : "")), attempt \(attempt + 1) of \(retries + 1)")
                let again = try c.measure()
                reruns += 1
                attempt += 1
                for i in failing {
                    guard let m = again.first(where: { $0.name == caseRows[i].name }) else { continue }
                    var r = GateCompare.row(baseline: baseline.metric(m.name), now: m, comparable: mismatch == nil)
                    r.attempts = attempt
                    var kept = GateCompare.better(caseRows[i], r)
                    kept.attempts = attempt
                    caseRows[i] = kept
                }
            }
            rows += caseRows
        }
        for b in baseline.metrics where !measured.contains(b.name) {
            rows.append(GateCompare.row(baseline: b, now: nil))
        }
        return GateReport(suite: baseline.suite, baselinePath: baselinePath, baselineDate: baseline.date,
                          baselineCommit: baseline.commit, environmentMismatch: mismatch, availability: availability,
                          rows: rows, reruns: reruns)
    }

    /// Runs every case `runs` times (for `--update-baseline`); returns run i's measurements at index i.
    public static func measureAll(cases: [GateCase], runs: Int, log: (String) -> Void = { _ in }) throws -> [[GateMeasurement]] {
        var out: [[GateMeasurement]] = []
        for r in 0..<max(1, runs) {
            var ms: [GateMeasurement] = []
            for c in cases {
                log("gate: \(c.name)\(runs > 1 ? " (run \(r + 1) of \(runs))" : "")")
                ms += try c.measure()
            }
            out.append(ms)
        }
        return out
    }
}

extension GateMeasurement {
    /// Per-round ratios of `samples` to `reference` (paired by round: the runner times both in every round,
    /// next to each other, so a slow patch of the machine slows both). Rounds where the reference is not
    /// positive are skipped.
    public static func pairedRatios(_ samples: [Double], to reference: [Double]) -> [Double] {
        zip(samples, reference).compactMap { s, r in r > 0 ? s / r : nil }
    }

    /// Round-by-round geometric means of several series (value i is the geometric mean of every series'
    /// value i; as many values as the shortest series). For summary metrics: a variant's ratios over all
    /// shapes, one value per round. Non-positive values give nan (and so fail as not finite).
    public static func roundwiseGeometricMean(_ series: [[Double]]) -> [Double] {
        guard let n = series.map(\.count).min(), !series.isEmpty else { return [] }
        return (0..<n).map { i in
            let logs = series.map { $0[i] > 0 ? Foundation.log($0[i]) : Double.nan }
            return Foundation.exp(logs.reduce(0, +) / Double(series.count))
        }
    }
}
