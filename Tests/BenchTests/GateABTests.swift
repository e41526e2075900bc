// The A/B verdicts on synthetic rounds (no timing): the order-statistic interval, regression / improvement /
// pass / inconclusive, correctness against the committed reference or the base build, the exit codes, the
// report's text; and the load readings parsed from fixture text.
import XCTest
@testable import Bench

final class GateABTests: XCTestCase {
    func testMedianIntervalCoverageFromOrderStatistics() throws {
        // n = 6: [min, max] covers 1 - 2/64 = 96.9 %.
        let six = try XCTUnwrap(Stats.medianInterval([5, 1, 4, 2, 6, 3]))
        XCTAssertEqual(six.low, 1); XCTAssertEqual(six.high, 6)
        XCTAssertEqual(six.coverage, 1 - 2.0 / 64, accuracy: 1e-12)
        // n = 5 cannot reach 95 %: [min, max] at 93.75 %.
        let five = try XCTUnwrap(Stats.medianInterval([1, 2, 3, 4, 5]))
        XCTAssertEqual(five.coverage, 1 - 2.0 / 32, accuracy: 1e-12)
        // n = 10: [x(2), x(9)] covers 1 - 2 * 11/1024 = 97.9 %.
        let ten = try XCTUnwrap(Stats.medianInterval((1...10).map(Double.init)))
        XCTAssertEqual(ten.low, 2); XCTAssertEqual(ten.high, 9)
        XCTAssertEqual(ten.coverage, 1 - 22.0 / 1024, accuracy: 1e-12)
        // n = 12: [x(3), x(10)], 1 - 2 * 79/4096.
        let twelve = try XCTUnwrap(Stats.medianInterval((1...12).map(Double.init)))
        XCTAssertEqual(twelve.low, 3); XCTAssertEqual(twelve.high, 10)
        XCTAssertEqual(twelve.coverage, 1 - 158.0 / 4096, accuracy: 1e-12)
        XCTAssertNil(Stats.medianInterval([]))
        XCTAssertEqual(Stats.medianInterval([7])?.low, 7)
    }

    /// (base rounds, new rounds, expected verdict, label)
    func testPerformanceVerdicts() {
        let base = [1.00, 1.01, 0.99, 1.00, 1.02, 0.98]
        let cases: [([Double], [Double], GateVerdict, String)] = [
            (base, base, .pass, "identical"),
            (base, base.map { $0 * 1.01 }, .pass, "1 % slower: significant, below the 5 % minimum"),
            (base, base.map { $0 * 1.20 }, .regression, "20 % slower in every round"),
            (base, base.map { $0 * 0.80 }, .improvement, "20 % faster"),
            (base, [1.2, 1.0, 1.2, 1.0, 1.2, 1.0], .inconclusive, "half the rounds 20 % slower: cannot tell"),
            (base, [1.6, 0.7, 1.5, 0.8, 1.4, 0.9], .inconclusive, "scatter far past 3x the minimum effect"),
            (base, [1.08, 0.99, 1.09, 1.07, 1.1, 1.06], .pass, "one round not slower: the interval reaches below 0; within 3x"),
        ]
        for (b, n, expected, label) in cases {
            let r = GateABCompare.performanceRow(name: "m", kind: .ratio, unit: "x", base: b, new: n)
            XCTAssertEqual(r.verdict, expected, "\(label): \(r.changeText) \(r.intervalText) p=\(r.pText)")
            XCTAssertEqual(r.rounds, 6)
        }
        let reg = GateABCompare.performanceRow(name: "m", kind: .ratio, unit: "x", base: base, new: base.map { $0 * 1.2 })
        XCTAssertEqual(reg.change!, 0.2, accuracy: 1e-9)
        XCTAssertEqual(reg.changeText, "+20.0%")
        XCTAssertEqual(reg.intervalText, "[+20.0%, +20.0%]")
        XCTAssertLessThan(reg.p!, 0.01)
        XCTAssertEqual(reg.baseline!, 1.0, accuracy: 1e-12)
        XCTAssertEqual(reg.thresholdText, "+5.0%", "the threshold column is the minimum effect")
        // Shares: points.
        let s = GateABCompare.performanceRow(name: "s", kind: .share, unit: "%", base: [20, 20.1, 19.9, 20, 20.2, 19.8],
                                             new: [23, 23.1, 22.9, 23, 23.2, 22.8])
        XCTAssertEqual(s.verdict, .regression)
        XCTAssertEqual(s.changeText, "+3.00 pts")
        // Odd cases: no rounds on one side, a non-finite value.
        XCTAssertEqual(GateABCompare.performanceRow(name: "m", kind: .ratio, unit: "x", base: [], new: [1]).verdict, .dropped)
        XCTAssertEqual(GateABCompare.performanceRow(name: "m", kind: .ratio, unit: "x", base: [1, 1], new: [1, .nan]).verdict, .regression)
    }

