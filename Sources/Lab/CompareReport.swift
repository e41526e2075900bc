// What `workbench compare` reports (its --json, schema 2), and the same as text. The field names of the
// first, unversioned format are kept (`a`, `b`, `comparison.ratio`, `percentOfPeak`, `percentOfBandwidth`, ...)
// so scripts keep working; schema 2 adds `schema`, `title`, `threads`, `weights`, `problems` and, per side,
// `tolerance` and `measurementProblems`.
import Bench
import Foundation
import Kernels

/// A comparison of two kernel variants (or two engine configurations): correctness first, then timings.
public struct CompareReport: Codable, Sendable {
    public static let currentSchema = 2
    public var schema: Int
    /// "matmul", "attention" or "engine".
    public var kind: String
    /// What was compared, in one line ("matmul fc T=1 C=768 OC=3072 (...), --threads 2").
    public var title: String
    public var shape: [String: Int]
    public var site: String?
    /// The larger of the two sides' tolerances (normalised error); 0 for engines (tokens must be equal).
    public var tolerance: Double
    /// `--threads`: the workers pool-using variants got.
    public var threads: Int
    public var a: Side
    public var b: Side
    /// Whether a side failed its correctness check (then nothing was timed; the CLI exits 1).
    public var wrong: Bool
    public var comparison: Comparison?
    public var runner: RunnerOptions?
    /// How the weights were kept out of the caches (matmul).
    public var weights: WeightStreaming?
    /// This run's stream reads of the same weight copies, interleaved with A and B (matmul): the same-moment
    /// 100 % line of the bandwidth figures, next to `workbench machine`'s.
    public var streams: [StreamRate]?
    /// Measurement problems of either side ("A: ..."): figures above a measured limit, not results.
    public var problems: [String]
    /// Engines with a lossy weight format: B's accuracy against A (A is the reference).
    public var accuracy: ModelAccuracy?
    public var machine: MachineInfo

    /// One side of a comparison: its correctness check and its measured rates.
    public struct Side: Codable, Sendable {
        public var spec: String
        /// Workers the side actually used (1 for variants that do not use the pool).
        public var threads: Int
        public var correct: Bool
        /// The variant's tolerance on the normalised error.
        public var tolerance: Double?
        /// max |x - ref|.
        public var maxAbsError: Double?
        /// The normalised error max |x - ref| / max |ref| (`KernelError.normalised`), judged against `tolerance`.
        public var maxRelError: Double?
        public var tokens: [Int32]?
        public var samples: Samples?
        public var gflops: Double?
        public var percentOfPeak: Double?
        public var gbs: Double?
        public var percentOfBandwidth: Double?
        public var roofline: Roofline?
        /// Figures of this side above a measured limit plus the noise margin (nil when none).
        public var measurementProblems: [String]?

        public init(spec: String, threads: Int, correct: Bool, tolerance: Double? = nil, error: KernelError? = nil, tokens: [Int32]? = nil) {
            self.spec = spec; self.threads = threads; self.correct = correct; self.tolerance = tolerance
            maxAbsError = error?.maxAbs; maxRelError = error?.normalised; self.tokens = tokens
        }

        /// Records the samples and the rates of their median.
        mutating func measured(_ s: Samples, flops: Double?, bytes: Double?, machine: MachineInfo, streamGBs: Double? = nil) {
            samples = s
            guard let med = Stats.median(s.nanoseconds), med > 0 else { return }
            if let flops {
                let r = Rates(medianNs: med, flops: flops, bytes: bytes, threads: threads, machine: machine, streamGBs: streamGBs)
                gflops = r.gflops; percentOfPeak = r.percentOfPeak
                gbs = r.gbs; percentOfBandwidth = r.percentOfBandwidth; roofline = r.roofline
                measurementProblems = r.problems.isEmpty ? nil : r.problems
            } else if let bytes {
                // engines: bytes of weights read per generation (a lower bound), no flop count
                let bw = machine.bandwidthGBs(threads: threads)
                gbs = bytes / med
                percentOfBandwidth = 100 * gbs! / bw
                if let p = MeasurementLimits.problem(String(format: "%.1f GB/s of weights", gbs!), percent: percentOfBandwidth!,
                                                     hint: String(format: "read bandwidth %.1f GB/s; the model's weights fit in the caches", bw)) {
                    measurementProblems = [p]
                }
            }
        }
    }

    /// A stream read's median rate.
    public struct StreamRate: Codable, Sendable {
        public var threads: Int
        public var gbs: Double
    }

    init(kind: String, title: String, shape: [String: Int], site: String?, tolerance: Double, threads: Int,
         a: Side, b: Side, wrong: Bool, comparison: Comparison?, runner: RunnerOptions?, weights: WeightStreaming?,
         streams: [StreamRate]? = nil, machine: MachineInfo) {
        self.streams = streams
        schema = CompareReport.currentSchema
        self.kind = kind; self.title = title; self.shape = shape; self.site = site; self.tolerance = tolerance
        self.threads = threads; self.a = a; self.b = b; self.wrong = wrong; self.comparison = comparison
        self.runner = runner; self.weights = weights; self.machine = machine
        problems = (a.measurementProblems ?? []).map { "A: " + $0 } + (b.measurementProblems ?? []).map { "B: " + $0 }
    }

