// The regression gate's suite: what `workbench gate` measures, built from the registries (never from a
// hard-coded list of names). Bench compares (GateSession, GateABSession); this file only measures.
//   - every matmul variant on the model's real shapes (T=64 prefill rows for the four layer matmuls, T=1 decode
//     rows for all five: the lm-head only ever runs on the last row) and every attention variant on a prefill
//     (T=64) and a decode step (T=1 at position 256), each checked against the reference variant, then timed as a
//     ratio to a frozen yardstick (Yardsticks.swift) interleaved in the same rounds, single-threaded on the
//     thread's CPU clock; per variant also the geometric mean over the shapes of one token count (the summary a
//     uniform slowdown fails). Memory-bound shapes (T <= 4) cycle through weight copies larger than twice the
//     last-level cache (Lab's ColdWeights), so their weights come from memory as in a real decode step;
//   - a whole generation on the tiny synthetic model and on the 124M-shaped one with the engine's default variants:
//     time to the first token and per later token (one thread, CPU clock), each op's share of each prefill and
//     decode forward pass (per-op timers), the token stream, and a checksum of the logits;
//   - instruction counts of `workbench run` on the tiny model, when perf or callgrind can count them here.
// Why one thread and the CPU clock: Sources/Bench/GateTiming.swift; the numbers: Notes/gates.md.
import Basics
import Bench
import Foundation
import GPT2
import Kernels

/// A bad request or a baseline the gate cannot use: one line, exit status 2 (`GateExitCode.badInput`).
public struct GateInputError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The fixed parameters of a gate suite.
public struct GateSuiteSpec: Sendable {
    /// A generation workload: model, prompt length, total tokens, timed repetitions.
    public struct Generation: Sendable {
        public var label: String
        /// The model shape: `.gpt2_124M` means the synthetic default checkpoint in the cache folder.
        public var config: GPT2Config
        public var promptLength: Int
        public var n: Int
        public var repetitions: Int
        public var shares: Bool
        /// Also time the decode step as a ratio to streaming the weights once (meaningful when the weights do
        /// not fit in the caches, as the 124M model's 498 MB).
        public var decodeRatio: Bool
    }
    public var name: String
    /// The model whose matmul and attention shapes are timed.
    public var shapes: GPT2Config
    public var shapesLabel: String
    /// Matmul sites timed at each token count (one gate case per token count).
    public var matmulShapes: [(T: Int, sites: [MatmulSite])]
    /// (T, pos0): query rows and cached positions (one gate case for all of them).
    public var attentionShapes: [(T: Int, pos0: Int)]
    /// Interleaved rounds per shape (one sample of every variant and of the yardstick per round).
    public var rounds: Int
    /// Shortest sample: faster calls are repeated within a sample.
    public var minimumSampleSeconds: Double
    /// The compute-bound yardstick (the frozen naive loop) and the reference variant (the same loop, scalar, one
    /// row after another: its time is linear in T) run on at most this many rows, their times scaled to T rows:
    /// the same units at an eighth of the cost at T=64 (the reference at T=64 was a third of the suite's time).
    public var yardstickRows: Int
    public var generations: [Generation]
    public var policy: GatePolicy
    public var defaultBaseline: String

    public static func named(_ name: String) throws -> GateSuiteSpec {
        switch name {
        case "full": return full
        case "quick": return quick
        default: throw GateInputError("unknown suite '\(name)' (known: full, quick)")
        }
    }

    /// The CI suite: GPT-2 124M shapes (T=64 prefill rows for the four layer matmuls, T=1 decode rows for all
    /// five: the lm-head only ever runs on the last row); tiny and 124M-shaped generations.
    public static let full = GateSuiteSpec(
        name: "full", shapes: .gpt2_124M, shapesLabel: "124M",
        matmulShapes: [(64, [.qkv, .attproj, .fc, .fcproj]), (1, MatmulSite.allCases)],
        attentionShapes: [(64, 0), (1, 255)],
        rounds: 9, minimumSampleSeconds: 0.002, yardstickRows: 8,
        generations: [
            Generation(label: "tiny", config: .tiny, promptLength: 8, n: 64, repetitions: 12, shares: false, decodeRatio: false),
            Generation(label: "124M", config: .gpt2_124M, promptLength: 64, n: 88, repetitions: 3, shares: true, decodeRatio: true),
        ],
        policy: .full, defaultBaseline: "Profiles/baseline.json")

