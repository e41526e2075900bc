// The report's fixed set of measurements on one model, in this order (so that each runs alone):
//   1. machine facts (cached by `workbench machine`)
//   2. profile: the signal sampler over repeated prefills (T = 64), then over decode steps (one token each,
//      KV cache), with the per-op timers on: flame graph + timers vs samples for both phases
//   3. thread sweep: the prefill on 1...N threads (N = usable cores, at least 2), interleaved; Amdahl fit;
//      the usable-core probe (full run: also a generation)
//   4. matmul variants, checked against naive then timed interleaved, at a compute-bound shape (fc, T = 64)
//      and a memory-bound one (lm-head, T = 1: its weights are larger than the caches): roofline + compare
//   5. the gate's last verdict, if one was saved in Profiles/
// --quick keeps every step short (about a minute in all on the project's 2-core machine).
//
// UPDATE when Lab's compare/scale/kernel harness lands: steps 3 and 4 should call it (they repeat, in short,
// what `workbench scale` and `workbench compare` do today in the CLI).
import Bench
import Foundation
import GPT2
import Kernels
import Lab
import Profiling

public enum ReportMeasurements {
    /// How long each step measures.
    public struct Plan: Equatable, Sendable {
        public var profileSeconds: Double
        public var scaleRuns: Int
        public var scaleGenerate: Bool
        public var matmulRuns: Int
        public var matmulBudget: Double
        public static let quick = Plan(profileSeconds: 1.5, scaleRuns: 3, scaleGenerate: false, matmulRuns: 5, matmulBudget: 0)
        public static let full = Plan(profileSeconds: 5, scaleRuns: 9, scaleGenerate: true, matmulRuns: 15, matmulBudget: 1.5)
    }

