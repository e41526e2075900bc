// The gate's verdict logic, fed synthetic measurements: thresholds from spread, every kind's rule, the odd
// cases (no samples, one sample, zero spread, a zero baseline), machine mismatch, and making baselines.
import XCTest
@testable import Bench

final class GateCompareTests: XCTestCase {
    func metric(_ kind: MetricKind, value: Double, relative: Double? = nil, absolute: Double? = nil,
                text: String? = nil, name: String = "m") -> BaselineMetric {
        BaselineMetric(name: name, kind: kind, unit: kind == .share ? "%" : "x", value: value, spread: 0, samples: 10,
                       threshold: Threshold(relative: relative, absolute: absolute), text: text)
    }
    func now(_ kind: MetricKind, _ samples: [Double], text: String? = nil, name: String = "m") -> GateMeasurement {
        GateMeasurement(name: name, kind: kind, unit: kind == .share ? "%" : "x", samples: samples, text: text)
    }

    /// (baseline kind, baseline value, threshold, samples now, expected verdict)
    func testVerdictTable() {
        let cases: [(MetricKind, Double, Threshold, [Double], GateVerdict, String)] = [
            (.ratio, 1.0, Threshold(relative: 0.1), [1.0, 1.05, 0.97], .pass, "within"),
            (.ratio, 1.0, Threshold(relative: 0.1), [1.10], .pass, "exactly at the threshold holds"),
            (.ratio, 1.0, Threshold(relative: 0.1), [1.2, 1.21, 1.19], .regression, "20 % slower"),
            (.ratio, 1.0, Threshold(relative: 0.1), [1.0, 5.0, 1.0], .pass, "one wild sample: the median holds"),
            (.ratio, 1.0, Threshold(relative: 0.1), [0.8], .improvement, "20 % faster"),
            (.ratio, 1.0, Threshold(relative: 0.1), [0.92], .pass, "8 % faster is within 1/(1+10%)"),
            (.time, 20, Threshold(relative: 0.25), [24.9], .pass, "time within 25 %"),
            (.time, 20, Threshold(relative: 0.25), [25.1], .regression, "time past 25 %"),
            (.instructions, 1e9, Threshold(relative: 0.02), [1.03e9], .regression, "3 % more instructions"),
            (.share, 20, Threshold(absolute: 2), [21.9], .pass, "+1.9 points"),
            (.share, 20, Threshold(absolute: 2), [22.5], .regression, "+2.5 points"),
            (.share, 20, Threshold(absolute: 2), [17.0], .improvement, "-3 points"),
            (.share, 0.01, Threshold(absolute: 2), [1.5], .pass, "a tiny op's share may grow within the floor"),
            (.checksum, 0.5, Threshold(absolute: 1e-3), [0.5009], .pass, "within tolerance"),
            (.checksum, 0.5, Threshold(absolute: 1e-3), [0.4985], .incorrect, "out of tolerance, downwards"),
            (.checksum, 0.5, Threshold(absolute: 1e-3), [0.5015], .incorrect, "out of tolerance, upwards"),
            (.bound, 1e-7, Threshold(absolute: 1e-4), [5e-5], .pass, "error under the bound, even if larger than the baseline"),
            (.bound, 1e-7, Threshold(absolute: 1e-4), [2e-4], .incorrect, "error over the bound"),
            (.ratio, 1.0, Threshold(relative: 0.1), [.infinity], .regression, "non-finite time"),
            (.checksum, 0.5, Threshold(absolute: 1e-3), [.nan], .incorrect, "NaN checksum"),
            (.ratio, 0, Threshold(relative: 0.1), [0], .pass, "zero baseline, zero now"),
            (.ratio, 0, Threshold(relative: 0.1), [1], .regression, "zero baseline, positive now"),
        ]
        for (kind, value, t, samples, expected, label) in cases {
            let b = BaselineMetric(name: "m", kind: kind, unit: "", value: value, spread: 0, samples: 1, threshold: t)
            let r = GateCompare.row(baseline: b, now: now(kind, samples))
            XCTAssertEqual(r.verdict, expected, "\(label): \(r)")
            XCTAssertEqual(r.verdict.fails, expected == .regression || expected == .incorrect, label)
        }
    }

    func testChangeIsRelativeOrInPoints() {
        let r = GateCompare.row(baseline: metric(.ratio, value: 2, relative: 0.1), now: now(.ratio, [2.5]))
        XCTAssertEqual(r.change!, 0.25, accuracy: 1e-12)
        XCTAssertEqual(r.changeText, "+25.0%")
        XCTAssertEqual(r.thresholdText, "+10.0%")
        let s = GateCompare.row(baseline: metric(.share, value: 20, absolute: 2), now: now(.share, [21.5]))
        XCTAssertEqual(s.change!, 1.5, accuracy: 1e-12)
        XCTAssertEqual(s.changeText, "+1.50 pts")
        XCTAssertEqual(s.thresholdText, "+2.00 pts")
    }

