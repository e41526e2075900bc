import Foundation

/// A text prompt for a generating command (`run --text`): the tokenizer, checked against the model, and the ids.
///
///     let p = try TextPrompt(text: text, tokenizer: tokenizerOption, modelVocabularySize: ckpt.config.V, model: ckpt.path)
///     var d = p.decoder()
///     ... generate(prompt: p.ids, ...) { id in print((try? d.push(id)) ?? "", terminator: ""); fflush(stdout) }
///     print(d.finish())
public struct TextPrompt: Sendable {
    public let tokenizer: GPT2Tokenizer
    /// The prompt's token ids (never empty).
    public let ids: [Int32]

    /// Finds the tokenizer (`explicit` is `--tokenizer`, then `$WORKBENCH_TOKENIZER`, then the cache), checks that
    /// it has the model's `V` ids, and encodes `text`. Throws a one-line `TokenizerError`: no tokenizer, a bad file,
    /// a decode-only file, a vocabulary that differs from the model's, or a text that encodes to no tokens.
    public init(text: String, tokenizer explicit: String?, modelVocabularySize V: Int, model: String) throws {
        let t = try GPT2Tokenizer.resolved(explicit)
        try t.checkVocabularySize(matches: V, model: model)
        let ids = try t.encode(text)
        guard !ids.isEmpty else {
            throw TokenizerError(.emptyText, "the prompt text is empty: give some text (or the token id \(t.endOfText.map(String.init) ?? "of a start token") to start from nothing)")
        }
        self.tokenizer = t
        self.ids = ids
    }

    /// A streaming decoder for the generated ids.
    public func decoder() -> StreamingDecoder { StreamingDecoder(tokenizer) }
}
