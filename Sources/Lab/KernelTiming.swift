// The `kernels --time` harness (llm.c's dev/ style): for each shape, every variant is first checked against
// the reference (the normalised error within its tolerance), then timed alone (Bench's runner, median), with
// napkin math against the machine's limits. Matmul weights cycle through copies larger than the last-level
// cache, so T=1 calls stream them from memory as a forward pass does. `compare` has the statistics.
import Bench
import Foundation
import GPT2
import Kernels

public struct KernelTimingSettings: Sendable {
    /// Matmul shapes [T, C, OC].
    public var matmul: [[Int]]
    /// Attention shapes [T, C, NH, pos0].
    public var attention: [[Int]]
    public var threads: Int
    /// `.standalone`: each variant its own way; `.engine`: every variant split across the pool.
    public var way: KernelWay
    /// Seconds of timed calls per variant and shape.
    public var seconds: Double
    /// Only these variants (nil: all).
    public var only: Set<String>?

    /// Checks the settings; the shapes are "T,C,OC" and "T,C,NH[,pos0]" (default 64,768,3072 and 1,768,3072,
    /// and 256,768,12 when neither is given).
    public init(matmul: [String], attention: [String], threads: Int, split: Bool, seconds: Double, only: String?) throws {
        guard threads >= 1 && threads <= 256 else { throw LabError("--threads must be in 1...256, got \(threads)") }
        guard seconds > 0 && seconds <= 60 else { throw LabError("--seconds must be in (0, 60], got \(seconds)") }
        let none = matmul.isEmpty && attention.isEmpty
        self.matmul = try (none ? ["64,768,3072", "1,768,3072"] : matmul)
            .map { try KernelTimingSettings.shape($0, "--mm", names: ["T", "C", "OC"], count: 3...3) }
        self.attention = try (none ? ["256,768,12"] : attention)
            .map { try KernelTimingSettings.shape($0, "--attn", names: ["T", "C", "NH", "pos0"], count: 3...4) }
            .map { $0.count == 3 ? $0 + [0] : $0 }
        for s in self.attention where s[1] % s[2] != 0 { throw LabError("--attn: C (\(s[1])) must be a multiple of NH (\(s[2]))") }
        if let only {
            let wanted = Set(only.split(separator: ",").map(String.init))
            let known = Set(MatmulVariants.all.map(\.name) + AttentionVariants.all.map(\.name))
            if let bad = wanted.subtracting(known).sorted().first { throw LabError("unknown variant '\(bad)' (see `workbench kernels`)") }
            self.only = wanted
        }
        self.threads = threads; way = split ? .engine : .standalone; self.seconds = seconds
    }

    static func shape(_ text: String, _ flag: String, names: [String], count: ClosedRange<Int>) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard count.contains(parts.count), parts.allSatisfy({ $0 != nil }) else {
            throw LabError("\(flag) '\(text)': expected \(names.prefix(count.upperBound).joined(separator: ","))\(count.lowerBound < count.upperBound ? " (last optional)" : "") as integers")
        }
        let v = parts.map { $0! }
        for (i, x) in v.enumerated() {
            let minimum = names[i] == "pos0" ? 0 : 1
            guard x >= minimum && x <= 1 << 16 else { throw LabError("\(flag) '\(text)': \(names[i]) must be in \(minimum)...65536, got \(x)") }
        }
        return v
    }
}

/// One shape's table of `kernels --time`.
public struct KernelTimingTable: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var variant: String
        public var correct: Bool
        public var error: KernelError
        public var tolerance: Double
        public var threads: Int
        /// Median nanoseconds per call (nil: wrong, not timed).
        public var medianNs: Double?
        public var rates: Rates?
        /// The reference's median / this one's (attention).
        public var speedupOverReference: Double?
    }
    public var work: KernelWork
    public var threads: Int
    public var way: KernelWay
    /// A plain stream read of the same weight copies, timed just before the variants: part of the 100 % line.
    public var streams: [CompareReport.StreamRate]?
    public var rows: [Row]

    public var text: String {
        var s = work.title + ", \(threads) thread(s)" + (way == .engine ? ", every variant split across the pool" : "") + "\n"
        if let w = work.weights { s += "  \(w.text)\n" }
        if let streams, !streams.isEmpty {
            s += "  stream read of the same copies: " + streams.map { String(format: "%.1f GB/s on %d thread%@", $0.gbs, $0.threads, $0.threads == 1 ? "" : "s") }
                .joined(separator: ", ") + " (100 % = the larger of it and `workbench machine`'s)\n"
        }
        let bytes = work.weightBytes != nil
        s += "  variant      error (tol)           time     GFLOP/s  " + (bytes ? "weight GB/s    %bw" : "vs naive") + "\n"
        for r in rows {
            let err = (r.error.normalised.isFinite ? String(format: "%.1e", r.error.normalised) : "inf") + String(format: " (%.0e)", r.tolerance)
            var line = "  " + pad(r.variant, 12) + pad(err, 17)
            guard let med = r.medianNs, let rt = r.rates else { s += line + "  WRONG: not timed\n"; continue }
            let mark = rt.problems.isEmpty ? "" : "!"
            line += String(format: "%11.1f us  %8.1f%@", med / 1e3, rt.gflops, mark as NSString)
            if let gbs = rt.gbs, let pct = rt.percentOfBandwidth {
                line += String(format: "  %9.1f%@  %5.0f%%%@", gbs, mark as NSString, pct, mark as NSString)
            } else {
                line += r.speedupOverReference.map { String(format: "  %.1fx", $0) } ?? "  -"
            }
            s += line + "\n"
            for p in rt.problems { s += "    MEASUREMENT PROBLEM \(r.variant): \(p)\n" }
        }
        return s
    }
}