    public static func measure(model: String?, quick: Bool, command: [String], profilesDirectory: String,
                               provenance: ReportProvenance, log: @escaping (String) -> Void) throws -> ReportDocument {
        let plan = quick ? Plan.quick : Plan.full
        let steps = 5
        let started = monotonicNanos()
        func step(_ i: Int, _ what: String) {
            log(String(format: "report: [%d/%d] %@ (%.0f s so far)", i, steps, what, Double(monotonicNanos() - started) / 1e9))
        }
        // The model first: a bad --model fails here, before anything is measured.
        let path = try DefaultModel.resolve(model, log: log)
        let ckpt = try Checkpoint(path: path)
        let cfg = ckpt.config
        let modelArg = model.map { " --model \($0)" } ?? ""
        let reportCommand = command.joined(separator: " ")
        var doc = ReportDocument(title: "workbench report", provenance: provenance)

        step(1, "machine facts")
        let info = Bench.Machine.current(log: log)
        doc.machine = ReportInputs.machine(info, source: SectionSource(commands: ["workbench machine --json"],
                                                                       detail: "FMA peak: best of 30 runs of a SIMD16 loop over 12 accumulators on one core; bandwidth: best pass summing a \(Fmt.bytes(info.bandwidthBytes)) buffer; measured \(info.measuredAt), then reused from the cache until `workbench machine --refresh`"))
        let N = max(2, CPUAffinity.usableCores)

        var options = EngineSpec.defaults()
        options.timers = true
        var gpt: GPT2Model? = GPT2Model(checkpoint: ckpt, options: options)
        let T = min(64, cfg.maxT)
        let tokens = (0..<T).map { Int32(($0 * 7919 + 31373) % cfg.V) }

        step(2, String(format: "profile: prefill T=%d, then decode steps, %.1f s each, %@", T, plan.profileSeconds, options.summary))
        let prof = try profile(gpt!, tokens: tokens, seconds: plan.profileSeconds)
        let clockName = prof.clock == .task ? "task-clock perf events" : prof.clock == .cpu ? "CPU-time timers" : "wall-clock timers"
        let sub = "signal sampler (\(clockName), \(Fmt.sig(prof.hz)) Hz per thread); \(prof.profile.total) samples; prefill T=\(T) ×\(prof.prefill.forwards) and \(prof.decode.forwards) decode steps; \(options.summary); \((path as NSString).lastPathComponent)"
        doc.profiles = [ReportInputs.profile(prof.profile, title: "Where the time goes: prefill and decode (the first frame says which)", subtitle: sub,
                                             seconds: prof.seconds,
                                             source: SectionSource(commands: [reportCommand, "workbench profile\(modelArg)"],
                                                                   detail: String(format: "%.1f s of prefills and %.1f s of decode steps, sampled separately; each stack starts with a [prefill]/[decode] frame. `workbench profile` samples whole generations instead.", plan.profileSeconds, plan.profileSeconds)))]
        if let why = prof.fallback { doc.notes.append("profile: no task clock (\(why)); CPU-time timers instead, tick-limited") }
        doc.ops = OpSection(phases: [ReportInputs.opPhase(label: "prefill T=\(T)", timings: prof.prefill, byTag: prof.prefillTags),
                                     ReportInputs.opPhase(label: "decode", timings: prof.decode, byTag: prof.decodeTags)],
                            source: SectionSource(commands: [reportCommand, "workbench run\(modelArg) --timings --timings-json timings.json 31373 612", "workbench profile\(modelArg)"],
                                                  detail: "the per-op timers and the op tag of every sample, from the same prefills and decode steps as the flame graph"))

        step(3, "thread sweep 1...\(N) threads, prefill T=\(T)" + (plan.scaleGenerate ? " and a generation" : ""))
        var workloads: [(String, String, () -> Void)] = [("prefill T=\(T) (one forward pass)", "--workload prefill --t \(T)", { [gpt] in gpt!.resetCache(); gpt!.forward(tokens) })]
        if plan.scaleGenerate {
            let request = try GenerationRequest(words: nil, n: nil, config: cfg)
            workloads.append(("generate: prompt \(request.prompt.map(String.init).joined(separator: " ")), n=\(request.n) (KV cache)", "--workload generate",
                              { [gpt] in gpt!.generate(request) }))
        }
        for (label, args, work) in workloads {
            doc.scaling.append(scaling(gpt!, base: options, threads: N, runs: plan.scaleRuns, label: label, work: work,
                                       command: "workbench scale\(modelArg) \(args) --max-threads \(N) --runs \(plan.scaleRuns) --no-pin --json"))
        }
        gpt = nil  // its pool and buffers go before the kernels are timed

        step(4, "matmul variants at fc T=\(T) and lm-head T=1 (\(MatmulVariants.all.map(\.name).joined(separator: ", ")))")
        var points: [RooflineSection.Point] = []
        var commands: [String] = []
        for (site, t) in [(MatmulSite.fc, T), (MatmulSite.lmhead, 1)] {
            let (oc, c) = site.shape(cfg)
            let r = matmul(site: site, T: t, C: c, OC: oc, threads: N, plan: plan, machine: info)
            points += r.points
            doc.distributions.append(r.distribution)
            commands.append(r.distribution.source.commands.first ?? "")
            log("report:   \(r.distribution.title): " + r.points.map { "\($0.variant) \(Fmt.sig($0.gflops)) GFLOP/s" }.joined(separator: ", "))
        }
        doc.roofline = RooflineSection(roofs: ReportInputs.roofs(doc.machine!), points: points, bytesCounted: "weights", tolerance: 0.05,
                                       source: SectionSource(commands: [reportCommand] + commands,
                                                             detail: "GFLOP/s = 2·T·C·OC / median time; intensity = flops / weight bytes; roofs from the machine facts above"))

        step(5, "gate verdict in \(profilesDirectory)/")
        if let g = ReportInputs.latestGate(in: profilesDirectory) {
            doc.gate = ReportInputs.gate(g.report, source: SectionSource(commands: ["workbench gate --json \(g.file)"], files: [g.file],
                                                                          detail: "the newest gate verdict saved in \(profilesDirectory)/ (not measured by the report)"))
        } else {
            doc.notes.append("no gate verdict in \(profilesDirectory)/: `workbench gate --json \(profilesDirectory)/gate-last.json` saves one for the next report")
        }
        log(String(format: "report: measured in %.1f s", Double(monotonicNanos() - started) / 1e9))
        return doc
    }

