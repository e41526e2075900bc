import ArgumentParser
import Bench
import Foundation
import GPT2
import Kernels
import Lab

extension Workbench {
    /// `workbench compare`: two kernel variants (or two engine configurations) checked against the
    /// reference, then timed interleaved (Lab's `Comparisons`).
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check two kernel variants (or engine configurations) against the reference, then time them interleaved.",
            discussion: """
            Kernels:  workbench compare matmul:naive matmul:tiled --shape qkv --t 64
                      workbench compare matmul:naive matmul:tiled --shape 64,768,2304
                      # (llm.c's matmul_forward, see README)
                      workbench compare matmul:threaded matmul:./libmine.so[:SYMBOL]
                      workbench compare attention:naive attention:online --t 64 --c 768 --nh 12 --pos0 0
            Engines:  workbench compare --engine 'matmul=naive' --engine 'matmul=tiled,threads=2' [--model PATH]
                      (keys: matmul, attention, qkv|attproj|fc|fcproj|lmhead (one site's matmul), threads, pin;
                      an empty spec or 'default' means the engine's defaults)

            First both sides run on the same random input (fixed seed) and are checked against the naive
            reference: the normalised error max |x - ref| / max |ref| must be within the variant's tolerance
            (1e-4 for float32); engines must produce the same tokens. A side that fails is reported WRONG and
            the exit status is 1. Then A and B are warmed up and timed alternately (A B, B A, ...) until both
            --runs samples each and --budget seconds are reached (with --runs alone: exactly --runs samples).
            Matmul calls cycle through weight copies larger than the last-level cache, so each reads its weights
            from memory as a forward pass does. Speedup = median(A) / median(B) with a 95 % bootstrap interval;
            the verdict comes from a two-sided Mann-Whitney U test at alpha = 0.05. A rate above 100 % (+ 15 %
            noise) of the measured peak or bandwidth is marked '!' and reported as a measurement problem.
            """)

        @Argument(help: "Two kernel variants as kernel:variant (matmul:naive, attention:naive, matmul:./libmine.so, ... see `workbench kernels`).")
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
        @OptionGroup var model: ModelOption
        @OptionGroup(title: "Engines: the generation compared") var prompt: PromptOption

        func run() throws {
            if let t = threads, !(1...256).contains(t) { throw WorkbenchError("--threads must be in 1...256, got \(t)") }
            let timing = try CompareTiming(runs: runs, budget: budget)
            let progress = ProgressLine("compare")
            // The machine facts (measured on first use, then cached) only once every input has been checked.
            let machine = { Bench.Machine.current(log: note) }
            let report: CompareReport
            if !engines.isEmpty {
                if !variants.isEmpty { throw WorkbenchError("give either two kernel:variant arguments or two --engine specs, not both") }
                if engines.count != 2 { throw WorkbenchError("--engine must be given exactly twice (A and B), got \(engines.count)") }
                if shape != nil || T != nil || C != nil || NH != nil || pos0 != nil {
                    throw WorkbenchError("--shape, --t, --c, --nh and --pos0 apply to kernel comparisons, not to --engine")
                }
                var base = EngineSpec.defaults(threads: threads)
                base.timers = false
                let a = try EngineSpec.parse(engines[0], base: base), b = try EngineSpec.parse(engines[1], base: base)
                let weights = try model.loadWeights()
                let request = try prompt.request(config: weights.config, modelPath: weights.path).0
                report = try Comparisons.engines(a, b, weights: weights, request: request, runner: timing.runner(engine: true),
                                             machine: machine(), progress: progress.update)
            } else {
                if prompt.n != nil || prompt.prompt != nil || prompt.text != nil || model.model != nil {
                    throw WorkbenchError("--model, --n, --prompt and --text apply to --engine comparisons, not to kernel:variant ones")
                }
                guard variants.count == 2 else {
                    throw WorkbenchError("give two variants to compare as kernel:variant (e.g. matmul:naive matmul:tiled), or two --engine specs; got \(variants.count) argument\(variants.count == 1 ? "" : "s")")
                }
                switch try KernelPair.parse(variants[0], variants[1]) {
                case .matmul(let a, let b):
                    if C != nil || NH != nil || pos0 != nil { throw WorkbenchError("--c, --nh and --pos0 are attention options; a matmul takes --shape (and --t)") }
                    report = Comparisons.matmul(a, b, shape: try MatmulShape.parse(shape, T: T), threads: threads ?? 1, seed: seed,
                                                runner: timing.runner(engine: false), machine: machine(), progress: progress.update)
                case .attention(let a, let b):
                    if shape != nil { throw WorkbenchError("--shape is a matmul option; attention takes --t, --c, --nh and --pos0") }
                    report = Comparisons.attention(a, b, shape: try AttentionShape(T: T, C: C, NH: NH, pos0: pos0), threads: threads ?? 1,
                                                   seed: seed, runner: timing.runner(engine: false), machine: machine(), progress: progress.update)
                }
            }
            progress.finish()
            if json { print(try LabJSON.string(report)) } else { print(report.text, terminator: "") }
            if report.wrong { throw ExitCode(1) }
        }
    }
}