    /// The tests' suite: tiny shapes and the tiny model only (seconds, even in a debug build).
    public static let quick = GateSuiteSpec(
        name: "quick", shapes: .tiny, shapesLabel: "tiny",
        matmulShapes: [(32, MatmulSite.allCases), (1, MatmulSite.allCases)],
        attentionShapes: [(32, 0), (1, 31)],
        rounds: 9, minimumSampleSeconds: 0.001, yardstickRows: 8,
        generations: [Generation(label: "tiny", config: .tiny, promptLength: 4, n: 32, repetitions: 9, shares: true, decodeRatio: false)],
        policy: .quick, defaultBaseline: "Profiles/baseline-quick.json")

    /// The keys of this suite's cases, in order (`gate --measure --cases` selects by them).
    public var caseKeys: [String] {
        matmulShapes.map { GateSuiteSpec.matmulCaseKey(T: $0.T) } + [GateSuiteSpec.attentionCaseKey]
            + generations.map { GateSuiteSpec.generationCaseKey($0.label) } + [GateSuiteSpec.instructionsCaseKey]
    }
    static func matmulCaseKey(T: Int) -> String { "matmul-T\(T)" }
    static let attentionCaseKey = "attention"
    static func generationCaseKey(_ label: String) -> String { "gen-\(label)" }
    static let instructionsCaseKey = "instructions"

    /// The command that (re-)makes this suite's baseline at `path`, exactly as a user types it.
    public func updateCommand(baselinePath path: String) -> String {
        var c = "workbench gate" + (name == "full" ? "" : " --\(name == "quick" ? "quick" : "suite \(name)")") + " --update-baseline --runs 5"
        if path != defaultBaseline { c += " --baseline \(path)" }
        return c
    }
}

/// Which part of a suite a measurement covers.
public enum GateSelection: String, Codable, Sendable {
    /// Every case: what `workbench gate` compares.
    case all
    /// `--calibrate`'s part: the matmul cases, the engine's default variant only (the one it slows).
    case calibration
}

/// Float buffers that live as long as one measurement, each aligned to a 4 KiB page: the same layout in
/// every run, so cache-set conflicts do not change from one gate run to the next.
final class GateBuffers {
    private var owned: [UnsafeMutableRawPointer] = []
    deinit { for p in owned { p.deallocate() } }
    /// `count` floats, uniform with standard deviation `scale` (or zeros with scale 0). Uniform, not normal: the
    /// lm-head's 38.6 M weights take a tenth of the time to make, and no timing depends on the distribution.
    func make(_ count: Int, _ rng: inout SplitMix64, scale: Float = 1) -> UnsafeMutablePointer<Float> {
        let p = allocate(count)
        let a = Double(scale) * 3.0.squareRoot()
        for i in 0..<count { p[i] = scale == 0 ? 0 : Float((rng.nextUniform() * 2 - 1) * a) }
        return p
    }
    /// A copy of `count` floats at `source`.
    func copy(_ source: UnsafePointer<Float>, count: Int) -> UnsafeMutablePointer<Float> {
        let p = allocate(count)
        p.update(from: source, count: count)
        return p
    }
    private func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 4096)
        owned.append(raw)
        return raw.bindMemory(to: Float.self, capacity: max(1, count))
    }
}

/// A suite ready to run: its cases, built from the registries.
public struct GateSuite {
    public let spec: GateSuiteSpec
    /// Workers of the generations' engine.
    public let threads: Int
    public let slowdowns: [Slowdown]
    public let selection: GateSelection
    let scratch: String
    /// One worker: kernels are timed single-threaded, on the thread's CPU clock (Bench/GateTiming.swift says why).
    let pool: WorkerPool
    let matmulVariants: [MatmulVariant]
    let attentionVariants: [AttentionVariant]
    /// The largest normalised error a variant may have against the reference.
    public static let errorBound = 1e-4
    /// Matmuls with at most this many rows are memory-bound: timed on cold weights, against the streaming
    /// yardstick (but the reference, a scalar compute-bound loop, against the naive one).
    public static let memoryBoundRows = 4
    /// Bytes of cold weight copies (Lab's ColdWeights) a memory-bound timing cycles through: twice the largest
    /// cache, at least 64 MiB. Twice is enough for a copy to be evicted before its next use and keeps a gate
    /// process to seconds (ColdWeights' own default, 8x the LLC for compare's long runs, is 840 MiB per shape on
    /// a 105 MiB-L3 host).
    public static let coldBytes: Int = max(2 * (Bench.Machine.caches().map(\.bytes).max() ?? 32 << 20), 64 << 20)

