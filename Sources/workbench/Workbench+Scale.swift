import ArgumentParser
import Bench
import Foundation
import GPT2
import Kernels

extension Workbench {
    /// `workbench scale`: the same workload on 1...N threads; speedup, efficiency, Amdahl fit, usable cores, pinning.
    struct Scale: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a fixed workload on 1...N threads: time, speedup, efficiency, Amdahl serial fraction, usable cores, pinning.")

        @OptionGroup var model: ModelOption
        @Option(help: "Matmul variant.") var matmul: String = MatmulVariants.defaultName
        @Option(help: "Attention variant.") var attention: String = AttentionVariants.defaultName
        @Option(help: "prefill (one forward over --t tokens) or generate (gpt.c's workload: prompt 31373 612, n 10; ids taken mod V).")
        var workload: String = "prefill"
        @Option(help: "Tokens of the prefill workload (default 64, or the model's maxT if smaller).") var t: Int?
        @Option(help: "Largest thread count (default: the usable cores; may exceed them to show oversubscription).")
        var maxThreads: Int?
        @Option(help: "Timed runs per thread count (interleaved across thread counts).") var runs = 5
        @Flag(help: "Skip the pinning comparison.") var noPin = false
        @Flag(help: "Print JSON instead of the table.") var json = false

        func run() throws {
            let N = maxThreads ?? CPUAffinity.usableCores
            guard N >= 1 && N <= 64 else { throw WorkbenchError("--max-threads must be in 1...64, got \(N)") }
            guard runs >= 1 && runs <= 1000 else { throw WorkbenchError("--runs must be in 1...1000, got \(runs)") }
            var base = try EngineSpec.parse("matmul=\(matmul),attention=\(attention),threads=1").options
            base.timers = false
            let ckpt = try model.load()
            let cfg = ckpt.config
            let gpt = GPT2Model(checkpoint: ckpt, options: base)
            let work: () throws -> Void
            let label: String
            switch workload {
            case "prefill":
                let t = self.t ?? min(64, cfg.maxT)
                guard t >= 1 && t <= cfg.maxT else { throw WorkbenchError("--t must be in 1...\(cfg.maxT) (the model's maxT), got \(t)") }
                let tokens = (0..<t).map { Int32(($0 * 7919 + 31373) % cfg.V) }
                work = { gpt.resetCache(); gpt.forward(tokens) }
                label = "prefill T=\(t) (one forward pass)"
            case "generate":
                // gpt.c's prompt, folded into the vocabulary of smaller test models
                let request = try GenerationRequest(words: nil, n: nil, config: cfg)
                work = { gpt.generate(request) }
                label = "generate: prompt \(request.prompt.map(String.init).joined(separator: " ")), n=\(request.n) (KV cache)"
            default:
                throw WorkbenchError("unknown workload '\(workload)' (known: prefill, generate)")
            }
            func configure(_ k: Int, pin: Bool) {
                var o = base; o.threads = k; o.pin = pin
                gpt.configure(o)
            }
            func timeOnce() throws -> Double {
                let s = monotonicNanos(); try work(); return Double(monotonicNanos() - s) / 1e9
            }
            // warm-up on every thread count, then interleaved rounds
            var points = (1...N).map { ScalingPoint(threads: $0, seconds: []) }
            for k in 1...N { configure(k, pin: false); try work() }
            for r in 0..<runs {
                for k in (r % 2 == 0 ? Array(1...N) : Array((1...N).reversed())) {
                    configure(k, pin: false)
                    points[k - 1].seconds.append(try timeOnce())
                }
                if !json { FileHandle.standardError.write(Data("\rscale: round \(r + 1)/\(runs)".utf8)) }
            }
            if !json { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let t1 = points[0].median
            let speedups = points.map { (threads: $0.threads, speedup: t1 / $0.median) }
            // fit Amdahl's law over the thread counts the machine can run at once (not the oversubscribed ones)
            let cores = CPUAffinity.usableCores
            let f = Scaling.amdahlSerialFraction(speedups: speedups.filter { $0.threads <= cores })

            // usable cores: N workers each doing the same CPU-bound work, vs one worker doing it alone
            let probeIters = 20_000_000
            let probePool = WorkerPool(count: N)
            func probe(_ k: Int) -> Double {
                var best = Double.infinity
                for _ in 0..<3 {
                    let s = monotonicNanos()
                    probePool.run { ith, _ in if ith < k { _ = Scaling.cpuBoundWork(iterations: probeIters) } }
                    best = min(best, Double(monotonicNanos() - s) / 1e9)
                }
                return best
            }
            let probe1 = probe(1), probeN = probe(N)
            let usable = Scaling.usableCores(threads: N, singleSeconds: probe1, parallelSeconds: probeN)
            let taskThreads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
            var warnings: [String] = []
            let expected = 1 + (N - 1) + (gpt.pool.count - 1)  // main + the probe pool's workers + the model pool's
            if base.matmul.values.contains(where: { $0.name == "blas" }) {
                warnings.append("the blas matmul runs on OpenBLAS's own threads (this process has \(taskThreads) threads where the pools account for \(expected)): they compete with the workers and spoil both the scaling and the usable-core estimate; set OPENBLAS_NUM_THREADS=1 or pick another variant")
            } else if taskThreads > expected {
                warnings.append("\(taskThreads - expected) thread(s) besides the pools exist (e.g. OpenBLAS's, started when the library loads); they idle unless the blas variant runs, but check with `top -H` if the numbers look wrong")
            }

            // pinning: the largest thread count, pinned vs not, interleaved
            var pinned: [Double] = [], unpinned: [Double] = []
            if !noPin && N > 1 {
                for _ in 0..<max(3, runs) {
                    configure(N, pin: false); unpinned.append(try timeOnce())
                    configure(N, pin: true); pinned.append(try timeOnce())
                }
                configure(1, pin: false)
            }
            let report = ScaleReport(workload: label, engine: base.summary, points: points, serialFraction: f,
                                     usableCores: usable, probeSingleSeconds: probe1, probeParallelSeconds: probeN,
                                     cpusReported: ProcessInfo.processInfo.activeProcessorCount,
                                     pinnedSeconds: pinned, unpinnedSeconds: unpinned, warnings: warnings)
            if json {
                let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try enc.encode(report), as: UTF8.self))
            } else {
                print(report.text())
            }
        }
    }
}

/// What `workbench scale` measured (its `--json`).
struct ScaleReport: Codable {
    var workload: String
    var engine: String
    var points: [ScalingPoint]
    var serialFraction: Double?
    var usableCores: Double
    var probeSingleSeconds: Double
    var probeParallelSeconds: Double
    var cpusReported: Int
    var pinnedSeconds: [Double]
    var unpinnedSeconds: [Double]
    var warnings: [String]

    func text() -> String {
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