    /// The human-readable report.
    public var text: String {
        var out = "compare \(title)\n"
        func line(_ s: String = "") { out += s + "\n" }
        let sides = [("A", a), ("B", b)]
        if kind == "engine" {
            for (tag, s) in sides { line("  \(tag)  \(s.spec)") }
            line("correctness: generated tokens")
            for (tag, s) in sides {
                let verdict = accuracy != nil ? "   (a lossy format: accuracy below)" : s.correct ? "   same as A" : "   WRONG: differs from A"
                line("  \(tag)  \((s.tokens ?? []).map(String.init).joined(separator: " "))\(tag == "B" ? verdict : "")")
            }
            if let accuracy { line("accuracy of B against A: " + accuracy.summary) }
        } else {
            line("correctness against naive (normalised error max |x - ref| / max |ref| within the variant's tolerance):")
            for (tag, s) in sides {
                line("  \(tag)  \(pad(s.spec, 22)) max abs error \(sci(s.maxAbsError))  normalised \(sci(s.maxRelError)) (tolerance \(sci(s.tolerance)))  \(s.correct ? "ok" : "WRONG")")
            }
        }
        if wrong {
            let bad = sides.filter { !$0.1.correct }.map { "\($0.0) (\($0.1.spec))" }.joined(separator: " and ")
            line(kind == "engine" ? "WRONG: B generates different tokens from A; not timed" : "WRONG: \(bad) outside the tolerance; not timed")
            return out
        }
        guard let c = comparison, let runner else { return out }
        line(String(format: "timing: interleaved A/B, %d warm-up call%@ each, >= %d runs and >= %.1f s", runner.warmupCalls, runner.warmupCalls == 1 ? "" : "s", runner.minimumRuns, runner.budgetSeconds))
        if let weights { line("weights: \(weights.text), so every call reads its weights from memory") }
        let hasFlops = sides.contains { $0.1.gflops != nil }, hasBytes = sides.contains { $0.1.gbs != nil }
        var header = "     " + pad("", 22) + rpad("median", 10) + rpad("min", 10) + rpad("p90", 10) + rpad("MAD", 10) + rpad("runs", 6) + rpad("threads", 8)
        if hasFlops { header += rpad("GFLOP/s", 9) + rpad("%peak", 7) }
        if hasBytes { header += rpad("GB/s", 8) + rpad("%bw", 7) }
        line(header)
        for (tag, s) in sides {
            let sum = tag == "A" ? c.a : c.b
            // a figure above its limit is marked '!' and explained below the table: never a plain result
            let flagged = !(s.measurementProblems ?? []).isEmpty
            func rate(_ v: Double?, _ f: String) -> String { v.map { String(format: f, $0) + (flagged ? "!" : "") } ?? "-" }
            var row = "  \(tag)  " + pad(kind == "engine" ? "engine \(tag)" : s.spec, 22)
            let unit = TimeUnit(sum.median)
            row += rpad(unit.format(sum.median), 10) + rpad(unit.format(sum.min), 10) + rpad(unit.format(sum.p90), 10) + rpad(unit.format(sum.mad), 10)
            row += rpad("\(sum.count)", 6) + rpad("\(s.threads)", 8)
            if hasFlops { row += rpad(rate(s.gflops, "%.2f"), 9) + rpad(rate(s.percentOfPeak, "%.1f"), 7) }
            if hasBytes { row += rpad(rate(s.gbs, "%.2f"), 8) + rpad(rate(s.percentOfBandwidth, "%.1f"), 7) }
            line(row)
        }
        let m = machine
        if kind == "engine" {
            line(String(format: "bandwidth: each forward pass reads all weights at least once (%d passes); 100 %% = measured read bandwidth (%.1f GB/s one thread, %.1f all cores)",
                        shape["forwardPasses"] ?? 0, m.readBandwidthGBs, m.readBandwidthAllGBs))
        } else {
            line(String(format: "100 %% lines: FMA peak %.1f GFLOP/s per thread, read bandwidth %.1f GB/s one thread / %.1f all cores (`workbench machine`)",
                        m.fmaPeakGFLOPS, m.readBandwidthGBs, m.readBandwidthAllGBs))
            if let streams, !streams.isEmpty {
                line("  and this run's stream read of the same weight copies, interleaved with A and B: "
                     + streams.map { String(format: "%.1f GB/s on %d thread%@", $0.gbs, $0.threads, $0.threads == 1 ? "" : "s") }.joined(separator: ", ")
                     + " (100 % = the larger of the two)")
            }
        }
        for p in problems { line("MEASUREMENT PROBLEM \(p)") }
        for (tag, s) in sides {
            guard let rf = s.roofline else { continue }
            line(String(format: "roofline %@: intensity %.1f flop/byte of weights vs balance %.1f at %d thread%@ -> %@-bound, attainable %.1f GFLOP/s, reached %.1f %%",
                        tag, rf.intensity, rf.balance, s.threads, s.threads == 1 ? "" : "s", rf.bound, rf.attainableGFLOPS, rf.percentOfAttainable ?? 0))
        }
        let ci = (c.speedupLow.map { String(format: "%.3f", $0) } ?? "?") + ", " + (c.speedupHigh.map { String(format: "%.3f", $0) } ?? "?")
        line(String(format: "speedup B/A: %.3fx [%@] (median A / median B, %.0f %% bootstrap CI, %d resamples)",
                    c.speedup, ci, c.confidence * 100, c.resamples))
        line(String(format: "Mann-Whitney U: p = %.3g (%@, two-sided)", c.mannWhitney.p, c.mannWhitney.method))
        switch c.verdict {
        case .faster: line(String(format: "verdict: B is faster (p < %.2f)", c.alpha))
        case .slower: line(String(format: "verdict: B is slower (p < %.2f)", c.alpha))
        case .noDifference: line(String(format: "verdict: no significant difference (p >= %.2f)", c.alpha))
        }
        for w in c.warnings + m.warnings { line("warning: \(w.message)") }
        return out
    }
}