    /// `scratch`: a folder for the tiny checkpoints (created if missing; the caller removes it).
    public init(spec: GateSuiteSpec, threads: Int = 1, slowdowns: [Slowdown] = [], selection: GateSelection = .all,
                scratch: String) throws {
        guard (1...256).contains(threads) else { throw GateInputError("--threads must be in 1...256, got \(threads)") }
        for s in slowdowns {
            let known = s.kind == .matmul ? MatmulVariants.all.map(\.name) : AttentionVariants.all.map(\.name)
            guard known.contains(s.variant) else {
                throw GateInputError("slowdown: unknown \(s.kind.rawValue) variant '\(s.variant)' (known: \(known.joined(separator: ", ")))")
            }
        }
        self.spec = spec; self.threads = threads; self.slowdowns = slowdowns; self.selection = selection; self.scratch = scratch
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        pool = WorkerPool(count: 1)
        // The lossy weight formats (bf16, q8, q4) are not gated yet: the committed baseline predates them.
        var m = MatmulVariants.all.filter { !$0.isLossy }.map { Slowdown.apply(slowdowns, to: $0) }
        if selection == .calibration {
            // The reference stays: it checks the slowed variant (and the check is how a wrong injection would show).
            m = m.filter { $0.name == MatmulVariants.reference.name || $0.name == MatmulVariants.defaultName }
        }
        matmulVariants = m
        attentionVariants = AttentionVariants.all.map { Slowdown.apply(slowdowns, to: $0) }
    }

    public var availability: [String] {
        let shapes = spec.matmulShapes.reduce(0) { $0 + $1.sites.count }
        var lines = [
            "ratios: \(matmulVariants.count) matmul variants (\(matmulVariants.map(\.name).joined(separator: ", "))) on \(shapes) \(spec.shapesLabel) shapes"
            + (selection == .calibration ? "" : ", \(attentionVariants.count) attention variants (\(attentionVariants.map(\.name).joined(separator: ", "))) on \(spec.attentionShapes.count)")
            + ", each / a frozen yardstick timed in the same rounds (the references: the naive loop; the SIMD matmuls: a SIMD dot-product loop, or for T <= \(GateSuite.memoryBoundRows) a weight stream over cold weight copies > \(GateSuite.coldBytes >> 20) MiB; the SIMD attentions: the FMA peak for their flops), one thread, CPU clock; per variant, the geometric mean over the shapes of each T",
        ]
        if selection == .all {
            lines.append("times and op shares: generation on \(spec.generations.map { "the \($0.label) model" }.joined(separator: " and ")) with the default variants (matmul \(MatmulVariants.defaultName), attention \(AttentionVariants.defaultName)), \(threads == 1 ? "one thread, CPU clock" : "\(threads) threads, wall clock")")
            lines.append("correctness: token streams, logits checksums, every variant's error vs the reference")
        }
        for s in slowdowns { lines.append("calibration: \(s)") }
        return lines
    }

    /// The cases of the selection, in order.
    public func cases() -> [GateCase] {
        var out: [GateCase] = []
        for (T, sites) in spec.matmulShapes {
            out.append(GateCase(key: GateSuiteSpec.matmulCaseKey(T: T), name: "matmul T=\(T): \(sites.map(\.rawValue).joined(separator: ", ")), \(matmulVariants.count) variants") {
                try measureMatmul(T: T, sites: sites)
            })
        }
        guard selection == .all else { return out }
        out.append(GateCase(key: GateSuiteSpec.attentionCaseKey, name: "attention \(spec.attentionShapes.map { "T=\($0.T) pos0=\($0.pos0)" }.joined(separator: ", ")), \(attentionVariants.count) variants") {
            try measureAttention()
        })
        for g in spec.generations {
            out.append(GateCase(key: GateSuiteSpec.generationCaseKey(g.label), name: "generation, \(g.label) model, \(g.n) tokens x \(g.repetitions)") { try measureGeneration(g) })
        }
        return out
    }

    /// `cases` once, in order, or only those whose key `keys` lists (nil: all); per case, what it measured and how
    /// long it took.
    public static func measure(_ cases: [GateCase], keys: [String]? = nil,
                               log: (String) -> Void = { _ in }) throws -> GateSideRound {
        var round = GateSideRound(measurements: [], cases: [])
        for c in cases where keys?.contains(c.key) ?? true {
            let (w0, c0) = (monotonicSeconds(), processCPUSeconds())
            let ms = try c.measure()
            let seconds = monotonicSeconds() - w0
            log(String(format: "gate: %@: %.1f s (%.1f s CPU)", c.name, seconds, processCPUSeconds() - c0))
            round.measurements += ms
            round.cases.append(GateCaseRecord(key: c.key, seconds: seconds, metrics: ms.map(\.name)))
        }
        return round
    }

    // MARK: names

