// The runner's schedule: warm-up, interleaving order, stop rules, set-up calls, batching of short bodies.
import XCTest
@testable import Bench

final class RunnerTests: XCTestCase {
    /// Options with no time-based parts: one warm-up call each, exactly `runs` rounds, one call per sample.
    private func exact(_ runs: Int) -> RunnerOptions {
        var o = RunnerOptions()
        o.warmupCalls = 1; o.warmupSeconds = 0; o.minimumRuns = runs; o.budgetSeconds = 0
        o.minimumSampleSeconds = 0
        return o
    }

    func testInterleavesAlternatingWhichGoesFirst() {
        var log: [String] = []
        let samples = Runner(options: exact(4)).run([
            Benchmark(name: "A", setUp: { log.append("setUp A") }) { log.append("A") },
            Benchmark(name: "B") { log.append("B") },
        ])
        XCTAssertEqual(log, [
            "setUp A", "A", "B",                      // warm-up
            "setUp A", "A", "B", "B", "setUp A", "A", // rounds 0 (A B) and 1 (B A)
            "setUp A", "A", "B", "B", "setUp A", "A", // rounds 2 and 3
        ])
        XCTAssertEqual(samples.map(\.name), ["A", "B"])
        XCTAssertEqual(samples.map(\.nanoseconds.count), [4, 4])
        XCTAssertEqual(samples.map(\.warmupCalls), [1, 1])
        XCTAssertEqual(samples.map(\.iterationsPerSample), [1, 1])
    }

    func testThreeBenchmarksRotate() {
        var log: [String] = []
        _ = Runner(options: exact(3)).run(["x", "y", "z"].map { n in Benchmark(name: n) { log.append(n) } })
        XCTAssertEqual(log.joined(), "xyz" + "xyz" + "yzx" + "zxy")
    }

    func testStopsAtMaximumRunsWhateverTheBudget() {
        var o = exact(2)
        o.budgetSeconds = 1000; o.maximumRuns = 7
        let s = Runner(options: o).run([Benchmark(name: "A") {}, Benchmark(name: "B") {}])
        XCTAssertEqual(s.map(\.nanoseconds.count), [7, 7])
    }

    func testKeepsMeasuringUntilTheBudgetIsSpent() {
        var o = exact(2)
        o.budgetSeconds = 0.03
        o.maximumRuns = 100_000
        let t0 = monotonicNanos()
        let s = Runner(options: o).run([Benchmark(name: "A") { usleep(1000) }, Benchmark(name: "B") { usleep(1000) }])
        let wall = Double(monotonicNanos() - t0) / 1e9
        XCTAssertGreaterThanOrEqual(wall, 0.03, "run returns only after the budget")
        let n = s[0].nanoseconds.count
        XCTAssertEqual(s[1].nanoseconds.count, n)
        XCTAssertGreaterThanOrEqual(n, 2)
        // It stops at the first round that reaches the budget: the rounds before the last took less than it.
        let before = (s[0].nanoseconds.dropLast() + s[1].nanoseconds.dropLast()).reduce(0, +) / 1e9
        XCTAssertLessThan(before, 0.03, "kept going after the budget was reached")
        XCTAssertTrue(s[0].nanoseconds.allSatisfy { $0 >= 1e6 }, "each sample times one call of at least 1 ms")
    }

    func testWarmsUpForAtLeastTheWarmupCalls() {
        var o = exact(1)
        o.warmupCalls = 3
        var calls = 0
        let s = Runner(options: o).run([Benchmark(name: "A") { calls += 1 }])
        XCTAssertEqual(calls, 4)
        XCTAssertEqual(s[0].warmupCalls, 3)
    }

    func testShortBodiesAreBatchedIntoLongerSamples() {
        var o = exact(3)
        o.minimumSampleSeconds = 0.001 // an empty body takes far less: many calls per sample
        var calls = 0
        let s = Runner(options: o).run([Benchmark(name: "A") { calls += 1 }])[0]
        XCTAssertGreaterThan(s.iterationsPerSample, 1)
        XCTAssertEqual(calls, 1 + 3 * s.iterationsPerSample)
        // ...but never a benchmark with a set-up, which must run before every timed call.
        let t = Runner(options: o).run([Benchmark(name: "B", setUp: {}) {}])[0]
        XCTAssertEqual(t.iterationsPerSample, 1)
    }

    func testProgressReportsEveryRound() {
        var phases: [RunnerProgress.Phase] = []
        _ = Runner(options: exact(3)).run([Benchmark(name: "A") {}]) { phases.append($0.phase) }
        XCTAssertEqual(phases, [.warmup, .measuring, .measuring, .measuring])
    }

    func testNoBenchmarksNoSamples() {
        XCTAssertEqual(Runner().run([]).count, 0)
    }
}
