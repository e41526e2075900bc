import ArgumentParser
import Bench
import Foundation
import GPT2
import Kernels
import Lab

// `workbench gate`: the regression gate. A fixed suite is measured and compared with a baseline in Profiles/
// (Bench's GateSession compares; this file only builds the suite's cases from the registries):
//   - every matmul variant on the model's real shapes (T=64 prefill rows for the four layer matmuls, T=1 decode
//     rows for all five: the lm-head only ever runs on the last row) and every attention variant on a prefill
//     (T=64) and a decode step (T=1 at position 256), each checked against the reference variant, then timed as a
//     ratio to a frozen yardstick interleaved in the same rounds, single-threaded on the thread's CPU clock; per
//     variant also the geometric mean over the shapes of one token count (the summary a uniform slowdown fails);
//   - a whole generation on the tiny synthetic model and on the 124M-shaped one with the engine's default variants:
//     time to the first token and per later token (one thread, CPU clock), each op's share of each prefill and
//     decode forward pass (per-op timers), the token stream, and a checksum of the logits;
//   - instruction counts of `workbench run` on the tiny model, when perf or callgrind can count them here.
// Exit status: 0 every metric holds, 1 a regression or a wrong result, 2 bad input (missing/corrupt baseline).
// Why one thread and the CPU clock: Sources/Bench/GateTiming.swift; the numbers: Notes/gates.md.