    /// Every metric name this suite measures with the registries as they are now (instructions included).
    public var metricNames: Set<String> {
        var names: Set<String> = ["instructions/tiny-run"]
        for (T, sites) in spec.matmulShapes {
            for site in sites {
                names.insert("matmul/\(site.rawValue)/T\(T)/max-error")
                for v in matmulVariants { names.insert("matmul/\(v.name)/\(site.rawValue)/T\(T)") }
            }
            for v in matmulVariants { names.insert("matmul/\(v.name)/T\(T)") }
        }
        for (T, pos0) in spec.attentionShapes {
            names.insert("attention/T\(T)-pos\(pos0)/max-error")
            for v in attentionVariants { names.insert("attention/\(v.name)/T\(T)-pos\(pos0)") }
        }
        for v in attentionVariants { names.insert("attention/\(v.name)") }
        for g in spec.generations {
            for m in ["tokens", "logits-rms", "logits-probe", "prefill", "decode"] { names.insert("gen/\(g.label)/\(m)") }
            if g.decodeRatio { names.insert("gen/\(g.label)/decode-ratio") }
            if g.shares { for phase in ["prefill", "decode"] { for op in Op.allCases { names.insert("share/\(g.label)-\(phase)/\(op.key)") } } }
        }
        return names
    }

    /// Whether `name` is one of this suite's metrics, or would be with another set of variants registered
    /// (a baseline made when a variant existed that is gone now: its metrics are `dropped`, not unknown).
    public func knows(_ name: String) -> Bool {
        if metricNames.contains(name) { return true }
        func wildcard(_ n: String) -> String? {
            var parts = n.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, parts[0] == "matmul" || parts[0] == "attention", parts[1].first?.isLetter == true,
                  !(parts[0] == "matmul" && MatmulSite(rawValue: parts[1]) != nil),
                  !(parts[0] == "attention" && parts[1].hasPrefix("T") && parts[1].contains("-pos")) else { return nil }
            parts[1] = "*"
            return parts.joined(separator: "/")
        }
        guard let w = wildcard(name) else { return false }
        return metricNames.contains { wildcard($0) == w }
    }

    // MARK: kernels

    /// Times the yardsticks and the bodies interleaved on the thread's CPU clock; returns each body's per-round
    /// times divided by the yardstick its second element names: the yardstick's lower quartile over the rounds,
    /// times its scale. Not round by round: on a shared machine a sample can only be slowed by the neighbours
    /// (their cache traffic, a lost core), never sped up, and a 2 ms kernel sample and a 16 ms yardstick sample
    /// next to each other are slowed by different amounts, so per-round pairing added the yardstick's noise to
    /// every ratio (Notes/gates.md). The fast end of the yardstick's samples is its own time.
    func ratiosToYardsticks(_ yards: [(body: () -> Void, scale: Double)], _ bodies: [(() -> Void, Int)]) -> [[Double]] {
        let samples = GateTiming.interleaved(yards.map(\.body) + bodies.map(\.0), rounds: spec.rounds,
                                             minimumSampleSeconds: spec.minimumSampleSeconds)
        let units = yards.indices.map { (Stats.percentile(samples[$0], 0.25) ?? .nan) * yards[$0].scale }
        return bodies.enumerated().map { i, b in samples[yards.count + i].map { $0 / units[b.1] } }
    }

