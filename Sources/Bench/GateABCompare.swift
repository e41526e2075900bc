// The gate's A/B verdict: two builds measured in the same run, rounds interleaved, compared metric by metric
// (Google Benchmark's compare.py does this for two binaries; here with paired rounds and an interval).
//
// Input: for each side, one list of measurements per round (round k of both sides ran back to back, in
// alternating order, so load, host and cache state hit both alike). Per performance metric:
//   per-round value      the lower quartile of that round's samples (shares: the median), b_k (base) and n_k
//                        (new): a neighbour can only slow a sample down, so the fast end of a process's samples
//                        is the code's own time and the slow end the machine's (`GateABPolicy.roundValue`)
//   change               median of the paired ratios n_k / b_k, minus 1 (shares: of the differences n_k - b_k)
//   interval             distribution-free interval of that median from order statistics: [r_(j), r_(R+1-j)]
//                        with the largest j whose coverage 1 - 2 P(Bin(R, 1/2) <= j - 1) is at least 95 %
//                        (R = 6: [min, max], 96.9 %; fewer rounds cannot reach 95 %, the coverage is shown)
//   p                    two-sided Mann-Whitney U test of {b_k} against {n_k} (compare.py's test)
//   verdict              regression   p < alpha, change > minimum effect, and the whole interval above 0
//                        improvement  p < alpha, change < -minimum effect, and the whole interval below 0
//                        inconclusive otherwise, when the interval reaches past `resolution` x the minimum
//                                     effect (a regression that large could hide in the scatter)
//                        pass         otherwise
// Correctness metrics are not statistics: each new round is compared with the absolute reference (the
// committed baseline's value, else the base side's first round) by GateCompare's rules.
import Foundation

/// How the A/B decides. Every number is stated in the report's header.
public struct GateABPolicy: Codable, Equatable, Sendable {
    /// Significance level of the U test.
    public var alpha: Double
    /// Least coverage wanted of the interval.
    public var confidence: Double
    /// The smallest relative change reported as a regression or an improvement (ratios, times, instructions).
    public var minimumEffect: Double
    /// The same for op shares, in percentage points.
    public var minimumSharePoints: Double
    /// A metric whose interval reaches past this many minimum effects without a verdict is inconclusive.
    public var resolution: Double

    public init(alpha: Double = 0.05, confidence: Double = 0.95, minimumEffect: Double = 0.05, minimumSharePoints: Double = 1.5,
                resolution: Double = 3) {
        self.alpha = alpha; self.confidence = confidence; self.minimumEffect = minimumEffect
        self.minimumSharePoints = minimumSharePoints; self.resolution = resolution
    }

    public static let standard = GateABPolicy()

    /// The minimum effect of a metric kind (relative, or points for shares).
    public func minimumEffect(_ kind: MetricKind) -> Double { kind == .share ? minimumSharePoints : minimumEffect }

    /// A measurement's value in one round: the lower quartile of its samples for times, ratios and instruction
    /// counts (noise only adds time), the median for shares (noise moves them both ways).
    public static func roundValue(_ m: GateMeasurement) -> Double? {
        m.kind == .share ? Stats.median(m.samples) : Stats.percentile(m.samples, 0.25)
    }

    /// One line for the report's header.
    public var text: String {
        String(format: "per process the lower quartile of a metric's samples (shares: the median); regression = U test p < %g and median paired change > +%g%% (shares: +%g points) with the whole %g%% interval above 0; inconclusive when an interval reaches past %g x that minimum",
               alpha, minimumEffect * 100, minimumSharePoints, confidence * 100, resolution)
    }
}

extension Stats {
    /// A distribution-free interval for the median of `x` from its order statistics: [x_(j), x_(n+1-j)] for the
    /// largest j whose coverage is at least `confidence` (j = 1 when none is: the coverage says how far short).
    /// Nil when `x` is empty.
    public static func medianInterval(_ x: [Double], confidence: Double = 0.95) -> (low: Double, high: Double, coverage: Double)? {
        let s = x.sorted(), n = s.count
        guard n > 0 else { return nil }
        // P(Bin(n, 1/2) <= i) for i = 0, 1, ...
        var cdf: [Double] = []
        var term = pow(0.5, Double(n)), sum = 0.0
        for i in 0...n {
            sum += term
            cdf.append(sum)
            term = term * Double(n - i) / Double(i + 1)
        }
        func coverage(_ j: Int) -> Double { 1 - 2 * cdf[j - 1] }
        var j = 1
        while j + 1 <= (n + 1) / 2 && coverage(j + 1) >= confidence { j += 1 }
        return (s[j - 1], s[n - j], max(0, coverage(j)))
    }
}

