// `workbench tune` as a library function: for each matmul site of the model and for attention, at each token
// count, every variant is checked against the reference (the engine's way, split across the pool), screened,
// timed interleaved, and the variant with the smallest geometric mean of (median / best median) over the
// token counts is chosen. Matmul timings read their weights from memory (`ColdWeights`): a weight that
// stays in the L3 between calls made `blas` look fastest at attproj T=1.
import Bench
import Foundation
import GPT2
import Kernels

public struct TuneSettings: Sendable {
    /// Token counts to tune for (1 = one decode step over 63 cached positions, larger = a prefill).
    public var tokenCounts: [Int]
    /// Workers, as the engine will run.
    public var threads: Int
    /// Seconds of timing per site and token count.
    public var budget: Double
    /// Matmul variants to try besides the registry's (e.g. shared libraries named with --matmul).
    public var extraMatmul: [MatmulVariant]

    /// Checks the ranges: token counts in 1...4096 (at least one), threads 1...256, budget (0, 600] s.
    public init(tokenCounts: [Int], threads: Int, budget: Double, extraMatmul: [MatmulVariant] = []) throws {
        if tokenCounts.isEmpty { throw LabError("--t wants at least one token count") }
        if let bad = tokenCounts.first(where: { !(1...4096).contains($0) }) {
            throw LabError("--t wants token counts in 1...4096 separated by commas, got \(bad)")
        }
        guard budget > 0 && budget <= 600 else { throw LabError("--budget must be in (0, 600] seconds") }
        guard threads >= 1 && threads <= 256 else { throw LabError("--threads must be in 1...256, got \(threads)") }
        self.tokenCounts = tokenCounts; self.threads = threads; self.budget = budget; self.extraMatmul = extraMatmul
    }

    /// Parses "1,64".
    public static func tokenCounts(_ text: String) throws -> [Int] {
        try text.split(separator: ",").map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)) else {
                throw LabError("--t wants token counts in 1...4096 separated by commas, got '\(text)'")
            }
            return v
        }
    }
}

public enum Tuner {
    /// Tunes every matmul site and attention of a model of shape `config` on this machine (`fingerprint`,
    /// `lastLevelCache` for the weight copies); `log` hears each step.
    public static func tune(config: GPT2Config, settings s: TuneSettings, fingerprint: String, lastLevelCache: Int?,
                            date: Date = Date(), log: (String) -> Void = { _ in }) -> TuningFile {
        let pool = WorkerPool(count: s.threads)
        var options = RunnerOptions()
        options.minimumRuns = 10
        options.budgetSeconds = s.budget
        options.warmupSeconds = 0.05
        var file = TuningFile(fingerprint: fingerprint, date: ISO8601DateFormatter().string(from: date),
                              threads: s.threads, tokenCounts: s.tokenCounts,
                              model: "L=\(config.L) C=\(config.C) NH=\(config.NH) V=\(config.V)",
                              config: config, attention: AttentionVariants.reference.name)
        // The lossy weight formats (bf16, q8, q4) are not candidates: `--kernels auto` must not trade accuracy for
        // speed behind the user's back (they are chosen by name, or by a converted model file).
        let matmulVariants = MatmulVariants.all.filter { !$0.isLossy } + s.extraMatmul.filter { x in !MatmulVariants.all.contains { $0.name == x.name } }
        for site in MatmulSite.allCases {
            let (OC, C) = site.shape(config)
            var medians: [[String: Double]] = []
            for T in s.tokenCounts {
                log("tune: matmul \(site.rawValue) T=\(T) C=\(C) OC=\(OC)")
                let p = MatmulProblem(T: T, C: C, OC: OC)
                let cold = ColdWeights(p.weight, lastLevelCache: lastLevelCache)
                let cases = matmulVariants.map { KernelCase.matmul($0, on: p, pool: pool, way: .engine, weights: cold) }
                let m = measure(cases, kernel: "matmul", site: site.rawValue, T: T, file: &file, options: options)
                medians.append(m)
            }
            file.matmul[site.rawValue] = best(medians)
        }
        var medians: [[String: Double]] = []
        for T in s.tokenCounts {
            let pos0 = min(T == 1 ? 63 : 0, max(0, config.maxT - T))
            log("tune: attention T=\(T) pos0=\(pos0) C=\(config.C) NH=\(config.NH)")
            let p = AttentionProblem(T: T, C: config.C, NH: config.NH, pos0: pos0, workers: s.threads)
            let cases = AttentionVariants.all.map { KernelCase.attention($0, on: p, pool: pool, way: .engine) }
            medians.append(measure(cases, kernel: "attention", site: nil, T: T, file: &file, options: options))
        }
        file.attention = best(medians)
        return file
    }

    /// Checks every case (recording each in `file`), times the correct ones and records their medians.
    static func measure(_ cases: [KernelCase], kernel: String, site: String?, T: Int, file: inout TuningFile,
                        options: RunnerOptions) -> [String: Double] {
        let correct = cases.filter { c in
            let e = c.check()
            file.measurements.append(TuningFile.Measurement(kernel: kernel, site: site, T: T, variant: c.name,
                                                            correct: e.passes(c.tolerance), maxRelError: e.normalised))
            return e.passes(c.tolerance)
        }
        let m = time(correct.map { ($0.name, $0.call) }, options: options)
        file.record(kernel: kernel, site: site, T: T, medians: m)
        return m
    }

    /// Screens the candidates by their best of three calls (after one warm-up call), drops those over 3x the
    /// best, times the rest interleaved, and returns median nanoseconds by name.
    public static func time(_ candidates: [(String, () -> Void)], options: RunnerOptions) -> [String: Double] {
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
    public static func best(_ medians: [[String: Double]]) -> String? {
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
