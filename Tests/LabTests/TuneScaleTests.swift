import Bench
import Foundation
import GPT2
import Kernels
@testable import Lab
import XCTest

/// tune and scale as library functions.
final class TuneScaleTests: XCTestCase {
    override func setUp() { _ = experimentsRegistered }

    func testBestIsTheSmallestGeometricMeanOfRatios() {
        XCTAssertEqual(Tuner.best([["a": 1, "b": 2], ["a": 4, "b": 2]]), "a", "a: 1 x 2, b: 2 x 1 -> tie, first by name")
        XCTAssertEqual(Tuner.best([["a": 1, "b": 1.5], ["a": 4, "b": 2]]), "b")
        XCTAssertEqual(Tuner.best([["a": 1, "b": 2], ["b": 2]]), "b", "a variant missing at a token count is out")
        XCTAssertNil(Tuner.best([]))
    }

    func testScreeningDropsTheSlowOnes() {
        var calls = ["fast": 0, "slow": 0]
        let m = Tuner.time([("fast", { calls["fast"]! += 1 }), ("slow", { calls["slow"]! += 1; usleep(2000) })], options: quickRunner())
        XCTAssertNotNil(m["fast"]); XCTAssertNil(m["slow"], "more than 3x slower than the best: screened out")
    }

    /// A wrong case is recorded as WRONG and not timed; correct ones get a median.
    func testMeasureRecordsWrongCases() throws {
        let p = MatmulProblem(T: 1, C: 16, OC: 8)
        let pool = WorkerPool(count: 1)
        let cases = [KernelCase.matmul(MatmulVariants.reference, on: p, pool: pool, way: .engine, weights: nil),
                     KernelCase.matmul(perturbedMatmul(0.5), on: p, pool: pool, way: .engine, weights: nil)]
        var file = TuningFile(fingerprint: "f", date: "d", threads: 1, tokenCounts: [1], model: "m", config: .tiny)
        let m = Tuner.measure(cases, kernel: "matmul", site: "fc", T: 1, file: &file, options: quickRunner())
        XCTAssertEqual(Set(m.keys), ["naive"])
        XCTAssertEqual(file.measurements.map(\.correct), [true, false])
        XCTAssertNotNil(file.measurements[0].medianNs); XCTAssertNil(file.measurements[1].medianNs)
        XCTAssertTrue(file.text().contains("perturbed WRONG"), file.text())
    }

    func testSettings() throws {
        XCTAssertEqual(try TuneSettings.tokenCounts("1, 64"), [1, 64])
        XCTAssertThrowsError(try TuneSettings.tokenCounts("1,x"))
        XCTAssertThrowsError(try TuneSettings(tokenCounts: [0], threads: 1, budget: 1)) { XCTAssertTrue("\($0)".contains("--t")) }
        XCTAssertThrowsError(try TuneSettings(tokenCounts: [], threads: 1, budget: 1))
        XCTAssertThrowsError(try TuneSettings(tokenCounts: [1], threads: 0, budget: 1)) { XCTAssertTrue("\($0)".contains("--threads")) }
        XCTAssertThrowsError(try TuneSettings(tokenCounts: [1], threads: 1, budget: 0)) { XCTAssertTrue("\($0)".contains("--budget")) }
        XCTAssertThrowsError(try ScaleSettings(workload: "bogus", T: nil, maxThreads: 2, runs: 1, pinning: false)) { XCTAssertTrue("\($0)".contains("bogus")) }
        XCTAssertThrowsError(try ScaleSettings(workload: "prefill", T: nil, maxThreads: 0, runs: 1, pinning: false)) { XCTAssertTrue("\($0)".contains("--max-threads")) }
        XCTAssertThrowsError(try ScaleSettings(workload: "prefill", T: nil, maxThreads: 1, runs: 0, pinning: false)) { XCTAssertTrue("\($0)".contains("--runs")) }
    }

    func testScaleOnATinyModel() throws {
        let path = FileManager.default.temporaryDirectory.path + "/lab-scale-\(getpid()).bin"
        try SyntheticCheckpoint.write(to: path, config: .tiny)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = try loadModelFile(path)
        let base = try EngineSpec.parse("threads=1").options
        var rounds = 0
        let r = try Scaler.run(weights: weights, base: base,
                               settings: try ScaleSettings(workload: "prefill", T: 8, maxThreads: 2, runs: 2, pinning: true)) { _, _ in rounds += 1 }
        XCTAssertEqual(rounds, 2)
        XCTAssertEqual(r.schema, ScaleReport.currentSchema)
        XCTAssertEqual(r.points.map(\.threads), [1, 2]); XCTAssertEqual(r.points[0].seconds.count, 2)
        XCTAssertEqual(r.pinnedSeconds.count, 3)
        XCTAssertTrue(r.text.contains("Amdahl fit"), r.text); XCTAssertTrue(r.text.contains("pinning (2 threads)"), r.text)
        XCTAssertThrowsError(try Scaler.run(weights: weights, base: base, settings: try ScaleSettings(workload: "prefill", T: 65, maxThreads: 1, runs: 1, pinning: false))) {
            XCTAssertTrue("\($0)".contains("--t must be in 1...64"), "\($0)")
        }
    }
}
