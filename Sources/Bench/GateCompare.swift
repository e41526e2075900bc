// The gate's verdict logic: measurements now against a baseline, metric by metric, and thresholds made
// from the measured spread when a baseline is written. Pure functions of plain data: the tests feed it
// synthetic measurements (BenchTests/GateCompareTests.swift).
//
//   kind          change shown            fails when                                  re-measured
//   ratio, time,  now / baseline - 1      change > threshold.relative                 yes
//   instructions
//   share         now - baseline (pts)    change > threshold.absolute                 yes
//   checksum      now - baseline          |change| > threshold.absolute  (incorrect)  no
//   bound         now - baseline          now > threshold.absolute       (incorrect)  no
//   exact         -                       text != baseline text          (incorrect)  no
//
// Improvements (past the threshold the other way) pass but are reported: update the baseline to keep them.
import Foundation

/// A metric as measured now: its samples (or text), ready to be compared or written into a baseline.
public struct GateMeasurement: Codable, Equatable, Sendable {
    public var name: String
    public var kind: MetricKind
    public var unit: String
    /// One value per round / repetition (empty for `exact`).
    public var samples: [Double]
    /// The text of an `exact` metric.
    public var text: String?
    /// A threshold fixed by the suite (checksum tolerances, error bounds); nil: derived from the spread.
    public var threshold: Threshold?
    /// A summary over several measurements (e.g. a variant's geometric mean over shapes): its threshold is
    /// capped at the policy's `summaryCap`, tighter than a single shape's, because catching a uniform
    /// slowdown is its job and averaging made it quiet enough to do so.
    public var isSummary: Bool
    public var note: String?

    public init(name: String, kind: MetricKind, unit: String, samples: [Double] = [], text: String? = nil,
                threshold: Threshold? = nil, isSummary: Bool = false, note: String? = nil) {
        self.name = name; self.kind = kind; self.unit = unit; self.samples = samples; self.text = text
        self.threshold = threshold; self.isSummary = isSummary; self.note = note
    }

    /// Median of the samples (nil without samples).
    public var value: Double? { Stats.median(samples) }
    /// MAD of the samples (nil without samples).
    public var spread: Double? { Stats.mad(samples) }
}

/// How thresholds are derived from the spread when a baseline is written:
///   relative kinds:  clamp(max(k · MAD / median, m · runSpread / median), floor, cap)
///   share:           clamp(max(k · MAD, m · runSpread), floor, cap)   (percentage points)
/// where runSpread is the largest distance of one update run's median from the baseline value (0 with one run:
/// make baselines with several runs, `--update-baseline --runs 5`, so thresholds cover the drift between runs,
/// which on a shared machine is far larger than the spread within one). The floor keeps a quiet update from
/// producing a threshold the next run cannot meet; the cap keeps a noisy metric from becoming blind (a capped
/// threshold is reported when the baseline is written). Summary metrics use `summaryCap` instead of the kind's cap.
public struct GatePolicy: Codable, Equatable, Sendable {
    /// k: MADs of the samples a metric may move.
    public var madMultiplier: Double
    /// m: multiples of the spread between update runs a metric may move.
    public var runSpreadMultiplier: Double
    public var ratioFloor: Double, ratioCap: Double
    /// The cap of summary metrics (`GateMeasurement.isSummary`), relative.
    public var summaryCap: Double
    public var timeFloor: Double, timeCap: Double
    public var instructionsFloor: Double, instructionsCap: Double
    /// Percentage points.
    public var shareFloor: Double, shareCap: Double

    public init(madMultiplier: Double = 4, runSpreadMultiplier: Double = 1.5,
                ratioFloor: Double = 0.10, ratioCap: Double = 1.0, summaryCap: Double = 0.25,
                timeFloor: Double = 0.25, timeCap: Double = 0.60,
                instructionsFloor: Double = 0.02, instructionsCap: Double = 0.10,
                shareFloor: Double = 2.0, shareCap: Double = 10.0) {
        self.madMultiplier = madMultiplier; self.runSpreadMultiplier = runSpreadMultiplier
        self.ratioFloor = ratioFloor; self.ratioCap = ratioCap; self.summaryCap = summaryCap; self.timeFloor = timeFloor; self.timeCap = timeCap
        self.instructionsFloor = instructionsFloor; self.instructionsCap = instructionsCap
        self.shareFloor = shareFloor; self.shareCap = shareCap
    }