    func testExactTextsAndTheFirstDifference() {
        let b = metric(.exact, value: 0, text: "5 6 7 8")
        XCTAssertEqual(GateCompare.row(baseline: b, now: now(.exact, [], text: "5 6 7 8")).verdict, .pass)
        let r = GateCompare.row(baseline: b, now: now(.exact, [], text: "5 6 9 8"))
        XCTAssertEqual(r.verdict, .incorrect)
        XCTAssertEqual(r.detail, "first difference at word 3: '7' -> '9' (4 words vs 4)")
        let shorter = GateCompare.row(baseline: b, now: now(.exact, [], text: "5 6 7"))
        XCTAssertEqual(shorter.verdict, .incorrect)
        XCTAssertEqual(shorter.detail, "4 words in the baseline, 3 now")
    }

    func testNewDroppedAndUnmeasured() {
        XCTAssertEqual(GateCompare.row(baseline: nil, now: now(.ratio, [1])).verdict, .new)
        let dropped = GateCompare.row(baseline: metric(.ratio, value: 1, relative: 0.1), now: nil)
        XCTAssertEqual(dropped.verdict, .dropped)
        XCTAssertFalse(dropped.verdict.fails)
        // Zero measurements: reported, not compared, not failing.
        let empty = GateCompare.row(baseline: metric(.ratio, value: 1, relative: 0.1), now: now(.ratio, []))
        XCTAssertEqual(empty.verdict, .dropped)
        XCTAssertEqual(empty.detail, "no samples")
        // A kind change is a broken suite: incorrect.
        XCTAssertEqual(GateCompare.row(baseline: metric(.ratio, value: 1, relative: 0.1), now: now(.time, [1])).verdict, .incorrect)
    }

    func testMachineDependentMetricsAreSkippedOnAnotherMachine() {
        let time = BaselineMetric(name: "t", kind: .time, unit: "ms", value: 10, spread: 0, samples: 5, threshold: Threshold(relative: 0.25))
        let slow = GateMeasurement(name: "t", kind: .time, unit: "ms", samples: [30])
        XCTAssertEqual(GateCompare.row(baseline: time, now: slow, comparable: true).verdict, .regression)
        let other = GateCompare.row(baseline: time, now: slow, comparable: false, why: "machine differs")
        XCTAssertEqual(other.verdict, .skipped)
        XCTAssertEqual(other.detail, "machine differs")
        // Ratios, shares and correctness are compared anyway.
        XCTAssertEqual(GateCompare.row(baseline: metric(.ratio, value: 1, relative: 0.1), now: now(.ratio, [1.5]), comparable: false).verdict, .regression)
        XCTAssertEqual(GateCompare.row(baseline: metric(.exact, value: 0, text: "1"), now: now(.exact, [], text: "2"), comparable: false).verdict, .incorrect)
    }

    func testThresholdsComeFromTheSpreadWithinFloorAndCap() {
        let p = GatePolicy(madMultiplier: 4, runSpreadMultiplier: 1.5, ratioFloor: 0.1, ratioCap: 0.15,
                           timeFloor: 0.25, timeCap: 0.6, shareFloor: 2, shareCap: 5)
        // quiet: the floor
        XCTAssertEqual(p.threshold(kind: .ratio, value: 1, spread: 0.001).0.relative!, 0.1, accuracy: 1e-12)
        // 4 MADs of 3 % = 12 %
        let mid = p.threshold(kind: .ratio, value: 2, spread: 0.06)
        XCTAssertEqual(mid.0.relative!, 0.12, accuracy: 1e-12); XCTAssertFalse(mid.capped)
        // noisy: capped, and said so
        let noisy = p.threshold(kind: .ratio, value: 1, spread: 0.2)
        XCTAssertEqual(noisy.0.relative!, 0.15, accuracy: 1e-12); XCTAssertTrue(noisy.capped)
        // the spread between update runs counts too: 1.5 x 9 % = 13.5 %
        XCTAssertEqual(p.threshold(kind: .ratio, value: 1, spread: 0, runSpread: 0.09).0.relative!, 0.135, accuracy: 1e-12)
        // times have their own floor
        XCTAssertEqual(p.threshold(kind: .time, value: 10, spread: 0).0.relative!, 0.25, accuracy: 1e-12)
        // shares in points: 4 x 0.6 = 2.4
        XCTAssertEqual(p.threshold(kind: .share, value: 20, spread: 0.6).0.absolute!, 2.4, accuracy: 1e-12)
        XCTAssertEqual(p.threshold(kind: .share, value: 20, spread: 0).0.absolute!, 2, accuracy: 1e-12)
        // zero value: no relative spread can be computed; the cap applies
        XCTAssertEqual(p.threshold(kind: .ratio, value: 0, spread: 0).0.relative!, 0.15, accuracy: 1e-12)
    }

