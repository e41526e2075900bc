import Foundation

/// llm.c's `gpt2_tokenizer.bin` (written by its `train_gpt2.py`, read by `tokenizer.c`):
///
///   header  256 x int32 little-endian: [0] magic 20240328, [1] version (1 or 2), [2] vocab_size,
///           [3] eot id (version 2; version 1 means GPT-2's 50256); the rest zero
///   tokens  vocab_size records, in id order: uint8 length (>= 1), then that many bytes
///
/// Decode only: it stores each id's bytes but no merge ranks and no pre-tokenizer, so nothing here says how
/// text becomes ids (`GPT2Tokenizer.encode` throws for it).
enum LlmcTokenizerFile {
    static let magic: Int32 = 20240328
    static let headerBytes = 256 * 4

    static func parse(_ data: Data, path: String) throws -> VocabularyFile {
        guard data.count >= headerBytes else {
            throw TokenizerError(.malformed, "\(path): truncated llm.c tokenizer file: \(data.count) bytes, its header alone needs \(headerBytes)")
        }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            func header(_ i: Int) -> Int32 { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
            guard header(0) == magic else {
                throw TokenizerError(.malformed, "\(path): wrong magic number \(header(0)) (an llm.c tokenizer file starts with \(magic))")
            }
            let version = header(1), V = Int(header(2))
            guard version == 1 || version == 2 else {
                throw TokenizerError(.malformed, "\(path): unsupported llm.c tokenizer version \(version) (known: 1, 2)")
            }
            guard V > 0 else { throw TokenizerError(.malformed, "\(path): vocabulary size \(V) in the header (must be > 0)") }
            let eot: Int32? = version == 2 ? header(3) : (V > 50256 ? 50256 : nil)
            if let e = eot, e < 0 || Int(e) >= V {
                throw TokenizerError(.inconsistent, "\(path): end-of-text id \(e) is outside the vocabulary of \(V)")
            }
            var tokens: [[UInt8]] = []
            tokens.reserveCapacity(V)
            var at = headerBytes
            for id in 0..<V {
                guard at < raw.count else {
                    throw TokenizerError(.malformed, "\(path): truncated: \(raw.count) bytes hold \(id) of the \(V) tokens the header announces")
                }
                let len = Int(raw[at])
                guard len > 0 else { throw TokenizerError(.malformed, "\(path): token \(id) at byte \(at) has length 0") }
                guard at + 1 + len <= raw.count else {
                    throw TokenizerError(.malformed, "\(path): truncated in token \(id) of \(V): it needs \(len) bytes at byte \(at + 1), the file has \(raw.count)")
                }
                tokens.append(Array(raw[(at + 1)..<(at + 1 + len)]))
                at += 1 + len
            }
            guard at == raw.count else {
                throw TokenizerError(.malformed, "\(path): \(raw.count - at) bytes after the last of the \(V) tokens (wrong vocabulary size in the header?)")
            }
            return VocabularyFile(table: TokenTable(tokens: tokens, indexed: 0), mergeable: 0, endOfText: eot, format: .llmc)
        }
    }

    /// The bytes of an llm.c tokenizer file for `tokens` (version 2 with `eot`, or version 1): for tests and for
    /// converting a .tiktoken vocabulary.
    static func encode(_ tokens: [[UInt8]], version: Int32 = 2, eot: Int32) -> Data {
        var header = [Int32](repeating: 0, count: 256)
        header[0] = magic; header[1] = version; header[2] = Int32(tokens.count)
        if version == 2 { header[3] = eot }
        var d = header.withUnsafeBytes { Data($0) }
        for t in tokens { d.append(UInt8(t.count)); d.append(contentsOf: t) }
        return d
    }
}
