// The engine against the independent numpy reference (Tools/gpt2_ref.py), end to end through both CLIs:
// logits of the first forward pass within `logitTolerance` (max abs error), generated tokens exactly equal,
// for several tiny shapes (even and odd, versions 1 and 3), a model with large weights ("sharp": logits up to
// ~20, peaked attention), prompts (1 token, a few, maxT - 1), both samplers, 1 and 2 threads, KV cache on
// and off, and every matmul / attention variant the binary offers.
//
// Tolerance 1e-4 absolute: both sides compute in float32 and differ only in summation order (numpy's BLAS
// blocks its dot products, its means are pairwise) and in exp/tanh implementations. Measured: <= 3e-7 on
// the synthetic shapes (logits <= 0.84), ~1.5e-5 on the sharp model (logits ~24), ~5e-6 on the 124M shape
// (Notes/correctness.md). 1e-4 leaves room for a different but correct summation order (blocked, SIMD,
// BLAS variants) while any real mistake (a wrong bias, a missing mask, an off-by-one position) moves
// logits by far more.
import Foundation
import XCTest

final class ReferenceTests: XCTestCase {
    static let logitTolerance: Float = 1e-4

    /// The shapes compared (seeded so their tokens differ from the other fixtures).
    static let shapes: [ModelSpec] = [
        ModelSpec(L: 2, NH: 4, C: 64, V: 512, Vp: 576, maxT: 64, version: 3, seed: 7),   // the tiny preset shape
        ModelSpec(L: 3, NH: 3, C: 36, V: 300, Vp: 320, maxT: 40, version: 3, seed: 8),   // odd: hs = 12, V % 64 != 0
        ModelSpec(L: 1, NH: 6, C: 24, V: 257, Vp: 257, maxT: 33, version: 1, seed: 9),   // version 1, V odd, hs = 4
        ModelSpec(L: 2, NH: 4, C: 64, V: 512, Vp: 512, maxT: 64, version: 1, seed: 10),  // version 1, even
    ]

    /// The prompts for a shape: one token to full length, a few tokens, maxT - 1 tokens, the extreme ids.
    static func prompts(_ s: ModelSpec) -> [(prompt: [Int], n: Int)] {
        [([5], s.maxT),
         ([1, 2, 3], 10),
         ((0..<(s.maxT - 1)).map { ($0 * 37 + 11) % s.V }, s.maxT),
         ([s.V - 1, 0, s.V / 2], 12)]
    }

    /// The tokens and first-forward logits of one run.
    struct Outcome { let tokens: [String]; let logits: [Float] }

    /// One way of running the engine.
    struct EngineConfig: CustomStringConvertible {
        var threads: Int
        var kvCache: Bool
        var extra: [String] = []
        var description: String { "threads \(threads), kv-cache \(kvCache)" + (extra.isEmpty ? "" : ", " + extra.joined(separator: " ")) }
        /// 1 and 2 threads, KV cache on and off.
        static let matrix = [EngineConfig(threads: 1, kvCache: true), EngineConfig(threads: 2, kvCache: true),
                             EngineConfig(threads: 1, kvCache: false), EngineConfig(threads: 2, kvCache: false)]
    }

    /// Runs the reference (throws with its output if it fails; no XCTest calls, so it may run on any thread).
    private func reference(_ model: String, _ prompt: [Int], n: Int, sampler: String,
                           extra: [String] = []) throws -> Outcome {
        let lp = Fixtures.shared.path("ref.f32")
        defer { try? FileManager.default.removeItem(atPath: lp) }
        let r = try Subprocess.reference(["--model", model, "--n", "\(n)", "--sampler", sampler, "--logits-out", lp]
                                         + extra + prompt.map(String.init))
        guard r.status == 0, !r.timedOut else { throw TestFailure("reference failed: \(r.summary)") }
        return Outcome(tokens: r.stdoutLines, logits: try readFloats(lp))
    }

    /// Runs `workbench run` (throws with its output if it fails; no XCTest calls).
    private func engine(_ model: String, _ prompt: [Int], n: Int, sampler: String, _ c: EngineConfig) throws -> Outcome {
        let lp = Fixtures.shared.path("engine.f32")
        defer { try? FileManager.default.removeItem(atPath: lp) }
        let r = try Subprocess.workbench(["run", "--model", model, "--n", "\(n)", "--sampler", sampler,
                                          "--threads", "\(c.threads)", c.kvCache ? "--kv-cache" : "--no-kv-cache",
                                          "--no-timers", "--logits-out", lp] + c.extra + ["--"] + prompt.map(String.init))
        guard r.status == 0, !r.timedOut else { throw TestFailure("workbench run failed: \(r.summary)") }
        return Outcome(tokens: r.stdoutLines, logits: try readFloats(lp))
    }