    /// The policies' promises: in the full suite a summary that drifts up to 6 % between update runs (or has a
    /// MAD up to 2.5 %) gets a threshold of at most +10 %, so a 20 % slowdown fails it; every summary's threshold
    /// stays under +30 %; in the quick suite a summary's threshold stays under +100 %, so a doubled kernel fails.
    func testFullPolicyCatchesTwentyPercentAndQuickPolicyCatchesTwoTimes() {
        for (spread, runSpread) in [(0.0, 0.0), (0.01, 0.0), (0.025, 0.06), (0.0, 0.066)] {
            let t = GatePolicy.full.threshold(kind: .ratio, value: 1, spread: spread, runSpread: runSpread, isSummary: true).0.relative!
            XCTAssertLessThanOrEqual(t, 0.1 + 1e-12, "spread \(spread), run spread \(runSpread)")
        }
        for spread in [0.0, 0.05, 0.5, 5] {
            let t = GatePolicy.full.threshold(kind: .ratio, value: 1, spread: spread, runSpread: spread, isSummary: true).0.relative!
            XCTAssertLessThan(t, 0.3, "spread \(spread)")
            let q = GatePolicy.quick.threshold(kind: .ratio, value: 1, spread: spread, runSpread: spread, isSummary: true).0.relative!
            XCTAssertLessThan(q, 1.0, "spread \(spread)")
        }
        // A single shape may follow its noise up to +100 %.
        XCTAssertEqual(GatePolicy.full.threshold(kind: .ratio, value: 1, spread: 0, runSpread: 0.4).0.relative!, 0.6, accuracy: 1e-12)
    }

    func testBaselineFromRunsUsesMediansSpreadsAndFixedThresholds() throws {
        let env = BaselineEnvironment(fingerprint: "f", threads: 2, build: "release")
        let run1 = [
            now(.ratio, [1.0, 1.02, 0.98, 1.0, 1.01], name: "r"),
            GateMeasurement(name: "c", kind: .checksum, unit: "", samples: [0.5], threshold: Threshold(absolute: 1e-3)),
            now(.exact, [], text: "1 2 3", name: "t"),
            now(.ratio, [], name: "empty"),
        ]
        let run2 = [now(.ratio, [1.2, 1.2, 1.2], name: "r"), run1[1], run1[2]]
        let (b, capped) = try Baseline.make(runs: [run1, run2], policy: .full, suite: "full", date: "d", commit: nil,
                                            environment: env, availability: [])
        XCTAssertEqual(b.metrics.map(\.name), ["r", "c", "t"], "a metric without samples is left out")
        let r = b.metric("r")!
        XCTAssertEqual(r.value, 1.1, accuracy: 1e-12, "median of the run medians 1.0 and 1.2")
        XCTAssertEqual(r.samples, 8)
        XCTAssertEqual(r.spread, 0.005, accuracy: 1e-12, "median of the MADs 0.01 and 0")
        // runSpread 0.1 -> 1.5 x 0.1 / 1.1 = 13.6 %
        XCTAssertEqual(r.threshold.relative!, 0.15 / 1.1, accuracy: 1e-9)
        XCTAssertEqual(capped, [])
        XCTAssertEqual(b.metric("c")!.threshold.absolute, 1e-3, "the suite's fixed tolerance is kept")
        XCTAssertEqual(b.metric("t")!.text, "1 2 3")
        XCTAssertNil(b.problem())
    }

    func testBaselineRefusesANondeterministicTokenStream() {
        let env = BaselineEnvironment(fingerprint: "f", threads: 2, build: "release")
        XCTAssertThrowsError(try Baseline.make(runs: [[now(.exact, [], text: "1 2", name: "t")], [now(.exact, [], text: "1 3", name: "t")]],
                                               policy: .full, suite: "full", date: "d", commit: nil, environment: env,
                                               availability: [], path: "B.json")) { e in
            XCTAssertTrue(String(describing: e).contains("not deterministic"), "\(e)")
        }
    }

    func testPairedRatios() {
        XCTAssertEqual(GateMeasurement.pairedRatios([2, 4, 6], to: [1, 2, 0]), [2, 2])
        XCTAssertEqual(GateMeasurement.pairedRatios([], to: [1]), [])
    }

    func testBetterKeepsAPassingAttemptElseTheSmallerChange() {
        func row(_ v: GateVerdict, _ c: Double) -> GateRow {
            GateRow(name: "m", kind: .ratio, unit: "x", baseline: 1, now: 1 + c, change: c, threshold: Threshold(relative: 0.1), verdict: v)
        }
        XCTAssertEqual(GateCompare.better(row(.regression, 0.3), row(.pass, 0.05)).verdict, .pass)
        XCTAssertEqual(GateCompare.better(row(.pass, 0.05), row(.regression, 0.3)).verdict, .pass)
        XCTAssertEqual(GateCompare.better(row(.regression, 0.3), row(.regression, 0.2)).change, 0.2)
    }
}
