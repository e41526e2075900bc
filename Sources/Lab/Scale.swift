// `workbench scale` as a library function: one workload (a prefill or gpt.c's generation) on 1...N threads,
// interleaved rounds; speedup, efficiency, an Amdahl fit over the thread counts the machine can run at once, a
// CPU-bound probe of how many cores are really usable, and pinned against unpinned at N threads.
import Bench
import Foundation
import GPT2
import Kernels

public struct ScaleSettings: Sendable {
    public enum Workload: Sendable, Equatable {
        /// One forward pass over T tokens (nil: 64, or the model's maxT if smaller).
        case prefill(T: Int?)
        /// gpt.c's workload: prompt 31373 612 (folded into the vocabulary), n 10, with the KV cache.
        case generate
    }
    public var workload: Workload
    /// The largest thread count (may exceed the usable cores to show oversubscription).
    public var maxThreads: Int
    /// Timed runs per thread count.
    public var runs: Int
    /// Whether to compare pinned and unpinned workers at maxThreads.
    public var pinning: Bool

    /// Checks the ranges (maxThreads 1...64, runs 1...1000); `workload` is "prefill" or "generate".
    public init(workload: String, T: Int?, maxThreads: Int, runs: Int, pinning: Bool) throws {
        guard maxThreads >= 1 && maxThreads <= 64 else { throw LabError("--max-threads must be in 1...64, got \(maxThreads)") }
        guard runs >= 1 && runs <= 1000 else { throw LabError("--runs must be in 1...1000, got \(runs)") }
        switch workload {
        case "prefill": self.workload = .prefill(T: T)
        case "generate": self.workload = .generate
        default: throw LabError("unknown workload '\(workload)' (known: prefill, generate)")
        }
        self.maxThreads = maxThreads; self.runs = runs; self.pinning = pinning
    }
}

/// What `workbench scale` measured (its --json).
public struct ScaleReport: Codable, Sendable {
    public static let currentSchema = 1
    public var schema: Int
    public var workload: String
    public var engine: String
    public var points: [ScalingPoint]
    public var serialFraction: Double?
    public var usableCores: Double
    public var probeSingleSeconds: Double
    public var probeParallelSeconds: Double
    public var cpusReported: Int
    public var pinnedSeconds: [Double]
    public var unpinnedSeconds: [Double]
    public var warnings: [String]

    public var text: String {
        var s = "workload: \(workload)\nengine:   \(engine.replacingOccurrences(of: " threads=1", with: ""))\n\n"
        s += "threads   median ms      min ms      max ms   speedup   efficiency   Amdahl\n"
        let t1 = points[0].median
        for p in points {
            let sp = t1 / p.median
            let am = serialFraction.map { String(format: "%8.2fx", Scaling.amdahlSpeedup(serialFraction: $0, threads: p.threads)) } ?? "       -"
            s += String(format: "%7d %11.2f %11.2f %11.2f %8.2fx %11.0f%% %@\n", p.threads, p.median * 1e3,
                        (p.seconds.min() ?? .nan) * 1e3, (p.seconds.max() ?? .nan) * 1e3, sp,
                        100 * sp / Double(p.threads), am as NSString)
        }
        if let f = serialFraction {
            s += String(format: "\nAmdahl fit (thread counts up to the usable CPUs): serial fraction %.3f (max speedup %.1fx)\n", f, f > 0 ? 1 / f : Double.infinity)
        } else {
            s += "\nAmdahl fit: needs at least 2 thread counts\n"
        }
        let n = points.last!.threads
        s += String(format: "usable cores: %.2f (CPU-bound probe: 1 worker %.1f ms, %d workers %.1f ms for %d times the work; the OS reports %d CPUs)\n",
                    usableCores, probeSingleSeconds * 1e3, n, probeParallelSeconds * 1e3, n, cpusReported)
        if !pinnedSeconds.isEmpty {
            let a = ScalingPoint(threads: n, seconds: unpinnedSeconds).median, b = ScalingPoint(threads: n, seconds: pinnedSeconds).median
            let p = Stats.mannWhitney(unpinnedSeconds, pinnedSeconds)?.p ?? 1
            let verdict = p < 0.05 ? (b < a ? "pinning helps" : "pinning hurts") : "no significant difference"
            s += String(format: "pinning (%d threads): unpinned median %.2f ms, pinned %.2f ms, ratio %.3f, Mann-Whitney p = %.3f: %@\n",
                        n, a * 1e3, b * 1e3, b / a, p, verdict as NSString)
        }
        for w in warnings { s += "warning: \(w)\n" }
        return s
    }
}

