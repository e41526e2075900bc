import Bench
import Foundation
import GPT2
import Kernels
@testable import Lab
import XCTest

/// compare as a library: the generic kernel path (matmul and attention), the WRONG path, the parsers of its
/// arguments, the report's JSON (schema 2, the old field names kept) and the flagging of impossible rates.
final class CompareTests: XCTestCase {
    override func setUp() { _ = experimentsRegistered }

    func testMatmulNaiveAgainstNaive() throws {
        let r = Comparisons.matmul(MatmulVariants.reference, MatmulVariants.reference, shape: try MatmulShape(T: 3, C: 20, OC: 5),
                                   threads: 1, seed: 1, runner: quickRunner(runs: 4), machine: testMachine())
        XCTAssertFalse(r.wrong)
        XCTAssertEqual(r.kind, "matmul"); XCTAssertEqual(r.shape, ["T": 3, "C": 20, "OC": 5])
        XCTAssertEqual(r.a.maxAbsError, 0); XCTAssertEqual(r.b.maxRelError, 0)
        let c = try XCTUnwrap(r.comparison)
        XCTAssertEqual(c.a.count, 4); XCTAssertEqual(c.b.count, 4)
        XCTAssertEqual(r.a.gflops!, 2 * 3 * 20 * 5 / c.a.median, accuracy: 1e-9 * r.a.gflops!)
        XCTAssertEqual(r.a.gbs!, Double(20 * 5 * 4) / c.a.median, accuracy: 1e-9 * r.a.gbs!)
        XCTAssertEqual(r.a.percentOfPeak!, 100 * r.a.gflops! / 100, accuracy: 1e-9)
        XCTAssertNotNil(r.weights, "matmul timings cycle weight copies")
        XCTAssertEqual(r.weights?.copies, ColdWeights.maximumCopies, "a 400-byte weight gets the most copies")
        XCTAssertTrue(r.text.contains("speedup B/A:"), r.text)
    }