extension Workbench {
    /// `workbench gate`: measure the suite, compare with the baseline, exit 0 / 1 / 2.
    struct Gate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Regression gate: measure a fixed suite and compare it with a baseline (exit 0 pass, 1 regression, 2 bad input).",
            discussion: """
            Metrics: each kernel variant's time as a ratio to a frozen yardstick timed in the same rounds (one thread, \
            CPU clock), per shape and as a geometric mean per variant; each op's share of the forward pass; generation \
            times (compared only on the baseline's machine); instruction counts where perf or callgrind can count them; \
            generated tokens and a logits checksum. A metric past its threshold is re-measured (--retries) and fails \
            only if every measurement is past it. Make baselines with several runs (--update-baseline --runs 5) so \
            thresholds cover the drift between runs. Format: Profiles/README.md.
            CI: swift build -c release --product workbench && .build/release/workbench gate --markdown gate.md
            """)

        @Option(help: "Baseline file (default: Profiles/baseline.json; Profiles/baseline-quick.json for --suite quick).")
        var baseline: String?
        @Flag(help: "Measure the suite and write the baseline file instead of comparing.")
        var updateBaseline = false
        @Option(help: "full (124M shapes and models, about a minute in release) or quick (tiny shapes, seconds; for tests).")
        var suite: String = "full"
        @Flag(help: "Same as --suite quick.")
        var quick = false
        @Option(help: "Also write a Markdown summary (for a pull-request comment) to this file.")
        var markdown: String?
        @Option(help: "Also write the whole report as JSON to this file.")
        var json: String?
        @Option(help: "Re-measurements of a metric past its threshold before it fails.")
        var retries = 2
        @Option(help: "With --update-baseline: runs of the suite combined into the baseline (thresholds then cover the spread between runs).")
        var runs = 1
        @Option(help: "Workers for the generations (default 1: timed on the CPU clock; with more, on the wall clock, which a busy machine makes noisy). Kernels are always timed on one thread.")
        var threads: Int?
        @Flag(help: "Do not try to count instructions (perf, callgrind).")
        var noInstructions = false
        @Option(name: .customLong("inject-slowdown"), parsing: .singleValue,
                help: "Test hook: make a variant take FACTOR times as long, e.g. matmul:tiled=1.2 or attention:default=2 (repeatable; 'default' is the engine's default variant).")
        var injectSlowdown: [String] = []

        func run() throws {
            let spec = try GateSuiteSpec.named(quick ? "quick" : suite)
            if quick && suite != "full" && suite != "quick" { throw WorkbenchError("--quick contradicts --suite \(suite)") }
            let path = baseline ?? spec.defaultBaseline
            guard (0...10).contains(retries) else { throw WorkbenchError("--retries must be in 0...10, got \(retries)") }
            guard (1...20).contains(runs) else { throw WorkbenchError("--runs must be in 1...20, got \(runs)") }
            if runs > 1 && !updateBaseline { throw WorkbenchError("--runs only applies with --update-baseline") }
            let threads = self.threads ?? 1
            guard (1...256).contains(threads) else { throw WorkbenchError("--threads must be in 1...256, got \(threads)") }
            let injections = try injectSlowdown.map(SlowdownInjection.parse)
            if updateBaseline && !injections.isEmpty {
                throw WorkbenchError("--inject-slowdown is a test hook: a baseline must not be made with it")
            }
            for out in [markdown, json].compactMap({ $0 }) + (updateBaseline ? [path] : []) {
                try checkWritable(out)
            }
            // Read the baseline before measuring: a missing or corrupt file fails in a second, not after the suite.
            var base: Baseline?
            if !updateBaseline {
                let b = try Baseline.load(path: path)
                if b.suite != spec.name {
                    throw WorkbenchError("baseline \(path) was made by the \(b.suite) suite, not \(spec.name): use --suite \(b.suite) or another --baseline")
                }
                base = b
            }

            let scratch = NSTemporaryDirectory() + "/workbench-gate-\(getpid())"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let suite = try GateSuite(spec: spec, threads: threads, injections: injections, scratch: scratch)
            for i in injections { note("gate: test hook: \(i.kind) variant '\(i.resolvedName)' slowed \(i.factor)x") }
            let environment = BaselineEnvironment(fingerprint: Bench.Machine.fingerprint(), threads: threads,
                                                  build: Bench.Machine.isUnoptimizedBuild ? "debug" : "release")
            let start = monotonicNanos()
            var availability = suite.availability
            var cases = suite.cases()
            if !noInstructions {
                let (instructionCase, line) = suite.instructionCase()
                availability.append(line)
                if let instructionCase { cases.append(instructionCase) }
            } else {
                availability.append("instructions: not tried (--no-instructions)")
            }

            if updateBaseline {
                let measured = try GateSession.measureAll(cases: cases, runs: runs, log: note)
                let (b, capped) = try Baseline.make(runs: measured, policy: spec.policy, suite: spec.name,
                                                    date: Provenance.isoDate(), commit: Provenance.gitHead(),
                                                    environment: environment, availability: availability, path: path)
                try b.write(to: path)
                print(baselineTable(b))
                for name in capped {
                    note("gate: warning: \(name) is noisier than the \(spec.name) policy's cap allows; its threshold was capped (expect re-measurements)")
                }
                print(String(format: "wrote %@: %d metrics, %d run%@, %.1f s", path as NSString, b.metrics.count, runs,
                             runs == 1 ? "" : "s", Double(monotonicNanos() - start) / 1e9))
                return
            }

            let report = try GateSession.run(cases: cases, baseline: base!, baselinePath: path, environment: environment,
                                             availability: availability, retries: retries, log: note)
            print(report.table(), terminator: "")
            print(String(format: "gate: %.1f s", Double(monotonicNanos() - start) / 1e9))
            if let markdown { try write(Data(report.markdown().utf8), to: markdown) }
            if let json {
                let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                try write(try e.encode(report), to: json)
            }
            if report.exitCode != .success { throw ExitCode(report.exitCode.rawValue) }
        }

        /// The baseline as written: value, spread and threshold of every metric.
        func baselineTable(_ b: Baseline) -> String {
            var rows = [["metric", "value", "spread", "threshold", "samples"]]
            for m in b.metrics {
                let row = GateRow(name: m.name, kind: m.kind, unit: m.unit, baseline: m.value, now: nil, change: nil,
                                  threshold: m.threshold, verdict: .pass)
                let value = m.kind == .exact ? "\(m.text!.split(separator: " ").count) words" : row.baselineText
                rows.append([m.name, value, m.kind == .exact ? "-" : GateFormat.value(m.spread, unit: m.unit),
                             row.thresholdText, "\(m.samples)"])
            }
            var w = [Int](repeating: 0, count: 5)
            for r in rows { for i in 0..<5 { w[i] = max(w[i], r[i].count) } }
            return (b.availability.map { "metrics: \($0)" } + [""] + rows.map { r in
                r.enumerated().map { i, s in i == 0 ? s.padding(toLength: w[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: w[i] - s.count) + s }.joined(separator: "  ")
            }).joined(separator: "\n")
        }

        func checkWritable(_ path: String) throws {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw WorkbenchError("cannot write \(path): folder \(dir) does not exist")
            }
        }

        func write(_ data: Data, to path: String) throws {
            do { try data.write(to: URL(fileURLWithPath: path)) } catch {
                throw WorkbenchError("cannot write \(path): \(error.localizedDescription)")
            }
        }
    }
}