    func m(_ name: String, _ kind: MetricKind, _ v: Double, text: String? = nil, threshold: Threshold? = nil) -> GateMeasurement {
        GateMeasurement(name: name, kind: kind, unit: kind == .exact ? "tokens" : "x", samples: kind == .exact ? [] : [v], text: text, threshold: threshold)
    }

    func testRowsCompareCorrectnessAbsolutelyAndPerformancePaired() {
        let rounds = 6
        let base = (0..<rounds).map { k in [m("r", .ratio, 1 + 0.001 * Double(k)), m("t", .exact, 0, text: "1 2 3"),
                                              m("c", .checksum, 0.5, threshold: Threshold(absolute: 1e-3)), m("gone", .ratio, 1)] }
        let new = (0..<rounds).map { k in [m("r", .ratio, 1.3 + 0.001 * Double(k)), m("t", .exact, 0, text: k == 4 ? "1 2 4" : "1 2 3"),
                                             m("c", .checksum, 0.5004, threshold: Threshold(absolute: 1e-3)), m("fresh", .ratio, 1)] }
        let rows = GateABCompare.rows(base: base, new: new, reference: nil)
        func row(_ n: String) -> GateRow { rows.first { $0.name == n }! }
        XCTAssertEqual(row("r").verdict, .regression)
        XCTAssertEqual(row("t").verdict, .incorrect)
        XCTAssertEqual(row("t").detail, "round 5: first difference at word 3: '3' -> '4' (3 words vs 3); reference: the base build")
        XCTAssertEqual(row("c").verdict, .pass, "within the checksum's own tolerance")
        XCTAssertEqual(row("fresh").verdict, .new)
        XCTAssertEqual(row("gone").verdict, .dropped)
        // With a committed reference the checksum is judged against its value, not the base build's.
        let ref = Baseline(suite: "quick", date: "d", commit: nil, environment: BaselineEnvironment(fingerprint: "f", threads: 1, build: "release"),
                           availability: [], metrics: [BaselineMetric(name: "c", kind: .checksum, unit: "", value: 0.498, spread: 0, samples: 1,
                                                                     threshold: Threshold(absolute: 1e-3))])
        let withRef = GateABCompare.rows(base: base, new: new, reference: ref)
        XCTAssertEqual(withRef.first { $0.name == "c" }?.verdict, .incorrect)
        XCTAssertTrue(withRef.first { $0.name == "c" }?.detail?.contains("the committed baseline") == true)
    }

    func report(_ rows: [GateRow]) -> GateReport {
        var r = GateReport(suite: "quick", baselinePath: "B.json", baselineDate: "d", baselineCommit: nil, environmentMismatch: nil,
                           availability: [], rows: rows, reruns: 0)
        r.mode = .ab
        r.abPolicy = .standard
        r.loadDuring = LoadSummary(seconds: 60, cores: 2, loadAverage: 3.5, otherCores: 1.4, ownCores: 1, steal: 0.01, busy: true)
        return r
    }