    // MARK: profile

    struct ProfileResult {
        var profile: StackProfile
        var prefill: TimingsReport, decode: TimingsReport
        var prefillTags: [Int32: Int], decodeTags: [Int32: Int]
        var clock: SignalSampler.Clock
        var hz: Double
        var fallback: String?
        var seconds: Double
    }

    /// Starts the sampler on the task clock, falling back to CPU-time timers where perf_event_open is not allowed.
    static func startSampler(capacity: Int) throws -> (SignalSampler.Clock, String?) {
        do {
            try SignalSampler.start(.init(clock: .task, hz: SignalSampler.Clock.task.defaultHz, maxSamples: capacity))
            return (.task, nil)
        } catch {
            try SignalSampler.start(.init(clock: .cpu, hz: SignalSampler.Clock.cpu.defaultHz, maxSamples: capacity))
            return (.cpu, "\(error)")
        }
    }

    static func profile(_ gpt: GPT2Model, tokens: [Int32], seconds: Double) throws -> ProfileResult {
        let cfg = gpt.config
        let threads = gpt.options.threads
        let capacity = min(1 << 20, max(8192, Int(250 * Double(threads + 2) * seconds * 1.5)))
        // Warm-up (first touches, packing) outside the sampled time.
        gpt.resetCache(); gpt.forward(tokens)
        gpt.opTag = SignalSampler.opTag
        defer { gpt.opTag = nil; SignalSampler.opTag.pointee = 0 }

        // Prefill: the whole T-token forward pass, again and again.
        gpt.timers.reset()
        let (clock, fallback) = try startSampler(capacity: capacity)
        var t0 = monotonicNanos()
        repeat { gpt.resetCache(); gpt.forward(tokens) } while Double(monotonicNanos() - t0) / 1e9 < seconds
        let (rawPrefill, _) = SignalSampler.stop()
        let prefillSeconds = Double(monotonicNanos() - t0) / 1e9
        let prefill = gpt.timers.report()

        // Decode: one token per forward pass after a short prompt; the prompt's forward pass is neither sampled
        // nor timed. When the cache is full (small models), start again.
        let P = min(16, max(1, cfg.maxT / 4))
        var rawDecode: [RawSample] = []
        var decode: TimingsReport?
        let phaseStart = monotonicNanos()
        var decodeSeconds = 0.0
        while cfg.maxT > P {
            gpt.opTag = nil
            gpt.resetCache(); gpt.forward(Array(tokens.prefix(P)))
            gpt.opTag = SignalSampler.opTag
            gpt.timers.reset()
            _ = try startSampler(capacity: capacity)
            t0 = monotonicNanos()
            var pos = P
            while pos < cfg.maxT && Double(monotonicNanos() - phaseStart) / 1e9 < seconds {
                gpt.forward([Int32((pos * 7919 + 31373) % cfg.V)], pos0: pos)
                pos += 1
            }
            decodeSeconds += Double(monotonicNanos() - t0) / 1e9
            rawDecode += SignalSampler.stop().samples
            decode = merge(decode, gpt.timers.report())
            if Double(monotonicNanos() - phaseStart) / 1e9 >= seconds { break }
        }

        let symbolizer = Symbolizer()
        let a = symbolizer.profile(rawPrefill), b = symbolizer.profile(rawDecode)
        var all = a.stacks.mapStacks { ["[prefill T=\(tokens.count)]"] + $0 }
        all.merge(b.stacks.mapStacks { ["[decode]"] + $0 })
        return ProfileResult(profile: all, prefill: prefill, decode: decode ?? OpTimers(layers: cfg.L).report(), prefillTags: a.byTag, decodeTags: b.byTag,
                             clock: clock, hz: clock.defaultHz, fallback: fallback, seconds: prefillSeconds + decodeSeconds)
    }

