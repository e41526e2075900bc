import ArgumentParser
import Bench
import Basics
import Foundation
import GPT2
import Kernels

extension Workbench {
    /// `workbench run`: complete token ids to n tokens, printing each new token as soon as it is known.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Complete a prompt (token ids or --text) to n tokens (gpt.c's sampling rule), optionally with per-op timings.",
            discussion: """
            Examples:
              workbench run 31373 612   # gpt.c's example: ids in, one id per line out
              # text in, the completion streamed as text
              workbench run --text "hello there" --n 24
              workbench run --timings --threads 2 31373 612 the per-op table after the tokens
            """)

        @OptionGroup var model: ModelOption
        @OptionGroup var engine: EngineFlags
        @OptionGroup var prompt: PromptOption
        @Flag(help: "With --text: print the token ids (one per line, after the text) as well.")
        var showIds = false
        @Option(help: "mult (gpt.c's sample_mult, coin 0.5) or argmax.")
        var sampler: String = "mult"
        @Flag(inversion: .prefixedNo, help: "Keep keys/values per layer so each new token costs one position (else recompute the prefix every step).")
        var kvCache = true
        @Option(help: "Write the float32 logits [T, V] of the first forward pass to this file.")
        var logitsOut: String?
        @Flag(help: "Print a table of per-op times after generation.")
        var timings = false
        @Flag(help: "With --timings: add a per-layer breakdown.")
        var perLayer = false
        @Option(help: "Write the per-op timings as JSON to this file.")
        var timingsJson: String?
        @Flag(help: "Switch the per-op timers off.")
        var noTimers = false
        @Option(help: "Run the whole generation this many times (tokens printed once) and print the median time on stderr.")
        var `repeat`: Int?
        @Argument(parsing: .allUnrecognized, help: "Prompt token ids (integers in 0..<V); or --prompt / --text.")
        var tokens: [String] = []

        func run() throws {
            guard let s = Sampler(rawValue: sampler) else {
                throw WorkbenchError("unknown sampler '\(sampler)' (known: mult, argmax)")
            }
            let tokens = self.tokens.filter { $0 != "--" }
            if tokens.isEmpty && prompt.prompt == nil && prompt.text == nil {
                throw WorkbenchError("empty prompt: give token ids, --prompt IDS or --text TEXT")
            }
            if showIds && prompt.text == nil { throw WorkbenchError("--show-ids applies to --text (ids are printed anyway)") }
            if perLayer && !timings { throw WorkbenchError("--per-layer adds to --timings: give both") }
            try Paths.checkOutput(logitsOut, flag: "--logits-out")
            try Paths.checkOutput(timingsJson, flag: "--timings-json")
            let repeats = `repeat` ?? 1
            if repeats < 1 || repeats > 1_000_000 { throw WorkbenchError("--repeat must be in 1...1000000, got \(repeats)") }
            if noTimers && (timings || timingsJson != nil) { throw WorkbenchError("--no-timers contradicts --timings/--timings-json") }
            let weights = try model.loadWeights()  // an llm.c checkpoint or a converted model file
            let (request, text) = try prompt.request(config: weights.config, modelPath: weights.path, ids: tokens, sampler: s, kvCache: kvCache)
            var decoder = text?.decoder()
            let gpt = GPT2Model(weights: weights, options: try engine.options(for: weights, timers: !noTimers))
            var logitsError: Error?
            var times: [Double] = []
            var generated: [Int32] = []
            for r in 0..<repeats {
                let start = monotonicNanos()
                generated = try gpt.generate(
                    request,
                    firstLogits: r > 0 ? nil : logitsOut.map { path in { logits, _ in
                        do { try Data(buffer: logits).write(to: URL(fileURLWithPath: path)) } catch { logitsError = error }
                    } },
                    onToken: { tok in
                        guard r == 0 else { return }
                        if decoder != nil { print((try? decoder!.push(tok)) ?? "", terminator: "") } else { print(tok) }
                        fflush(stdout)
                    })
                times.append(Double(monotonicNanos() - start) / 1e6)
            }
            if var d = decoder {
                print(d.finish())
                if showIds { print((request.prompt + generated).map(String.init).joined(separator: " ")) }
            }
            let elapsed = Stats.median(times)!
            if let logitsError, let logitsOut { throw WorkbenchError("cannot write logits to \(logitsOut): \(logitsError.localizedDescription)") }
            let report = gpt.timers.report()
            let spread = times.count > 1 ? String(format: " (median of %d runs, min %.1f, max %.1f)", times.count, times.min()!, times.max()!) : ""
            let summary = String(format: "generated %d tokens in %.1f ms%@, %.2f ms/token, %d forward passes, %@",
                                 generated.count, elapsed, spread as NSString, elapsed / Double(max(1, generated.count)),
                                 report.forwards, gpt.options.summary as NSString)
            if timings {
                print("")
                print(summary)
                print(report.table(perLayer: perLayer), terminator: "")
            } else if `repeat` != nil {
                note(summary)
            }
            if let path = timingsJson {
                do { try ToolJSON.data(report).write(to: URL(fileURLWithPath: path)) }
                catch { throw WorkbenchError("cannot write timings to \(path): \(error.localizedDescription)") }
            }
        }
    }
}
