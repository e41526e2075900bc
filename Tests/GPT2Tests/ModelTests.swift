// The engine in process: KV cache against full recompute, threads, generation's validation, token parsing,
// the probabilities, and what the per-op timers count.
import Foundation
import GPT2
import Kernels
import XCTest

final class ModelTests: TemporaryDirectoryTestCase {
    /// L=2 NH=3 C=24 V=50 Vp=64 maxT=16.
    static let config = GPT2Config(maxT: 16, V: 50, Vp: 64, L: 2, NH: 3, C: 24)

    private func model(threads: Int = 1) throws -> GPT2Model {
        let p = "\(dir)/model.bin"
        if !FileManager.default.fileExists(atPath: p) { try SyntheticCheckpoint.write(to: p, config: Self.config, seed: 21) }
        return GPT2Model(checkpoint: try Checkpoint(path: p), options: EngineOptions(threads: threads))
    }

    func testKVCacheMatchesFullRecompute() throws {
        let m = try model()
        let tokens: [Int32] = [3, 14, 15, 9, 26, 5, 35]
        let full = Array(m.forward(tokens, pos0: 0, allLogits: true))
        XCTAssertEqual(full.count, tokens.count * Self.config.V)
        m.resetCache()
        _ = m.forward(Array(tokens.prefix(3)), pos0: 0)
        for t in 3..<tokens.count {
            let step = Array(m.forward([tokens[t]], pos0: t))
            XCTAssertEqual(step.count, Self.config.V)
            let row = Array(full[(t * Self.config.V)..<((t + 1) * Self.config.V)])
            for i in 0..<row.count { XCTAssertEqual(step[i], row[i], accuracy: 1e-5, "position \(t) logit \(i)") }
        }
        XCTAssertEqual(m.cachedPositions, tokens.count)
    }

    func testLastRowOfAllLogitsEqualsTheDefaultOutput() throws {
        let m = try model()
        let tokens: [Int32] = [1, 2, 3, 4]
        let all = Array(m.forward(tokens, allLogits: true))
        let last = Array(m.forward(tokens))
        XCTAssertEqual(last, Array(all.suffix(Self.config.V)))
    }

    func testProbabilitiesAreASoftmaxOfTheLastLogits() throws {
        let m = try model()
        let logits = Array(m.forward([7, 7, 7]))
        let probs = Array(m.probabilities)
        XCTAssertEqual(probs.count, Self.config.V)
        XCTAssertEqual(probs.reduce(0, +), 1, accuracy: 1e-5)
        let mx = logits.max()!
        let e = logits.map { expf($0 - mx) }, s = e.reduce(0, +)
        for i in 0..<probs.count { XCTAssertEqual(probs[i], e[i] / s, accuracy: 1e-6) }
    }

    func testGenerationIsTheSameWithAndWithoutCacheAndThreads() throws {
        let prompt: [Int32] = [4, 8]
        var results: [[Int32]] = []
        for threads in [1, 2] {
            let m = try model(threads: threads)
            for kv in [true, false] {
                for sampler in Sampler.allCases {
                    let g = try m.generate(prompt: prompt, n: Self.config.maxT, sampler: sampler, kvCache: kv)
                    XCTAssertEqual(g.count, Self.config.maxT - prompt.count)
                    XCTAssertTrue(g.allSatisfy { $0 >= 0 && Int($0) < Self.config.V })
                    results.append(g)
                }
            }
        }
        // results alternate mult, argmax
        for (i, r) in results.enumerated() { XCTAssertEqual(r, results[i % 2], "run \(i)") }
    }

    func testGenerateReportsFirstLogitsAndEveryToken() throws {
        let m = try model()
        var firstT = -1, firstCount = -1, streamed: [Int32] = []
        let g = try m.generate(prompt: [1, 2, 3], n: 8, firstLogits: { l, T in firstT = T; firstCount = l.count },
                               onToken: { streamed.append($0) })
        XCTAssertEqual(firstT, 3)
        XCTAssertEqual(firstCount, 3 * Self.config.V)
        XCTAssertEqual(streamed, g)
        XCTAssertEqual(g.count, 5)
    }