    /// Every matmul variant on `sites` at T rows: checked against the reference, then timed against the
    /// yardstick; per variant also the geometric mean over the sites (the summary that catches a uniform slowdown).
    func measureMatmul(T: Int, sites: [MatmulSite]) throws -> [GateMeasurement] {
        var ms: [GateMeasurement] = []
        // Timed: every variant, or for the calibration only the default (the reference still checks it).
        let timed = selection == .calibration ? matmulVariants.filter { $0.name == MatmulVariants.defaultName } : matmulVariants
        var perVariant = [[[Double]]](repeating: [], count: timed.count)
        for site in sites {
            let (OC, C) = site.shape(spec.shapes)
            var rng = SplitMix64(seed: 0x6A7E_0000 &+ UInt64(OC * 31 + C * 7 + T))
            let buffers = GateBuffers()
            let weight = WeightMatrix(data: buffers.make(OC * C, &rng, scale: 0.02), rows: OC, cols: C)
            let inp = buffers.make(T * C, &rng), bias = buffers.make(OC, &rng, scale: 0.02)
            let ref = buffers.make(T * OC, &rng, scale: 0), out = buffers.make(T * OC, &rng, scale: 0)
            let pool = self.pool
            let memoryBound = T <= GateSuite.memoryBoundRows
            // Memory-bound: every call (variants and stream alike) takes the next cold copy of the weight.
            let cold = ColdWeights(weight, totalBytes: memoryBound ? GateSuite.coldBytes : 0)
            for v in matmulVariants { cold.prepare(v) }
            func args(_ o: UnsafeMutablePointer<Float>, _ w: WeightMatrix) -> MatmulArgs {
                MatmulArgs(out: o, inp: inp, weight: w, bias: bias, T: T, OC: OC)
            }

            // Check first: every variant (and the yardstick) against the reference.
            matmulVariants[0].run(args(ref, weight), on: pool)
            let yard = Yardsticks.matmul
            var worst = (error: 0.0, name: yard.name)
            for v in matmulVariants.dropFirst() + [yard, Yardsticks.simdMatmul] {
                out.update(repeating: .nan, count: T * OC)
                v.run(args(out, weight), on: pool)
                let e = KernelError(out, ref, count: T * OC).normalised
                if !(e <= worst.error) { worst = (e, v.name) }
            }
            ms.append(GateMeasurement(name: "matmul/\(site.rawValue)/T\(T)/max-error", kind: .bound, unit: "", samples: [worst.error],
                                      threshold: Threshold(absolute: GateSuite.errorBound),
                                      note: "largest normalised error of any variant vs \(matmulVariants[0].name) (worst: \(worst.name))"))

            // The yardstick: the frozen naive loop on the same shape when the shape is compute-bound (2T flops per
            // weight loaded; on at most yardstickRows rows, scaled); when it is memory-bound (T <= 4), a frozen
            // stream over the weights for every variant but the reference, a scalar loop that stays compute-bound
            // there and is timed against the frozen copy of itself (against the stream its ratio would move with
            // the memory bandwidth left free).
            let yardRows = min(T, spec.yardstickRows)
            let count = OC * C
            let naiveYard: (body: () -> Void, scale: Double) = ({
                let w = cold.next()
                yard.run(MatmulArgs(out: out, inp: inp, weight: w, bias: bias, T: yardRows, OC: OC), on: pool)
            }, Double(T) / Double(yardRows))
            // The SIMD variants' unit: the weight stream (memory-bound) or the frozen SIMD loop (compute-bound);
            // the scalar reference's: the naive loop.
            let simdYard = Yardsticks.simdMatmul
            let limitYard: (body: () -> Void, scale: Double) = memoryBound
                ? ({ Yardsticks.stream(cold.next().data, count) }, 1)
                : ({ simdYard.run(MatmulArgs(out: out, inp: inp, weight: cold.next(), bias: bias, T: T, OC: OC), on: pool) }, 1)
            let usesStream = timed.map { $0.name != matmulVariants[0].name }
            let yards = [naiveYard, limitYard].enumerated().filter { i, _ in usesStream.contains(i == 1) }.map(\.element)
            let choice = usesStream.map { $0 && yards.count == 2 ? 1 : 0 }
            // The reference on yardRows rows too (its per-row time is what it is at any T), scaled like the yardstick.
            let reference = matmulVariants[0].name
            let ratios = ratiosToYardsticks(yards, zip(timed, choice).map { v, y in
                let rows = v.name == reference ? yardRows : T
                return ({ v.run(MatmulArgs(out: out, inp: inp, weight: cold.next(), bias: bias, T: rows, OC: OC), on: pool) }, y)
            }).enumerated().map { i, r in timed[i].name == reference && yardRows < T ? r.map { $0 * Double(T) / Double(yardRows) } : r }
            for (i, (v, r)) in zip(timed, ratios).enumerated() {
                perVariant[i].append(r)
                let unit = usesStream[i] ? (memoryBound ? "the time to stream the weights once (frozen SIMD sum)"
                                            : "the frozen SIMD16 dot-product loop's time")
                    : "the frozen naive loop's time" + (yardRows < T ? " (on \(yardRows) rows, x\(T / yardRows))" : "")
                    + (v.name == reference && yardRows < T ? "; the reference itself timed on \(yardRows) rows, x\(T / yardRows)" : "")
                let where_ = memoryBound ? ", cold weights: \(cold.copies.count) copies, \(cold.totalBytes >> 20) MiB" : ""
                ms.append(GateMeasurement(name: "matmul/\(v.name)/\(site.rawValue)/T\(T)", kind: .ratio, unit: "x", samples: r,
                                          note: "time of \(v.name) on \(site.rawValue) (OC=\(OC), C=\(C), T=\(T)\(where_)) / \(unit)"))
            }
        }
        for (v, series) in zip(timed, perVariant) {
            ms.append(GateMeasurement(name: "matmul/\(v.name)/T\(T)", kind: .ratio, unit: "x",
                                      samples: GateMeasurement.roundwiseGeometricMean(series), isSummary: true,
                                      note: "geometric mean of \(v.name)'s ratios over \(sites.map(\.rawValue).joined(separator: ", ")) at T=\(T)"))
        }
        return ms
    }