public enum Scaler {
    /// Runs the workload of `settings` on `weights` with the engine options `base` (its threads and pinning
    /// are varied; a converted file's format replaces the default variant); the generate workload runs
    /// `request` (nil: gpt.c's). `round(r, runs)` hears each finished round.
    public static func run(weights: ModelWeights, base: EngineOptions, settings s: ScaleSettings, request: GenerationRequest? = nil,
                           round: (Int, Int) -> Void = { _, _ in }) throws -> ScaleReport {
        var base = weights.nativeOptions(base)
        base.timers = false; base.threads = 1; base.pin = false
        let cfg = weights.config
        let gpt = GPT2Model(weights: weights, options: base)
        let work: () -> Void
        let label: String
        switch s.workload {
        case .prefill(let T):
            let t = T ?? min(64, cfg.maxT)
            guard t >= 1 && t <= cfg.maxT else { throw LabError("--t must be in 1...\(cfg.maxT) (the model's maxT), got \(t)") }
            let tokens = (0..<t).map { Int32(($0 * 7919 + 31373) % cfg.V) }
            work = { gpt.resetCache(); gpt.forward(tokens) }
            label = "prefill T=\(t) (one forward pass)"
        case .generate:
            let request = try request ?? GenerationRequest(words: nil, n: nil, config: cfg)
            try gpt.generate(request)  // once checked (non-finite logits throw), then timed
            work = { _ = try? gpt.generate(request) }
            label = "generate: prompt \(request.prompt.map(String.init).joined(separator: " ")), n=\(request.n) (KV cache)"
        }
        let N = s.maxThreads
        func configure(_ k: Int, pin: Bool) {
            var o = base; o.threads = k; o.pin = pin
            gpt.configure(o)
        }
        func timeOnce() -> Double { let t0 = monotonicNanos(); work(); return secondsSince(t0) }
        // warm-up on every thread count, then interleaved rounds (ascending, then descending, ...)
        var points = (1...N).map { ScalingPoint(threads: $0, seconds: []) }
        for k in 1...N { configure(k, pin: false); work() }
        for r in 0..<s.runs {
            for k in (r % 2 == 0 ? Array(1...N) : Array((1...N).reversed())) {
                configure(k, pin: false)
                points[k - 1].seconds.append(timeOnce())
            }
            round(r + 1, s.runs)
        }
        let t1 = points[0].median
        let cores = CPUAffinity.usableCores
        // fit Amdahl's law over the thread counts the machine can run at once (not the oversubscribed ones)
        let f = Scaling.amdahlSerialFraction(speedups: points.filter { $0.threads <= cores }.map { (threads: $0.threads, speedup: t1 / $0.median) })

        // usable cores: N workers each doing the same CPU-bound work, vs one worker doing it alone
        let probePool = WorkerPool(count: N)
        func probe(_ k: Int) -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                let t0 = monotonicNanos()
                probePool.run { ith, _ in if ith < k { _ = Scaling.cpuBoundWork(iterations: 20_000_000) } }
                best = min(best, secondsSince(t0))
            }
            return best
        }
        let probe1 = probe(1), probeN = probe(N)
        let usable = Scaling.usableCores(threads: N, singleSeconds: probe1, parallelSeconds: probeN)
        let taskThreads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
        var warnings: [String] = []
        let expected = 1 + (N - 1) + (gpt.pool.count - 1)  // main + the probe pool's workers + the model pool's
        if base.matmul.values.contains(where: { $0.ownThreads != nil && $0.name == "blas" }) {
            warnings.append("the blas matmul runs on OpenBLAS's own threads (this process has \(taskThreads) threads where the pools account for \(expected)): they compete with the workers and spoil both the scaling and the usable-core estimate; set OPENBLAS_NUM_THREADS=1 or pick another variant")
        } else if taskThreads > expected {
            warnings.append("\(taskThreads - expected) thread(s) besides the pools exist (e.g. OpenBLAS's, started when the library loads); they idle unless the blas variant runs, but check with `top -H` if the numbers look wrong")
        }

        // pinning: the largest thread count, pinned vs not, interleaved
        var pinned: [Double] = [], unpinned: [Double] = []
        if s.pinning && N > 1 {
            for _ in 0..<max(3, s.runs) {
                configure(N, pin: false); unpinned.append(timeOnce())
                configure(N, pin: true); pinned.append(timeOnce())
            }
            configure(1, pin: false)
        }
        return ScaleReport(schema: ScaleReport.currentSchema, workload: label, engine: base.summary, points: points,
                           serialFraction: f, usableCores: usable, probeSingleSeconds: probe1, probeParallelSeconds: probeN,
                           cpusReported: ProcessInfo.processInfo.activeProcessorCount,
                           pinnedSeconds: pinned, unpinnedSeconds: unpinned, warnings: warnings)
    }
}