    func testTimersCountForwardsAndCalls() throws {
        let m = try model()
        m.timers.reset()
        try m.generate(prompt: [1, 2], n: 7, kvCache: true)
        let L = Self.config.L
        XCTAssertEqual(m.timers.forwards, 5)
        for op in Op.allCases {
            XCTAssertEqual(m.timers.total(op).calls, op.perLayer ? 5 * L : 5, "\(op.key)")
        }
        let r = m.timers.report()
        XCTAssertEqual(r.ops.count, 14)
        XCTAssertEqual(Set(r.ops.map(\.op)).count, 14)
        // q·k flops of the first call: T=2 rows, 1 + 2 keys, 4·C per key.
        XCTAssertGreaterThan(m.timers.total(.qkv).flops, 0)
    }

    func testRequestRejectsBadRequests() throws {
        let m = try model()
        func message(_ prompt: [Int32], _ n: Int) -> String? {
            do { _ = try GenerationRequest(prompt: prompt, n: n, config: m.config); return nil } catch { return "\(error)" }
        }
        XCTAssertNil(message([1], 2))
        XCTAssertNil(message([1], 16))
        XCTAssertTrue(message([], 5)?.contains("empty prompt") ?? false)
        XCTAssertTrue(message([50], 5)?.contains("token 50 is out of range") ?? false)
        XCTAssertTrue(message([-1], 5)?.contains("token -1 is out of range") ?? false)
        XCTAssertTrue(message([1], 17)?.contains("exceeds") ?? false)
        XCTAssertTrue(message([1, 2], 2)?.contains("must be larger") ?? false)
        XCTAssertTrue(message([1], 0)?.contains("--n must be positive") ?? false)
        XCTAssertThrowsError(try m.generate(prompt: [1, 2, 3], n: 3))
    }

    func testParseTokens() throws {
        XCTAssertEqual(try GenerationRequest.parseIDs(["0", "49", "7"], vocabulary: 50), [0, 49, 7])
        XCTAssertEqual(try GenerationRequest.parseIDs(["0,49 7"], vocabulary: 50), [0, 49, 7])
        for (words, mention) in [([String](), "empty prompt"), (["x"], "'x' is not an integer"), (["1.0"], "not an integer"),
                                 (["50"], "out of range"), (["-3"], "out of range"),                                  (["99999999999999999999"], "too large"), (["--fast"], "unknown option '--fast'"),
                                 (["", ""], "empty prompt")] {
            XCTAssertThrowsError(try GenerationRequest.parseIDs(words, vocabulary: 50)) { e in
                XCTAssertTrue("\(e)".contains(mention), "\(words): \(e)")
            }
        }
    }

    /// Defaults fit the model: gpt.c's prompt folded into V, n within maxT.
    func testDefaultsFitTheModel() throws {
        let tiny = GPT2Config(maxT: 8, V: 100, Vp: 128, L: 1, NH: 1, C: 8)
        let r = try GenerationRequest(words: nil, n: nil, config: tiny)
        XCTAssertEqual(r.prompt, [31373 % 100, 612 % 100])
        XCTAssertEqual(r.n, 8)
    }

    func testEngineSpecParses() throws {
        let s = try EngineSpec.parse("matmul=tiled,qkv=simd,threads=2,pin")
        XCTAssertEqual(s.options.matmul[.qkv]!.name, "simd")
        XCTAssertEqual(s.options.matmul[.fc]!.name, "tiled")
        XCTAssertEqual(s.options.threads, 2)
        XCTAssertTrue(s.options.pin)
        XCTAssertEqual(try EngineSpec.parse("qkv=simd,matmul=naive").options.matmul[.qkv]!.name, "simd", "site wins over matmul=")
        for (bad, mention) in [("matmul=nope", "unknown matmul variant 'nope'"), ("threads=0", "threads must be"), ("bogus", "cannot read 'bogus'")] {
            XCTAssertThrowsError(try EngineSpec.parse(bad)) { XCTAssertTrue("\($0)".contains(mention), "\(bad): \($0)") }
        }
    }