    /// Fails the test early, on the test's thread, if the binary or python3/numpy is missing.
    override func setUpWithError() throws {
        _ = try Subprocess.workbench(["--help"])
        _ = try Subprocess.reference(["--help"])
    }

    /// The largest logit error seen per model, printed when the class finishes (for Notes/correctness.md).
    nonisolated(unsafe) static var worst: [String: (error: Float, scale: Float)] = [:]

    override class func tearDown() {
        for (model, w) in worst.sorted(by: { $0.key < $1.key }) {
            print("ReferenceTests: \(model): max abs logit error \(w.error), max abs logit \(w.scale)")
        }
        super.tearDown()
    }

    /// Compares one engine outcome with the reference's.
    private func check(_ e: Outcome, against ref: Outcome, T: Int, V: Int, model: String, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ref.logits.count, T * V, "reference logits are [T, V]: \(what)", file: file, line: line)
        XCTAssertEqual(e.logits.count, T * V, "engine logits are [T, V]: \(what)", file: file, line: line)
        let err = maxAbsDifference(e.logits, ref.logits)
        let old = Self.worst[model] ?? (0, 0)
        Self.worst[model] = (max(old.error, err), max(old.scale, ref.logits.map(abs).max() ?? 0))
        XCTAssertLessThanOrEqual(err, Self.logitTolerance, "max |logit error| \(err): \(what)", file: file, line: line)
        XCTAssertEqual(e.tokens, ref.tokens, "tokens differ: \(what)", file: file, line: line)
    }

    /// Runs the reference and the engine in every configuration of `configs` on one request, two processes
    /// at a time (the processes are independent; results are checked afterwards on the test's thread).
    /// Returns the reference's outcome.
    @discardableResult
    private func compare(_ model: String, _ s: ModelSpec, label: String, _ prompt: [Int], n: Int, sampler: String,
                         configs: [EngineConfig], file: StaticString = #filePath, line: UInt = #line) -> Outcome? {
        final class Results: @unchecked Sendable {
            var items: [Result<Outcome, Error>]
            let lock = NSLock()
            init(_ n: Int) { items = Array(repeating: .failure(TestFailure("not run")), count: n) }
        }
        let results = Results(configs.count + 1)
        DispatchQueue.concurrentPerform(iterations: configs.count + 1) { i in
            let r = Result { i == 0 ? try self.reference(model, prompt, n: n, sampler: sampler)
                                    : try self.engine(model, prompt, n: n, sampler: sampler, configs[i - 1]) }
            results.lock.lock(); results.items[i] = r; results.lock.unlock()
        }
        let what = "\(label), sampler \(sampler), prompt of \(prompt.count), n=\(n)"
        guard case .success(let ref) = results.items[0] else {
            if case .failure(let e) = results.items[0] { XCTFail("\(e)", file: file, line: line) }
            return nil
        }
        XCTAssertEqual(ref.tokens.count, n - prompt.count, "reference tokens: \(what)", file: file, line: line)
        for (i, c) in configs.enumerated() {
            switch results.items[i + 1] {
            case .success(let e): check(e, against: ref, T: prompt.count, V: s.V, model: label, "\(what), \(c)", file: file, line: line)
            case .failure(let err): XCTFail("\(what), \(c): \(err)", file: file, line: line)
            }
        }
        return ref
    }

    /// Every shape, every prompt, sampler mult: 1 and 2 threads, KV cache on and off.
    func testEngineMatchesReferenceWithMultSampler() throws {
        for s in Self.shapes {
            let m = try Fixtures.shared.checkpoint(s)
            for (prompt, n) in Self.prompts(s) {
                compare(m, s, label: "\(s)", prompt, n: n, sampler: "mult", configs: EngineConfig.matrix)
            }
        }
    }

    /// Every shape, two prompts, sampler argmax: 1 and 2 threads, KV cache on and off.
    func testEngineMatchesReferenceWithArgmaxSampler() throws {
        for s in Self.shapes {
            let m = try Fixtures.shared.checkpoint(s)
            for (prompt, n) in Self.prompts(s).prefix(2) {
                compare(m, s, label: "\(s)", prompt, n: n, sampler: "argmax", configs: EngineConfig.matrix)
            }
        }
    }

    /// A model with large weights (logits up to ~24, peaked attention and distributions; see
    /// `writeSharpCheckpoint`): both samplers, 1 and 2 threads, KV cache on and off.
    static let sharp = ModelSpec(L: 2, NH: 2, C: 32, V: 97, Vp: 128, maxT: 24, version: 3, seed: 2024)

    func testEngineMatchesReferenceOnASharpModel() throws {
        let s = Self.sharp
        let m = try Fixtures.shared.sharpCheckpoint(s)
        for (prompt, n) in [([5], s.maxT), ((0..<(s.maxT - 1)).map { ($0 * 13 + 2) % s.V }, s.maxT), ([96, 0], 12)] {
            for sampler in ["mult", "argmax"] {
                let ref = compare(m, s, label: "sharp \(s)", prompt, n: n, sampler: sampler, configs: EngineConfig.matrix)
                XCTAssertGreaterThan(ref?.logits.map(abs).max() ?? 0, 5, "the sharp model's logits are large")
            }
        }
    }

    /// Every fp32 matmul and every attention variant the binary knows (read from its own error message, so new
    /// variants are covered without editing this test), on the odd shape and on the sharp model, 1 and 2 threads.
    /// The lossy weight formats (`weightFormat` other than f32 in `kernels --json`) are held to their own
    /// tolerances in ModelFileTests and MatmulVariantTests.
    func testEveryVariantMatchesReference() throws {
        let odd = Self.shapes[1]
        let models = [(odd, "\(odd)", try Fixtures.shared.checkpoint(odd), [3, 1, 4, 1, 5, 9, 2, 6], 30),
                      (Self.sharp, "sharp \(Self.sharp)", try Fixtures.shared.sharpCheckpoint(Self.sharp), [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], 24)]
        for (s, label, m, prompt, n) in models {
            var configs: [EngineConfig] = []
            for kind in ["matmul", "attention"] {
                let names = try variantNames(kind, model: m)
                XCTAssertTrue(names.contains("naive"), "\(kind) variants: \(names)")
                for name in names {
                    for threads in [1, 2] { configs.append(EngineConfig(threads: threads, kvCache: true, extra: ["--\(kind)", name])) }
                }
            }
            compare(m, s, label: label, prompt, n: n, sampler: "mult", configs: configs)
        }
    }

    /// The names listed in "unknown <kind> variant '...' (known: a, b, c)".
    private func variantNames(_ kind: String, model: String) throws -> [String] {
        let r = try Subprocess.workbench(["run", "--model", model, "--\(kind)", "no-such-variant", "1"])
        guard let open = r.stderr.range(of: "(known: "), let close = r.stderr[open.upperBound...].firstIndex(of: ")") else {
            XCTFail("cannot read the \(kind) variant list from: \(r.summary)")
            throw TestFailure("no variant list")
        }
        let names = r.stderr[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let listing = try Subprocess.workbench(["kernels", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as! [String: Any]
        let lossy = Set((json[kind] as! [[String: Any]]).filter { ($0["weightFormat"] as? String ?? "f32") != "f32" }.map { $0["name"] as! String })
        return names.filter { !lossy.contains($0) }
    }

    /// The reference itself: its KV-cache path and its full-recompute path give the same tokens, and its
    /// logits do not depend on the path (the first forward is the same prompt pass).
    func testReferenceIsSelfConsistent() throws {
        let s = Self.shapes[1]
        let m = try Fixtures.shared.checkpoint(s)
        let a = try reference(m, [7, 8], n: s.maxT, sampler: "mult")
        let b = try reference(m, [7, 8], n: s.maxT, sampler: "mult", extra: ["--no-kv-cache"])
        XCTAssertEqual(a.tokens.count, s.maxT - 2)
        XCTAssertEqual(a.tokens, b.tokens)
        XCTAssertEqual(a.logits, b.logits)
    }

    /// The two samplers are really different code paths on these models (else the argmax tests prove nothing new).
    func testSamplersDiffer() throws {
        let s = Self.shapes[0]
        let m = try Fixtures.shared.checkpoint(s)
        let mult = try engine(m, [5], n: 20, sampler: "mult", EngineConfig(threads: 1, kvCache: true))
        let arg = try engine(m, [5], n: 20, sampler: "argmax", EngineConfig(threads: 1, kvCache: true))
        XCTAssertNotEqual(mult.tokens, arg.tokens)
    }

    /// The reference rejects bad input the same way the engine does: one line on stderr, exit status 2.
    func testReferenceRejectsBadInput() throws {
        let m = try Fixtures.shared.checkpoint(Self.shapes[2])
        let cases: [[String]] = [
            ["--model", m, "300"],                       // token >= V (257)
            ["--model", m, "--n", "34", "1"],            // n > maxT (33)
            ["--model", m, "--n", "2", "1", "2"],        // prompt >= n
            ["--model", m, "--sampler", "topk", "1"],
            ["--model", m, "x"],
            ["--model", m],
            ["--model", Fixtures.shared.directory, "1"],
            ["--model", Fixtures.shared.path("missing.bin"), "1"],
        ]
        for args in cases {
            let r = try Subprocess.reference(args)
            XCTAssertEqual(r.status, 2, r.summary)
            XCTAssertEqual(r.stdout, "", r.summary)
            XCTAssertEqual(r.stderrLines.count, 1, r.summary)
            XCTAssertTrue(r.stderr.hasPrefix("gpt2_ref.py: "), r.summary)
        }
    }
}
