// `workbench compare` as library functions: two kernel variants (matmul or attention, through one generic
// path) or two engine configurations, each side checked against the reference (or against A's tokens),
// then timed interleaved with Bench's runner and compared (bootstrap interval, Mann-Whitney U, verdict).
// Matmul timings read their weights from memory (`ColdWeights`), as a forward pass does, and a plain stream read
// of the same copies is timed in the same rounds: the bandwidth figures' 100 % line is the larger of it and
// `workbench machine`'s, so a shared machine's load cannot make a result look impossible (or possible).
import Bench
import Foundation
import GPT2
import Kernels

/// The two variants `compare` was given as kernel:variant.
public enum KernelPair {
    case matmul(MatmulVariant, MatmulVariant)
    case attention(AttentionVariant, AttentionVariant)

    /// Parses `matmul:NAME` / `attention:NAME` pairs of the same kernel (a matmul NAME may be a shared
    /// library, `matmul:./libmine.so[:SYMBOL]`).
    public static func parse(_ a: String, _ b: String) throws -> KernelPair {
        let (ka, va) = try split(a), (kb, vb) = try split(b)
        if ka != kb { throw LabError("A and B must be variants of the same kernel, got \(ka) and \(kb)") }
        if ka == "matmul" { return .matmul(try MatmulVariants.resolve(va), try MatmulVariants.resolve(vb)) }
        return .attention(try AttentionVariants.resolve(va), try AttentionVariants.resolve(vb))
    }

    /// "matmul:./lib.so:sym" -> ("matmul", "./lib.so:sym"): the kernel before the first colon.
    static func split(_ s: String) throws -> (String, String) {
        guard let colon = s.firstIndex(of: ":"), s.index(after: colon) < s.endIndex else {
            throw LabError("'\(s)' is not kernel:variant (e.g. matmul:naive, attention:naive)")
        }
        let kernel = String(s[..<colon]), variant = String(s[s.index(after: colon)...])
        guard ["matmul", "attention"].contains(kernel) else {
            throw LabError("unknown kernel '\(kernel)' in '\(s)' (known: matmul, attention)")
        }
        return (kernel, variant)
    }
}

/// Largest buffer (floats) a comparison may allocate for one tensor: 1 Gi floats = 4 GiB.
let maxFloats = 1 << 30

/// A matmul shape: one of the 124M model's sites at T tokens, or explicit T, C, OC.
public struct MatmulShape: Codable, Equatable, Sendable {
    public var T: Int, C: Int, OC: Int
    public var site: String?

    public init(T: Int, C: Int, OC: Int, site: String? = nil) throws {
        guard T >= 1, C >= 1, OC >= 1 else { throw LabError("matmul shape T=\(T) C=\(C) OC=\(OC): every dimension must be positive") }
        let big = [T.multipliedReportingOverflow(by: C), C.multipliedReportingOverflow(by: OC), T.multipliedReportingOverflow(by: OC)]
        if big.contains(where: { $0.overflow || $0.partialValue > maxFloats }) {
            throw LabError("matmul shape T=\(T) C=\(C) OC=\(OC) is too large (each tensor must fit in \(maxFloats) floats)")
        }
        self.T = T; self.C = C; self.OC = OC; self.site = site
    }

    /// `--shape` (a site name, default qkv, or T,C,OC) with `--t` (default 64; only with a site).
    public static func parse(_ shape: String?, T: Int?) throws -> MatmulShape {
        let s = shape ?? "qkv"
        if let site = MatmulSite(rawValue: s) {
            let t = T ?? 64
            if t < 1 || t > 65536 { throw LabError("--t must be in 1...65536, got \(t)") }
            let (oc, c) = site.shape(GPT2Config.gpt2_124M)
            return try MatmulShape(T: t, C: c, OC: oc, site: site.rawValue)
        }
        let dims = s.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard dims.count == 3, let t = dims[0], let c = dims[1], let oc = dims[2] else {
            throw LabError("--shape '\(s)' is neither a site (\(MatmulSite.allCases.map(\.rawValue).joined(separator: ", "))) nor T,C,OC (three integers)")
        }
        if T != nil { throw LabError("--t contradicts --shape T,C,OC: give T in one place") }
        return try MatmulShape(T: t, C: c, OC: oc)
    }
}

/// An attention shape: T new positions after pos0 cached ones, C channels, NH heads.
public struct AttentionShape: Codable, Equatable, Sendable {
    public var T: Int, C: Int, NH: Int, pos0: Int

    /// Checks the shape (defaults T 64, C 768, NH 12, pos0 0).
    public init(T: Int? = nil, C: Int? = nil, NH: Int? = nil, pos0: Int? = nil) throws {
        let (t, c, nh, p) = (T ?? 64, C ?? 768, NH ?? 12, pos0 ?? 0)
        guard t >= 1, c >= 1, nh >= 1, p >= 0 else {
            throw LabError("attention shape T=\(t) C=\(c) NH=\(nh) pos0=\(p): T, C and NH must be positive and pos0 >= 0")
        }
        if c % nh != 0 { throw LabError("--c \(c) is not divisible by --nh \(nh)") }
        let rows = p.addingReportingOverflow(t)
        let qkv = rows.partialValue.multipliedReportingOverflow(by: 3 * c)
        if rows.overflow || qkv.overflow || qkv.partialValue > maxFloats || t > 1 << 20 {
            throw LabError("attention shape T=\(t) C=\(c) pos0=\(p) is too large")
        }
        self.T = t; self.C = c; self.NH = nh; self.pos0 = p
    }
}