    func testTuningFileThatDoesNotApplyIsNotUsed() throws {
        let path = NSTemporaryDirectory() + "/tune-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TuningFile(fingerprint: "other machine", date: "", threads: 1, tokenCounts: [1], model: "", config: .tiny,
                       matmul: ["qkv": "naive"]).save(to: path)
        var spec = try EngineSpec.parse("kernels=auto")
        var warnings: [String] = []
        try spec.applyTuning(file: path, config: .tiny, fingerprint: "this machine", warn: { warnings.append($0) })
        XCTAssertEqual(spec.options.matmul[.qkv]!.name, MatmulVariants.defaultName)
        XCTAssertTrue(warnings.first?.contains("does not apply") ?? false)
        var spec2 = try EngineSpec.parse("kernels=auto")
        try spec2.applyTuning(file: path, config: .tiny, fingerprint: "other machine", warn: { warnings.append($0) })
        XCTAssertEqual(spec2.options.matmul[.qkv]!.name, "naive")
    }

    func testEngineOptionsSummaryAndClamp() {
        let o = EngineOptions(threads: 0)
        XCTAssertEqual(o.threads, 1)
        XCTAssertTrue(o.summary.contains("matmul=naive"))
        XCTAssertTrue(o.summary.contains("threads=1"))
    }

    /// The engine defaults (`threaded` matmul over the row-major weights, `online` attention, chunked
    /// scheduling): logits bit-identical for 1, 2, 3 and 5 workers, and between a prefill of all positions
    /// and one-position decode steps through the KV cache.
    func testDefaultKernelsAreBitIdenticalAcrossWorkersAndTheCache() throws {
        let p = "\(dir)/model.bin"
        if !FileManager.default.fileExists(atPath: p) { try SyntheticCheckpoint.write(to: p, config: Self.config, seed: 21) }
        let ckpt = try Checkpoint(path: p)
        let tokens: [Int32] = [3, 14, 15, 9, 26, 5, 35, 8, 9, 7, 9, 3, 2, 38, 4, 6]
        var reference: [Float]?
        for threads in [1, 2, 3, 5] {
            let m = GPT2Model(checkpoint: ckpt, options: EngineOptions(matmul: MatmulVariants.named("threaded")!,
                                                                        attention: AttentionVariants.named("online")!, threads: threads))
            let full = Array(m.forward(tokens, pos0: 0, allLogits: true))
            if let reference {
                XCTAssertEqual(full.map(\.bitPattern), reference.map(\.bitPattern), "\(threads) workers")
            } else {
                reference = full
            }
            m.resetCache()
            _ = m.forward(Array(tokens.prefix(2)), pos0: 0)
            for t in 2..<tokens.count {
                let step = Array(m.forward([tokens[t]], pos0: t))
                let row = Array(full[(t * Self.config.V)..<((t + 1) * Self.config.V)])
                XCTAssertEqual(step.map(\.bitPattern), row.map(\.bitPattern), "\(threads) workers, position \(t) decoded alone")
            }
        }
    }

    func testLoadTimeIsReportedOutsideTheForwardPasses() throws {
        let m = try model()
        XCTAssertGreaterThan(m.checkpoint.loadNanos, 0)
        XCTAssertGreaterThan(m.timers.loadNanos, m.checkpoint.loadNanos)
        try m.generate(prompt: [1, 2], n: 5)
        m.timers.reset()
        XCTAssertGreaterThan(m.timers.loadNanos, 0, "reset keeps the load time")
        try m.generate(prompt: [1, 2], n: 5)
        let r = m.timers.report()
        XCTAssertNotNil(r.loadMs)
        XCTAssertTrue(r.table().contains("\nload "), r.table())
        let json = try JSONEncoder().encode(r)
        let back = try JSONDecoder().decode(TimingsReport.self, from: json)
        XCTAssertEqual(back.loadMs, r.loadMs)
        // a report without the field (older JSON) still decodes
        var old = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        old.removeValue(forKey: "loadMs")
        XCTAssertNil(try JSONDecoder().decode(TimingsReport.self, from: JSONSerialization.data(withJSONObject: old)).loadMs)
    }
}

final class NonFiniteWeightsTests: XCTestCase {
    /// One NaN weight: generation stops with a message naming the position and the first bad weight.
    func testNaNWeightIsAnErrorNamingIt() throws {
        let path = NSTemporaryDirectory() + "/nan-\(getpid()).bin"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SyntheticCheckpoint.write(to: path, config: .tiny, seed: 3)
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let wteCount = GPT2Config.tiny.Vp * GPT2Config.tiny.C
        try h.seek(toOffset: UInt64(CheckpointFormat.headerBytes + (wteCount + 5) * 4))  // wpe[5]
        var nan = Float.nan
        h.write(Data(bytes: &nan, count: 4))
        try h.close()
        let m = GPT2Model(checkpoint: try Checkpoint(path: path))
        XCTAssertThrowsError(try m.generate(prompt: [1], n: 4)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("position 0") && s.contains("wpe[5]"), s)
        }
    }
}