public enum GateABCompare {
    /// Compares one performance metric from per-round values of both sides (paired by index).
    public static func performanceRow(name: String, kind: MetricKind, unit: String, base: [Double], new: [Double],
                                      policy: GateABPolicy = .standard) -> GateRow {
        let n = min(base.count, new.count)
        let b = Array(base.prefix(n)), m = Array(new.prefix(n))
        let minimum = policy.minimumEffect(kind)
        let threshold = kind == .share ? Threshold(absolute: minimum) : Threshold(relative: minimum)
        var row = GateRow(name: name, kind: kind, unit: unit, baseline: Stats.median(b), now: Stats.median(m), change: nil,
                          threshold: threshold, verdict: .pass)
        row.rounds = n
        row.baseRounds = b; row.newRounds = m
        guard n > 0 else { row.verdict = .dropped; row.detail = "no rounds measured on both sides"; return row }
        if !(b + m).allSatisfy(\.isFinite) {
            row.verdict = m.allSatisfy(\.isFinite) ? .pass : .regression
            row.detail = "not a finite number"
            return row
        }
        let paired: [Double] = kind == .share ? zip(m, b).map { $0 - $1 }
            : zip(m, b).compactMap { x, y in y > 0 ? x / y - 1 : nil }
        guard let change = Stats.median(paired), let ci = Stats.medianInterval(paired, confidence: policy.confidence) else {
            row.verdict = .dropped; row.detail = "no positive base values"; return row
        }
        let p = Stats.mannWhitney(b, m)?.p ?? 1
        row.change = change; row.low = ci.low; row.high = ci.high; row.coverage = ci.coverage; row.p = p
        if p < policy.alpha && change > minimum && ci.low > 0 {
            row.verdict = .regression
            row.detail = String(format: "p = %.3g, every paired change of %d rounds above 0 (%@ .. %@)", p, n, row.lowText, row.highText)
        } else if p < policy.alpha && change < -minimum && ci.high < 0 {
            row.verdict = .improvement
        } else if ci.high > policy.resolution * minimum {
            row.verdict = .inconclusive
            row.detail = "the interval reaches \(row.highText), past \(policy.resolution)x the minimum effect: the rounds scatter too much to tell"
        }
        return row
    }

    /// Compares every metric measured by either side. `base[k]`, `new[k]`: round k's measurements.
    /// Correctness metrics are checked in every new round against `reference` when it has them (the committed
    /// baseline), else against the base side's first round; `referenceName` says which in the rows' details.
    public static func rows(base: [[GateMeasurement]], new: [[GateMeasurement]], reference: Baseline?,
                            policy: GateABPolicy = .standard) -> [GateRow] {
        var order: [String] = []
        var seen = Set<String>()
        func index(_ rounds: [[GateMeasurement]]) -> [String: [GateMeasurement]] {
            var d: [String: [GateMeasurement]] = [:]
            for r in rounds { for m in r {
                d[m.name, default: []].append(m)
                if seen.insert(m.name).inserted { order.append(m.name) }
            } }
            return d
        }
        let n = index(new), b = index(base)
        var rows: [GateRow] = []
        for name in order {
            let ms = n[name] ?? [], bs = b[name] ?? []
            guard let first = ms.first ?? bs.first else { continue }
            if first.kind.isPerformance {
                if ms.isEmpty { rows.append(GateRow(name: name, kind: first.kind, unit: first.unit, baseline: bs.first?.value, now: nil,
                                                    change: nil, threshold: nil, verdict: .dropped, detail: "not measured by this build")); continue }
                if bs.isEmpty { rows.append(GateRow(name: name, kind: first.kind, unit: first.unit, baseline: nil, now: Stats.median(ms.compactMap(GateABPolicy.roundValue)),
                                                    change: nil, threshold: nil, verdict: .new, detail: "not measured by the base build")); continue }
                rows.append(performanceRow(name: name, kind: first.kind, unit: first.unit, base: bs.compactMap(GateABPolicy.roundValue),
                                           new: ms.compactMap(GateABPolicy.roundValue), policy: policy))
                continue
            }
            // Correctness: absolute, every round.
            let ref: BaselineMetric?
            var source = "the committed baseline"
            if let r = reference?.metric(name) { ref = r } else if let f = bs.first {
                source = "the base build"
                ref = BaselineMetric(name: f.name, kind: f.kind, unit: f.unit, value: f.value ?? 0, spread: 0, samples: f.samples.count,
                                     threshold: f.threshold ?? Threshold(absolute: 0), text: f.text, note: f.note)
            } else { ref = nil }
            guard let ref else {
                rows.append(GateCompare.row(baseline: nil, now: ms.first))
                continue
            }
            if ms.isEmpty { rows.append(GateCompare.row(baseline: ref, now: nil)); continue }
            var row = GateCompare.row(baseline: ref, now: ms[0])
            for (k, m) in ms.enumerated().dropFirst() where !row.verdict.fails {
                let r = GateCompare.row(baseline: ref, now: m)
                if r.verdict.fails { row = r; row.detail = "round \(k + 1): " + (r.detail ?? "") }
            }
            row.rounds = ms.count
            if row.verdict.fails { row.detail = (row.detail.map { $0 + "; " } ?? "") + "reference: \(source)" }
            rows.append(row)
        }
        return rows
    }
}

extension GateRow {
    /// The interval's ends as text in the change's unit.
    public var lowText: String { GateRow.changeText(low, kind: kind) }
    public var highText: String { GateRow.changeText(high, kind: kind) }
    /// "[-1.2%, +3.4%]" (with the coverage when below 95 %), or "-".
    public var intervalText: String {
        guard low != nil, high != nil else { return "-" }
        let cov = coverage.map { $0 < 0.9495 ? String(format: " (%.0f%%)", $0 * 100) : "" } ?? ""
        return "[\(lowText), \(highText)]\(cov)"
    }
    public var pText: String { p.map { String(format: "%.3g", $0) } ?? "-" }

    static func changeText(_ c: Double?, kind: MetricKind) -> String {
        guard let c else { return "-" }
        switch kind {
        case .share: return String(format: "%+.2f pts", c)
        case .checksum, .bound: return String(format: "%+.2g", c)
        default: return c.isFinite ? String(format: "%+.1f%%", c * 100) : "+inf"
        }
    }
}