    func testExitCodesAndTheInconclusiveOutcome() {
        XCTAssertEqual([GateExitCode.success, .regression, .badInput, .inconclusive].map(\.rawValue), [0, 1, 2, 3])
        let pass = GateABCompare.performanceRow(name: "a", kind: .ratio, unit: "x", base: [1, 1, 1, 1, 1, 1], new: [1, 1, 1, 1, 1, 1])
        let noisy = GateABCompare.performanceRow(name: "b", kind: .ratio, unit: "x", base: [1, 1, 1, 1, 1, 1], new: [1.6, 0.7, 1.5, 0.8, 1.4, 0.9])
        let slow = GateABCompare.performanceRow(name: "c", kind: .ratio, unit: "x", base: [1, 1, 1, 1, 1, 1], new: [1.3, 1.3, 1.3, 1.3, 1.3, 1.3])
        XCTAssertEqual(report([pass]).exitCode, .success)
        let r = report([pass, noisy])
        XCTAssertEqual(r.exitCode, .inconclusive)
        XCTAssertTrue(r.summaryLine.hasPrefix("INCONCLUSIVE (machine too noisy: 1 metric could not be decided (b); during: other processes kept 1.40 of 2 cores busy"), r.summaryLine)
        XCTAssertEqual(report([pass, noisy, slow]).exitCode, .regression, "a regression outranks inconclusive")
        let t = r.table()
        let head = t.split(separator: "\n").first { $0.hasPrefix("metric") }.map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(head, ["metric", "base", "new", "change", "interval", "p", "verdict"], t)
        XCTAssertTrue(t.contains("load during: other processes kept 1.40 of 2 cores busy, steal 1.0%, load average 3.50 over 60 s (busy)"), t)
        XCTAssertTrue(t.contains("b: inconclusive: the interval reaches"), t)
        XCTAssertTrue(r.markdown().hasPrefix("### ⚠️ workbench gate: INCONCLUSIVE"), r.markdown())
        XCTAssertTrue(GateExitCode.documentation.contains("3 inconclusive"))
    }

    func testLoadReadingsFromProcText() throws {
        let stat = "cpu  1000 10 300 5000 40 5 5 50 0 0\ncpu0 500 5 150 2500 20 2 2 25 0 0\nintr 1\n"
        let s = try XCTUnwrap(MachineLoad.parseStat(stat))
        XCTAssertEqual(s.total, 6410)
        XCTAssertEqual(s.steal, 50)
        XCTAssertEqual(s.busy, 6410 - 5000 - 40 - 50)
        XCTAssertNil(MachineLoad.parseStat("intr 1\n"))
        // /proc/self/stat: the name may hold spaces and parentheses; utime stime cutime cstime are fields 14-17.
        let selfStat = "4242 (work (bench) x) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 30 7 3 20 0 3 0 100 1000 10"
        XCTAssertEqual(MachineLoad.parseSelfStat(selfStat), 290)
        XCTAssertNil(MachineLoad.parseSelfStat("garbage"))
        // Two snapshots 10 s apart: 2 cores, 12 busy seconds of which 5 ours -> others 0.7 cores: busy.
        let hz = MachineLoad.hz
        let a = LoadSnapshot(nanos: 0, loadAverage: 1, busyJiffies: 0, stealJiffies: 0, totalJiffies: 0, ownJiffies: 0)
        let b = LoadSnapshot(nanos: 10_000_000_000, loadAverage: 2, busyJiffies: 12 * hz, stealJiffies: 0.2 * hz,
                             totalJiffies: 20 * hz, ownJiffies: 5 * hz)
        let sum = MachineLoad.summary(from: a, to: b, cores: 2)
        XCTAssertEqual(sum.otherCores!, 0.7, accuracy: 1e-9)
        XCTAssertEqual(sum.ownCores!, 0.5, accuracy: 1e-9)
        XCTAssertEqual(sum.steal!, 0.01, accuracy: 1e-9)
        XCTAssertTrue(sum.busy)
        let quiet = MachineLoad.summary(from: a, to: LoadSnapshot(nanos: 10_000_000_000, loadAverage: 1, busyJiffies: 6 * hz, stealJiffies: 0,
                                                                   totalJiffies: 20 * hz, ownJiffies: 5 * hz), cores: 2)
        XCTAssertFalse(quiet.busy)
        let both = try XCTUnwrap(MachineLoad.combine([sum, quiet]))
        XCTAssertEqual(both.otherCores!, 0.4, accuracy: 1e-9)
        XCTAssertFalse(both.busy)
        // The live reading works here (Linux).
        XCTAssertNotNil(MachineLoad.snapshot().busyJiffies)
    }
}