/// How long `compare` times: at least `runs` samples of each side and at least `budget` seconds.
public struct CompareTiming: Sendable {
    public var runs: Int?
    public var budget: Double?

    /// Checks the ranges (runs 1...1000000, budget 0...86400 s).
    public init(runs: Int? = nil, budget: Double? = nil) throws {
        if let r = runs, !(1...1_000_000).contains(r) { throw LabError("--runs must be in 1...1000000, got \(r)") }
        if let b = budget, !(b >= 0 && b <= 86400) { throw LabError("--budget must be in 0...86400 seconds, got \(b)") }
        self.runs = runs; self.budget = budget
    }

    /// The runner's options: 10 runs and 2 s for kernels by default; engines (and --runs alone) no budget.
    public func runner(engine: Bool) -> RunnerOptions {
        var o = RunnerOptions()
        o.minimumRuns = runs ?? 10
        o.budgetSeconds = budget ?? (engine || runs != nil ? 0 : 2)
        o.maximumRuns = max(1000, o.minimumRuns)
        if engine { o.warmupCalls = 1; o.warmupSeconds = 0 } // the token check already ran both once
        return o
    }
}

public enum Comparisons {
    /// The generic comparison: both cases checked (each against its own tolerance), then, when both are
    /// correct, timed interleaved and compared. `threads` is the `--threads` the cases were made with.
    /// `streams` (threads -> one stream read of the weights, e.g. `ColdWeights.streamRead`) are timed in the same
    /// rounds, as this run's 100 % lines of the bandwidth figures.
    public static func kernels(_ a: KernelCase, _ b: KernelCase, work: KernelWork, threads: Int, runner: RunnerOptions,
                               machine: MachineInfo, streams: [Int: () -> Void] = [:],
                               progress: ((RunnerProgress) -> Void)? = nil) -> CompareReport {
        let ea = a.check(), eb = b.check()
        var sa = CompareReport.Side(spec: a.spec, threads: a.threads, correct: ea.passes(a.tolerance), tolerance: a.tolerance, error: ea)
        var sb = CompareReport.Side(spec: b.spec, threads: b.threads, correct: eb.passes(b.tolerance), tolerance: b.tolerance, error: eb)
        var comparison: Comparison?
        var rates: [CompareReport.StreamRate] = []
        if sa.correct && sb.correct {
            let yardsticks = streams.sorted { $0.key < $1.key }
            let samples = Runner(options: runner).run([Benchmark(name: "A " + a.name, body: a.call),
                                                      Benchmark(name: "B " + b.name, body: b.call)]
                                                     + yardsticks.map { Benchmark(name: "stream x\($0.key)", body: $0.value) },
                                                     progress: progress)
            if let bytes = work.weightBytes {
                for (i, y) in yardsticks.enumerated() {
                    if let med = Stats.median(samples[2 + i].nanoseconds), med > 0 { rates.append(.init(threads: y.key, gbs: bytes / med)) }
                }
            }
            func stream(_ k: Int) -> Double? { rates.first { $0.threads == k }?.gbs }
            sa.measured(samples[0], flops: work.flops, bytes: a.weightBytes ?? work.weightBytes, machine: machine, streamGBs: stream(sa.threads))
            sb.measured(samples[1], flops: work.flops, bytes: b.weightBytes ?? work.weightBytes, machine: machine, streamGBs: stream(sb.threads))
            comparison = Comparison(a: samples[0], b: samples[1])
        }
        return CompareReport(kind: work.kind, title: work.title + ", --threads \(threads)", shape: work.shape, site: work.site,
                             tolerance: max(a.tolerance, b.tolerance), threads: threads, a: sa, b: sb,
                             wrong: !(sa.correct && sb.correct), comparison: comparison,
                             runner: comparison == nil ? nil : runner, weights: work.weights,
                             streams: rates.isEmpty ? nil : rates, machine: machine)
    }

    /// Two matmul variants on `shape` (random inputs from `seed`), each run its own way (`runStandalone`) on a
    /// pool of `threads`, every timed call on the next of enough weight copies to exceed the last-level cache.
    public static func matmul(_ va: MatmulVariant, _ vb: MatmulVariant, shape m: MatmulShape, threads: Int, seed: UInt64,
                              runner: RunnerOptions, machine: MachineInfo, progress: ((RunnerProgress) -> Void)? = nil) -> CompareReport {
        let p = MatmulProblem(T: m.T, C: m.C, OC: m.OC, seed: seed)
        let pool = WorkerPool(count: threads)
        let cold = ColdWeights(p.weight, lastLevelCache: machine.lastLevelCacheBytes)
        let a = KernelCase.matmul(va, on: p, pool: pool, way: .standalone, weights: cold)
        let b = KernelCase.matmul(vb, on: p, pool: pool, way: .standalone, weights: cold)
        // this run's stream read of the same copies, on as many threads as each side uses
        var streams: [Int: () -> Void] = [:]
        for k in Set([a.threads, b.threads]) { streams[k] = cold.streamRead(on: k == pool.count ? pool : WorkerPool(count: k)) }
        return kernels(a, b, work: .matmul(p, site: m.site, weights: cold), threads: threads, runner: runner, machine: machine,
                       streams: streams, progress: progress)
    }

