import Foundation

/// GPT-2's byte-level BPE tokenizer: text -> pieces (the pre-tokenizer) -> UTF-8 bytes -> merges by rank -> ids,
/// and ids -> bytes -> text. Gives the ids tiktoken's `gpt2`/`r50k_base` encoding gives (`encode_ordinary`:
/// `<|endoftext|>` in the text is ordinary text; the special token only comes from a caller's id).
///
/// Files (`init(contentsOf:)` tells them apart by content and name):
///   - `.tiktoken` (`base64 rank` per line; OpenAI's, and `whisper/assets/gpt2.tiktoken`): encode and decode;
///     `<|endoftext|>` gets the id after the last rank (50256 for GPT-2, vocabulary 50257)
///   - llm.c's `gpt2_tokenizer.bin` (magic 20240328): decode only, it carries no merge ranks
///   - Hugging Face `vocab.json` with `merges.txt` beside it (or their folder): encode and decode
/// Immutable after loading; safe to share between threads.
public final class GPT2Tokenizer: Sendable {
    public enum Format: String, Sendable { case tiktoken, llmc, huggingFace = "huggingface" }

    /// The file it was loaded from (or a name given by the caller).
    public let path: String
    public let format: Format
    /// Number of ids: the mergeable tokens plus the special ones (50257 for GPT-2).
    public var vocabularySize: Int { table.count }
    /// `<|endoftext|>`'s id, if the vocabulary has one (50256 for GPT-2).
    public let endOfText: Int32?
    /// Whether `encode` works (false for llm.c's .bin, which has no merge ranks).
    public var canEncode: Bool { mergeable > 0 }

    let table: TokenTable
    /// Ids 0 ..< mergeable have merge ranks (= their ids); the rest are special tokens, never produced by merges.
    let mergeable: Int

    /// Loads a tokenizer file (see the type's comment for the formats). Throws `TokenizerError` naming the file
    /// and what is wrong with it.
    public convenience init(contentsOf path: String) throws {
        let v = try VocabularyFile.load(path)
        self.init(table: v.table, mergeable: v.mergeable, endOfText: v.endOfText, path: path, format: v.format)
    }

    /// A tokenizer over a table whose ids 0 ..< mergeable are ranked (distinct byte strings, all 256 single
    /// bytes among them when mergeable > 0), the rest special. The loaders check this before calling.
    init(table: TokenTable, mergeable: Int, endOfText: Int32?, path: String, format: Format) {
        self.table = table
        self.mergeable = mergeable
        self.endOfText = endOfText
        self.path = path
        self.format = format
    }

    /// Finds the tokenizer file (`TokenizerLocation.resolve`) and loads it.
    public static func resolved(_ explicit: String?) throws -> GPT2Tokenizer {
        try GPT2Tokenizer(contentsOf: TokenizerLocation.resolve(explicit: explicit))
    }

    // MARK: - encode

    /// The ids of `text`, exactly as tiktoken's `encode_ordinary` (= `encode(text, disallowed_special=())`).
    /// Throws only for a decode-only file.
    public func encode(_ text: String) throws -> [Int32] {
        guard canEncode else {
            throw TokenizerError(.decodeOnly, "\(path): an llm.c tokenizer file has no merge ranks, so it can decode ids but not encode text; use gpt2.tiktoken (bash Tools/setup.sh fetches it) for text")
        }
        var t = text
        return t.withUTF8 { encodeUTF8($0) }
    }

    /// The ids of valid UTF-8 bytes (the caller guarantees validity, as a String's bytes are).
    func encodeUTF8(_ s: UnsafeBufferPointer<UInt8>) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(s.count / 4 + 1)
        guard let base = s.baseAddress else { return out }
        var cache = PieceCache()
        table.withLookup { t in
            PreTokenizer.split(s) { a, b in
                let p = base + a, n = b - a
                let r = t.rank(p, n)                 // a piece that is a token is that token (tiktoken does this too)
                if r >= 0 { out.append(r); return }
                if n > PieceCache.maxPieceBytes { BytePairMerge.merge(p, n, t, into: &out); return }
                let key = PieceCache.Key(p, n)
                if cache.append(key, to: &out) { return }
                let start = out.count
                BytePairMerge.merge(p, n, t, into: &out)
                cache.insert(key, out[start...])
            }
        }
        return out
    }

    // MARK: - decode

    /// The bytes of token `id`.
    public func bytes(of id: Int32) throws -> [UInt8] {
        try check(id)
        return Array(table.tokenBytes(Int(id)))
    }

    /// The bytes of `ids`, concatenated.
    public func decodeBytes(_ ids: [Int32]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 4)
        for id in ids {
            try check(id)
            out += table.tokenBytes(Int(id))
        }
        return out
    }

    /// The text of `ids`; bytes that are not valid UTF-8 (a sequence cut between ids) become U+FFFD, as
    /// tiktoken's `decode(errors="replace")`.
    public func decode(_ ids: [Int32]) throws -> String {
        String(decoding: try decodeBytes(ids), as: UTF8.self)
    }

    /// Throws unless 0 <= id < vocabularySize.
    @inline(__always)
    func check(_ id: Int32) throws {
        guard id >= 0 && Int(id) < table.count else {
            throw TokenizerError(.idOutOfRange, "token id \(id) is not in the vocabulary of \(TokenizerError.name(path)) (ids 0...\(table.count - 1))")
        }
    }

    // MARK: - checks

    /// Throws unless the tokenizer has exactly `V` ids, the vocabulary size of the model `model` (its
    /// unpadded V: 50257 for GPT-2).
    public func checkVocabularySize(matches V: Int, model: String) throws {
        guard V == vocabularySize else {
            throw TokenizerError(.sizeMismatch, "the tokenizer \(path) has \(vocabularySize) tokens but the model \(model) has a vocabulary of V=\(V); text needs a model with V=\(vocabularySize) (a real GPT-2 or the 124M-shaped default), or pass token ids instead of text")
        }
    }
}