    /// Two timing reports of the same ops added together (shares recomputed over the sum).
    static func merge(_ a: TimingsReport?, _ b: TimingsReport) -> TimingsReport {
        guard var out = a else { return b }
        out.forwards += b.forwards; out.forwardMs += b.forwardMs; out.opsMs += b.opsMs
        for r in b.ops {
            if let i = out.ops.firstIndex(where: { $0.op == r.op }) {
                let flops = (out.ops[i].gflops ?? 0) * out.ops[i].ms * 1e6 + (r.gflops ?? 0) * r.ms * 1e6
                out.ops[i].calls += r.calls; out.ops[i].ms += r.ms
                if out.ops[i].gflops != nil { out.ops[i].gflops = out.ops[i].ms > 0 ? flops / (out.ops[i].ms * 1e6) : nil }
                out.ops[i].layers = []
            } else {
                out.ops.append(r)
            }
        }
        for i in out.ops.indices { out.ops[i].percent = out.forwardMs > 0 ? 100 * out.ops[i].ms / out.forwardMs : 0 }
        out.ops.sort { $0.ms > $1.ms }
        return out
    }

    // MARK: thread sweep

    static func scaling(_ gpt: GPT2Model, base: EngineOptions, threads N: Int, runs: Int, label: String,
                        work: () -> Void, command: String) -> ScalingSection {
        var o = base
        o.timers = false
        func configure(_ k: Int) { var x = o; x.threads = k; gpt.configure(x) }
        var points = (1...N).map { ScalingPoint(threads: $0, seconds: []) }
        for k in 1...N { configure(k); work() }
        for r in 0..<runs {
            for k in (r % 2 == 0 ? Array(1...N) : Array((1...N).reversed())) {
                configure(k)
                let s = monotonicNanos(); work(); points[k - 1].seconds.append(Double(monotonicNanos() - s) / 1e9)
            }
        }
        configure(base.threads)
        let t1 = points[0].median
        let cores = CPUAffinity.usableCores
        let f = Scaling.amdahlSerialFraction(speedups: points.filter { $0.threads <= cores }.map { ($0.threads, t1 / $0.median) })
        // Usable cores: N workers each doing the same CPU-bound work, against one worker doing it alone.
        let pool = WorkerPool(count: N)
        func probe(_ k: Int) -> Double {
            var best = Double.infinity
            for _ in 0..<3 {
                let s = monotonicNanos()
                pool.run { ith, _ in if ith < k { _ = Scaling.cpuBoundWork(iterations: 20_000_000) } }
                best = min(best, Double(monotonicNanos() - s) / 1e9)
            }
            return best
        }
        let usable = Scaling.usableCores(threads: N, singleSeconds: probe(1), parallelSeconds: probe(N))
        var warnings: [String] = []
        if N > cores { warnings.append("\(N) threads on \(cores) usable core\(cores == 1 ? "" : "s"): the last points are oversubscribed (not in the Amdahl fit)") }
        return ScalingSection(workload: label, engine: o.summary.replacingOccurrences(of: " threads=\(o.threads)", with: ""),
                              points: points.map { .init(threads: $0.threads, seconds: $0.seconds) }, serialFraction: f,
                              usableCores: usable, cpusReported: ProcessInfo.processInfo.activeProcessorCount, warnings: warnings,
                              source: SectionSource(commands: [command], detail: "\(runs) interleaved rounds over 1...\(N) threads after a warm-up on each; speedup = median(1 thread) / median(k threads)"))
    }

    // MARK: matmul variants

