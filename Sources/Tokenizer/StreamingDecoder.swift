import Foundation

/// Turns ids into text as they arrive (for printing tokens as they are generated): a character whose UTF-8
/// bytes are split across tokens is held back until its last byte arrives, so nothing is printed half.
///
///     var d = StreamingDecoder(tokenizer)
///     for id in generated { print(try d.push(id), terminator: ""); fflush(stdout) }
///     print(d.finish(), terminator: "")
///
/// The concatenation of every `push` and the `finish` is `tokenizer.decode(ids)`, exactly (invalid bytes become
/// U+FFFD in the same places).
public struct StreamingDecoder: Sendable {
    public let tokenizer: GPT2Tokenizer
    private var pending: [UInt8] = []

    public init(_ tokenizer: GPT2Tokenizer) { self.tokenizer = tokenizer }

    /// Bytes held back: the start of a UTF-8 sequence whose remaining bytes have not arrived yet (0 to 3).
    public var pendingByteCount: Int { pending.count }

    /// Adds token `id`; returns the text completed by it (empty while a character is incomplete).
    /// Throws for an id outside the vocabulary (the decoder is unchanged then).
    public mutating func push(_ id: Int32) throws -> String {
        pending += try tokenizer.bytes(of: id)
        let keep = StreamingDecoder.incompleteSuffix(pending)
        if keep == pending.count { return "" }
        let text = String(decoding: pending[..<(pending.count - keep)], as: UTF8.self)
        pending.removeFirst(pending.count - keep)
        return text
    }

    /// The held-back bytes (an unfinished sequence, as U+FFFD); the decoder is empty afterwards.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// How many trailing bytes of `b` are a proper prefix of a valid UTF-8 sequence (0 if none): the bytes a
    /// later token may complete. Anything else already decodes the same whatever follows.
    static func incompleteSuffix(_ b: [UInt8]) -> Int {
        // The lead byte is at most 3 bytes back (a 4-byte sequence missing its last byte).
        var k = b.count - 1
        while k >= 0 && b.count - k <= 3 && b[k] & 0xC0 == 0x80 { k -= 1 }
        guard k >= 0 else { return 0 }
        let lead = b[k], have = b.count - k
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return 0          // ASCII, a stray continuation byte, or a byte that never starts a sequence
        }
        guard have < need else { return 0 }
        if have >= 2 {
            // The second byte's allowed range depends on the lead (no overlongs, no surrogates, <= U+10FFFF).
            let second = b[k + 1]
            let ok: Bool
            switch lead {
            case 0xE0: ok = (0xA0...0xBF).contains(second)
            case 0xED: ok = (0x80...0x9F).contains(second)
            case 0xF0: ok = (0x90...0xBF).contains(second)
            case 0xF4: ok = (0x80...0x8F).contains(second)
            default: ok = true
            }
            if !ok { return 0 }
        }
        return have
    }
}
