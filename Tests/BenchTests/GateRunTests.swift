// GateSession with scripted cases (no timing): re-measurement of flukes, persistent regressions, correctness
// failures that are never re-measured, dropped metrics, the exit code, the table and the Markdown; and the
// instruction counters' parsers over fixture text.
import XCTest
@testable import Bench

final class GateRunTests: XCTestCase {
    static let env = BaselineEnvironment(fingerprint: "f", threads: 2, build: "release")

    func baseline(_ metrics: [BaselineMetric], environment: BaselineEnvironment = GateRunTests.env) -> Baseline {
        Baseline(suite: "quick", date: "2026-11-25T10:00:00Z", commit: nil, environment: environment, availability: [], metrics: metrics)
    }
    func ratio(_ name: String, _ v: Double) -> BaselineMetric {
        BaselineMetric(name: name, kind: .ratio, unit: "x", value: v, spread: 0, samples: 9, threshold: Threshold(relative: 0.1))
    }

    /// A case returning scripted values for "a" (one list per call) and a constant "b".
    final class Script {
        var values: [Double]
        var calls = 0
        init(_ values: [Double]) { self.values = values }
        func measure() -> [GateMeasurement] {
            let v = values[min(calls, values.count - 1)]
            calls += 1
            return [GateMeasurement(name: "a", kind: .ratio, unit: "x", samples: [v]),
                    GateMeasurement(name: "b", kind: .ratio, unit: "x", samples: [1.0])]
        }
    }

    func run(_ script: Script, retries: Int = 2, metrics: [BaselineMetric]? = nil) throws -> GateReport {
        try GateSession.run(cases: [GateCase(name: "scripted") { script.measure() }],
                            baseline: baseline(metrics ?? [ratio("a", 1), ratio("b", 1)]), baselinePath: "B.json",
                            environment: Self.env, availability: ["ratios: scripted"], retries: retries)
    }

    func testAFlukeIsReMeasuredAndPasses() throws {
        let s = Script([1.5, 1.0])
        let r = try run(s)
        XCTAssertEqual(s.calls, 2)
        XCTAssertEqual(r.exitCode, .success)
        let a = r.rows.first { $0.name == "a" }!
        XCTAssertEqual(a.verdict, .pass)
        XCTAssertEqual(a.attempts, 2)
        XCTAssertEqual(a.now, 1.0)
        XCTAssertEqual(r.reruns, 1)
        XCTAssertTrue(r.summaryLine.hasPrefix("PASS"), r.summaryLine)
    }

    func testARegressionOnEveryAttemptFailsWithTheSmallestChange() throws {
        let s = Script([1.5, 1.3, 1.4])
        let r = try run(s)
        XCTAssertEqual(s.calls, 3, "1 + 2 retries")
        XCTAssertEqual(r.exitCode, .regression)
        XCTAssertEqual(r.exitCode.rawValue, 1)
        let a = r.rows.first { $0.name == "a" }!
        XCTAssertEqual(a.verdict, .regression)
        XCTAssertEqual(a.attempts, 3)
        XCTAssertEqual(a.change!, 0.3, accuracy: 1e-12, "the smallest of the three")
        XCTAssertEqual(r.failures.map(\.name), ["a"])
        XCTAssertTrue(r.summaryLine.hasPrefix("FAIL: 1 regression of 2 metrics"), r.summaryLine)
        XCTAssertTrue(r.table().contains("REGRESSION (3 runs)"), r.table())
    }

    func testNoRetriesMeansTheFirstMeasurementDecides() throws {
        let s = Script([1.5, 1.0])
        let r = try run(s, retries: 0)
        XCTAssertEqual(s.calls, 1)
        XCTAssertEqual(r.exitCode, .regression)
    }

    func testCorrectnessFailuresAreNotReMeasured() throws {
        let calls = Script([1])
        let c = GateCase(name: "tokens") {
            _ = calls.measure()
            return [GateMeasurement(name: "t", kind: .exact, unit: "tokens", text: "1 2 4")]
        }
        let b = baseline([BaselineMetric(name: "t", kind: .exact, unit: "tokens", value: 0, spread: 0, samples: 1,
                                         threshold: Threshold(), text: "1 2 3")])
        let r = try GateSession.run(cases: [c], baseline: b, baselinePath: "B.json", environment: Self.env, availability: [], retries: 2)
        XCTAssertEqual(calls.calls, 1)
        XCTAssertEqual(r.exitCode, .regression)
        XCTAssertEqual(r.rows[0].verdict, .incorrect)
        XCTAssertTrue(r.table().contains("t: INCORRECT: first difference at word 3: '3' -> '4'"), r.table())
    }

    func testBaselineMetricsNobodyMeasuredAreDroppedNotFailed() throws {
        let r = try run(Script([1.0]), metrics: [ratio("a", 1), ratio("b", 1), ratio("gone", 1)])
        XCTAssertEqual(r.rows.map(\.name), ["a", "b", "gone"])
        XCTAssertEqual(r.rows[2].verdict, .dropped)
        XCTAssertEqual(r.exitCode, .success)
        XCTAssertTrue(r.summaryLine.contains("1 dropped"), r.summaryLine)
    }