/// Everything `kernels --time` measured (its --json).
public struct KernelTimingReport: Codable, Sendable {
    public static let currentSchema = 1
    public var schema = KernelTimingReport.currentSchema
    public var tables: [KernelTimingTable]
    public var machine: MachineInfo
}

public enum KernelTiming {
    /// Runs every table of `settings`; `table` hears each as soon as it is done (the harness is slow).
    public static func run(_ s: KernelTimingSettings, machine: MachineInfo,
                           table: (KernelTimingTable) -> Void = { _ in }) -> KernelTimingReport {
        let pool = WorkerPool(count: s.threads)
        var options = RunnerOptions()
        options.warmupCalls = 1; options.warmupSeconds = 0
        options.minimumRuns = 3; options.budgetSeconds = s.seconds
        var tables: [KernelTimingTable] = []
        for m in s.matmul {
            let p = MatmulProblem(T: m[0], C: m[1], OC: m[2], seed: 99)
            let cold = ColdWeights(p.weight, lastLevelCache: machine.lastLevelCacheBytes)
            let cases = MatmulVariants.all.filter { s.only?.contains($0.name) ?? true }
                .map { KernelCase.matmul($0, on: p, pool: pool, way: s.way, weights: cold) }
            var streams: [CompareReport.StreamRate] = []
            for k in Set(cases.map(\.threads)).sorted() {
                let read = cold.streamRead(on: k == pool.count ? pool : WorkerPool(count: k))
                if let med = Runner(options: options).run([Benchmark(name: "stream", body: read)]).first.flatMap({ Stats.median($0.nanoseconds) }), med > 0 {
                    streams.append(.init(threads: k, gbs: p.weightBytes / med))
                }
            }
            tables.append(measure(cases, work: .matmul(p, site: nil, weights: cold), s, options, machine, streams: streams))
            table(tables.last!)
        }
        for a in s.attention {
            let p = AttentionProblem(T: a[0], C: a[1], NH: a[2], pos0: a[3], workers: s.threads, seed: 7)
            let cases = AttentionVariants.all.filter { s.only?.contains($0.name) ?? true }
                .map { KernelCase.attention($0, on: p, pool: pool, way: s.way) }
            tables.append(measure(cases, work: .attention(p), s, options, machine))
            table(tables.last!)
        }
        return KernelTimingReport(tables: tables, machine: machine)
    }

    static func measure(_ cases: [KernelCase], work: KernelWork, _ s: KernelTimingSettings, _ options: RunnerOptions,
                        _ machine: MachineInfo, streams: [CompareReport.StreamRate] = []) -> KernelTimingTable {
        var rows: [KernelTimingTable.Row] = []
        var referenceNs: Double?
        for (i, c) in cases.enumerated() {
            let e = c.check()
            var row = KernelTimingTable.Row(variant: c.name, correct: e.passes(c.tolerance), error: e, tolerance: c.tolerance, threads: c.threads)
            if row.correct, let med = Runner(options: options).run([Benchmark(name: c.name, body: c.call)]).first.flatMap({ Stats.median($0.nanoseconds) }) {
                row.medianNs = med
                row.rates = Rates(medianNs: med, flops: work.flops, bytes: c.weightBytes ?? work.weightBytes, threads: c.threads, machine: machine,
                                  streamGBs: streams.first { $0.threads == c.threads }?.gbs)
                if i == 0 && c.name == (work.kind == "matmul" ? MatmulVariants.reference.name : AttentionVariants.reference.name) { referenceNs = med }
                if work.weightBytes == nil, let r = referenceNs { row.speedupOverReference = r / med }
            }
            rows.append(row)
        }
        return KernelTimingTable(work: work, threads: s.threads, way: s.way, streams: streams.isEmpty ? nil : streams, rows: rows)
    }
}