    /// Every attention variant on every attention shape, checked then timed against the yardstick (a frozen
    /// matmul with about the attention call's flops); per variant also the geometric mean over the shapes.
    func measureAttention() throws -> [GateMeasurement] {
        var ms: [GateMeasurement] = []
        var perVariant = [[[Double]]](repeating: [], count: attentionVariants.count)
        let c = spec.shapes, C = c.C
        for (T, pos0) in spec.attentionShapes {
            let positions = pos0 + T
            var rng = SplitMix64(seed: 0xA77E_0000 &+ UInt64(T * 1000 + pos0))
            let buffers = GateBuffers()
            let qkv = buffers.make(positions * 3 * C, &rng)
            let ref = buffers.make(T * C, &rng, scale: 0), out = buffers.make(T * C, &rng, scale: 0)
            let scratchBuf = buffers.make(pool.count * positions, &rng, scale: 0)
            let pool = self.pool
            func args(_ o: UnsafeMutablePointer<Float>) -> AttentionArgs {
                AttentionArgs(out: o, qkv: qkv, pos0: pos0, T: T, C: C, NH: c.NH, scratch: scratchBuf, scratchStride: positions)
            }
            attentionVariants[0].run(args(ref), on: pool)
            var worst = (error: 0.0, name: attentionVariants[0].name)
            for v in attentionVariants.dropFirst() {
                out.update(repeating: .nan, count: T * C)
                v.run(args(out), on: pool)
                let e = KernelError(out, ref, count: T * C).normalised
                if !(e <= worst.error) { worst = (e, v.name) }
            }
            ms.append(GateMeasurement(name: "attention/T\(T)-pos\(pos0)/max-error", kind: .bound, unit: "", samples: [worst.error],
                                      threshold: Threshold(absolute: GateSuite.errorBound),
                                      note: "largest normalised error of any variant vs \(attentionVariants[0].name) (worst: \(worst.name))"))
            let a = args(out)
            let OCy = max(1, min(4 * C, Int(a.flops / (2 * Double(T) * Double(C)))))
            let yw = WeightMatrix(data: buffers.make(OCy * C, &rng, scale: 0.02), rows: OCy, cols: C)
            let ya = MatmulArgs(out: buffers.make(T * OCy, &rng, scale: 0), inp: out, weight: yw, bias: nil, T: T, OC: OCy)
            let yard = Yardsticks.matmul
            // The reference (scalar) against a frozen naive matmul of about its flops, the SIMD variants against
            // the FMA peak for the call's flops (as the matmuls).
            let flops = a.flops
            let ratios = ratiosToYardsticks([({ yard.run(ya, on: pool) }, 1), ({ Yardsticks.fmaPeak(flops: flops) }, 1)],
                                            attentionVariants.enumerated().map { i, v in ({ v.run(a, on: pool) }, i == 0 ? 0 : 1) })
            for (i, (v, r)) in zip(attentionVariants, ratios).enumerated() {
                perVariant[i].append(r)
                let unit = i == 0 ? "the frozen naive loop's time (matmul OC=\(OCy))" : "the time of its flops at the FMA peak (frozen SIMD16 FMA loop)"
                ms.append(GateMeasurement(name: "attention/\(v.name)/T\(T)-pos\(pos0)", kind: .ratio, unit: "x", samples: r,
                                          note: "time of \(v.name) (T=\(T), pos0=\(pos0), C=\(C), NH=\(c.NH)) / \(unit)"))
            }
        }
        for (v, series) in zip(attentionVariants, perVariant) {
            ms.append(GateMeasurement(name: "attention/\(v.name)", kind: .ratio, unit: "x",
                                      samples: GateMeasurement.roundwiseGeometricMean(series), isSummary: true,
                                      note: "geometric mean of \(v.name)'s ratios over the attention shapes"))
        }
        return ms
    }

    // MARK: generation

    /// The engine's defaults (slowed where a calibration slowdown says so), on this suite's threads.
    func engineOptions() throws -> EngineOptions {
        guard let m = matmulVariants.first(where: { $0.name == MatmulVariants.defaultName }),
              let a = attentionVariants.first(where: { $0.name == AttentionVariants.defaultName }) else {
            throw GateInputError("the registries' default variants (\(MatmulVariants.defaultName), \(AttentionVariants.defaultName)) are not registered")
        }
        return EngineOptions(matmul: m, attention: a, threads: threads, timers: true)
    }