/// The fixed parameters of a gate suite.
struct GateSuiteSpec {
    /// A generation workload: model, prompt length, total tokens, timed repetitions.
    struct Generation {
        var label: String
        /// The model shape: `.gpt2_124M` means the synthetic default checkpoint in the cache folder.
        var config: GPT2Config
        var promptLength: Int
        var n: Int
        var repetitions: Int
        var shares: Bool
        /// Also time the decode step as a ratio to streaming the weights once (meaningful when the weights do
        /// not fit in the caches, as the 124M model's 498 MB).
        var decodeRatio: Bool
    }
    var name: String
    /// The model whose matmul and attention shapes are timed.
    var shapes: GPT2Config
    var shapesLabel: String
    /// Matmul sites timed at each token count (one gate case per token count).
    var matmulShapes: [(T: Int, sites: [MatmulSite])]
    /// (T, pos0): query rows and cached positions (one gate case for all of them).
    var attentionShapes: [(T: Int, pos0: Int)]
    /// Interleaved rounds per shape (one sample of every variant and of the yardstick per round).
    var rounds: Int
    /// Shortest sample: faster calls are repeated within a sample.
    var minimumSampleSeconds: Double
    var generations: [Generation]
    var policy: GatePolicy
    var defaultBaseline: String

    static func named(_ name: String) throws -> GateSuiteSpec {
        switch name {
        case "full": return full
        case "quick": return quick
        default: throw WorkbenchError("unknown suite '\(name)' (known: full, quick)")
        }
    }

    /// The CI suite: GPT-2 124M shapes (T=64 prefill rows for the four layer matmuls, T=1 decode rows for all
    /// five: the lm-head only ever runs on the last row); tiny and 124M-shaped generations.
    static let full = GateSuiteSpec(
        name: "full", shapes: .gpt2_124M, shapesLabel: "124M",
        matmulShapes: [(64, [.qkv, .attproj, .fc, .fcproj]), (1, MatmulSite.allCases)],
        attentionShapes: [(64, 0), (1, 255)],
        rounds: 15, minimumSampleSeconds: 0.002,
        generations: [
            Generation(label: "tiny", config: .tiny, promptLength: 8, n: 64, repetitions: 20, shares: false, decodeRatio: false),
            Generation(label: "124M", config: .gpt2_124M, promptLength: 64, n: 88, repetitions: 6, shares: true, decodeRatio: true),
        ],
        policy: .full, defaultBaseline: "Profiles/baseline.json")

    /// The tests' suite: tiny shapes and the tiny model only (seconds, even in a debug build).
    static let quick = GateSuiteSpec(
        name: "quick", shapes: .tiny, shapesLabel: "tiny",
        matmulShapes: [(32, MatmulSite.allCases), (1, MatmulSite.allCases)],
        attentionShapes: [(32, 0), (1, 31)],
        rounds: 9, minimumSampleSeconds: 0.001,
        generations: [Generation(label: "tiny", config: .tiny, promptLength: 4, n: 32, repetitions: 9, shares: true, decodeRatio: false)],
        policy: .quick, defaultBaseline: "Profiles/baseline-quick.json")
}

/// `--inject-slowdown KIND:NAME=FACTOR`: a test hook that makes one variant take FACTOR times as long (it runs,
/// then spins for (FACTOR - 1) times what it took), so the gate's tests and Notes/gates.md can show a slower
/// kernel is caught.
struct SlowdownInjection {
    enum Kind: String { case matmul, attention }
    var kind: Kind
    /// The name as given ("default" allowed).
    var name: String
    var factor: Double

