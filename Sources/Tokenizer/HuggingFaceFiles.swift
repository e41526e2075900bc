import Foundation

/// Hugging Face's GPT-2 files: `vocab.json` ({token: id}) and `merges.txt` ("first second" per line, in merge
/// order, after a `#version` line), with tokens written in GPT-2's byte alphabet (each byte one printable
/// character: `!`..`~`, `¡`..`¬`, `®`..`ÿ` stand for themselves, the other 68 bytes for U+0100, U+0101, ...).
///
/// Ranks are built the way tiktoken's `data_gym_to_mergeable_bpe_ranks` builds them: the 256 single bytes in
/// the alphabet's order, then each merge's concatenation in merges.txt order. The ids in vocab.json must be
/// exactly those ranks (true for GPT-2; tiktoken asserts the same), and its remaining entries are special tokens
/// with the next ids (`<|endoftext|>` = 50256).
enum HuggingFaceFiles {
    /// `byteOrder[r]` is the byte with rank r; `byteOf[c]` the byte character U+c stands for (-1: none; the
    /// alphabet ends at U+0143); `characterOf[b]` the character of byte b.
    static let (byteOrder, byteOf, characterOf): ([UInt8], [Int16], [Unicode.Scalar]) = {
        func printable(_ b: Int) -> Bool { (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) }
        var order: [UInt8] = [], character = [Unicode.Scalar](repeating: " ", count: 256)
        for b in 0...255 where printable(b) { order.append(UInt8(b)); character[b] = Unicode.Scalar(UInt8(b)) }
        var next: UInt32 = 256
        for b in 0...255 where !printable(b) { order.append(UInt8(b)); character[b] = Unicode.Scalar(next)!; next += 1 }
        var map = [Int16](repeating: -1, count: Int(next))
        for b in 0...255 { map[Int(character[b].value)] = Int16(b) }
        return (order, map, character)
    }()

    /// `path` is vocab.json (merges.txt beside it) or the folder holding both.
    static func load(_ path: String) throws -> VocabularyFile {
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        let folder = isDir.boolValue ? path : (path as NSString).deletingLastPathComponent
        let vocabPath = isDir.boolValue ? (path as NSString).appendingPathComponent("vocab.json") : path
        let mergesPath = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent("merges.txt")
        for p in [vocabPath, mergesPath] where !FileManager.default.fileExists(atPath: p) {
            throw TokenizerError(.unreadable, "tokenizer file \(p) does not exist (a Hugging Face tokenizer is vocab.json with merges.txt beside it)")
        }

        // ranks: single bytes, then merges
        var tokens: [[UInt8]] = byteOrder.map { [$0] }
        var mergeLine: [Int] = Array(repeating: 0, count: 256)
        let merges = String(decoding: try VocabularyFile.read(mergesPath), as: UTF8.self)
        for (i, line) in merges.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.hasSuffix("\r") ? line.dropLast() : line[...]
            if l.isEmpty || (i == 0 && l.hasPrefix("#version")) { continue }
            let parts = l.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = bytes(parts[0]), let b = bytes(parts[1]), !a.isEmpty, !b.isEmpty else {
                throw TokenizerError(.malformed, "\(mergesPath) line \(i + 1): expected two tokens in GPT-2's byte alphabet separated by one space, found '\(l.prefix(40))'")
            }
            tokens.append(a + b)
            mergeLine.append(i + 1)
        }
        let ranked = tokens.count
        var table = try VocabularyFile.rankedTable(tokens, ranked: ranked, path: mergesPath) {
            $0 < 256 ? "(single bytes)" : "line \(mergeLine[$0])"
        }

        // vocab.json must agree
        // JSONSerialization: a third of JSONDecoder's time on GPT-2's 50257 entries.
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: try VocabularyFile.read(vocabPath)) } catch let e as TokenizerError { throw e } catch {
            throw TokenizerError(.malformed, "\(vocabPath): not valid JSON (\((error as NSError).localizedDescription))")
        }
        guard let vocab = object as? [String: Any] else {
            throw TokenizerError(.malformed, "\(vocabPath): expected a JSON object {token: integer id}")
        }
        var special: [(Int, [UInt8])] = []
        var matched = 0
        for (key, value) in vocab {
            guard let id = value as? Int else {
                throw TokenizerError(.malformed, "\(vocabPath): the id of '\(key.prefix(40))' is not an integer")
            }
            guard let b = bytes(Substring(key)) else {
                throw TokenizerError(.malformed, "\(vocabPath): token '\(key.prefix(40))' has a character outside GPT-2's byte alphabet")
            }
            let r = Int(table.rank(of: b))
            if r >= 0 {
                guard r == id else {
                    throw TokenizerError(.inconsistent, "\(vocabPath): '\(key.prefix(40))' has id \(id) but merges.txt ranks it \(r) (ids must follow the merge order)")
                }
                matched += 1
            } else {
                special.append((id, b))
            }
        }
        guard matched == ranked else {
            throw TokenizerError(.inconsistent, "\(vocabPath): has ids for \(matched) of the \(ranked) tokens that merges.txt defines (256 bytes + merges)")
        }
        special.sort { $0.0 < $1.0 }
        for (k, s) in special.enumerated() {
            guard s.0 == ranked + k else {
                throw TokenizerError(.inconsistent, "\(vocabPath): special token '\(String(decoding: s.1, as: UTF8.self).prefix(40))' has id \(s.0), expected \(ranked + k) (special ids follow the ranked ones)")
            }
            table.appendUnindexed(s.1)
        }
        let eot = special.first { $0.1 == VocabularyFile.endOfTextBytes }.map { Int32($0.0) }
        return VocabularyFile(table: table, mergeable: ranked, endOfText: eot, format: .huggingFace)
    }

    /// The bytes a token written in the byte alphabet stands for, or nil for a character outside it.
    static func bytes(_ s: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            let v = Int(c.value)
            guard v < byteOf.count, byteOf[v] >= 0 else { return nil }
            out.append(UInt8(byteOf[v]))
        }
        return out
    }

    /// A token's bytes in the byte alphabet (for writing vocab.json / merges.txt).
    static func text(_ bytes: [UInt8]) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(characterOf[Int(b)]) }
        return String(s)
    }
}
