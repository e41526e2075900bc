// The gate through the library, no subprocesses: bad baselines (empty, unknown names, another suite, a missing
// quick baseline's hint), the calibration slowdown (real work, output unchanged, exact on average), an A/B of
// identical code passing, a 20 % slowdown caught by the A/B, a changed token stream failing as incorrect.
// Timing tests use the quick suite's calibration part or the whole quick suite in-process: both sides run in
// this process, alternately, so the comparison sees only round-to-round noise; the 20 % slowdown is ~4x the
// A/B's 5 % minimum effect.
import Bench
import GPT2
import Kernels
@testable import Lab
import XCTest

final class GateSuiteTests: XCTestCase {
    func scratch(_ name: String) -> String {
        NSTemporaryDirectory() + "/gate-suite-tests-\(getpid())-\(name)"
    }
    func quickSuite(_ name: String, slowdowns: [Slowdown] = [], selection: GateSelection = .all) throws -> GateSuite {
        try GateSuite(spec: .quick, slowdowns: slowdowns, selection: selection, scratch: scratch(name))
    }
    static let env = BaselineEnvironment(fingerprint: "f", threads: 1, build: "release")
    func baseline(suite: String = "quick", _ metrics: [BaselineMetric]) -> Baseline {
        Baseline(suite: suite, date: "2026-12-01T00:00:00Z", commit: nil, environment: Self.env, availability: [], metrics: metrics)
    }
    func ratio(_ name: String) -> BaselineMetric {
        BaselineMetric(name: name, kind: .ratio, unit: "x", value: 1, spread: 0, samples: 9, threshold: Threshold(relative: 0.5))
    }
    func assertInputError<R>(_ body: @autoclosure () throws -> R, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            XCTAssertTrue(e is GateInputError, "\(type(of: e)): \(e)", file: file, line: line)
            let s = String(describing: e)
            XCTAssertFalse(s.contains("\n"), "one line: \(s)", file: file, line: line)
            for m in mentions { XCTAssertTrue(s.contains(m), "'\(m)' not in: \(s)", file: file, line: line) }
        }
    }

    // MARK: bad input

    func testAnEmptyBaselineIsBadInputWithTheExactCommand() throws {
        let suite = try quickSuite("empty")
        assertInputError(try GateCommand.validate(baseline([]), path: "Profiles/baseline-quick.json", spec: .quick, suite: suite),
                         mentions: ["Profiles/baseline-quick.json has no metrics", "`workbench gate --quick --update-baseline --runs 5`"])
        assertInputError(try GateCommand.validate(baseline(suite: "full", []), path: "Profiles/baseline.json", spec: .full, suite: suite),
                         mentions: ["has no metrics", "`workbench gate --update-baseline --runs 5`"])
        // Through the file: the same line.
        let path = scratch("empty.json")
        try baseline([]).write(to: path)
        defer { unlink(path) }
        assertInputError(try GateCommand.loadBaseline(path, spec: .quick, suite: suite),
                         mentions: ["has no metrics", "`workbench gate --quick --update-baseline --runs 5 --baseline \(path)`"])
    }

    func testUnknownMetricNamesAreBadInputButARemovedVariantIsNot() throws {
        let suite = try quickSuite("names")
        assertInputError(try GateCommand.validate(baseline([ratio("matmul/naive/qkv/T32"), ratio("speed/of/light")]), path: "b.json",
                                                  spec: .quick, suite: suite),
                         mentions: ["names 1 metric the quick suite does not measure (speed/of/light)", "re-make it"])
        // A shape the suite does not time is unknown too (the full suite's T64 in a quick baseline).
        assertInputError(try GateCommand.validate(baseline([ratio("matmul/naive/qkv/T64")]), path: "b.json", spec: .quick, suite: suite),
                         mentions: ["matmul/naive/qkv/T64"])
        // A variant that was registered when the baseline was made and is gone now: dropped, not unknown.
        XCTAssertNoThrow(try GateCommand.validate(baseline([ratio("matmul/gone/qkv/T32"), ratio("attention/gone"), ratio("matmul/gone/T1")]),
                                                  path: "b.json", spec: .quick, suite: suite))
        XCTAssertTrue(suite.knows("share/tiny-decode/fc"))
        XCTAssertTrue(suite.knows("gen/tiny/tokens"))
        XCTAssertFalse(suite.knows("gen/124M/tokens"))
    }

    func testAnotherSuiteAndAMissingBaselineNameTheRightCommand() throws {
        let suite = try quickSuite("other")
        assertInputError(try GateCommand.validate(baseline(suite: "full", [ratio("matmul/naive/qkv/T32")]), path: "b.json", spec: .quick, suite: suite),
                         mentions: ["made by the full suite, not quick"])
        assertInputError(try GateCommand.loadBaseline(scratch("absent.json"), spec: .quick, suite: suite),
                         mentions: ["not found", "`workbench gate --quick --update-baseline --runs 5 --baseline \(scratch("absent.json"))`"])
        XCTAssertEqual(GateSuiteSpec.quick.updateCommand(baselinePath: "Profiles/baseline-quick.json"), "workbench gate --quick --update-baseline --runs 5")
        XCTAssertEqual(GateSuiteSpec.full.updateCommand(baselinePath: "Profiles/baseline.json"), "workbench gate --update-baseline --runs 5")
        // A malformed file and a format-1 file: one line each, the quick suite's command in the hint.
        let bad = scratch("bad.json"), old = scratch("old.json")
        try Data("{\"format\": 2, \"metr".utf8).write(to: URL(fileURLWithPath: bad))
        try Data("{\"format\": 1}".utf8).write(to: URL(fileURLWithPath: old))
        defer { unlink(bad); unlink(old) }
        assertInputError(try GateCommand.loadBaseline(bad, spec: .quick, suite: suite), mentions: [bad, "not a gate baseline"])
        assertInputError(try GateCommand.loadBaseline(old, spec: .quick, suite: suite),
                         mentions: ["format 1", "`workbench gate --quick --update-baseline --runs 5 --baseline \(old)`"])
    }

    /// The comparison with the numbers refuses a baseline measured with another protocol (what its metrics meant).
    func testTheNumbersOfAnOlderProtocolAreNotCompared() throws {
        let suite = try quickSuite("protocol")
        var old = baseline([ratio("matmul/naive/qkv/T32")])
        old.protocolVersion = nil
        let r = GateRequest(executable: "/nonexistent/workbench")
        assertInputError(try GateCommand.compareWithBaseline(r, spec: .quick, suite: suite, path: "old.json", baseline: old,
                                                             reason: "--baseline-only", scratch: scratch("protocol"), log: { _ in }),
                         mentions: ["old.json holds numbers of gate protocol 1", "protocol \(GateProtocol.version)",
                                    "`workbench gate --quick --update-baseline --runs 5 --baseline old.json`"])
    }

    // MARK: the calibration slowdown

    /// The extra work is the kernel itself, on a fraction of the columns, exact on average.
    func testASlowdownRunsAnExactFractionOfTheKernelAgain() {
        final class Counter: @unchecked Sendable { var columns = 0 }
        let counter = Counter()
        let v = MatmulVariant(name: "counting", summary: "counts columns", columnAlignment: 32) { _, cols in counter.columns += cols.count }
        let w = WeightMatrix(copying: [Float](repeating: 0, count: 768 * 4), rows: 768, cols: 4)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 768), inp = UnsafeMutablePointer<Float>.allocate(capacity: 4)
        defer { out.deallocate(); inp.deallocate() }
        let a = MatmulArgs(out: out, inp: inp, weight: w, bias: nil, T: 1)
        for percent in [5.0, 20, 50, 150] {
            counter.columns = 0
            let slowed = Slowdown(kind: .matmul, variant: "counting", fraction: percent / 100).apply(to: v)
            let calls = 200
            for _ in 0..<calls { slowed.kernel(a, 0..<768) }
            let extra = Double(counter.columns - calls * 768) / Double(calls * 768)
            XCTAssertEqual(extra, percent / 100, accuracy: 32.0 / Double(calls * 768) + 1e-9, "\(percent)%")
        }
        // Another variant's name: unchanged.
        XCTAssertEqual(Slowdown.defaultMatmul(percent: 20).apply(to: v).summary, v.summary)
    }

    /// The slowed default matmul and attention give bit-identical outputs (the extra columns are written again
    /// with the same values), on one worker and on a pool.
    func testASlowedKernelStillComputesTheSameOutput() {
        for workers in [1, 3] {
            let pool = WorkerPool(count: workers)
            let p = MatmulProblem(T: 7, C: 64, OC: 200, seed: 5)
            let v = MatmulVariants.named(MatmulVariants.defaultName)!
            v.prepare(p.weight)
            let plain = UnsafeMutablePointer<Float>.allocate(capacity: 7 * 200)
            defer { plain.deallocate() }
            v.run(p.args(plain), on: pool)
            let slowed = Slowdown.defaultMatmul(percent: 50).apply(to: v)
            for _ in 0..<3 {
                p.out.update(repeating: .nan, count: 7 * 200)
                slowed.run(p.args(), on: pool)
                XCTAssertEqual(KernelError(p.out, plain, count: 7 * 200).maxAbs, 0, "workers \(workers)")
            }
            let ap = AttentionProblem(T: 5, C: 48, NH: 4, pos0: 3, workers: workers, seed: 2)
            let av = AttentionVariants.named(AttentionVariants.defaultName)!
            let slowedA = Slowdown(kind: .attention, variant: av.name, fraction: 0.5).apply(to: av)
            XCTAssertTrue(ap.check(slowedA, pool: pool).passes(av.tolerance))
        }
    }

    // MARK: A/B in-process

    /// The calibration's injected 20 % slowdown is caught; the 0 % control (identical code) is not an alarm.
    func testTheCalibrationCatchesTwentyPercentAndNotTheControl() throws {
        // 10 rounds: with ~12 metrics compared the U test must reach 0.01/12 (6 rounds cannot).
        let plan = GateABPlan(rounds: 10, busyRounds: 10, maxRounds: 10)
        var made = 0
        let c = try GateCalibration.run(suite: "quick", percents: [0, 20], plan: plan, side: { p in
            made += 1
            let suite = try! self.quickSuite("cal\(made)", slowdowns: [Slowdown.defaultMatmul(percent: p ?? 0)], selection: .calibration)
            return InProcessGateSide(label: p.map { "+\($0)%" } ?? "base", suite: suite)
        })
        let text = c.text()
        XCTAssertEqual(c.levels.map(\.percent), [0, 20])
        XCTAssertTrue(c.levels[1].caught, "20 % must be caught:\n\(text)")
        XCTAssertFalse(c.levels[0].caught, "identical code is no regression:\n\(text)")
        XCTAssertEqual(c.smallestCaught, 20)
        XCTAssertTrue(text.hasSuffix("smallest slowdown caught: 20%\n"), text)
        // The summary of the slowed variant moved by about the injected fraction (T=32 is compute-bound).
        let t32 = try XCTUnwrap(c.levels[1].summaries.first { $0.name == "matmul/\(MatmulVariants.defaultName)/T32" })
        XCTAssertEqual(t32.verdict, .regression, text)
        XCTAssertGreaterThan(t32.change ?? 0, 0.1, text)
        XCTAssertEqual(c.schema, "workbench.gate.calibration/1")
    }

    /// The whole quick suite against itself: no regression, no wrong result.
    func testAnABOfIdenticalCodePasses() throws {
        let plan = GateABPlan(rounds: 8, busyRounds: 8, maxRounds: 10)
        let a = InProcessGateSide(label: "base", suite: try quickSuite("ab-base"))
        let b = InProcessGateSide(label: "new", suite: try quickSuite("ab-new"))
        let run = try GateAB.run(base: a, new: b, plan: plan, reference: nil)
        let failing = run.rows.filter { $0.verdict.fails }
        XCTAssertEqual(failing.map(\.name), [], failing.map { "\($0.name) \($0.changeText) \($0.intervalText) p=\($0.pText) \($0.detail ?? "")" }.joined(separator: "\n"))
        XCTAssertGreaterThan(run.rows.count, 100)
        XCTAssertTrue(run.rows.contains { $0.name == "gen/tiny/tokens" && $0.verdict == .pass })
        XCTAssertEqual(run.base.count, run.new.count)
        XCTAssertGreaterThanOrEqual(run.base.count, 8)
        let undecided = run.rows.filter { $0.verdict == .inconclusive }
        if !undecided.isEmpty { print("inconclusive on this machine now: \(undecided.map(\.name)) (\(run.loadDuring?.text ?? "?"))") }
    }

    /// A changed token stream is incorrect at once, in the A/B and against the committed numbers alike.
    func testAChangedTokenStreamFails() throws {
        let suite = try quickSuite("tokens")
        let gen = try XCTUnwrap(suite.cases().first { $0.name.hasPrefix("generation") })
        let ms = try gen.measure()
        let (b, _) = try Baseline.make(runs: [ms], policy: .quick, suite: "quick", date: "d", commit: nil, environment: Self.env,
                                       availability: [])
        var edited = b
        let i = try XCTUnwrap(edited.metrics.firstIndex { $0.name == "gen/tiny/tokens" })
        var words = edited.metrics[i].text!.split(separator: " ").map(String.init)
        words[0] = words[0] == "7" ? "8" : "7"
        edited.metrics[i].text = words.joined(separator: " ")

        let ab = GateABCompare.rows(base: [ms, ms], new: [ms, ms], reference: edited)
        let row = try XCTUnwrap(ab.first { $0.name == "gen/tiny/tokens" })
        XCTAssertEqual(row.verdict, .incorrect)
        XCTAssertTrue(row.detail?.contains("first difference at word 1:") == true, row.detail ?? "")
        XCTAssertTrue(row.detail?.contains("the committed baseline") == true, row.detail ?? "")
        // Unedited: passes.
        XCTAssertEqual(GateABCompare.rows(base: [ms], new: [ms], reference: b).first { $0.name == "gen/tiny/tokens" }?.verdict, .pass)

        let report = try GateSession.run(cases: [gen], baseline: edited, baselinePath: "b.json", environment: Self.env,
                                         availability: [], retries: 0)
        XCTAssertEqual(report.exitCode, .regression)
        XCTAssertTrue(report.failures.contains { $0.name == "gen/tiny/tokens" && $0.verdict == .incorrect }, report.table())
    }

    /// The child protocol's file round-trips with its schema and version; another schema is refused.
    func testTheMeasurementFileHasASchemaAndIsChecked() throws {
        let f = GateMeasurementFile(suite: "quick", round: 3, build: "release", fingerprint: "f", availability: ["a"],
                                    calibrationSlowdown: nil, seconds: 1,
                                    measurements: [GateMeasurement(name: "m", kind: .ratio, unit: "x", samples: [1, 2])],
                                    cases: [GateCaseRecord(key: "k", seconds: 0.5, metrics: ["m"])])
        let data = try f.encoded()
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"schema\":\"workbench.gate.measurements/2\""))
        XCTAssertEqual(try GateMeasurementFile.decode(data, path: "f.json"), f)
        XCTAssertThrowsError(try GateMeasurementFile.decode(Data("{\"schema\": \"x\"}".utf8), path: "f.json")) { e in
            XCTAssertTrue(String(describing: e).contains("this build speaks workbench.gate.measurements/2"), "\(e)")
        }
        XCTAssertEqual(GateProtocol.version(inSource: "  public static let version = 7\n"), 7)
        XCTAssertNil(GateProtocol.version(inSource: "nothing here"))
        XCTAssertEqual(GateProtocol.arguments(suite: "full", round: 2, jsonOut: "o.json", threads: 1, instructions: false),
                       ["gate", "--measure", "--suite", "full", "--round", "2", "--json-out", "o.json", "--threads", "1", "--no-instructions"])
        XCTAssertEqual(GateProtocol.arguments(suite: "full", round: 2, jsonOut: "o.json", threads: 1, instructions: true, cases: ["attention", "gen-tiny"]).suffix(2),
                       ["--cases", "attention,gen-tiny"])
        XCTAssertEqual(GateSuiteSpec.full.caseKeys, ["matmul-T64", "matmul-T1", "attention", "gen-tiny", "gen-124M", "instructions"])
        XCTAssertEqual(try quickSuite("keys").cases().map(\.key), Array(GateSuiteSpec.quick.caseKeys.dropLast()))
    }

    /// Extension rounds measure only the cases of the metrics still open: a steady case is measured in the full
    /// rounds only, a scattering one until its metric is decided or the rounds run out.
    func testExtensionRoundsMeasureOnlyTheOpenMetricsCases() throws {
        final class Scripted: GateSide {
            let label: String
            var asked: [[String]?] = []
            init(_ label: String) { self.label = label }
            func measure(round: Int, cases: [String]?) throws -> GateSideRound {
                asked.append(cases)
                var out = GateSideRound(measurements: [], cases: [])
                if cases?.contains("steady") ?? true {
                    out.measurements.append(GateMeasurement(name: "steady/x", kind: .ratio, unit: "x", samples: [1.0]))
                    out.cases.append(GateCaseRecord(key: "steady", seconds: 0, metrics: ["steady/x"]))
                }
                if cases?.contains("noisy") ?? true {
                    // Alternating 0.6 and 1.4 on one side, 1.0 on the other: paired ratios -40 % / +40 %, never decided.
                    let v = label == "new" ? (round % 2 == 0 ? 1.4 : 0.6) : 1.0
                    out.measurements.append(GateMeasurement(name: "noisy/y", kind: .ratio, unit: "x", samples: [v]))
                    out.cases.append(GateCaseRecord(key: "noisy", seconds: 0, metrics: ["noisy/y"]))
                }
                return out
            }
        }
        let a = Scripted("base"), b = Scripted("new")
        let run = try GateAB.run(base: a, new: b, plan: GateABPlan(rounds: 6, busyRounds: 6, maxRounds: 12, step: 2), reference: nil)
        XCTAssertEqual(run.fullRounds, 6)
        XCTAssertEqual(run.base.count, 12)
        XCTAssertEqual(b.asked.prefix(6).map { $0 == nil }, Array(repeating: true, count: 6))
        XCTAssertEqual(b.asked.dropFirst(6).map { $0 ?? [] }, Array(repeating: ["noisy"], count: 6))
        XCTAssertEqual(run.rows.first { $0.name == "steady/x" }?.rounds, 6)
        XCTAssertEqual(run.rows.first { $0.name == "steady/x" }?.verdict, .pass)
        let noisy = try XCTUnwrap(run.rows.first { $0.name == "noisy/y" })
        XCTAssertEqual(noisy.rounds, 12)
        XCTAssertEqual(noisy.verdict, .inconclusive)
        XCTAssertTrue(run.notes.contains { $0.contains("rounds 7-12 measured noisy") }, "\(run.notes)")
    }
}