    /// The registry name it applies to ("default" resolved to the engine's default variant).
    var resolvedName: String {
        name != "default" ? name : (kind == .matmul ? MatmulVariants.defaultName : AttentionVariants.defaultName)
    }

    static func parse(_ s: String) throws -> SlowdownInjection {
        let usage = "--inject-slowdown expects KIND:VARIANT=FACTOR with KIND matmul or attention and FACTOR in 1...100, e.g. matmul:tiled=1.2; got '\(s)'"
        guard let colon = s.firstIndex(of: ":"), let eq = s.firstIndex(of: "="), colon < eq,
              let kind = Kind(rawValue: String(s[..<colon])) else { throw WorkbenchError(usage) }
        let name = String(s[s.index(after: colon)..<eq])
        guard let f = Double(s[s.index(after: eq)...]), f.isFinite, f >= 1, f <= 100, !name.isEmpty else { throw WorkbenchError(usage) }
        let i = SlowdownInjection(kind: kind, name: name, factor: f)
        let known = kind == .matmul ? MatmulVariants.all.map(\.name) : AttentionVariants.all.map(\.name)
        guard known.contains(i.resolvedName) else {
            throw WorkbenchError("--inject-slowdown: unknown \(kind) variant '\(name)' (known: \(known.joined(separator: ", ")), default)")
        }
        return i
    }

    /// Runs `body`, then spins for (factor - 1) times its duration (on the thread's CPU clock, so the
    /// spin adds CPU time in proportion to the work, whatever the scheduler does meanwhile).
    static func slowed(_ factor: Double, _ body: () -> Void) {
        let t0 = threadCPUNanos()
        body()
        let extra = UInt64(Double(threadCPUNanos() &- t0) * (factor - 1))
        let end = threadCPUNanos() &+ extra
        while threadCPUNanos() < end {}
    }

    /// `v`, slowed if an injection names it.
    static func apply(_ injections: [SlowdownInjection], to v: MatmulVariant) -> MatmulVariant {
        guard let f = injections.first(where: { $0.kind == .matmul && $0.resolvedName == v.name })?.factor else { return v }
        let kernel = v.kernel
        return MatmulVariant(name: v.name, summary: v.summary + " [slowed \(f)x by --inject-slowdown]",
                             columnAlignment: v.columnAlignment, standaloneOnPool: v.standaloneOnPool, bitReproducible: v.bitReproducible,
                             tolerance: v.tolerance, prepare: v.prepare,
                             ownThreads: v.ownThreads.map { own in { @Sendable a, n in slowed(f) { own(a, n) } } },
                             kernel: { a, cols in slowed(f) { kernel(a, cols) } })
    }

    static func apply(_ injections: [SlowdownInjection], to v: AttentionVariant) -> AttentionVariant {
        guard let f = injections.first(where: { $0.kind == .attention && $0.resolvedName == v.name })?.factor else { return v }
        let kernel = v.kernel
        return AttentionVariant(name: v.name, summary: v.summary + " [slowed \(f)x by --inject-slowdown]", standaloneOnPool: v.standaloneOnPool,
                                tolerance: v.tolerance, kernel: { a, items, ith in slowed(f) { kernel(a, items, ith) } })
    }
}

/// The yardstick every kernel time is divided by: a frozen copy of the naive matmul loop (out[t, o] = bias[o] +
/// sum_i inp[t, i] * weight[o, i]). It lives here, not in Kernels, so that no kernel change moves it.
@inline(never)
func gateYardstickMatmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>) {
    for t in 0..<T {
        let x = inp + t * C
        for o in columns {
            let w = weight + o * C
            var val: Float = bias?[o] ?? 0
            for i in 0..<C { val += x[i] * w[i] }
            out[t * OC + o] = val
        }
    }
}

