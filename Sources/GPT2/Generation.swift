import Foundation

/// How the next token is picked from the last position's probabilities.
public enum Sampler: String, CaseIterable, Sendable, Codable {
    /// gpt.c's `sample_mult` with a fixed coin 0.5: the first index whose running float32 sum exceeds it.
    case mult
    /// The most probable token (lowest index on ties).
    case argmax
}

/// gpt.c's rule: the first i with coin < probs[0] + ... + probs[i] (a running float32 sum), else n - 1.
@inlinable
public func sampleMult(_ probs: UnsafeBufferPointer<Float>, coin: Float = 0.5) -> Int {
    var cdf: Float = 0
    for i in 0..<probs.count {
        cdf += probs[i]
        if coin < cdf { return i }
    }
    return probs.count - 1
}

/// Index of the largest value (the first one on ties).
@inlinable
public func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    for i in 1..<values.count where values[i] > values[best] { best = i }
    return best
}

/// A bad generation request: one line saying what is wrong.
public struct GenerationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension GPT2Model {
    /// Completes the request's prompt to n tokens, gpt.c's way: at each step the probabilities of the last
    /// position pick the next token with the sampler. With the KV cache, the prompt is prefilled in one batched
    /// forward and each new token costs one position; without, every step recomputes the whole prefix.
    /// `firstLogits` receives the logits [T, V] of the first forward pass; `onToken` each new token.
    /// Returns the generated tokens (not the prompt). Throws `GenerationError` when a step's logits are not
    /// finite (NaN or infinite weights), naming the position and the first non-finite weight.
    @discardableResult
    public func generate(_ request: GenerationRequest,
                         firstLogits: ((UnsafeBufferPointer<Float>, _ T: Int) -> Void)? = nil,
                         onToken: (Int32) -> Void = { _ in }) throws -> [Int32] {
        precondition(request.V == config.V && request.maxT == config.maxT, "generate: request checked against another model shape")
        let (prompt, n, sampler, kvCache) = (request.prompt, request.n, request.sampler, request.kvCache)
        var tokens = prompt
        var generated: [Int32] = []
        resetCache()
        for step in prompt.count..<n {
            let first = step == prompt.count
            let logits: UnsafeBufferPointer<Float>
            if kvCache && !first {
                logits = forward([tokens[step - 1]], pos0: step - 1)
            } else {
                logits = forward(tokens, pos0: 0, allLogits: first && firstLogits != nil)
            }
            if first, let firstLogits { firstLogits(logits, tokens.count) }
            let probs = probabilities
            // One NaN or infinite logit makes the softmax's sum NaN, and so every probability: one element tells.
            if !probs[0].isFinite { throw GenerationError(nonFiniteMessage(position: step - 1)) }
            let next = Int32(sampler == .mult ? sampleMult(probs) : argmax(probs))
            tokens.append(next)
            generated.append(next)
            onToken(next)
        }
        return generated
    }

    /// What a non-finite step says: the position, and where the first non-finite parameter is (a scan made
    /// only once something went wrong).
    func nonFiniteMessage(position: Int) -> String {
        var msg = "the logits at position \(position) are not finite (NaN or infinite)"
        guard let checkpoint else { return msg + " (model \(weights.path))" }  // a converted file: no fp32 scan
        let names = ["wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb", "ln2w", "ln2b",
                     "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"]
        var p = checkpoint.parameters
        for (name, n) in zip(names, config.parameterSizes) {
            if let i = (0..<n).first(where: { !p[$0].isFinite }) {
                msg += ": \(checkpoint.path) has a non-finite weight, \(name)[\(i)] = \(p[i])"
                return msg
            }
            p += n
        }
        return msg
    }

    /// `generate(_:)` for a prompt and n given directly (checked by `GenerationRequest`).
    @discardableResult
    public func generate(prompt: [Int32], n: Int, sampler: Sampler = .mult, kvCache: Bool = true,
                         firstLogits: ((UnsafeBufferPointer<Float>, _ T: Int) -> Void)? = nil,
                         onToken: (Int32) -> Void = { _ in }) throws -> [Int32] {
        try generate(try GenerationRequest(prompt: prompt, n: n, sampler: sampler, kvCache: kvCache, config: config),
                 firstLogits: firstLogits, onToken: onToken)
    }
}