    func testNewMetricsPass() throws {
        let r = try run(Script([1.0]), metrics: [ratio("a", 1)])
        XCTAssertEqual(r.rows.first { $0.name == "b" }?.verdict, .new)
        XCTAssertEqual(r.exitCode, .success)
    }

    func testAnotherMachineSkipsTimesAndSaysSo() throws {
        var other = Self.env; other.fingerprint = "g"
        let time = BaselineMetric(name: "t", kind: .time, unit: "ms", value: 1, spread: 0, samples: 3, threshold: Threshold(relative: 0.25))
        let c = GateCase(name: "time") { [GateMeasurement(name: "t", kind: .time, unit: "ms", samples: [5])] }
        let r = try GateSession.run(cases: [c], baseline: baseline([time], environment: other), baselinePath: "B.json",
                                    environment: Self.env, availability: [], retries: 2)
        XCTAssertEqual(r.rows[0].verdict, .skipped)
        XCTAssertEqual(r.exitCode, .success)
        XCTAssertNotNil(r.environmentMismatch)
        XCTAssertTrue(r.table().contains("other machine: machine fingerprint differs"), r.table())
        XCTAssertTrue(r.table().contains("only ratios, shares and correctness"), r.table())
    }

    func testACaseThatThrowsStopsTheRun() {
        struct Broken: Error {}
        let c = GateCase(name: "broken") { throw Broken() }
        XCTAssertThrowsError(try GateSession.run(cases: [c], baseline: baseline([]), baselinePath: "B", environment: Self.env,
                                                 availability: [], retries: 1))
    }

    func testMeasureAllRunsEveryCaseRunsTimes() throws {
        let s = Script([1, 2, 3])
        let runs = try GateSession.measureAll(cases: [GateCase(name: "s") { s.measure() }], runs: 3)
        XCTAssertEqual(runs.count, 3)
        XCTAssertEqual(runs.map { $0[0].samples }, [[1], [2], [3]])
    }

    func testMarkdownListsFailuresFirstAndEveryRowCollapsed() throws {
        let r = try run(Script([1.5]), retries: 0, metrics: [ratio("b", 1), ratio("a", 1)])
        let md = r.markdown()
        XCTAssertTrue(md.hasPrefix("### ❌ workbench gate: FAIL"), md)
        XCTAssertTrue(md.contains("| `a` | 1x | 1.5x | +50.0% | +10.0% | **REGRESSION** |"), md)
        XCTAssertTrue(md.contains("<details><summary>All 2 metrics</summary>"), md)
        XCTAssertTrue(md.contains("| `b` | 1x | 1x | +0.0% | +10.0% | ok |"), md)
        let ok = try run(Script([1.0])).markdown()
        XCTAssertTrue(ok.hasPrefix("### ✅ workbench gate: PASS"), ok)
    }

    func testTableHasEveryColumn() throws {
        let t = try run(Script([1.0])).table()
        let header = t.split(separator: "\n").first { $0.hasPrefix("metric ") }!
        for col in ["metric", "baseline", "now", "change", "threshold", "verdict"] { XCTAssertTrue(header.contains(col), String(header)) }
        XCTAssertTrue(t.contains("metrics: ratios: scripted"), t)
    }

    // MARK: instruction counters (parsers over fixture text; running them is the CLI's business)

    func testPerfCSV() {
        let ok = "12345678,,instructions:u,1000,100.00,,\n"
        XCTAssertEqual(InstructionCounter.parsePerf(ok).count, 12345678)
        let no = "<not supported>,,instructions:u,0,100.00,,\n"
        let r = InstructionCounter.parsePerf(no)
        XCTAssertNil(r.count)
        XCTAssertEqual(r.reason, "perf stat -e instructions says <not supported>")
        XCTAssertNil(InstructionCounter.parsePerf("garbage").count)
    }

    func testCallgrindSummaryOrTotals() {
        let profile = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 15476284\n\nfn=(1) main\n0 3\ntotals: 15496534\n"
        XCTAssertEqual(InstructionCounter.parseCallgrind(profile), 15476284)
        XCTAssertEqual(InstructionCounter.parseCallgrind("events: Ir\ntotals: 42 7\n"), 42)
        XCTAssertNil(InstructionCounter.parseCallgrind("events: Ir\n"))
    }

    func testValgrindStderrLastLine() {
        let err = "==123== Callgrind\n==123== Valgrind: debuginfo reader: Possibly corrupted debuginfo file.\n==123== Valgrind: I can't recover.  Giving up.  Sorry.\n==123== \n"
        XCTAssertEqual(InstructionCounter.lastLine(err), "Valgrind: debuginfo reader: Possibly corrupted debuginfo file.")
        XCTAssertEqual(InstructionCounter.lastLine(""), "(no message)")
    }
}
