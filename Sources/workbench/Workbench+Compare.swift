import ArgumentParser
import Bench
import Foundation
import GPT2
import Kernels

extension Workbench {
    /// `workbench compare`: two kernel variants (or two engine configurations) checked against the
    /// reference, then timed interleaved, with the statistics that say whether B is really faster.
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check two kernel variants (or engine configurations) against the reference, then time them interleaved.",
            discussion: """
            Kernels:  workbench compare matmul:naive matmul:tiled --shape qkv --t 64
                      workbench compare matmul:naive matmul:tiled --shape 64,768,2304
                      workbench compare attention:naive attention:online --t 64 --c 768 --nh 12 --pos0 0
            Engines:  workbench compare --engine 'matmul=naive' --engine 'matmul=tiled,threads=2' [--model PATH]
                      (keys: matmul, attention, qkv|attproj|fc|fcproj|lmhead (one site's matmul), threads, pin;
                      an empty spec or 'default' means the engine's defaults)

            First both sides run on the same random input (fixed seed) and are compared with the naive
            reference: an element passes when |x - ref| <= 1e-4 * (1 + |ref|) (the reported relative error is
            |x - ref| / (1 + |ref|)); engines must produce the same tokens. A side that fails is reported
            WRONG and the exit status is 1. Then A and B are warmed up and timed alternately (A B, B A, ...)
            until both --runs samples each and --budget seconds are reached (with --runs alone: exactly
            --runs samples). Speedup = median(A) / median(B) with a 95 % bootstrap interval; the verdict
            comes from a two-sided Mann-Whitney U test at alpha = 0.05.
            """)

        @Argument(help: "Two kernel variants as kernel:variant (matmul:naive, attention:naive, ... see `workbench kernels`).")
        var variants: [String] = []
        @Option(name: .customLong("engine"), help: "An engine configuration (give exactly two instead of variants), e.g. 'matmul=tiled,threads=2'.")
        var engines: [String] = []

        @Option(help: "Workers for pool-using variants (default 1); for engines, the default of specs without threads= (default: the usable cores).")
        var threads: Int?
        @Option(help: "Matmul shape: a site of the 124M model (qkv, attproj, fc, fcproj, lmhead) or explicit T,C,OC.")
        var shape: String?
        @Option(name: .customLong("t"), help: "Token positions T (default 64).")
        var T: Int?
        @Option(name: .customLong("c"), help: "Attention: channels C (default 768).")
        var C: Int?
        @Option(name: .customLong("nh"), help: "Attention: heads NH (default 12).")
        var NH: Int?
        @Option(name: .customLong("pos0"), help: "Attention: cached positions before the T new ones (default 0).")
        var pos0: Int?
        @Option(help: "Samples of each side, at least (default 10).")
        var runs: Int?
        @Option(help: "Seconds of timing, at least (default 2 for kernels, 0 for engines and when --runs is given).")
        var budget: Double?
        @Option(help: "Seed of the random inputs.")
        var seed: UInt64 = 1337
        @Flag(help: "Print the report as JSON.")
        var json = false
        @Option(help: .hidden) // Adds this to B's first output element before the check (tests the WRONG path).
        var injectError: Float?

        @OptionGroup var model: ModelOption
        @Option(help: "Engines: total tokens, prompt included (default 10).")
        var n: Int?
        @Option(help: "Engines: prompt token ids, space or comma separated (default \"31373 612\").")
        var prompt: String?

        func run() throws {
            let plan = try makePlan()
            // The machine facts (measured on first use, then cached) only once every input has been checked.
            let machine = { Bench.Machine.current(log: note) }
            switch plan {
            case .matmul(let a, let b, let shape):
                try compareMatmul(a, b, shape: shape, machine: machine)
            case .attention(let a, let b, let shape):
                try compareAttention(a, b, shape: shape, machine: machine)
            case .engine(let a, let b):
                try compareEngines(a, b, machine: machine)
            }
        }

        // MARK: parsing

        enum Plan {
            case matmul(MatmulVariant, MatmulVariant, MatmulShape)
            case attention(AttentionVariant, AttentionVariant, AttentionShape)
            case engine(EngineSpec, EngineSpec)
        }

        struct MatmulShape: Codable { var T: Int, C: Int, OC: Int, site: String? }
        struct AttentionShape: Codable { var T: Int, C: Int, NH: Int, pos0: Int }
        struct EngineSpec { var text: String, options: EngineOptions }

        /// Largest buffer (floats) a comparison may allocate for one tensor: 1 Gi floats = 4 GiB.
        static let maxFloats = 1 << 30

        func makePlan() throws -> Plan {
            if let t = threads, !(1...256).contains(t) { throw WorkbenchError("--threads must be in 1...256, got \(t)") }
            if let r = runs, !(1...1_000_000).contains(r) { throw WorkbenchError("--runs must be in 1...1000000, got \(r)") }
            if let b = budget, !(b >= 0 && b <= 86400) { throw WorkbenchError("--budget must be in 0...86400 seconds, got \(b)") }
            if !engines.isEmpty {
                if !variants.isEmpty { throw WorkbenchError("give either two kernel:variant arguments or two --engine specs, not both") }
                if engines.count != 2 { throw WorkbenchError("--engine must be given exactly twice (A and B), got \(engines.count)") }
                if shape != nil || T != nil || C != nil || NH != nil || pos0 != nil {
                    throw WorkbenchError("--shape, --t, --c, --nh and --pos0 apply to kernel comparisons, not to --engine")
                }
                if injectError != nil { throw WorkbenchError("--inject-error applies to kernel comparisons, not to --engine") }
                let defaultThreads = threads ?? EngineDefaults.threads
                return .engine(try parseEngine(engines[0], threads: defaultThreads),
                               try parseEngine(engines[1], threads: defaultThreads))
            }
            if n != nil || prompt != nil || model.model != nil {
                throw WorkbenchError("--model, --n and --prompt apply to --engine comparisons, not to kernel:variant ones")
            }
            guard variants.count == 2 else {
                throw WorkbenchError("give two variants to compare as kernel:variant (e.g. matmul:naive matmul:tiled), or two --engine specs; got \(variants.count) argument\(variants.count == 1 ? "" : "s")")
            }
            let (ka, va) = try splitSpec(variants[0]), (kb, vb) = try splitSpec(variants[1])
            if ka != kb { throw WorkbenchError("A and B must be variants of the same kernel, got \(ka) and \(kb)") }
            switch ka {
            case "matmul":
                if C != nil || NH != nil || pos0 != nil { throw WorkbenchError("--c, --nh and --pos0 are attention options; a matmul takes --shape (and --t)") }
                return .matmul(try matmulVariant(va), try matmulVariant(vb), try matmulShape())
            default:
                if shape != nil { throw WorkbenchError("--shape is a matmul option; attention takes --t, --c, --nh and --pos0") }
                return .attention(try attentionVariant(va), try attentionVariant(vb), try attentionShape())
            }
        }

        func splitSpec(_ s: String) throws -> (String, String) {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw WorkbenchError("'\(s)' is not kernel:variant (e.g. matmul:naive, attention:naive)")
            }
            guard ["matmul", "attention"].contains(parts[0]) else {
                throw WorkbenchError("unknown kernel '\(parts[0])' in '\(s)' (known: matmul, attention)")
            }
            return (parts[0], parts[1])
        }

        func matmulVariant(_ name: String) throws -> MatmulVariant {
            guard let v = MatmulVariants.named(name) else {
                throw WorkbenchError("unknown matmul variant '\(name)' (known: \(MatmulVariants.all.map(\.name).joined(separator: ", ")))")
            }
            return v
        }

        func attentionVariant(_ name: String) throws -> AttentionVariant {
            guard let v = AttentionVariants.named(name) else {
                throw WorkbenchError("unknown attention variant '\(name)' (known: \(AttentionVariants.all.map(\.name).joined(separator: ", ")))")
            }
            return v
        }

        func matmulShape() throws -> MatmulShape {
            let s = shape ?? "qkv"
            if let site = MatmulSite(rawValue: s) {
                let t = T ?? 64
                if t < 1 || t > 65536 { throw WorkbenchError("--t must be in 1...65536, got \(t)") }
                let (oc, c) = site.shape(GPT2Config.gpt2_124M)
                return try checked(MatmulShape(T: t, C: c, OC: oc, site: site.rawValue))
            }
            let dims = s.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard dims.count == 3, let t = dims[0], let c = dims[1], let oc = dims[2] else {
                throw WorkbenchError("--shape '\(s)' is neither a site (\(MatmulSite.allCases.map(\.rawValue).joined(separator: ", "))) nor T,C,OC (three integers)")
            }
            if T != nil { throw WorkbenchError("--t contradicts --shape T,C,OC: give T in one place") }
            return try checked(MatmulShape(T: t, C: c, OC: oc, site: nil))
        }

        func checked(_ m: MatmulShape) throws -> MatmulShape {
            guard m.T >= 1, m.C >= 1, m.OC >= 1 else { throw WorkbenchError("matmul shape T=\(m.T) C=\(m.C) OC=\(m.OC): every dimension must be positive") }
            let big = [m.T.multipliedReportingOverflow(by: m.C), m.C.multipliedReportingOverflow(by: m.OC), m.T.multipliedReportingOverflow(by: m.OC)]
            if big.contains(where: { $0.overflow || $0.partialValue > Compare.maxFloats }) {
                throw WorkbenchError("matmul shape T=\(m.T) C=\(m.C) OC=\(m.OC) is too large (each tensor must fit in \(Compare.maxFloats) floats)")
            }
            return m
        }

        func attentionShape() throws -> AttentionShape {
            let a = AttentionShape(T: T ?? 64, C: C ?? 768, NH: NH ?? 12, pos0: pos0 ?? 0)
            guard a.T >= 1, a.C >= 1, a.NH >= 1, a.pos0 >= 0 else {
                throw WorkbenchError("attention shape T=\(a.T) C=\(a.C) NH=\(a.NH) pos0=\(a.pos0): T, C and NH must be positive and pos0 >= 0")
            }
            if a.C % a.NH != 0 { throw WorkbenchError("--c \(a.C) is not divisible by --nh \(a.NH)") }
            let rows = a.pos0.addingReportingOverflow(a.T)
            let qkv = rows.partialValue.multipliedReportingOverflow(by: 3 * a.C)
            if rows.overflow || qkv.overflow || qkv.partialValue > Compare.maxFloats || a.T > 1 << 20 {
                throw WorkbenchError("attention shape T=\(a.T) C=\(a.C) pos0=\(a.pos0) is too large")
            }
            return a
        }

        func parseEngine(_ text: String, threads defaultThreads: Int) throws -> EngineSpec {
            var o = EngineOptions(matmul: MatmulVariants.named(EngineDefaults.matmul)!,
                                  attention: AttentionVariants.named(EngineDefaults.attention)!,
                                  threads: defaultThreads, pin: false, timers: false)
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed == "default" { return EngineSpec(text: "default", options: o) }
            var sites: [(MatmulSite, MatmulVariant)] = []
            for item in trimmed.split(separator: ",") {
                let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                let key = kv[0], value = kv.count == 2 ? kv[1] : nil
                switch (key, value) {
                case ("matmul", let v?): o = EngineOptions(matmul: try matmulVariant(v), attention: o.attention, threads: o.threads, pin: o.pin, timers: false)
                case ("attention", let v?): o.attention = try attentionVariant(v)
                case ("threads", let v?):
                    guard let t = Int(v), (1...256).contains(t) else { throw WorkbenchError("engine spec '\(text)': threads must be an integer in 1...256, got '\(v)'") }
                    o.threads = t
                case ("pin", nil), ("pin", "true"), ("pin", "1"): o.pin = true
                case ("pin", "false"), ("pin", "0"): o.pin = false
                case (let k, let v?) where MatmulSite(rawValue: k) != nil: sites.append((MatmulSite(rawValue: k)!, try matmulVariant(v)))
                default:
                    throw WorkbenchError("engine spec '\(text)': cannot read '\(item)' (use key=value with keys matmul, attention, \(MatmulSite.allCases.map(\.rawValue).joined(separator: ", ")), threads, pin)")
                }
            }
            for (site, v) in sites { o.matmul[site] = v } // site choices win over matmul=, whatever the order
            return EngineSpec(text: trimmed, options: o)
        }

        // MARK: the report

        /// One side of a comparison: its correctness check and its measured rates.
        struct Side: Codable {
            var spec: String
            /// Workers the side actually used (1 for variants that do not use the pool).
            var threads: Int
            var correct: Bool
            var maxAbsError: Double?
            var maxRelError: Double?
            /// Lossy (weight-format) variants: sqrt(sum (x - ref)^2 / sum ref^2) and the format's bound on it.
            var normalisedError: Double?
            var normalisedBound: Double?
            var tokens: [Int32]?
            var samples: Samples?
            var gflops: Double?
            var percentOfPeak: Double?
            var gbs: Double?
            var percentOfBandwidth: Double?
            var roofline: Roofline?
        }

        /// Napkin math for one side: where the roofline puts the shape and how close the side gets.
        struct Roofline: Codable {
            /// flop per byte of weights read.
            var intensity: Double
            /// flop per byte at which the machine stops being memory-bound (peak / bandwidth, for these threads).
            var balance: Double
            /// "compute" or "memory".
            var bound: String
            /// min(peak, intensity x bandwidth), GFLOP/s.
            var attainableGFLOPS: Double
            var percentOfAttainable: Double?
        }

        struct Report: Codable {
            var kind: String
            var shape: [String: Int]
            var site: String?
            var tolerance: Double
            var a: Side
            var b: Side
            var wrong: Bool
            var comparison: Comparison?
            var runner: RunnerOptions?
            var machine: MachineInfo
        }

        static let tolerance = KernelErrors.tolerance

        func runnerOptions(engine: Bool) -> RunnerOptions {
            var o = RunnerOptions()
            o.minimumRuns = runs ?? 10
            o.budgetSeconds = budget ?? (engine || runs != nil ? 0 : 2)
            o.maximumRuns = max(1000, o.minimumRuns)
            if engine { o.warmupCalls = 1; o.warmupSeconds = 0 } // the token check already ran both once
            return o
        }

        // MARK: matmul

        func compareMatmul(_ va: MatmulVariant, _ vb: MatmulVariant, shape m: MatmulShape, machine facts: () -> MachineInfo) throws {
            let machine = facts()
            let K = threads ?? 1
            let problem = MatmulProblem(T: m.T, C: m.C, OC: m.OC, seed: seed)
            let pool = WorkerPool(count: K)
            // Correctness: each side its own way (pool only for pool-using variants) against naive's output.
            va.prepare(problem.weight); vb.prepare(problem.weight)
            let ea = problem.check { va($0, pool: pool) }
            let eb = problem.check(perturb: injectError) { vb($0, pool: pool) }
            let flops = problem.flops
            let weightBytes = problem.weightBytes
            var a = Side(spec: "matmul:\(va.name)", threads: va.usesPool ? K : 1, correct: ea.passes(va),
                         maxAbsError: ea.maxAbs, maxRelError: ea.maxRel)
            var b = Side(spec: "matmul:\(vb.name)", threads: vb.usesPool ? K : 1, correct: eb.passes(vb),
                         maxAbsError: eb.maxAbs, maxRelError: eb.maxRel)
            // lossy (weight-format) variants: their normalised error and bound, their format's bytes
            for (side, v, e) in [(0, va, ea), (1, vb, eb)] where v.isLossy {
                if side == 0 { a.normalisedError = e.normalised; a.normalisedBound = v.weightFormat.tolerance }
                else { b.normalisedError = e.normalised; b.normalisedBound = v.weightFormat.tolerance }
            }
            var comparison: Comparison?
            let opts = runnerOptions(engine: false)
            if a.correct && b.correct {
                let aa = problem.args(), ab = problem.args()
                let samples = measure([
                    Benchmark(name: "A " + va.name) { va(aa, pool: pool) },
                    Benchmark(name: "B " + vb.name) { vb(ab, pool: pool) },
                ], options: opts)
                for (i, var side) in [a, b].enumerated() {
                    side.samples = samples[i]
                    let v = i == 0 ? va : vb
                    rates(&side, flops: flops, bytes: v.isLossy ? Double(v.weightBytes(rows: m.OC, cols: m.C)) : weightBytes, machine: machine)
                    if i == 0 { a = side } else { b = side }
                }
                comparison = Comparison(a: samples[0], b: samples[1])
            }
            let report = Report(kind: "matmul", shape: ["T": m.T, "C": m.C, "OC": m.OC], site: m.site, tolerance: Compare.tolerance,
                                a: a, b: b, wrong: !(a.correct && b.correct), comparison: comparison,
                                runner: comparison == nil ? nil : opts, machine: machine)
            let title = "matmul \(m.site.map { "\($0) " } ?? "")T=\(m.T) C=\(m.C) OC=\(m.OC) (\(String(format: "%.3g", flops / 1e9)) GFLOP, weights \(mib(weightBytes))), --threads \(K)"
            try emit(report, title: title)
        }

        /// Fills a side's rates from its median: GFLOP/s, % of peak, weight GB/s, % of bandwidth, roofline.
        func rates(_ s: inout Side, flops: Double, bytes: Double?, machine: MachineInfo) {
            guard let med = s.samples.flatMap({ Stats.median($0.nanoseconds) }), med > 0 else { return }
            let peak = machine.peakGFLOPS(threads: s.threads)
            s.gflops = flops / med
            s.percentOfPeak = 100 * s.gflops! / peak
            if let bytes {
                let bw = machine.bandwidthGBs(threads: s.threads)
                s.gbs = bytes / med
                s.percentOfBandwidth = 100 * s.gbs! / bw
                let intensity = flops / bytes
                let balance = peak / bw
                let attainable = min(peak, intensity * bw)
                s.roofline = Roofline(intensity: intensity, balance: balance, bound: intensity >= balance ? "compute" : "memory",
                                      attainableGFLOPS: attainable, percentOfAttainable: 100 * s.gflops! / attainable)
            }
        }

        // MARK: attention

        func compareAttention(_ va: AttentionVariant, _ vb: AttentionVariant, shape s: AttentionShape, machine facts: () -> MachineInfo) throws {
            let machine = facts()
            let K = threads ?? 1
            let problem = AttentionProblem(T: s.T, C: s.C, NH: s.NH, pos0: s.pos0, workers: K, seed: seed)
            let pool = WorkerPool(count: K)
            let ea = problem.check { va($0, pool: pool) }
            let eb = problem.check(perturb: injectError) { vb($0, pool: pool) }
            let flops = problem.flops
            var a = Side(spec: "attention:\(va.name)", threads: va.usesPool ? K : 1, correct: ea.passes,
                         maxAbsError: ea.maxAbs, maxRelError: ea.maxRel)
            var b = Side(spec: "attention:\(vb.name)", threads: vb.usesPool ? K : 1, correct: eb.passes,
                         maxAbsError: eb.maxAbs, maxRelError: eb.maxRel)
            var comparison: Comparison?
            let opts = runnerOptions(engine: false)
            if a.correct && b.correct {
                let aa = problem.args(), ab = problem.args()
                let samples = measure([
                    Benchmark(name: "A " + va.name) { va(aa, pool: pool) },
                    Benchmark(name: "B " + vb.name) { vb(ab, pool: pool) },
                ], options: opts)
                a.samples = samples[0]; b.samples = samples[1]
                rates(&a, flops: flops, bytes: nil, machine: machine)
                rates(&b, flops: flops, bytes: nil, machine: machine)
                comparison = Comparison(a: samples[0], b: samples[1])
            }
            let report = Report(kind: "attention", shape: ["T": s.T, "C": s.C, "NH": s.NH, "pos0": s.pos0], site: nil,
                                tolerance: Compare.tolerance, a: a, b: b, wrong: !(a.correct && b.correct),
                                comparison: comparison, runner: comparison == nil ? nil : opts, machine: machine)
            let title = "attention T=\(s.T) C=\(s.C) NH=\(s.NH) pos0=\(s.pos0) (\(String(format: "%.3g", flops / 1e9)) GFLOP), --threads \(K)"
            try emit(report, title: title)
        }

        // MARK: engines

        func compareEngines(_ ea: EngineSpec, _ eb: EngineSpec, machine facts: () -> MachineInfo) throws {
            let ckpt = try model.load()
            let words = (prompt ?? "31373 612").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
            let tokens = try parseTokens(words, vocabulary: ckpt.config.V)
            let total = n ?? 10
            let gpt = GPT2Model(checkpoint: ckpt, options: ea.options)
            try gpt.validate(prompt: tokens, n: total)
            let machine = facts()
            // Correctness: both configurations must generate the same tokens (these runs also warm up).
            let tokA = try gpt.generate(prompt: tokens, n: total)
            gpt.configure(eb.options)
            let tokB = try gpt.generate(prompt: tokens, n: total)
            var a = Side(spec: ea.options.summary, threads: ea.options.threads, correct: true, tokens: tokA)
            var b = Side(spec: eb.options.summary, threads: eb.options.threads, correct: tokA == tokB, tokens: tokB)
            var comparison: Comparison?
            let opts = runnerOptions(engine: true)
            // Every forward pass reads all the weights at least once: a lower bound on the bytes moved.
            let passes = total - tokens.count
            let weightBytes = Double(ckpt.config.parameterCount * MemoryLayout<Float>.size) * Double(passes)
            if b.correct {
                let samples = measure([
                    Benchmark(name: "A", setUp: { gpt.configure(ea.options) }) { _ = try? gpt.generate(prompt: tokens, n: total) },
                    Benchmark(name: "B", setUp: { gpt.configure(eb.options) }) { _ = try? gpt.generate(prompt: tokens, n: total) },
                ], options: opts)
                a.samples = samples[0]; b.samples = samples[1]
                for side in [0, 1] {
                    var s = side == 0 ? a : b
                    if let med = Stats.median(s.samples!.nanoseconds), med > 0 {
                        s.gbs = weightBytes / med
                        s.percentOfBandwidth = 100 * s.gbs! / machine.bandwidthGBs(threads: s.threads)
                    }
                    if side == 0 { a = s } else { b = s }
                }
                comparison = Comparison(a: samples[0], b: samples[1])
            }
            let report = Report(kind: "engine", shape: ["n": total, "prompt": tokens.count, "forwardPasses": passes], site: nil,
                                tolerance: 0, a: a, b: b, wrong: !b.correct, comparison: comparison,
                                runner: comparison == nil ? nil : opts, machine: machine)
            let title = "engine: generate n=\(total) from prompt \(tokens.map(String.init).joined(separator: " ")) (\(passes) forward passes, weights \(mib(Double(ckpt.config.parameterCount * 4))) each)"
            try emit(report, title: title)
        }

        // MARK: timing and output

        /// Runs the benchmarks interleaved, with progress on stderr once a run takes more than a second.
        func measure(_ benchmarks: [Benchmark], options: RunnerOptions) -> [Samples] {
            let tty = isatty(2) != 0
            let start = Date()
            var lastPrint = 0.0
            var printed = false
            let samples = Runner(options: options).run(benchmarks) { p in
                let t = Date().timeIntervalSince(start)
                guard t > 1, t - lastPrint >= (tty ? 0.25 : 5) else { return }
                lastPrint = t
                let target = p.phase == .warmup ? "" : String(format: " of >= %d runs and >= %.0f s", p.options.minimumRuns, p.options.budgetSeconds)
                let line = String(format: "compare: %@ round %d%@, %.1f s", p.phase.rawValue, p.rounds, target, t)
                if tty { FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8)); printed = true }
                else { note(line) }
            }
            if printed { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            return samples
        }

        func emit(_ r: Report, title: String) throws {
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
                print(String(decoding: try enc.encode(r), as: UTF8.self))
            } else {
                print(Compare.text(r, title: title), terminator: "")
            }
            if r.wrong { throw ExitCode(1) }
        }

        /// The human-readable report.
        static func text(_ r: Report, title: String) -> String {
            var out = "compare \(title)\n"
            func line(_ s: String = "") { out += s + "\n" }
            let sides = [("A", r.a), ("B", r.b)]
            if r.kind == "engine" {
                for (tag, s) in sides { line("  \(tag)  \(s.spec)") }
                line("correctness: generated tokens")
                for (tag, s) in sides {
                    line("  \(tag)  \((s.tokens ?? []).map(String.init).joined(separator: " "))\(tag == "B" ? (s.correct ? "   same as A" : "   WRONG: differs from A") : "")")
                }
            } else {
                line(String(format: "correctness against naive (pass: |x - ref| <= %.0e * (1 + |ref|)):", r.tolerance))
                for (tag, s) in sides {
                    let lossy = s.normalisedError.map { "  normalised error \(sci($0)) (lossy format, pass: <= \(sci(s.normalisedBound)))" } ?? ""
                    line("  \(tag)  \(pad(s.spec, 22)) max abs error \(sci(s.maxAbsError))  max rel error \(sci(s.maxRelError))\(lossy)  \(s.correct ? "ok" : "WRONG")")
                }
            }
            if r.wrong {
                let bad = sides.filter { !$0.1.correct }.map { "\($0.0) (\($0.1.spec))" }.joined(separator: " and ")
                line(r.kind == "engine" ? "WRONG: B generates different tokens from A; not timed" : "WRONG: \(bad) outside the tolerance; not timed")
                return out
            }
            guard let c = r.comparison, let runner = r.runner else { return out }
            line(String(format: "timing: interleaved A/B, %d warm-up call%@ each, >= %d runs and >= %.1f s", runner.warmupCalls, runner.warmupCalls == 1 ? "" : "s", runner.minimumRuns, runner.budgetSeconds))
            let hasFlops = sides.contains { $0.1.gflops != nil }, hasBytes = sides.contains { $0.1.gbs != nil }
            var header = "     " + pad("", 22) + rpad("median", 10) + rpad("min", 10) + rpad("p90", 10) + rpad("MAD", 10) + rpad("runs", 6) + rpad("threads", 8)
            if hasFlops { header += rpad("GFLOP/s", 9) + rpad("%peak", 7) }
            if hasBytes { header += rpad("GB/s", 8) + rpad("%bw", 6) }
            line(header)
            for (tag, s) in sides {
                let sum = tag == "A" ? c.a : c.b
                var row = "  \(tag)  " + pad(r.kind == "engine" ? (tag == "A" ? "engine A" : "engine B") : s.spec, 22)
                let unit = TimeUnit(sum.median)
                row += rpad(unit.format(sum.median), 10) + rpad(unit.format(sum.min), 10) + rpad(unit.format(sum.p90), 10) + rpad(unit.format(sum.mad), 10)
                row += rpad("\(sum.count)", 6) + rpad("\(s.threads)", 8)
                if hasFlops { row += rpad(s.gflops.map { String(format: "%.2f", $0) } ?? "-", 9) + rpad(s.percentOfPeak.map { String(format: "%.1f", $0) } ?? "-", 7) }
                if hasBytes { row += rpad(s.gbs.map { String(format: "%.2f", $0) } ?? "-", 8) + rpad(s.percentOfBandwidth.map { String(format: "%.1f", $0) } ?? "-", 6) }
                line(row)
            }
            let m = r.machine
            if r.kind == "engine" {
                line(String(format: "bandwidth: each forward pass reads all weights at least once (%d passes); 100 %% = measured read bandwidth (%.1f GB/s one thread, %.1f all cores)",
                            r.shape["forwardPasses"] ?? 0, m.readBandwidthGBs, m.readBandwidthAllGBs))
            } else {
                line(String(format: "100 %% lines: FMA peak %.1f GFLOP/s per thread, read bandwidth %.1f GB/s one thread / %.1f all cores (`workbench machine`)",
                            m.fmaPeakGFLOPS, m.readBandwidthGBs, m.readBandwidthAllGBs))
            }
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
}

private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s.padding(toLength: n, withPad: " ", startingAt: 0) }
private func rpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
private func sci(_ x: Double?) -> String { x.map { $0.isNaN ? "nan" : String(format: "%.2e", $0) } ?? "-" }
private func mib(_ bytes: Double) -> String { String(format: "%.1f MiB", bytes / 1048576) }

/// A unit for durations given in nanoseconds, chosen so the reference value shows 3-4 significant digits;
/// every value of a row uses its median's unit.
private struct TimeUnit {
    let scale: Double, name: String, digits: Int
    init(_ reference: Double) {
        switch reference {
        case ..<1e3: (scale, name, digits) = (1, "ns", 1)
        case ..<1e6: (scale, name, digits) = (1e3, "us", 2)
        case ..<1e9: (scale, name, digits) = (1e6, "ms", 2)
        default: (scale, name, digits) = (1e9, "s", 3)
        }
    }
    func format(_ v: Double) -> String { String(format: "%.\(digits)f %@", v / scale, name as NSString) }
}
