import Foundation

/// One generation as a user asks for it: the prompt's token ids, n (prompt + generated tokens, gpt.c's
/// meaning), the sampler and the KV-cache choice, checked once against the model's shape when it is made.
public struct GenerationRequest: Equatable, Sendable {
    public let prompt: [Int32]
    /// Total tokens, prompt included (prompt.count < n <= maxT).
    public let n: Int
    public var sampler: Sampler
    public var kvCache: Bool
    /// The vocabulary size and maxT the request was checked against.
    public let V: Int, maxT: Int

    /// Checks the request: prompt not empty, every id in 0..<V, prompt shorter than n, n <= maxT.
    public init(prompt: [Int32], n: Int, sampler: Sampler = .mult, kvCache: Bool = true, config: GPT2Config) throws {
        if prompt.isEmpty { throw GenerationError("empty prompt: give at least one token id") }
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= config.V }) {
            throw GenerationError("token \(bad) is out of range: token ids must be in 0..<\(config.V) (the vocabulary size)")
        }
        if n < 1 { throw GenerationError("--n must be positive, got \(n)") }
        if n > config.maxT { throw GenerationError("n = \(n) exceeds the model's maximum sequence length \(config.maxT)") }
        if prompt.count >= n {
            throw GenerationError("the prompt has \(prompt.count) tokens but n = \(n): n counts prompt plus generated tokens and must be larger")
        }
        self.prompt = prompt; self.n = n; self.sampler = sampler; self.kvCache = kvCache
        V = config.V; maxT = config.maxT
    }

    /// A request from command-line words (token ids; spaces or commas also separate ids inside one word).
    /// nil words or n mean the defaults that fit the model (`defaultPrompt`, `defaultN`).
    public init(words: [String]?, n: Int?, sampler: Sampler = .mult, kvCache: Bool = true, config: GPT2Config) throws {
        let prompt = try words.map { try GenerationRequest.parseIDs($0, vocabulary: config.V) } ?? GenerationRequest.defaultPrompt(for: config)
        try self.init(prompt: prompt, n: n ?? GenerationRequest.defaultN(for: config, promptCount: prompt.count),
                      sampler: sampler, kvCache: kvCache, config: config)
    }

    /// gpt.c's example prompt (31373 612, "hello there" in GPT-2's vocabulary), folded into the vocabulary of
    /// smaller models.
    public static func defaultPrompt(for c: GPT2Config) -> [Int32] {
        let p: [Int32] = [Int32(31373 % c.V), Int32(612 % c.V)]
        return Array(p.prefix(max(1, min(p.count, c.maxT - 1))))
    }

    /// gpt.c's n = 10, within the model's maxT (and above the prompt when it can be).
    public static func defaultN(for c: GPT2Config, promptCount: Int = 2) -> Int {
        min(c.maxT, max(10, promptCount + 1))
    }

    /// Parses token ids: integers in 0..<V, separated by spaces or commas. Throws `GenerationError`.
    public static func parseIDs(_ words: [String], vocabulary V: Int) throws -> [Int32] {
        let items = words.flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" }).map(String.init) }
        if items.isEmpty { throw GenerationError("empty prompt: give at least one token id") }
        return try items.map { w in
            guard let v = Int(w) else {
                if w.hasPrefix("-") && Int(w.dropFirst()) == nil {
                    throw GenerationError("unknown option '\(w)' (options go before the token ids; see --help)")
                }
                if w.allSatisfy(\.isASCIIDigitOrSign), w.contains(where: \.isNumber) {
                    throw GenerationError("token '\(w)' is too large: token ids must be in 0..<\(V) (the vocabulary size)")
                }
                throw GenerationError("token '\(w)' is not an integer")
            }
            guard v >= 0 && v < V else { throw GenerationError("token \(v) is out of range: token ids must be in 0..<\(V) (the vocabulary size)") }
            return Int32(v)
        }
    }
}

private extension Character {
    var isASCIIDigitOrSign: Bool { ("0"..."9").contains(self) || self == "-" || self == "+" }
}
