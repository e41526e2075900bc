import Foundation

/// A vocabulary read from a file: token bytes by id, how many of them are ranked (mergeable), `<|endoftext|>`.
struct VocabularyFile {
    var table: TokenTable
    var mergeable: Int
    var endOfText: Int32?
    var format: GPT2Tokenizer.Format

    /// The text of `<|endoftext|>`, GPT-2's only special token.
    static let endOfTextBytes = Array("<|endoftext|>".utf8)

    /// Reads `path`: llm.c's .bin when it starts with llm.c's magic (or is named *.bin), Hugging Face when it
    /// is a folder or a *.json, else a .tiktoken file.
    static func load(_ path: String) throws -> VocabularyFile {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TokenizerError(.unreadable, "tokenizer file \(path) does not exist")
        }
        if isDir.boolValue || path.hasSuffix(".json") { return try HuggingFaceFiles.load(path) }
        let data = try read(path)
        let magic = data.count >= 4 ? data.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(as: Int32.self)) } : 0
        if magic == LlmcTokenizerFile.magic || path.hasSuffix(".bin") { return try LlmcTokenizerFile.parse(data, path: path) }
        return try TiktokenFile.parse(data, path: path)
    }

    static func read(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TokenizerError(.unreadable, "cannot read tokenizer file \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// The table of `tokens`, ids 0 ..< ranked indexed for lookup, after checking what the merge loop relies on:
    /// ranked tokens non-empty and distinct, every single byte among them. `place(id)` says where token `id`
    /// came from, for the message ("line 7", "merges.txt line 3").
    static func rankedTable(_ tokens: [[UInt8]], ranked: Int, path: String, where place: (Int) -> String) throws -> TokenTable {
        if let id = tokens[..<ranked].firstIndex(where: \.isEmpty) {
            throw TokenizerError(.malformed, "\(path) \(place(id)): token \(id) is empty")
        }
        let table = TokenTable(tokens: tokens, indexed: ranked)
        if let (first, id) = table.firstDuplicate {
            throw TokenizerError(.inconsistent, "\(path) \(place(id)): token bytes \(hex(tokens[id])) appear twice (ranks \(first) and \(id))")
        }
        for b in 0...255 where table.rank(of: [UInt8(b)]) < 0 {
            throw TokenizerError(.inconsistent, "\(path): no token for the single byte 0x\(hex([UInt8(b)])) (byte-level BPE needs all 256)")
        }
        return table
    }

    static func hex(_ b: some Sequence<UInt8>) -> String { b.map { String(format: "%02x", $0) }.joined() }
}

/// OpenAI's `.tiktoken`: one token per line, `base64(bytes) rank`, ranks 0 ..< n each once (any order).
/// Blank lines are skipped, as tiktoken's `load_tiktoken_bpe` does; base64 is checked strictly.
enum TiktokenFile {
    static func parse(_ data: Data, path: String) throws -> VocabularyFile {
        var entries: [(rank: Int, bytes: [UInt8], line: Int)] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            var lineNo = 0, i = 0
            while i < b.count {
                lineNo += 1
                var end = i
                while end < b.count && b[end] != 0x0A { end += 1 }
                var stop = end
                if stop > i && b[stop - 1] == 0x0D { stop -= 1 }
                defer { i = end + 1 }
                if stop == i { continue }
                let line = UnsafeBufferPointer(rebasing: b[i..<stop])
                guard let space = line.firstIndex(of: 0x20), space > 0,
                      !line[(space + 1)...].isEmpty, !line[(space + 1)...].contains(0x20) else {
                    throw TokenizerError(.malformed, "\(path) line \(lineNo): expected '<base64> <rank>', found '\(excerpt(line))'")
                }
                let field = UnsafeBufferPointer(rebasing: line[..<space])
                guard let bytes = Base64.decode(field) else {
                    throw TokenizerError(.malformed, "\(path) line \(lineNo): '\(excerpt(field))' is not valid base64")
                }
                if bytes.isEmpty { throw TokenizerError(.malformed, "\(path) line \(lineNo): the token is empty") }
                var rank = 0
                for c in line[(space + 1)...] {
                    guard c >= 0x30 && c <= 0x39, rank < 100_000_000 else {
                        throw TokenizerError(.malformed, "\(path) line \(lineNo): rank '\(excerpt(UnsafeBufferPointer(rebasing: line[(space + 1)...])))' is not a non-negative integer below 1000000000")
                    }
                    rank = rank * 10 + Int(c - 0x30)
                }
                entries.append((rank, bytes, lineNo))
            }
        }
        if entries.isEmpty { throw TokenizerError(.malformed, "\(path): no tokens (expected lines '<base64> <rank>')") }
        // Ranks must be exactly 0 ..< n: place each, then any slot left empty is a missing rank.
        let n = entries.count
        var byRank = [[UInt8]?](repeating: nil, count: n)
        var lineOf = [Int](repeating: 0, count: n)
        var outside: (rank: Int, line: Int)?
        for e in entries {
            guard e.rank < n else { if outside == nil { outside = (e.rank, e.line) }; continue }
            if byRank[e.rank] != nil {
                throw TokenizerError(.inconsistent, "\(path) line \(e.line): rank \(e.rank) appears twice (lines \(lineOf[e.rank]) and \(e.line))")
            }
            byRank[e.rank] = e.bytes
            lineOf[e.rank] = e.line
        }
        if let missing = byRank.firstIndex(where: { $0 == nil }) {
            let absent = byRank.lazy.filter { $0 == nil }.count
            let why = outside.map { " (line \($0.line) has rank \($0.rank))" } ?? ""
            throw TokenizerError(.inconsistent, "\(path): \(n) tokens need ranks 0...\(n - 1) with none missing, but \(absent) of them are missing, the first is \(missing)\(why)")
        }
        let table = try VocabularyFile.rankedTable(byRank.map { $0! } + [VocabularyFile.endOfTextBytes], ranked: n, path: path) {
            "line \(lineOf[$0])"
        }
        return VocabularyFile(table: table, mergeable: n, endOfText: Int32(n), format: .tiktoken)
    }

    /// At most 40 characters of a line, for messages.
    static func excerpt(_ b: UnsafeBufferPointer<UInt8>) -> String {
        let s = String(decoding: b.prefix(40), as: UTF8.self)
        return b.count > 40 ? s + "..." : s
    }
}

/// Strict standard base64 (RFC 4648 alphabet, `=` padding to a multiple of 4).
enum Base64 {
    private static let values: [Int8] = {
        var v = [Int8](repeating: -1, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() { v[Int(c)] = Int8(i) }
        return v
    }()

    /// The bytes, or nil unless `s` is canonical-length base64 with only alphabet characters and final padding.
    static func decode(_ s: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard s.count % 4 == 0, s.count > 0 else { return nil }
        var pad = 0
        if s[s.count - 1] == 0x3D { pad += 1; if s[s.count - 2] == 0x3D { pad += 1 } }
        var out: [UInt8] = []
        out.reserveCapacity(s.count / 4 * 3)
        var i = 0
        while i < s.count {
            var acc: UInt32 = 0
            for k in 0..<4 {
                let c = s[i + k]
                let isPad = i + 4 == s.count && k >= 4 - pad
                let v: Int8 = isPad ? 0 : values[Int(c)]
                if v < 0 { return nil }
                acc = acc << 6 | UInt32(v)
            }
            out.append(UInt8(acc >> 16))
            out.append(UInt8((acc >> 8) & 0xFF))
            out.append(UInt8(acc & 0xFF))
            i += 4
        }
        out.removeLast(pad)
        return out
    }
}