    /// The `full` suite's policy: single shapes may be as noisy as they measure (up to +100 %) and catch only
    /// what exceeds their noise; summaries are capped at +25 %. A quiet summary (drift <= 6 % between runs, as
    /// the engine default's geometric mean over the T=64 shapes measures here) gets a threshold <= 10 %, so a
    /// 20 % uniform slowdown of that variant fails (Notes/gates.md).
    public static let full = GatePolicy()
    /// The `quick` suite's (tiny shapes, used by tests): wide, so only gross changes fail (an injected 2x
    /// slowdown must; noise must not).
    public static let quick = GatePolicy(ratioFloor: 0.5, ratioCap: 2.0, summaryCap: 0.6, timeFloor: 1.0, timeCap: 2.0,
                                         shareFloor: 10, shareCap: 20)

    /// The threshold for a metric of `kind` with median `value`, sample MAD `spread`, and `runSpread`
    /// between update runs. Also says whether the cap cut it (the metric is noisier than the cap allows).
    public func threshold(kind: MetricKind, value: Double, spread: Double, runSpread: Double = 0,
                          isSummary: Bool = false) -> (Threshold, capped: Bool) {
        func clamp(_ x: Double, _ lo: Double, _ hi: Double) -> (Double, Bool) {
            let v = x.isFinite ? x : hi
            return (min(max(v, lo), hi), v > hi)
        }
        let scale = abs(value)
        let relSpread = scale > 0 ? max(madMultiplier * spread, runSpreadMultiplier * runSpread) / scale : .infinity
        switch kind {
        case .ratio:
            let (r, c) = clamp(relSpread, ratioFloor, isSummary ? summaryCap : ratioCap); return (Threshold(relative: r), c)
        case .time:
            let (r, c) = clamp(relSpread, timeFloor, isSummary ? summaryCap : timeCap); return (Threshold(relative: r), c)
        case .instructions:
            let (r, c) = clamp(relSpread, instructionsFloor, instructionsCap); return (Threshold(relative: r), c)
        case .share:
            let (a, c) = clamp(max(madMultiplier * spread, runSpreadMultiplier * runSpread), shareFloor, shareCap)
            return (Threshold(absolute: a), c)
        case .checksum, .bound, .exact:
            // Correctness metrics carry a threshold fixed by the suite; without one, nothing may change.
            return (Threshold(absolute: 0), false)
        }
    }
}

/// What the gate concludes about one metric.
public enum GateVerdict: String, Codable, Sendable, CaseIterable {
    /// Within its threshold.
    case pass
    /// A performance metric past its threshold on every attempt: CI turns red.
    case regression
    /// A correctness metric failed (tokens changed, checksum or error out of tolerance): CI turns red.
    case incorrect
    /// Better than the baseline by more than the threshold: passes; update the baseline to keep the gain.
    case improvement
    /// Measured now, not in the baseline (a new variant): passes; update the baseline to gate it.
    case new
    /// In the baseline, not measured now (a variant removed, a metric family unavailable here): passes.
    case dropped
    /// Machine-dependent, and the machine (or thread count, or build) differs from the baseline's: not compared.
    case skipped
    /// A/B only: the two sides' rounds scatter so much that a change of twice the minimum effect could hide in
    /// them (the machine was too noisy to tell). Not a regression; the gate's exit status is 3.
    case inconclusive

    /// Whether this verdict turns the gate red.
    public var fails: Bool { self == .regression || self == .incorrect }
    /// The word in the table.
    public var label: String {
        switch self {
        case .pass: "ok"; case .regression: "REGRESSION"; case .incorrect: "INCORRECT"; case .improvement: "improved"
        case .new: "new"; case .dropped: "dropped"; case .skipped: "skipped (other machine)"
        case .inconclusive: "inconclusive"
        }
    }
}

/// The gate's exit status, the CI contract (package-benchmark style).
public enum GateExitCode: Int32, Codable, Sendable {
    /// Every metric holds (improvements, new and skipped metrics included).
    case success = 0
    /// At least one regression or incorrect result.
    case regression = 1
    /// Bad input: missing, empty, corrupt or wrong-suite baseline, unknown revision, a revision that does not
    /// build, unknown option value (printed as one line).
    case badInput = 2
    /// Inconclusive: no regression found, but the machine was too noisy to rule one out (some metric's rounds
    /// scatter past twice its minimum effect); the output says how busy the machine was. Run it again on a
    /// quieter machine.
    case inconclusive = 3

