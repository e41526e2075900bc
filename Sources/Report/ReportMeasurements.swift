// The report's fixed set of measurements on one model, in this order (so that each runs alone):
//   1. machine facts (cached by `workbench machine`)
//   2. profile: the signal sampler over repeated prefills (T = 64), then over decode steps (one token each,
//      KV cache), with the per-op timers on: flame graph + timers vs samples for both phases
//   3. thread sweep (Lab's `Scaler`, what `workbench scale` runs): the prefill on 1...N threads (N = usable
//      cores, at least 2), interleaved; Amdahl fit; the usable-core probe (full run: also a generation, pinning)
//   4. matmul variants (Lab's `KernelCase`s, as `kernels --time` and `compare` check and time them), checked
//      against naive, then timed interleaved with `Bench.Runner` at fc T = 64 (compute-bound) and fc T = 1
//      (memory-bound), the weights cycled through copies larger than the last-level cache (`ColdWeights`)
//      and a stream read of the same copies timed with them; rates and problems from Lab's `Rates`
//   5. the gate's last verdict, if one was saved in Profiles/
// --quick keeps every step short (about a minute in all on the project's 2-core machine).
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
        gpt = nil  // Lab's Scaler makes its own model; this one's pool and buffers go first
        for (workload, args) in [("prefill", "--workload prefill --t \(T)")] + (plan.scaleGenerate ? [("generate", "--workload generate")] : []) {
            let settings = try ScaleSettings(workload: workload, T: T, maxThreads: N, runs: plan.scaleRuns, pinning: plan.scaleGenerate)
            let report = try Scaler.run(weights: ModelWeights(checkpoint: ckpt), base: options, settings: settings)
            let cmd = "workbench scale\(modelArg) \(args) --max-threads \(N) --runs \(plan.scaleRuns)\(settings.pinning ? "" : " --no-pin-comparison") --json"
            doc.scaling.append(ReportInputs.scaling(report, source: SectionSource(commands: [cmd],
                detail: "\(plan.scaleRuns) interleaved rounds over 1...\(N) threads after a warm-up on each (Lab's Scaler); speedup = median(1 thread) / median(k threads)")))
        }

        step(4, "matmul variants at fc T=\(T) and fc T=1 (\(MatmulVariants.all.map(\.name).joined(separator: ", ")))")
        var points: [RooflineSection.Point] = []
        var commands: [String] = []
        var streams: [Int: Double] = [:]
        for t in [T, 1] {
            let (oc, c) = MatmulSite.fc.shape(cfg)
            let r = matmul(site: .fc, T: t, C: c, OC: oc, threads: N, plan: plan, machine: info)
            points += r.points
            for (k, g) in r.streams { streams[k] = max(streams[k] ?? 0, g) }
            doc.distributions.append(r.distribution)
            commands.append(r.distribution.source.commands.first ?? "")
            log("report:   \(r.distribution.title): " + r.points.map { "\($0.variant) \(Fmt.sig($0.gflops)) GFLOP/s" }.joined(separator: ", "))
        }
        doc.roofline = RooflineSection(roofs: ReportInputs.roofs(doc.machine!, streams: streams), points: points, bytesCounted: "weights",
                                       tolerance: MeasurementLimits.noiseMargin,
                                       source: SectionSource(commands: [reportCommand] + commands + ["workbench kernels --time --threads \(N)"],
                                                             detail: "GFLOP/s = 2·T·C·OC / median time; intensity = flops / weight bytes; roofs: the machine facts above, the bandwidth raised to a stream read of the same weight copies where that was faster (as Lab's Rates does)"))

        step(5, "gate verdict in \(profilesDirectory)/")
        if let g = ReportInputs.latestGate(in: profilesDirectory) {
            doc.gate = ReportInputs.gate(g.report, source: SectionSource(commands: ["workbench gate --report-json \(g.file)"], files: [g.file],
                                                                          detail: "the newest gate verdict saved in \(profilesDirectory)/ (not measured by the report)"))
        } else {
            doc.notes.append("no gate verdict in \(profilesDirectory)/: `workbench gate --report-json \(profilesDirectory)/gate-last.json` saves one for the next report")
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

    // MARK: matmul variants

    /// Every matmul variant at T x C x OC, through Lab's `KernelCase` (the way `kernels --time` and `compare`
    /// run them: each variant its own way, pool-using ones on `threads` workers) with the weights cycled
    /// through cold copies; timed interleaved so they share the machine's moments; rates from Lab's `Rates`.
    static func matmul(site: MatmulSite, T: Int, C: Int, OC: Int, threads N: Int, plan: Plan, machine: MachineInfo)
        -> (points: [RooflineSection.Point], distribution: DistributionSection, streams: [Int: Double]) {
        let problem = MatmulProblem(T: T, C: C, OC: OC, seed: 1337)
        let pool = WorkerPool(count: N)
        // Memory-bound (T = 1): every call reads a weight copy not touched for a while, from memory, as a forward
        // pass does. Compute-bound shapes keep one cache-resident weight (Lab's KernelCase allows it), which
        // saves copying and packing the ~8x-LLC of copies.
        let cold = T == 1 ? ColdWeights(problem.weight, lastLevelCache: machine.lastLevelCacheBytes) : nil
        let shape = "\(site == .lmhead ? "lm-head" : site.rawValue) T=\(T)"
        var sides: [DistributionSection.Side] = []
        var timed: [KernelCase] = []
        for v in MatmulVariants.all {
            let k = KernelCase.matmul(v, on: problem, pool: pool, way: .standalone, weights: cold)
            let e = k.check()
            if e.passes(k.tolerance) {
                timed.append(k)
            } else {
                sides.append(.init(name: k.name, nanoseconds: [], threads: k.threads,
                                   problem: "WRONG against naive (normalised error \(Fmt.sig(e.normalised, 2)), tolerance \(Fmt.sig(k.tolerance, 2))): not timed"))
            }
        }
        var o = RunnerOptions()
        o.warmupCalls = 1; o.warmupSeconds = 0; o.minimumRuns = plan.matmulRuns; o.budgetSeconds = plan.matmulBudget
        o.maximumRuns = max(100, plan.matmulRuns)
        // A stream read of the same copies for each thread count used, in the same rounds: this moment's 100 % line.
        let threadCounts = cold == nil ? [] : Set(timed.map(\.threads)).sorted()
        let streamBodies = threadCounts.map { k in Benchmark(name: "stream \(k)", body: cold!.streamRead(on: k == N ? pool : WorkerPool(count: k))) }
        let samples = Runner(options: o).run(timed.map { k in Benchmark(name: k.name, body: k.call) } + streamBodies)
        var streams: [Int: Double] = [:]
        for (k, s) in zip(threadCounts, samples.suffix(streamBodies.count)) {
            if let med = Stats.median(s.nanoseconds), med > 0 { streams[k] = problem.weightBytes / med }
        }
        var points: [RooflineSection.Point] = []
        var speedups: [DistributionSection.Speedup] = []
        let reference = samples.first { $0.name == MatmulVariants.reference.name }
        for (k, s) in zip(timed, samples) {
            sides.append(.init(name: k.name, nanoseconds: s.nanoseconds, threads: k.threads))
            if let med = Stats.median(s.nanoseconds), med > 0 {
                let r = Rates(medianNs: med, flops: problem.flops, bytes: problem.weightBytes, threads: k.threads, machine: machine,
                              streamGBs: streams[k.threads])
                points.append(.init(variant: k.name, shape: shape, threads: k.threads, intensity: r.roofline?.intensity ?? problem.flops / problem.weightBytes,
                                    gflops: r.gflops, medianNs: med, problems: r.problems))
            }
            if let ref = reference, k.name != ref.name, let c = Comparison(a: ref, b: s) {
                speedups.append(.init(a: ref.name, b: k.name, speedup: c.speedup, low: c.speedupLow, high: c.speedupHigh,
                                      confidence: c.confidence, p: c.mannWhitney.p, verdict: c.verdict.rawValue))
            }
        }
        let weights = Double(C * OC * 4) / 1048576
        var notes = ["\(Fmt.sig(problem.flops / 1e9, 3)) GFLOP per call, weights \(Fmt.sig(weights, 3)) MiB (T=\(T), C=\(C), OC=\(OC)); variants that use the pool (threaded, blas) run on \(N) threads, the others on one",
                     cold?.streaming.text ?? "compute-bound: one weight, cache-resident between calls"]
        notes += streams.sorted { $0.key < $1.key }.map { String(format: "stream read of the same copies: %.1f GB/s on %d thread%@", $0.value, $0.key, $0.key == 1 ? "" : "s") }
        let cmd = "workbench compare matmul:naive matmul:\(MatmulVariants.defaultName) --shape \(T),\(C),\(OC) --threads \(N) --runs \(plan.matmulRuns) --json"
        let d = DistributionSection(title: "matmul \(shape)", sides: sides, speedups: speedups, notes: notes,
                                    source: SectionSource(commands: [cmd, "workbench kernels --time --mm \(T),\(C),\(OC) --threads \(N)"],
                                                          detail: "every variant checked against naive, then timed interleaved: \(plan.matmulRuns)+ samples each\(plan.matmulBudget > 0 ? ", at least \(Fmt.sig(plan.matmulBudget)) s" : ""); speedups vs naive with a 95 % bootstrap interval"))
        return (points, d, streams)
    }
}
