import ArgumentParser
import GPT2
import Tokenizer

/// The prompt, given the same way to every verb that generates: `--prompt "IDS"` (token ids, spaces or commas)
/// or `--text "TEXT"` (GPT-2's tokenizer; `--tokenizer FILE`, else $WORKBENCH_TOKENIZER, else the cache's
/// gpt2.tiktoken), and `--n` (prompt + generated tokens). Without either, gpt.c's `31373 612` folded into the
/// model's vocabulary, and n = 10 within its maxT.
struct PromptOption: ParsableArguments {
    @Option(help: "Prompt token ids, separated by spaces or commas (default: 31373 612, folded into the vocabulary).")
    var prompt: String?
    @Option(help: "Prompt as text, encoded with GPT-2's tokenizer (the completion is printed as text too).")
    var text: String?
    @Option(help: "Tokenizer file for --text: .tiktoken, llm.c's gpt2_tokenizer.bin (decode only) or vocab.json.")
    var tokenizer: String?
    // .unconditional: `--n -3` reads -3 (and is refused as not positive) instead of "missing value".
    @Option(parsing: .unconditional, help: "Total tokens, prompt included (default 10, or the model's maxT if smaller).")
    var n: Int?

    /// The checked request and, with --text, the tokenizer's prompt (for decoding the completion).
    /// `ids` are ids given another way (run's positional ids); only one way may be used.
    func request(config: GPT2Config, modelPath: String, ids: [String] = [], sampler: Sampler = .mult,
                 kvCache: Bool = true) throws -> (GenerationRequest, TextPrompt?) {
        let ways = [prompt != nil, text != nil, !ids.isEmpty].filter { $0 }.count
        if ways > 1 { throw WorkbenchError("give the prompt one way: token ids, --prompt or --text") }
        if let n, n < 1 { throw WorkbenchError("--n must be positive, got \(n)") }
        if tokenizer != nil && text == nil { throw WorkbenchError("--tokenizer applies to --text") }
        if let text {
            let p = try TextPrompt(text: text, tokenizer: tokenizer, modelVocabularySize: config.V, model: modelPath)
            return (try GenerationRequest(prompt: p.ids, n: n ?? GenerationRequest.defaultN(for: config, promptCount: p.ids.count),
                                          sampler: sampler, kvCache: kvCache, config: config), p)
        }
        let words: [String]? = !ids.isEmpty ? ids : prompt.map { [$0] }
        return (try GenerationRequest(words: words, n: n, sampler: sampler, kvCache: kvCache, config: config), nil)
    }
}
