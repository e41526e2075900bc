import ArgumentParser
import Bench
import Foundation
import GPT2
import Kernels
import Lab

extension Workbench {
    /// `workbench tune`: the fastest correct variant for each matmul site and for attention (Lab's `Tuner`),
    /// stored for `--kernels auto`.
    struct Tune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pick the fastest correct kernel variant per matmul shape and for attention on this machine; `--kernels auto` uses the choice.",
            discussion: """
            For each of the model's matmul sites (qkv, attproj, fc, fcproj, lmhead) and for attention, at each token
            count of --t (1 = one decode step over 63 cached positions, larger = a prefill), every variant is first
            checked against naive (normalised error max |x - ref| / max |ref| within the variant's tolerance, 1e-4
            for float32), run the engine's way (split across --threads workers). Variants more than 3x slower than
            the best in a screening (best of 3 calls) are dropped; the rest are timed interleaved (Bench's runner),
            each matmul call on the next of weight copies larger than the last-level cache (as in a forward pass,
            weights come from memory), and the variant with the smallest geometric mean of (median / best median)
            over the token counts wins. The choice goes to Profiles/tune.json (or --out) with the machine's
            fingerprint and the model's shape.

            Examples:
              workbench tune   # every site at T=1 and 64, saved to Profiles/tune.json
              workbench tune --t 1,16,64 --threads 2 --budget 1
              workbench run --kernels auto 31373 612         use the choice
            """)

        @OptionGroup var model: ModelOption
        @Option(help: "Comma-separated token counts to tune for.") var t: String = "1,64"
        @Option(help: "Workers (default: the usable cores), as the engine will run.") var threads: Int?
        @Option(help: "Seconds of timing per site and token count.") var budget: Double = 0.4
        @Option(help: "Also try this matmul variant, e.g. a shared library ./libmine.so[:SYMBOL] (repeatable).") var matmul: [String] = []
        @Option(help: "Where to store the choice.") var out: String = TuningFile.defaultPath
        @Flag(help: "Print the result as JSON.") var json = false

        func run() throws {
            let settings = try TuneSettings(tokenCounts: TuneSettings.tokenCounts(t), threads: threads ?? CPUAffinity.usableCores,
                                            budget: budget, extraMatmul: matmul.map(MatmulVariants.resolve))
            let config = try model.loadWeights().config
            let file = Tuner.tune(config: config, settings: settings, fingerprint: Bench.Machine.fingerprint(),
                                  lastLevelCache: Bench.Machine.lastLevelCacheBytes(), log: note)
            try file.save(to: out)
            if json { print(try LabJSON.string(file)) } else { print(file.text() + "\nsaved to \(out); use it with `--kernels auto`") }
        }
    }
}
