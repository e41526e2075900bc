import ArgumentParser
import Bench
import Foundation
import GPT2
import Kernels
import Lab

extension Workbench {
    /// `workbench tune`: the fastest correct variant for each matmul site and for attention, stored for `--kernels auto`.
    struct Tune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pick the fastest correct kernel variant per matmul shape and for attention on this machine; `--kernels auto` uses the choice.",
            discussion: """
            For each of the model's matmul sites (qkv, attproj, fc, fcproj, lmhead) and for attention, at each token
            count of --t (1 = one decode step over 63 cached positions, larger = a prefill), every variant is first
            checked against naive (normalised error max |x - ref| / max |ref| within the variant's tolerance, 1e-4 for float32), run the engine's way (split across --threads
            workers). Variants more than 3x slower than the best in a screening (best of 3 calls) are dropped; the rest are
            timed interleaved (Bench's runner) and the variant with the smallest geometric mean of (median / best median)
            over the token counts wins. The choice goes to Profiles/tune.json (or --out) with the machine's fingerprint.
            """)

        @OptionGroup var model: ModelOption
        @Option(help: "Comma-separated token counts to tune for.") var t: String = "1,64"
        @Option(help: "Workers (default: the usable cores), as the engine will run.") var threads: Int?
        @Option(help: "Seconds of timing per site and token count.") var budget: Double = 0.4
        @Option(help: "Where to store the choice.") var out: String = TuningFile.defaultPath
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let ts = try t.split(separator: ",").map { s -> Int in
                guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v >= 1, v <= 4096 else {
                    throw WorkbenchError("--t wants token counts in 1...4096 separated by commas, got '\(t)'")
                }
                return v
            }
            if ts.isEmpty { throw WorkbenchError("--t wants at least one token count") }
            guard budget > 0 && budget <= 600 else { throw WorkbenchError("--budget must be in (0, 600] seconds") }
            let k = threads ?? CPUAffinity.usableCores
            guard k >= 1 && k <= 256 else { throw WorkbenchError("--threads must be in 1...256, got \(k)") }
            let config = try model.load().config
            let pool = WorkerPool(count: k)
            var options = RunnerOptions()
            options.minimumRuns = 10
            options.budgetSeconds = budget
            options.warmupSeconds = 0.05

            var file = TuningFile(fingerprint: Bench.Machine.fingerprint(), date: ISO8601DateFormatter().string(from: Date()),
                                  threads: k, tokenCounts: ts, model: "L=\(config.L) C=\(config.C) NH=\(config.NH) V=\(config.V)",
                                  config: config, attention: AttentionVariants.reference.name)
            for site in MatmulSite.allCases {
                let (OC, C) = site.shape(config)
                var medians: [[String: Double]] = []
                for T in ts {
                    note("tune: matmul \(site.rawValue) T=\(T) C=\(C) OC=\(OC)")
                    let p = MatmulProblem(T: T, C: C, OC: OC)
                    let candidates = MatmulVariants.all.filter { (v: MatmulVariant) -> Bool in
                        let e = p.check(v, pool: pool)
                        file.measurements.append(TuningFile.Measurement(kernel: "matmul", site: site.rawValue, T: T, variant: v.name,
                                                       correct: e.passes(v.tolerance), maxRelError: e.normalised))
                        return e.passes(v.tolerance)
                    }
                    let args = p.args()
                    let m = Tune.time(candidates.map { v in (v.name, { v.run(args, on: pool) }) }, options: options)
                    medians.append(m)
                    file.record(kernel: "matmul", site: site.rawValue, T: T, medians: m)
                }
                file.matmul[site.rawValue] = Tune.best(medians)
            }
            var medians: [[String: Double]] = []
            for T in ts {
                let pos0 = T == 1 ? 63 : 0
                note("tune: attention T=\(T) pos0=\(pos0) C=\(config.C) NH=\(config.NH)")
                let p = AttentionProblem(T: T, C: config.C, NH: config.NH, pos0: min(pos0, config.maxT - T), workers: k)
                let candidates = AttentionVariants.all.filter { (v: AttentionVariant) -> Bool in
                    let e = p.check(v, pool: pool)
                    file.measurements.append(TuningFile.Measurement(kernel: "attention", site: nil, T: T, variant: v.name,
                                                   correct: e.passes(v.tolerance), maxRelError: e.normalised))
                    return e.passes(v.tolerance)
                }
                let args = p.args()
                let m = Tune.time(candidates.map { v in (v.name, { v.run(args, on: pool) }) }, options: options)
                medians.append(m)
                file.record(kernel: "attention", site: nil, T: T, medians: m)
            }
            file.attention = Tune.best(medians)
            try file.save(to: out)
            if json {
                let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try enc.encode(file), as: UTF8.self))
            } else {
                print(file.text())
                print("saved to \(out); use it with `--kernels auto`")
            }
        }

        /// Screens the candidates by their best of three calls (after one warm-up call), drops those over 3x the best,
        /// times the rest interleaved, and returns median nanoseconds by name.
        static func time(_ candidates: [(String, () -> Void)], options: RunnerOptions) -> [String: Double] {
            guard !candidates.isEmpty else { return [:] }
            var screen: [Double] = []
            for (_, body) in candidates {
                body()
                var best = Double.infinity
                for _ in 0..<3 { let s = monotonicNanos(); body(); best = min(best, Double(monotonicNanos() - s)) }
                screen.append(best)
            }
            let fastest = screen.min()!
            let kept = zip(candidates, screen).filter { $0.1 <= 3 * fastest }.map(\.0)
            let samples = Runner(options: options).run(kept.map { c in Benchmark(name: c.0, body: c.1) })
            var out: [String: Double] = [:]
            for s in samples { out[s.name] = Stats.median(s.nanoseconds) }
            return out
        }

        /// The name with the smallest geometric mean of median / best median over the token counts (a variant
        /// missing at any token count — wrong, or dropped by the screening — is out).
        static func best(_ medians: [[String: Double]]) -> String? {
            guard let first = medians.first else { return nil }
            var bestName: String?, bestScore = Double.infinity
            for name in first.keys.sorted() {
                var logSum = 0.0, ok = true
                for m in medians {
                    guard let v = m[name], let b = m.values.min(), b > 0 else { ok = false; break }
                    logSum += Foundation.log(v / b)
                }
                if ok && logSum < bestScore { bestScore = logSum; bestName = name }
            }
            return bestName
        }
    }
}