    static func matmul(site: MatmulSite, T: Int, C: Int, OC: Int, threads N: Int, plan: Plan, machine: MachineInfo)
        -> (points: [RooflineSection.Point], distribution: DistributionSection) {
        let problem = MatmulProblem(T: T, C: C, OC: OC, seed: 1337)
        let pool = WorkerPool(count: N)
        let shape = "\(site == .lmhead ? "lm-head" : site.rawValue) T=\(T)"
        var sides: [DistributionSection.Side] = []
        var benchmarks: [Benchmark] = []
        var timed: [MatmulVariant] = []
        for v in MatmulVariants.all {
            v.prepare(problem.weight)
            let e = problem.check { v.runStandalone($0, pool: pool) }
            let threads = v.standaloneOnPool ? N : 1
            if e.passes(v.tolerance) {
                let args = problem.args()
                benchmarks.append(Benchmark(name: v.name) { v.runStandalone(args, pool: pool) })
                timed.append(v)
            } else {
                sides.append(.init(name: v.name, nanoseconds: [], threads: threads,
                                   problem: "WRONG against naive (normalised error \(Fmt.sig(e.normalised, 2))): not timed"))
            }
        }
        var o = RunnerOptions()
        o.warmupCalls = 1; o.warmupSeconds = 0; o.minimumRuns = plan.matmulRuns; o.budgetSeconds = plan.matmulBudget
        o.maximumRuns = max(100, plan.matmulRuns)
        let samples = Runner(options: o).run(benchmarks)
        var points: [RooflineSection.Point] = []
        var speedups: [DistributionSection.Speedup] = []
        let reference = samples.first { $0.name == MatmulVariants.reference.name }
        for (v, s) in zip(timed, samples) {
            let threads = v.standaloneOnPool ? N : 1
            sides.append(.init(name: v.name, nanoseconds: s.nanoseconds, threads: threads))
            if let med = Stats.median(s.nanoseconds), med > 0 {
                points.append(.init(variant: v.name, shape: shape, threads: threads, intensity: problem.flops / problem.weightBytes,
                                    gflops: problem.flops / med, medianNs: med))
            }
            if let ref = reference, v.name != ref.name, let c = Comparison(a: ref, b: s) {
                speedups.append(.init(a: ref.name, b: v.name, speedup: c.speedup, low: c.speedupLow, high: c.speedupHigh,
                                      confidence: c.confidence, p: c.mannWhitney.p, verdict: c.verdict.rawValue))
            }
        }
        let weights = Double(C * OC * 4) / 1048576
        var notes = ["\(Fmt.sig(problem.flops / 1e9, 3)) GFLOP per call, weights \(Fmt.sig(weights, 3)) MiB (T=\(T), C=\(C), OC=\(OC)); variants that use the pool (threaded, blas) run on \(N) threads, the others on one"]
        let l3 = machine.caches.filter { $0.type != "Instruction" }.map(\.bytes).max() ?? 0
        if T == 1 && Double(C * OC * 4) <= Double(l3) {
            notes.append("these weights (\(Fmt.sig(weights, 3)) MiB) fit in the largest cache (\(Fmt.bytes(l3))): the shape is not memory-bound here, so points may sit above the bandwidth roof")
        }
        let cmd = "workbench compare matmul:naive matmul:\(MatmulVariants.defaultName) --shape \(T),\(C),\(OC) --threads \(N) --runs \(plan.matmulRuns) --json"
        let d = DistributionSection(title: "matmul \(shape)", sides: sides, speedups: speedups, notes: notes,
                                    source: SectionSource(commands: [cmd],
                                                          detail: "every variant checked against naive, then timed interleaved: \(plan.matmulRuns)+ samples each\(plan.matmulBudget > 0 ? ", at least \(Fmt.sig(plan.matmulBudget)) s" : ""); speedups vs naive with a 95 % bootstrap interval"))
        return (points, d)
    }
}