    func testTheJSONKeepsItsFieldNames() throws {
        let r = Comparisons.matmul(MatmulVariants.reference, try MatmulVariants.resolve("simd"), shape: try MatmulShape(T: 1, C: 16, OC: 8),
                                   threads: 2, seed: 1, runner: quickRunner(), machine: testMachine())
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: LabJSON.data(r)) as? [String: Any])
        XCTAssertEqual(json["schema"] as? Int, CompareReport.currentSchema)
        for key in ["kind", "shape", "a", "b", "wrong", "comparison", "runner", "machine", "tolerance", "weights", "problems", "title", "streams"] {
            XCTAssertNotNil(json[key], key)
        }
        let a = try XCTUnwrap(json["a"] as? [String: Any])
        for key in ["spec", "threads", "correct", "maxAbsError", "maxRelError", "samples", "gflops", "percentOfPeak", "gbs", "percentOfBandwidth", "roofline"] {
            XCTAssertNotNil(a[key], "a.\(key)")
        }
        let c = try XCTUnwrap(json["comparison"] as? [String: Any])
        for key in ["a", "b", "ratio", "ratioLow", "ratioHigh", "mannWhitney", "verdict"] { XCTAssertNotNil(c[key], "comparison.\(key)") }
    }

    func testAWrongMatmulIsReportedAndNotTimed() throws {
        let r = Comparisons.matmul(MatmulVariants.reference, perturbedMatmul(0.01), shape: try MatmulShape(T: 4, C: 16, OC: 8),
                                   threads: 1, seed: 1, runner: quickRunner(), machine: testMachine())
        XCTAssertTrue(r.wrong); XCTAssertTrue(r.a.correct); XCTAssertFalse(r.b.correct)
        XCTAssertNil(r.comparison); XCTAssertNil(r.a.samples)
        XCTAssertEqual(r.b.maxAbsError!, 0.01, accuracy: 1e-6)
        XCTAssertTrue(r.text.contains("WRONG: B (matmul:perturbed) outside the tolerance; not timed"), r.text)
        XCTAssertFalse(r.text.contains("speedup"))
        // an error inside the tolerance is fine
        let ok = Comparisons.matmul(MatmulVariants.reference, perturbedMatmul(1e-7), shape: try MatmulShape(T: 4, C: 16, OC: 8),
                                    threads: 1, seed: 1, runner: quickRunner(runs: 2), machine: testMachine())
        XCTAssertFalse(ok.wrong)
    }

    func testAttentionThroughTheSamePath() throws {
        let r = Comparisons.attention(AttentionVariants.reference, try AttentionVariants.resolve("online"),
                                      shape: try AttentionShape(T: 3, C: 16, NH: 4, pos0: 5), threads: 2, seed: 1,
                                      runner: quickRunner(runs: 4), machine: testMachine())
        XCTAssertFalse(r.wrong)
        XCTAssertEqual(r.kind, "attention"); XCTAssertEqual(r.shape, ["T": 3, "C": 16, "NH": 4, "pos0": 5])
        XCTAssertEqual(r.comparison?.a.count, 4)
        XCTAssertNotNil(r.a.gflops); XCTAssertNil(r.a.gbs); XCTAssertNil(r.weights)
        XCTAssertEqual(r.b.threads, 2, "online uses the pool standalone")
        let bad = Comparisons.attention(AttentionVariants.reference, perturbedAttention(0.01), shape: try AttentionShape(T: 2, C: 8, NH: 2),
                                        threads: 1, seed: 1, runner: quickRunner(), machine: testMachine())
        XCTAssertTrue(bad.wrong); XCTAssertFalse(bad.b.correct); XCTAssertNil(bad.comparison)
    }

    /// The tiny synthetic model, mapped (its file is removed at once: the mapping outlives it).
    private func tinyWeights(_ name: String) throws -> ModelWeights {
        let path = FileManager.default.temporaryDirectory.path + "/\(name)-\(getpid()).bin"
        try SyntheticCheckpoint.write(to: path, config: .tiny)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try loadModelFile(path)
    }

    func testEnginesOnATinyModel() throws {
        let weights = try tinyWeights("lab-compare")
        var base = EngineSpec.defaults(threads: 1); base.timers = false
        let request = try GenerationRequest(prompt: [1, 2], n: 6, config: weights.config)
        let r = try Comparisons.engines(try EngineSpec.parse("", base: base), try EngineSpec.parse("matmul=naive,threads=2", base: base),
                                    weights: weights, request: request, runner: quickRunner(), machine: testMachine())
        XCTAssertEqual(r.kind, "engine"); XCTAssertFalse(r.wrong)
        XCTAssertEqual(r.a.tokens?.count, 4); XCTAssertEqual(r.a.tokens, r.b.tokens)
        XCTAssertEqual(r.b.threads, 2); XCTAssertEqual(r.comparison?.b.count, 3)
        XCTAssertTrue(r.text.contains("same as A"), r.text)
        XCTAssertNil(r.accuracy)
    }

    /// A lossy side is not held to A's tokens: its accuracy against A is reported beside the timing.
    func testALossyEngineReportsItsAccuracy() throws {
        let weights = try tinyWeights("lab-compare-lossy")
        var base = EngineSpec.defaults(threads: 1); base.timers = false
        let request = try GenerationRequest(prompt: [1, 2], n: 12, config: weights.config)
        for format in ["bf16", "q8", "q4"] {
            let r = try Comparisons.engines(try EngineSpec.parse("", base: base), try EngineSpec.parse("matmul=\(format)", base: base),
                                            weights: weights, request: request, runner: quickRunner(), machine: testMachine())
            XCTAssertFalse(r.wrong, format)
            let acc = try XCTUnwrap(r.accuracy, format)
            XCTAssertEqual(acc.greedyCompared, 10)
            XCTAssertGreaterThan(acc.logits.top1Agreement, 0.5, format)
            XCTAssertNotNil(r.comparison, "\(format) is timed")
            XCTAssertTrue(r.text.contains("accuracy of B against A"), r.text)
            XCTAssertTrue(r.title.contains("(B)"), "B's bandwidth counts the bytes of its own format: \(r.title)")
            let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(r)) as! [String: Any]
            XCTAssertNotNil(json["accuracy"], format)
        }
    }

    func testKernelPairs() throws {
        guard case .matmul(let a, let b) = try KernelPair.parse("matmul:naive", "matmul:unrolled") else { return XCTFail() }
        XCTAssertEqual([a.name, b.name], ["naive", "unrolled"], "experiments can be compared")
        guard case .attention = try KernelPair.parse("attention:naive", "attention:online") else { return XCTFail() }
        let cases: [(String, String, String)] = [
            ("conv:naive", "conv:naive", "unknown kernel 'conv'"),
            ("matmul:naive", "matmul:nope", "unknown matmul variant 'nope'"),
            ("attention:nope", "attention:naive", "unknown attention variant 'nope'"),
            ("matmul", "matmul:naive", "'matmul' is not kernel:variant"),
            ("matmul:", "matmul:naive", "'matmul:' is not kernel:variant"),
            ("matmul:naive", "attention:naive", "same kernel"),
            ("matmul:naive", "matmul:./no/such/lib.so", "./no/such/lib.so: no such file"),
        ]
        for (x, y, message) in cases {
            XCTAssertThrowsError(try KernelPair.parse(x, y), "\(x) \(y)") { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
    }

    func testShapes() throws {
        XCTAssertEqual(try MatmulShape.parse(nil, T: nil), try MatmulShape(T: 64, C: 768, OC: 2304, site: "qkv"))
        XCTAssertEqual(try MatmulShape.parse("attproj", T: 1), try MatmulShape(T: 1, C: 768, OC: 768, site: "attproj"))
        XCTAssertEqual(try MatmulShape.parse("lmhead", T: 1).OC, 50257)
        XCTAssertEqual(try MatmulShape.parse("4, 16,8", T: nil), try MatmulShape(T: 4, C: 16, OC: 8))
        for (shape, t, message) in [("foo", nil, "--shape 'foo'"), ("4,16", nil, "--shape '4,16'"), ("4,x,8", nil, "--shape '4,x,8'"),
                                    ("0,16,8", nil, "must be positive"), ("100000,100000,100000", nil, "too large"),
                                    ("4,16,8", 3, "--t contradicts"), ("qkv", 0, "--t must be")] as [(String, Int?, String)] {
            XCTAssertThrowsError(try MatmulShape.parse(shape, T: t), shape) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
        XCTAssertEqual(try AttentionShape(), try AttentionShape(T: 64, C: 768, NH: 12, pos0: 0))
        XCTAssertThrowsError(try AttentionShape(C: 10, NH: 3)) { XCTAssertTrue("\($0)".contains("not divisible")) }
        XCTAssertThrowsError(try AttentionShape(pos0: -1)) { XCTAssertTrue("\($0)".contains("pos0")) }
        XCTAssertThrowsError(try AttentionShape(T: 1 << 21, C: 16, NH: 1)) { XCTAssertTrue("\($0)".contains("too large")) }
    }

    func testTiming() throws {
        XCTAssertThrowsError(try CompareTiming(runs: 0)) { XCTAssertTrue("\($0)".contains("--runs must be")) }
        XCTAssertThrowsError(try CompareTiming(budget: -1)) { XCTAssertTrue("\($0)".contains("--budget must be")) }
        let kernel = try CompareTiming().runner(engine: false)
        XCTAssertEqual(kernel.minimumRuns, 10); XCTAssertEqual(kernel.budgetSeconds, 2)
        let runsOnly = try CompareTiming(runs: 5).runner(engine: false)
        XCTAssertEqual(runsOnly.budgetSeconds, 0)
        let engine = try CompareTiming().runner(engine: true)
        XCTAssertEqual(engine.warmupCalls, 1); XCTAssertEqual(engine.budgetSeconds, 0)
    }

    /// A rate above its measured limit + the noise margin is a measurement problem, in the JSON and in the
    /// text (marked '!'), never a plain result; one within the margin is a result.
    func testImpossibleRatesAreFlagged() throws {
        let m = testMachine(peak: 100, bandwidth: 20)
        // 1 GFLOP and 1 GB in 10 ms: 100 GFLOP/s = 100 % of the peak (fine), 100 GB/s = 500 % of the bandwidth
        let r = Rates(medianNs: 1e7, flops: 1e9, bytes: 1e9, threads: 1, machine: m)
        XCTAssertEqual(r.percentOfPeak, 100, accuracy: 1e-9); XCTAssertEqual(r.percentOfBandwidth!, 500, accuracy: 1e-9)
        XCTAssertEqual(r.problems.count, 1)
        XCTAssertTrue(r.problems[0].contains("100.0 GB/s of weights is 500% of the measured limit"), r.problems[0])
        XCTAssertTrue(r.problems[0].contains("measurement problem"), r.problems[0])
        // this run's stream read raises the 100 % line: 100 GB/s against a 120 GB/s stream is a result
        let streamed = Rates(medianNs: 1e7, flops: 1e9, bytes: 1e9, threads: 1, machine: m, streamGBs: 120)
        XCTAssertEqual(streamed.bandwidthLimitGBs, 120); XCTAssertEqual(streamed.problems, [])
        // within 100 % + the margin: a result
        let edge = Rates(medianNs: 1e9 / (20 * (1 + MeasurementLimits.noiseMargin) - 0.01), flops: 1e9, bytes: 1e9, threads: 1, machine: m)
        XCTAssertEqual(edge.problems, [])
        let flops = Rates(medianNs: 1e6, flops: 1e9, bytes: nil, threads: 1, machine: m)  // 1000 GFLOP/s on one core
        XCTAssertEqual(flops.problems.count, 1); XCTAssertTrue(flops.problems[0].contains("FMA peak"))

        // through a comparison: a machine "measured" at 1 kFLOP/s makes any matmul look impossible (the bandwidth's
        // 100 % line is also this run's stream read of the same weights, so that figure may stay plausible)
        let slow = testMachine(peak: 1e-6, bandwidth: 1e-6, bandwidthAll: 1e-6)
        let c = Comparisons.matmul(MatmulVariants.reference, MatmulVariants.reference, shape: try MatmulShape(T: 2, C: 16, OC: 8),
                                   threads: 1, seed: 1, runner: quickRunner(), machine: slow)
        XCTAssertTrue(c.a.measurementProblems?.contains { $0.contains("FMA peak") } == true, "\(c.a.measurementProblems ?? [])")
        XCTAssertEqual(c.streams?.map(\.threads), [1], "one stream read, for the one thread both sides use")
        XCTAssertEqual(c.a.roofline.map { _ in true }, true)
        XCTAssertGreaterThanOrEqual(c.problems.count, 2)
        XCTAssertTrue(c.problems.allSatisfy { $0.hasPrefix("A: ") || $0.hasPrefix("B: ") })
        XCTAssertTrue(c.text.contains("MEASUREMENT PROBLEM A: "), c.text)
        let row = try XCTUnwrap(c.text.split(separator: "\n").first { $0.hasPrefix("  A  matmul:naive") && $0.contains("!") })
        XCTAssertTrue(row.contains("!"), String(row))
    }
}