    /// Two attention variants on `shape` (random KV cache from `seed`) on a pool of `threads`.
    public static func attention(_ va: AttentionVariant, _ vb: AttentionVariant, shape s: AttentionShape, threads: Int, seed: UInt64,
                                 runner: RunnerOptions, machine: MachineInfo, progress: ((RunnerProgress) -> Void)? = nil) -> CompareReport {
        let p = AttentionProblem(T: s.T, C: s.C, NH: s.NH, pos0: s.pos0, workers: threads, seed: seed)
        let pool = WorkerPool(count: threads)
        let a = KernelCase.attention(va, on: p, pool: pool, way: .standalone)
        let b = KernelCase.attention(vb, on: p, pool: pool, way: .standalone)
        return kernels(a, b, work: .attention(p), threads: threads, runner: runner, machine: machine, progress: progress)
    }

    /// Two engine configurations generating `request` on `weights` (a converted file's format replaces the
    /// default variant on both sides): B must produce A's tokens (the check, which also warms both up), then
    /// whole generations are timed interleaved. When the sides' weight formats differ (a lossy bf16/q8/q4 site
    /// on one side), tokens are not expected to be equal: B's accuracy against A is measured instead (`accuracyLength` teacher-forced
    /// positions, greedy agreement over the request's generated tokens) and B is wrong only with non-finite
    /// logits. The bandwidth figure counts every forward pass reading all the weights once (a lower bound).
    public static func engines(_ ea: EngineSpec, _ eb: EngineSpec, weights: ModelWeights, request: GenerationRequest,
                               accuracyLength: Int = 64, runner: RunnerOptions, machine: MachineInfo,
                               progress: ((RunnerProgress) -> Void)? = nil) throws -> CompareReport {
        let oa = weights.nativeOptions(ea.options), ob = weights.nativeOptions(eb.options)
        let gpt = GPT2Model(weights: weights, options: oa)
        let tokA = try gpt.generate(request)
        gpt.configure(ob)
        let lossy = oa.weightFormats != ob.weightFormats
        var accuracy: ModelAccuracy?
        let tokB: [Int32]
        do { tokB = try gpt.generate(request) } catch let e as GenerationError where lossy {
            throw GenerationError("B (\(ob.summary)): \(e)")
        }
        if lossy {
            let reference = GPT2Model(weights: weights, options: oa)
            let sequence = accuracySequence(min(accuracyLength, weights.config.maxT - 1), vocabulary: weights.config.V)
            accuracy = try ModelAccuracyRun.measure(reference: reference, candidate: gpt, sequence: sequence, greedyPrompt: request.prompt,
                                                    greedy: request.n - request.prompt.count)
        }
        var a = CompareReport.Side(spec: oa.summary, threads: oa.threads, correct: true, tokens: tokA)
        var b = CompareReport.Side(spec: ob.summary, threads: ob.threads, correct: lossy || tokA == tokB, tokens: tokB)
        let passes = request.n - request.prompt.count
        // each side's bytes: the weights in the formats its variants read
        let bytesA = Double(weights.streamedBytes(formats: oa.weightFormats)), bytesB = Double(weights.streamedBytes(formats: ob.weightFormats))
        var comparison: Comparison?
        if b.correct {
            let samples = Runner(options: runner).run([
                Benchmark(name: "A", setUp: { gpt.configure(oa) }) { _ = try? gpt.generate(request) },
                Benchmark(name: "B", setUp: { gpt.configure(ob) }) { _ = try? gpt.generate(request) },
            ], progress: progress)
            a.measured(samples[0], flops: nil, bytes: bytesA * Double(passes), machine: machine)
            b.measured(samples[1], flops: nil, bytes: bytesB * Double(passes), machine: machine)
            comparison = Comparison(a: samples[0], b: samples[1])
        }
        let title = "engine: generate n=\(request.n) from prompt \(request.prompt.map(String.init).joined(separator: " ")) (\(passes) forward passes, weights \(mebibytes(bytesA))\(bytesB != bytesA ? " (A), \(mebibytes(bytesB)) (B)" : "") each)"
        var report = CompareReport(kind: "engine", title: title, shape: ["n": request.n, "prompt": request.prompt.count, "forwardPasses": passes],
                                   site: nil, tolerance: 0, threads: oa.threads, a: a, b: b, wrong: !b.correct,
                                   comparison: comparison, runner: comparison == nil ? nil : runner, weights: nil, machine: machine)
        report.accuracy = accuracy
        return report
    }
}
