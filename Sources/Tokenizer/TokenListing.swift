import Foundation

/// `workbench tokenize --json`: the ids of a text with each token's bytes, as plain Codable data.
///
///     {"schema": 1, "tool": "workbench", "command": "tokenize", "tokenizer": "/root/.cache/workbench/gpt2.tiktoken",
///      "vocabulary_size": 50257, "count": 2,
///      "tokens": [{"id": 15496, "text": "Hello", "hex": "48656c6c6f"}, {"id": 995, "text": " world", "hex": "20776f726c64"}]}
///
/// `text` is null for a token whose bytes are not valid UTF-8 on their own (part of a character split across
/// tokens); `hex` is always there.
public struct TokenListing: Codable, Equatable, Sendable {
    public static let currentSchema = 1

    public struct Token: Codable, Equatable, Sendable {
        public var id: Int32
        public var text: String?
        public var hex: String

        public init(id: Int32, text: String?, hex: String) { self.id = id; self.text = text; self.hex = hex }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(text, forKey: .text)      // null rather than absent
            try c.encode(hex, forKey: .hex)
        }
    }

    public var schema: Int
    public var tokenizer: String
    public var vocabularySize: Int
    public var count: Int
    public var tokens: [Token]

    enum CodingKeys: String, CodingKey {
        case schema, tokenizer, vocabularySize = "vocabulary_size", count, tokens
    }

    /// The listing of `ids` under `tokenizer` (ids must be in the vocabulary).
    public init(ids: [Int32], tokenizer: GPT2Tokenizer) throws {
        schema = TokenListing.currentSchema
        self.tokenizer = tokenizer.path
        vocabularySize = tokenizer.vocabularySize
        count = ids.count
        tokens = try ids.map { id in
            let b = try tokenizer.bytes(of: id)
            return Token(id: id, text: String(validating: b, as: UTF8.self), hex: VocabularyFile.hex(b))
        }
    }
}