    /// The exit codes as `--help`, Profiles/README.md and Notes/gates.md list them.
    public static let documentation = "exit status: 0 pass, 1 regression or wrong result, 2 bad input, 3 inconclusive (machine too noisy to tell)"
}

/// One line of the gate's table.
public struct GateRow: Codable, Equatable, Sendable {
    public var name: String
    public var kind: MetricKind
    public var unit: String
    public var baseline: Double?
    public var now: Double?
    /// now / baseline - 1 for ratio, time and instructions; now - baseline for share, checksum and bound.
    public var change: Double?
    public var threshold: Threshold?
    public var verdict: GateVerdict
    /// Measurements made of this metric (more than 1 when it was re-measured after failing).
    public var attempts: Int
    /// Why it failed or was not compared, in a few words (e.g. the first differing token).
    public var detail: String?
    /// A/B only: the confidence interval of `change` (same unit as `change`), its coverage, the Mann-Whitney
    /// p-value of base vs new, and the rounds per side.
    public var low: Double?
    public var high: Double?
    public var coverage: Double?
    public var p: Double?
    public var rounds: Int?
    /// A/B only: each round's value of each side (what `change` and `p` are computed from).
    public var baseRounds: [Double]?
    public var newRounds: [Double]?

    public init(name: String, kind: MetricKind, unit: String, baseline: Double?, now: Double?, change: Double?,
                threshold: Threshold?, verdict: GateVerdict, attempts: Int = 1, detail: String? = nil) {
        self.name = name; self.kind = kind; self.unit = unit; self.baseline = baseline; self.now = now
        self.change = change; self.threshold = threshold; self.verdict = verdict; self.attempts = attempts
        self.detail = detail
    }
}

public enum GateCompare {
    /// Compares one metric. `comparable`: whether machine-dependent metrics may be compared (same
    /// fingerprint, threads and build); `why` says why not, for the row's detail.
    public static func row(baseline b: BaselineMetric?, now m: GateMeasurement?, comparable: Bool = true,
                           why: String? = nil) -> GateRow {
        guard let b else {
            guard let m else { preconditionFailure("GateCompare.row needs a baseline metric or a measurement") }
            return GateRow(name: m.name, kind: m.kind, unit: m.unit, baseline: nil, now: m.value, change: nil,
                           threshold: nil, verdict: .new, detail: "not in the baseline")
        }
        func make(_ now: Double?, _ change: Double?, _ v: GateVerdict, _ detail: String? = nil) -> GateRow {
            GateRow(name: b.name, kind: b.kind, unit: b.unit, baseline: b.kind == .exact ? nil : b.value, now: now,
                    change: change, threshold: b.threshold, verdict: v, detail: detail)
        }
        guard let m else { return make(nil, nil, .dropped, "not measured in this run") }
        if m.kind != b.kind {
            return make(m.value, nil, .incorrect, "kind changed from \(b.kind.rawValue) to \(m.kind.rawValue)")
        }
        if b.machineDependent && !comparable { return make(m.value, nil, .skipped, why) }
        if b.kind == .exact {
            guard let t = m.text, let bt = b.text else { return make(nil, nil, .dropped, "no text measured") }
            return t == bt ? make(nil, nil, .pass) : make(nil, nil, .incorrect, firstDifference(bt, t))
        }
        guard let now = m.value else { return make(nil, nil, .dropped, "no samples") }
        if !now.isFinite { return make(now, nil, b.kind.isCorrectness ? .incorrect : .regression, "not a finite number") }
        switch b.kind {
        case .ratio, .time, .instructions:
            let r = b.threshold.relative ?? 0
            let change = b.value > 0 ? now / b.value - 1 : (now > 0 ? Double.infinity : 0)
            if b.value > 0 ? now > b.value * (1 + r) : now > 0 { return make(now, change, .regression) }
            if now < b.value / (1 + r) { return make(now, change, .improvement) }
            return make(now, change, .pass)
        case .share:
            let a = b.threshold.absolute ?? 0
            let change = now - b.value
            if change > a { return make(now, change, .regression) }
            if change < -a { return make(now, change, .improvement) }
            return make(now, change, .pass)
        case .checksum:
            let change = now - b.value
            return make(now, change, abs(change) > (b.threshold.absolute ?? 0) ? .incorrect : .pass)
        case .bound:
            return make(now, now - b.value, now > (b.threshold.absolute ?? 0) ? .incorrect : .pass)
        case .exact:
            preconditionFailure("handled above")
        }
    }