    /// The checkpoint of a workload: the tiny one in the scratch folder, the 124M-shaped synthetic default in the
    /// cache folder (made once; $WORKBENCH_MODEL is ignored: the baseline's tokens belong to the synthetic weights).
    func checkpointPath(_ g: GateSuiteSpec.Generation) throws -> String {
        if g.config == .gpt2_124M {
            let path = DefaultModel.syntheticPath
            let expected = CheckpointFormat.headerBytes + GPT2Config.gpt2_124M.parameterCount * 4
            var st = stat()
            if stat(path, &st) == 0 && Int(st.st_size) == expected { return path }
            try FileManager.default.createDirectory(atPath: DefaultModel.cacheDirectory, withIntermediateDirectories: true)
            // Written under a private name and renamed into place: two gate processes may race to make it.
            let tmp = path + ".tmp-\(getpid())"
            try SyntheticCheckpoint.write(to: tmp, config: .gpt2_124M, version: 3, seed: DefaultModel.seed)
            if rename(tmp, path) != 0 { unlink(tmp) }
            return path
        }
        let path = scratch + "/\(g.label).bin"
        if !FileManager.default.fileExists(atPath: path) { try SyntheticCheckpoint.write(to: path, config: g.config, seed: DefaultModel.seed) }
        return path
    }

    static func prompt(length: Int, vocabulary V: Int) -> [Int32] {
        (0..<length).map { Int32((31373 + 7919 * $0) % V) }
    }

    /// One generation workload: correctness (logits checksum, token stream), then `repetitions` timed
    /// generations: time to the first token, time per later token, and each op's share of each forward pass
    /// (per-op timers read and reset after every forward; shares of the timed ops' sum, prefill and decode apart).
    func measureGeneration(_ g: GateSuiteSpec.Generation) throws -> [GateMeasurement] {
        let ckpt = try Checkpoint(path: try checkpointPath(g))
        let model = GPT2Model(checkpoint: ckpt, options: try engineOptions())
        let V = ckpt.config.V
        let prompt = GateSuite.prompt(length: g.promptLength, vocabulary: V)
        let key = "gen/\(g.label)"

        // Correctness: the logits of the prompt's last position (root mean square, and a signed sum with
        // pseudo-random +-1 weights over sqrt(V), so a change in any one logit moves it), then the tokens.
        let logits = model.forward(prompt)
        var sumSquares = 0.0, probe = 0.0
        var signs = SplitMix64(seed: 0x10617)
        for i in 0..<V {
            let x = Double(logits[i])
            sumSquares += x * x
            probe += signs.next() & 1 == 0 ? x : -x
        }
        let rms = (sumSquares / Double(V)).squareRoot()
        probe /= Double(V).squareRoot()
        let tolerance = Threshold(absolute: 1e-3 * rms)
        let tokens = try model.generate(prompt: prompt, n: g.n, sampler: .mult)

        // Timing: one thread on the thread's CPU clock (all the work); more threads on the wall clock.
        let clock: () -> UInt64 = threads == 1 ? threadCPUNanos : monotonicNanos
        var prefill: [Double] = [], decode: [Double] = [], decodeRatio: [Double] = []
        let parameters = ckpt.parameters, parameterCount = ckpt.config.parameterCount
        var prefillShares: [String: [Double]] = [:], decodeShares: [String: [Double]] = [:]
        var stream = tokens.map(String.init).joined(separator: " ")
        for _ in 0..<g.repetitions {
            // The decode step streams every weight once: time that stream too, right before (CPU clock).
            var streamMs = 0.0
            if g.decodeRatio {
                let s0 = threadCPUNanos()
                Yardsticks.stream(parameters, parameterCount)
                streamMs = Double(threadCPUNanos() - s0) / 1e6
            }
            model.timers.reset()
            var first: UInt64 = 0
            var steps = 0
            let t0 = clock()
            let again = try model.generate(prompt: prompt, n: g.n, sampler: .mult, onToken: { _ in
                if first == 0 { first = clock() }
                let report = model.timers.report()
                let sum = report.ops.reduce(0) { $0 + $1.ms }
                if sum > 0 {
                    for row in report.ops {
                        if steps == 0 { prefillShares[row.op, default: []].append(100 * row.ms / sum) }
                        else { decodeShares[row.op, default: []].append(100 * row.ms / sum) }
                    }
                }
                steps += 1
                model.timers.reset()
            })
            let t1 = clock()
            if again != tokens {
                stream = "nondeterministic: " + GateCompare.firstDifference(stream, again.map(String.init).joined(separator: " "))
            }
            prefill.append(Double(first - t0) / 1e6)
            decode.append(Double(t1 - first) / 1e6 / Double(max(1, again.count - 1)))
            if streamMs > 0 { decodeRatio.append(decode.last! / streamMs) }
        }
        let clockName = threads == 1 ? "CPU time, 1 thread" : "wall time, \(threads) threads"
        var ms: [GateMeasurement] = [
            GateMeasurement(name: "\(key)/tokens", kind: .exact, unit: "tokens", text: stream,
                            note: "\(g.n - g.promptLength) tokens after a \(g.promptLength)-token prompt, gpt.c sampling"),
            GateMeasurement(name: "\(key)/logits-rms", kind: .checksum, unit: "", samples: [rms], threshold: tolerance,
                            note: "root mean square of the prompt's last logits"),
            GateMeasurement(name: "\(key)/logits-probe", kind: .checksum, unit: "", samples: [probe], threshold: tolerance,
                            note: "signed pseudo-random sum of the prompt's last logits / sqrt(V)"),
            GateMeasurement(name: "\(key)/prefill", kind: .time, unit: "ms", samples: prefill,
                            note: "time to the first new token: the \(g.promptLength)-token forward pass and sampling (\(clockName))"),
            GateMeasurement(name: "\(key)/decode", kind: .time, unit: "ms", samples: decode,
                            note: "time per later token, one position with the KV cache (\(clockName))"),
        ]
        if g.decodeRatio {
            ms.append(GateMeasurement(name: "\(key)/decode-ratio", kind: .ratio, unit: "x", samples: decodeRatio,
                                      note: "time per later token / the time to stream the checkpoint's weights once (frozen SIMD sum, CPU clock), measured just before"))
        }
        if g.shares {
            for (phase, shares) in [("prefill", prefillShares), ("decode", decodeShares)] {
                for op in Op.allCases { if let s = shares[op.key] {
                    ms.append(GateMeasurement(name: "share/\(g.label)-\(phase)/\(op.key)", kind: .share, unit: "%", samples: s,
                                              note: "\(op.name)'s share of a \(phase) forward pass (of the timed ops' sum)"))
                } }
            }
        }
        return ms
    }

