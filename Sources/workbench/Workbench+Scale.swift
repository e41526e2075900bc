import ArgumentParser
import Foundation
import GPT2
import Kernels
import Lab

extension Workbench {
    /// `workbench scale`: the same workload on 1...N threads (Lab's `Scaler`).
    struct Scale: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a fixed workload on 1...N threads: time, speedup, efficiency, Amdahl serial fraction, usable cores, pinning.",
            discussion: """
            Examples:
              workbench scale   # prefill T=64 on 1...usable cores, 5 interleaved rounds
              workbench scale --workload generate --max-threads 4 --json
              workbench scale --matmul naive --runs 3 --no-pin-comparison
            """)

        @OptionGroup var model: ModelOption
        @Option(help: "Matmul variant (or a shared library ./libmine.so[:SYMBOL]).") var matmul: String = MatmulVariants.defaultName
        @Option(help: "Attention variant.") var attention: String = AttentionVariants.defaultName
        @Option(help: "prefill (one forward over --t tokens) or generate (gpt.c's workload: prompt 31373 612, n 10; ids taken mod V).")
        var workload: String = "prefill"
        @Option(help: "Tokens of the prefill workload (default 64, or the model's maxT if smaller).") var t: Int?
        @Option(help: "Largest thread count (default: the usable cores; may exceed them to show oversubscription).")
        var maxThreads: Int?
        @Option(help: "Timed runs per thread count (interleaved across thread counts).") var runs = 5
        @Flag(help: "Skip the pinning comparison.") var noPinComparison = false
        @Flag(help: "Print JSON instead of the table.") var json = false
        @OptionGroup(title: "The generate workload's prompt") var prompt: PromptOption

        func run() throws {
            let settings = try ScaleSettings(workload: workload, T: t, maxThreads: maxThreads ?? CPUAffinity.usableCores,
                                             runs: runs, pinning: !noPinComparison)
            let base = try EngineSpec.parse("matmul=\(matmul),attention=\(attention),threads=1").options
            let givesPrompt = prompt.prompt != nil || prompt.text != nil || prompt.n != nil || prompt.tokenizer != nil
            if settings.workload != .generate && givesPrompt { throw WorkbenchError("--prompt, --text, --tokenizer and --n apply to --workload generate") }
            let weights = try model.loadWeights()
            let request = settings.workload == .generate ? try prompt.request(config: weights.config, modelPath: weights.path).0 : nil
            let progress = ProgressLine("scale")
            let report = try Scaler.run(weights: weights, base: base, settings: settings, request: request) { r, n in
                if !json { progress.say("round \(r)/\(n)") }
            }
            progress.finish()
            print(json ? try LabJSON.string(report) : report.text, terminator: json ? "\n" : "")
        }
    }
}