    /// Whole-word comparison of two texts: "first difference at word 3: '17' -> '42' (5 words vs 5)".
    public static func firstDifference(_ expected: String, _ got: String) -> String {
        let a = expected.split(separator: " "), b = got.split(separator: " ")
        for i in 0..<min(a.count, b.count) where a[i] != b[i] {
            return "first difference at word \(i + 1): '\(a[i])' -> '\(b[i])' (\(a.count) words vs \(b.count))"
        }
        return "\(a.count) words in the baseline, \(b.count) now"
    }

    /// Which of two rows of the same metric to keep after a re-measurement: a passing one if any,
    /// else the one with the smaller change (the regression is at least that large).
    public static func better(_ a: GateRow, _ b: GateRow) -> GateRow {
        if a.verdict.fails != b.verdict.fails { return a.verdict.fails ? b : a }
        return (b.change ?? .infinity) < (a.change ?? .infinity) ? b : a
    }
}

extension Baseline {
    /// A baseline from one or more runs of a suite (`runs[i]` is run i's measurements). Per metric: the value
    /// is the median of the runs' medians, the spread the median of their MADs, and the threshold comes from
    /// `policy` (or the suite's fixed one). Throws `BaselineError` when an exact metric differs between runs
    /// (a non-deterministic token stream cannot be gated). `capped` lists the metrics whose spread was
    /// larger than the policy's cap.
    public static func make(runs: [[GateMeasurement]], policy: GatePolicy, suite: String, date: String, commit: String?,
                            environment: BaselineEnvironment, availability: [String], path: String = "baseline")
        throws -> (baseline: Baseline, capped: [String]) {
        var order: [String] = []
        var byName: [String: [GateMeasurement]] = [:]
        for run in runs {
            for m in run {
                if byName[m.name] == nil { order.append(m.name) }
                byName[m.name, default: []].append(m)
            }
        }
        var metrics: [BaselineMetric] = []
        var capped: [String] = []
        for name in order {
            let ms = byName[name]!
            let first = ms[0]
            if let other = ms.first(where: { $0.kind != first.kind }) {
                throw BaselineError(path: path, "cannot be made: metric \(name) is \(first.kind.rawValue) in one run and \(other.kind.rawValue) in another")
            }
            if first.kind == .exact {
                let texts = ms.compactMap(\.text)
                guard let t = texts.first else { continue }
                if let d = texts.first(where: { $0 != t }) {
                    throw BaselineError(path: path, "cannot be made: \(name) differs between runs (\(GateCompare.firstDifference(t, d))): the result is not deterministic")
                }
                metrics.append(BaselineMetric(name: name, kind: .exact, unit: first.unit, value: 0, spread: 0, samples: texts.count,
                                              threshold: Threshold(), text: t, note: first.note))
                continue
            }
            let withSamples = ms.filter { !$0.samples.isEmpty }
            let medians = withSamples.compactMap(\.value)
            guard let value = Stats.median(medians) else { continue }  // never measured: nothing to gate
            let spread = Stats.median(withSamples.compactMap(\.spread)) ?? 0
            let runSpread = medians.map { abs($0 - value) }.max() ?? 0
            var threshold: Threshold
            if let fixed = first.threshold {
                threshold = fixed
            } else {
                let (t, c) = policy.threshold(kind: first.kind, value: value, spread: spread, runSpread: runSpread,
                                              isSummary: first.isSummary)
                threshold = t
                if c { capped.append(name) }
            }
            metrics.append(BaselineMetric(name: name, kind: first.kind, unit: first.unit, value: value, spread: spread,
                                          samples: withSamples.reduce(0) { $0 + $1.samples.count },
                                          threshold: threshold, note: first.note))
        }
        let b = Baseline(suite: suite, date: date, commit: commit, environment: environment, availability: availability,
                         metrics: metrics)
        if let p = b.problem() { throw BaselineError(path: path, "cannot be made: \(p)") }
        return (b, capped)
    }
}