    // MARK: instructions

    /// The availability line of a run made with `--no-instructions`.
    public static let instructionsNotTried = "instructions: not tried (--no-instructions)"

    /// Every case, plus the instruction-count case when `instructions` asks for it and a counter works here, and
    /// the availability lines that say which families were measured.
    public func casesAndAvailability(instructions: Bool, executable: String) -> ([GateCase], [String]) {
        guard instructions else { return (cases(), availability + [GateSuite.instructionsNotTried]) }
        let (c, line) = instructionCase(executable: executable)
        return (cases() + (c.map { [$0] } ?? []), availability + [line])
    }

    /// The instruction-count case, if perf or callgrind can count `executable run ...` here (tried once now),
    /// and the line saying so. `executable`: a workbench binary (the CLI passes its own).
    public func instructionCase(executable: String) -> (GateCase?, String) {
        let model = scratch + "/instructions-tiny.bin"
        do { try SyntheticCheckpoint.write(to: model, config: .tiny, seed: DefaultModel.seed) } catch {
            return (nil, "instructions: unavailable (cannot write the tiny model: \(error))")
        }
        let prompt = GateSuite.prompt(length: 4, vocabulary: GPT2Config.tiny.V).map(String.init)
        let command = [executable, "run", "--model", model, "--n", "16", "--threads", "1", "--no-timers"] + prompt
        let scratch = self.scratch
        let (first, reasons) = InstructionCounter.count(command, scratchDirectory: scratch)
        guard let first, let n = first.count else {
            return (nil, "instructions: unavailable (\(reasons.joined(separator: "; ")))")
        }
        let tool = first.tool
        func measurement(_ count: Double) -> GateMeasurement {
            GateMeasurement(name: "instructions/tiny-run", kind: .instructions, unit: "instructions", samples: [count],
                            note: "instructions of `workbench run` on the tiny model, n=16, 1 thread (\(tool))")
        }
        var pending: Double? = n
        let c = GateCase(key: GateSuiteSpec.instructionsCaseKey, name: "instructions (\(tool))") {
            if let p = pending { pending = nil; return [measurement(p)] }
            let again = tool == "perf" ? InstructionCounter.perf(command)
                : InstructionCounter.callgrind(command, outFile: scratch + "/callgrind.out.\(getpid())")
            guard let v = again.count else { throw GateInputError("instruction count failed on re-measurement: \(again.reason ?? "?")") }
            return [measurement(v)]
        }
        return (c, "instructions: \(tool), `workbench run` on the tiny model (n=16, 1 thread)")
    }
}