/// The yardstick of memory-bound shapes (T=1: each weight is used once, so the time is the time to stream the
/// weights): the frozen SIMD read-sum that `workbench machine` measures bandwidth with (`Peak.readSum`). Its
/// time moves with the memory traffic of the neighbours exactly as a memory-bound kernel's does, so their
/// ratio does not.
@inline(__always)
func gateYardstickStream(_ p: UnsafePointer<Float>, _ n: Int) -> Float { Peak.readSum(p, n) }

/// Keeps the stream yardstick's result alive (so the optimiser cannot drop the loop).
nonisolated(unsafe) var gateYardstickSink: Float = 0

/// Float buffers that live as long as one measurement, each aligned to a 4 KiB page: the same layout in
/// every run, so cache-set conflicts do not change from one gate run to the next.
final class GateBuffers {
    private var owned: [UnsafeMutableRawPointer] = []
    deinit { for p in owned { p.deallocate() } }
    /// `count` floats, N(0, scale²) from `rng` (or zeros with scale 0).
    func make(_ count: Int, _ rng: inout SplitMix64, scale: Float = 1) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 4096)
        owned.append(raw)
        let p = raw.bindMemory(to: Float.self, capacity: max(1, count))
        for i in 0..<count { p[i] = scale == 0 ? 0 : rng.nextNormal() * scale }
        return p
    }
}

/// A suite ready to run: its cases, built from the registries (never from a hard-coded list of names).
struct GateSuite {
    let spec: GateSuiteSpec
    /// Workers of the generations' engine.
    let threads: Int
    let injections: [SlowdownInjection]
    let scratch: String
    /// One worker: kernels are timed single-threaded, on the thread's CPU clock (Bench/GateTiming.swift says why).
    let pool: WorkerPool
    let matmulVariants: [MatmulVariant]
    let attentionVariants: [AttentionVariant]
    /// The largest normalised error a variant may have against the reference.
    static let errorBound = 1e-4
    /// Matmuls with at most this many rows are timed against the streaming yardstick (memory-bound), others
    /// against the frozen naive loop (compute-bound).
    static let memoryBoundRows = 4

    init(spec: GateSuiteSpec, threads: Int, injections: [SlowdownInjection], scratch: String) throws {
        self.spec = spec; self.threads = threads; self.injections = injections; self.scratch = scratch
        pool = WorkerPool(count: 1)
        // The lossy weight-format variants (bf16, q8, q4) are not gated yet: the baseline predates them and
        // the error bound here is the fp32 one (their bounds: WeightFormat.tolerance).
        matmulVariants = MatmulVariants.all.filter { !$0.isLossy }.map { SlowdownInjection.apply(injections, to: $0) }
        attentionVariants = AttentionVariants.all.map { SlowdownInjection.apply(injections, to: $0) }
    }

    var availability: [String] {
        let shapes = spec.matmulShapes.reduce(0) { $0 + $1.sites.count }
        return [
            "ratios: \(matmulVariants.count) matmul variants (\(matmulVariants.map(\.name).joined(separator: ", "))) on \(shapes) \(spec.shapesLabel) shapes, \(attentionVariants.count) attention variants (\(attentionVariants.map(\.name).joined(separator: ", "))) on \(spec.attentionShapes.count), each / a frozen yardstick timed in the same rounds (naive loop; for T <= \(GateSuite.memoryBoundRows), a weight stream, except for the reference), one thread, CPU clock; per variant, the geometric mean over the shapes of each T",
            "times and op shares: generation on \(spec.generations.map { "the \($0.label) model" }.joined(separator: " and ")) with the default variants (matmul \(MatmulVariants.defaultName), attention \(AttentionVariants.defaultName)), \(threads == 1 ? "one thread, CPU clock" : "\(threads) threads, wall clock"); times compared only on the baseline's machine",
            "correctness: token streams, logits checksums, every variant's error vs the reference",
        ]
    }

    func cases() -> [GateCase] {
        var out: [GateCase] = []
        for (T, sites) in spec.matmulShapes {
            out.append(GateCase(name: "matmul T=\(T): \(sites.map(\.rawValue).joined(separator: ", ")), \(matmulVariants.count) variants") {
                try measureMatmul(T: T, sites: sites)
            })
        }
        out.append(GateCase(name: "attention \(spec.attentionShapes.map { "T=\($0.T) pos0=\($0.pos0)" }.joined(separator: ", ")), \(attentionVariants.count) variants") {
            try measureAttention()
        })
        for g in spec.generations {
            out.append(GateCase(name: "generation, \(g.label) model, \(g.n) tokens x \(g.repetitions)") { try measureGeneration(g) })
        }
        return out
    }

    /// The yardstick as a variant, so it runs exactly like the others.
    static let yardstick = MatmulVariant(name: "yardstick", summary: "frozen naive loop (the gate's unit of time)") { a, cols in
        gateYardstickMatmul(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
    }

    /// Times `bodies` interleaved with the yardstick `yard` on the thread's CPU clock; returns each body's
    /// per-round ratio to the yardstick.
    func ratiosToYardstick(_ yard: @escaping () -> Void, _ bodies: [() -> Void]) -> [[Double]] {
        ratiosToYardsticks([yard], bodies.map { ($0, 0) })
    }

    /// Times the yardsticks and the bodies interleaved on the thread's CPU clock; returns each body's per-round
    /// ratio to the yardstick its second element names.
    func ratiosToYardsticks(_ yards: [() -> Void], _ bodies: [(() -> Void, Int)]) -> [[Double]] {
        let samples = GateTiming.interleaved(yards + bodies.map(\.0), rounds: spec.rounds, minimumSampleSeconds: spec.minimumSampleSeconds)
        return bodies.enumerated().map { i, b in GateMeasurement.pairedRatios(samples[yards.count + i], to: samples[b.1]) }
    }

    /// Every matmul variant on `sites` at T rows: checked against the reference, then timed against the
    /// yardstick; per variant also the geometric mean over the sites (the summary that catches a uniform slowdown).
    func measureMatmul(T: Int, sites: [MatmulSite]) throws -> [GateMeasurement] {
        var ms: [GateMeasurement] = []
        var perVariant = [[[Double]]](repeating: [], count: matmulVariants.count)
        for site in sites {
            let (OC, C) = site.shape(spec.shapes)
            var rng = SplitMix64(seed: 0x6A7E_0000 &+ UInt64(OC * 31 + C * 7 + T))
            let buffers = GateBuffers()
            let weight = WeightMatrix(data: buffers.make(OC * C, &rng, scale: 0.02), rows: OC, cols: C)
            let inp = buffers.make(T * C, &rng), bias = buffers.make(OC, &rng, scale: 0.02)
            let ref = buffers.make(T * OC, &rng, scale: 0), out = buffers.make(T * OC, &rng, scale: 0)
            let pool = self.pool
            func args(_ o: UnsafeMutablePointer<Float>) -> MatmulArgs { MatmulArgs(out: o, inp: inp, weight: weight, bias: bias, T: T, OC: OC) }
            let yard = GateSuite.yardstick
            for v in matmulVariants { v.prepare(weight) }

            // Check first: every variant (and the yardstick) against the reference.
            matmulVariants[0].run(args(ref), on: pool)
            var worst = (error: 0.0, name: yard.name)
            for v in matmulVariants.dropFirst() + [yard] {
                out.update(repeating: .nan, count: T * OC)
                v.run(args(out), on: pool)
                let e = KernelError(out, ref, count: T * OC).normalised
                if !(e <= worst.error) { worst = (e, v.name) }
            }
            ms.append(GateMeasurement(name: "matmul/\(site.rawValue)/T\(T)/max-error", kind: .bound, unit: "", samples: [worst.error],
                                      threshold: Threshold(absolute: GateSuite.errorBound),
                                      note: "largest normalised error of any variant vs \(matmulVariants[0].name) (worst: \(worst.name))"))

            // The yardstick: the frozen naive loop on the same shape when the shape is compute-bound (2T flops per
            // weight loaded); when it is memory-bound (T <= 4), a frozen stream over the weights for every variant
            // but the reference, a scalar loop that stays compute-bound there and is timed against the frozen
            // copy of itself (against the stream its ratio would move with the memory bandwidth left free).
            let a = args(out)
            let memoryBound = T <= GateSuite.memoryBoundRows
            let w = weight.data, count = OC * C
            let yards: [() -> Void] = [{ yard.run(a, on: pool) }, { gateYardstickSink += gateYardstickStream(w, count) }]
            let choice = matmulVariants.indices.map { memoryBound && $0 > 0 ? 1 : 0 }
            let ratios = ratiosToYardsticks(memoryBound ? yards : [yards[0]],
                                            zip(matmulVariants, choice).map { v, y in ({ v.run(a, on: pool) }, y) })
            for (i, (v, r)) in zip(matmulVariants, ratios).enumerated() {
                perVariant[i].append(r)
                let unit = choice[i] == 1 ? "the time to stream the weights once (frozen SIMD sum)" : "the frozen naive loop's time"
                ms.append(GateMeasurement(name: "matmul/\(v.name)/\(site.rawValue)/T\(T)", kind: .ratio, unit: "x", samples: r,
                                          note: "time of \(v.name) on \(site.rawValue) (OC=\(OC), C=\(C), T=\(T)) / \(unit)"))
            }
        }
        for (v, series) in zip(matmulVariants, perVariant) {
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
            let yard = GateSuite.yardstick
            let ratios = ratiosToYardstick({ yard.run(ya, on: pool) }, attentionVariants.map { v in { v.run(a, on: pool) } })
            for (i, (v, r)) in zip(attentionVariants, ratios).enumerated() {
                perVariant[i].append(r)
                ms.append(GateMeasurement(name: "attention/\(v.name)/T\(T)-pos\(pos0)", kind: .ratio, unit: "x", samples: r,
                                          note: "time of \(v.name) (T=\(T), pos0=\(pos0), C=\(C), NH=\(c.NH)) / the yardstick's (matmul OC=\(OCy))"))
            }
        }
        for (v, series) in zip(attentionVariants, perVariant) {
            ms.append(GateMeasurement(name: "attention/\(v.name)", kind: .ratio, unit: "x",
                                      samples: GateMeasurement.roundwiseGeometricMean(series), isSummary: true,
                                      note: "geometric mean of \(v.name)'s ratios over the attention shapes"))
        }
        return ms
    }

    /// The engine's defaults (slowed where a test hook says so), on this suite's threads.
    func engineOptions() throws -> EngineOptions {
        guard let m = matmulVariants.first(where: { $0.name == MatmulVariants.defaultName }),
              let a = attentionVariants.first(where: { $0.name == AttentionVariants.defaultName }) else {
            throw WorkbenchError("the registries' default variants (\(MatmulVariants.defaultName), \(AttentionVariants.defaultName)) are not registered")
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
            note("workbench: creating the default model (124M-shaped synthetic checkpoint, seed \(DefaultModel.seed)) at \(path)")
            try SyntheticCheckpoint.write(to: path, config: .gpt2_124M, version: 3, seed: DefaultModel.seed)
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
                gateYardstickSink += gateYardstickStream(parameters, parameterCount)
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

    /// The instruction-count case, if perf or callgrind can count here (tried once now), and the line saying so.
    func instructionCase() -> (GateCase?, String) {
        let model = scratch + "/instructions-tiny.bin"
        do { try SyntheticCheckpoint.write(to: model, config: .tiny, seed: DefaultModel.seed) } catch {
            return (nil, "instructions: unavailable (cannot write the tiny model: \(error))")
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let prompt = GateSuite.prompt(length: 4, vocabulary: GPT2Config.tiny.V).map(String.init)
        let command = [exe, "run", "--model", model, "--n", "16", "--threads", "1", "--no-timers"] + prompt
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
        let c = GateCase(name: "instructions (\(tool))") {
            if let p = pending { pending = nil; return [measurement(p)] }
            let again = tool == "perf" ? InstructionCounter.perf(command)
                : InstructionCounter.callgrind(command, outFile: scratch + "/callgrind.out.\(getpid())")
            guard let v = again.count else { throw WorkbenchError("instruction count failed on re-measurement: \(again.reason ?? "?")") }
            return [measurement(v)]
        }
        return (c, "instructions: \(tool), `workbench run` on the tiny model (n=16, 1 thread)")
    }
}
