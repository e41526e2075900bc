// The file formats: each bad .tiktoken / llm.c .bin / Hugging Face input gets its one-line error naming the file,
// llm.c's .bin decodes (and refuses to encode), Hugging Face files encode like the .tiktoken they came from,
// and the tokenizer is found where the commands look for it.
import XCTest
@testable import Tokenizer

final class TiktokenFileTests: XCTestCase {
    private let bytes = TokenizerFixtures.singleBytes

    func testGarbledBase64() throws {
        var text = TokenizerFixtures.tiktokenText(bytes)
        text += "YW*= 256\n"
        let p = try TokenizerFixtures.write(text)
        assertTokenizerError(.malformed, mentions: [p, "line 257", "'YW*='", "base64"], try GPT2Tokenizer(contentsOf: p))
        let q = try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(bytes) + "YWJ 256\n")   // not a multiple of 4
        assertTokenizerError(.malformed, mentions: ["line 257", "base64"], try GPT2Tokenizer(contentsOf: q))
    }

    func testLineWithoutRankOrWithExtraFields() throws {
        let p = try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(bytes) + "YWI=\n")
        assertTokenizerError(.malformed, mentions: [p, "line 257", "expected '<base64> <rank>'"], try GPT2Tokenizer(contentsOf: p))
        let q = try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(bytes) + "YWI= 256 7\n")
        assertTokenizerError(.malformed, mentions: ["line 257"], try GPT2Tokenizer(contentsOf: q))
        let r = try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(bytes) + "YWI= -3\n")
        assertTokenizerError(.malformed, mentions: ["line 257", "rank '-3'"], try GPT2Tokenizer(contentsOf: r))
    }

    func testMissingRanks() throws {
        // ranks 0...255, then 300: 256...299 missing
        let p = try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(bytes) + "YWI= 300\n")
        assertTokenizerError(.inconsistent, mentions: [p, "missing", "256", "line 257 has rank 300"], try GPT2Tokenizer(contentsOf: p))
    }

    func testDuplicateRanks() throws {
        let p = try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(bytes) + "YWI= 255\n")
        assertTokenizerError(.inconsistent, mentions: [p, "rank 255 appears twice", "lines 256 and 257"], try GPT2Tokenizer(contentsOf: p))
    }

    func testDuplicateTokenBytes() throws {
        let p = try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(bytes + [[0x61]]))
        assertTokenizerError(.inconsistent, mentions: [p, "61", "twice", "ranks 97 and 256"], try GPT2Tokenizer(contentsOf: p))
    }

    func testMissingSingleByte() throws {
        var b = bytes
        b[0x41] = Array("ab".utf8)     // no token for 'A'
        let p = try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(b))
        assertTokenizerError(.inconsistent, mentions: [p, "0x41"], try GPT2Tokenizer(contentsOf: p))
    }

    func testEmptyAndUnreadableFiles() throws {
        let p = try TokenizerFixtures.write("\n\n")
        assertTokenizerError(.malformed, mentions: [p, "no tokens"], try GPT2Tokenizer(contentsOf: p))
        assertTokenizerError(.unreadable, mentions: ["/nonexistent/gpt2.tiktoken", "does not exist"],
                             try GPT2Tokenizer(contentsOf: "/nonexistent/gpt2.tiktoken"))
    }

    func testBlankLinesAndCRLFAreAccepted() throws {
        let text = TokenizerFixtures.tiktokenText(bytes + [Array("ab".utf8)]).replacingOccurrences(of: "\n", with: "\r\n\n")
        let t = try GPT2Tokenizer(contentsOf: try TokenizerFixtures.write(text))
        XCTAssertEqual(t.vocabularySize, 258)
        XCTAssertEqual(try t.encode("abab"), [256, 256])
    }

    func testBase64Decoder() {
        func d(_ s: String) -> [UInt8]? { Array(s.utf8).withUnsafeBufferPointer { Base64.decode($0) } }
        XCTAssertEqual(d("IQ=="), [0x21])
        XCTAssertEqual(d("YWI="), [0x61, 0x62])
        XCTAssertEqual(d("YWJj"), [0x61, 0x62, 0x63])
        XCTAssertEqual(d("+/+/"), [0xFB, 0xFF, 0xBF])
        XCTAssertNil(d("YW=I")); XCTAssertNil(d("Y===")); XCTAssertNil(d("YWJ")); XCTAssertNil(d("YW I")); XCTAssertNil(d(""))
    }
}

final class LlmcTokenizerFileTests: XCTestCase {
    private func tokens() throws -> [[UInt8]] {
        let t = try TokenizerFixtures.tiny()
        return try (0..<Int32(t.vocabularySize)).map { try t.bytes(of: $0) }
    }

    func testVersion2DecodesAndRefusesToEncode() throws {
        let p = try TokenizerFixtures.write(LlmcTokenizerFile.encode(try tokens(), version: 2, eot: 266), name: "tok.bin")
        let t = try GPT2Tokenizer(contentsOf: p)
        XCTAssertEqual(t.format, .llmc)
        XCTAssertEqual(t.vocabularySize, 267)
        XCTAssertEqual(t.endOfText, 266)
        XCTAssertFalse(t.canEncode)
        XCTAssertEqual(try t.decode([258, 264, 266]), "abc a<|endoftext|>")
        assertTokenizerError(.decodeOnly, mentions: [p, "not encode", "gpt2.tiktoken"], try t.encode("abc"))
        var d = StreamingDecoder(t)
        XCTAssertEqual(try d.push(0xC3), "")
        XCTAssertEqual(try d.push(0xA9), "é")
    }

    func testVersion1MeansGPT2EndOfText() throws {
        // version 1 carries no eot id: 50256 when the vocabulary has it, none otherwise
        let small = try TokenizerFixtures.write(LlmcTokenizerFile.encode(try tokens(), version: 1, eot: 0), name: "v1.bin")
        XCTAssertNil(try GPT2Tokenizer(contentsOf: small).endOfText)
        let big = (0..<50257).map { i -> [UInt8] in i < 256 ? [UInt8(i)] : Array("t\(i)".utf8) }
        let p = try TokenizerFixtures.write(LlmcTokenizerFile.encode(big, version: 1, eot: 0), name: "v1-gpt2.bin")
        let t = try GPT2Tokenizer(contentsOf: p)
        XCTAssertEqual(t.endOfText, 50256)
        XCTAssertEqual(t.vocabularySize, 50257)
        XCTAssertEqual(try t.decode([50256, 300]), "t50256t300")
    }

    func testTruncatedHeaderWrongMagicAndVersion() throws {
        let good = LlmcTokenizerFile.encode(try tokens(), version: 2, eot: 266)
        let short = try TokenizerFixtures.write(good.prefix(100), name: "short.bin")
        assertTokenizerError(.malformed, mentions: [short, "truncated", "100 bytes", "1024"], try GPT2Tokenizer(contentsOf: short))
        var bad = good
        bad[0] = 0x11
        let magic = try TokenizerFixtures.write(bad, name: "magic.bin")
        assertTokenizerError(.malformed, mentions: [magic, "wrong magic", "20240328"], try GPT2Tokenizer(contentsOf: magic))
        var v3 = good
        v3[4] = 3
        let version = try TokenizerFixtures.write(v3, name: "v3.bin")
        assertTokenizerError(.malformed, mentions: [version, "version 3"], try GPT2Tokenizer(contentsOf: version))
    }

    func testTruncatedTokensAndTrailingBytes() throws {
        let good = LlmcTokenizerFile.encode(try tokens(), version: 2, eot: 266)
        let cut = try TokenizerFixtures.write(good.prefix(good.count - 5), name: "cut.bin")
        assertTokenizerError(.malformed, mentions: [cut, "truncated", "token 266"], try GPT2Tokenizer(contentsOf: cut))
        let records = try TokenizerFixtures.write(good.prefix(1024 + 2 * 100), name: "records.bin")
        assertTokenizerError(.malformed, mentions: [records, "truncated", "100 of the 267"], try GPT2Tokenizer(contentsOf: records))
        let extra = try TokenizerFixtures.write(good + Data([1, 2, 3]), name: "extra.bin")
        assertTokenizerError(.malformed, mentions: [extra, "3 bytes after the last"], try GPT2Tokenizer(contentsOf: extra))
        var eot = good
        eot[12] = 0xFF; eot[13] = 0x7F
        let badEot = try TokenizerFixtures.write(eot, name: "eot.bin")
        assertTokenizerError(.inconsistent, mentions: [badEot, "end-of-text id"], try GPT2Tokenizer(contentsOf: badEot))
    }
}

final class HuggingFaceFilesTests: XCTestCase {
    /// vocab.json + merges.txt for a vocabulary given in rank order (bytes in the byte alphabet's order first),
    /// each merge split at `split(token)`.
    private func write(_ tokens: [[UInt8]], merges: [([UInt8], [UInt8])], special: [String: Int]) throws -> String {
        let dir = TokenizerFixtures.scratch("hf")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var vocab: [String: Int] = special
        for (i, t) in tokens.enumerated() { vocab[HuggingFaceFiles.text(t)] = i }
        try JSONSerialization.data(withJSONObject: vocab).write(to: URL(fileURLWithPath: dir + "/vocab.json"))
        let lines = ["#version: 0.2"] + merges.map { HuggingFaceFiles.text($0.0) + " " + HuggingFaceFiles.text($0.1) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/merges.txt"))
        return dir
    }

    func testEncodesLikeTheSameRanksInTiktokenForm() throws {
        let base = HuggingFaceFiles.byteOrder.map { [$0] }
        let merges: [([UInt8], [UInt8])] = [(Array("a".utf8), Array("b".utf8)), (Array("ab".utf8), Array("c".utf8)),
                                            (Array(" ".utf8), Array("a".utf8)), (Array("a".utf8), Array("a".utf8))]
        let tokens = base + merges.map { $0.0 + $0.1 }
        let dir = try write(tokens, merges: merges, special: ["<|endoftext|>": tokens.count])
        let hf = try GPT2Tokenizer(contentsOf: dir)
        let tk = try GPT2Tokenizer(contentsOf: try TokenizerFixtures.write(TokenizerFixtures.tiktokenText(tokens)))
        XCTAssertEqual(hf.format, .huggingFace)
        XCTAssertEqual(hf.vocabularySize, tk.vocabularySize)
        XCTAssertEqual(hf.endOfText, Int32(tokens.count))
        for s in ["abc aaa ab", "é日 \n x", "<|endoftext|>"] { XCTAssertEqual(try hf.encode(s), try tk.encode(s), s) }
        XCTAssertEqual(try GPT2Tokenizer(contentsOf: dir + "/vocab.json").vocabularySize, hf.vocabularySize)
        XCTAssertEqual(HuggingFaceFiles.text([0x20, 0x0A, 0x41]), "ĠĊA")   // GPT-2's byte alphabet: space Ġ, newline Ċ
    }

    func testIdsOutOfMergeOrderMissingMergesAndBadCharacters() throws {
        let base = HuggingFaceFiles.byteOrder.map { [$0] }
        let merges: [([UInt8], [UInt8])] = [(Array("a".utf8), Array("b".utf8))]
        var tokens = base + [Array("ab".utf8)]
        tokens.swapAt(0, 1)        // vocab.json ids no longer in the merge order
        let swapped = try write(tokens, merges: merges, special: [:])
        assertTokenizerError(.inconsistent, mentions: ["vocab.json", "merges.txt ranks it"], try GPT2Tokenizer(contentsOf: swapped))
        let missing = try write(base, merges: merges, special: [:])      // merges.txt makes "ab", vocab.json has no id for it
        assertTokenizerError(.inconsistent, mentions: ["vocab.json", "256 of the 257"], try GPT2Tokenizer(contentsOf: missing))
        let gap = try write(base, merges: [], special: ["<|endoftext|>": 300])
        assertTokenizerError(.inconsistent, mentions: ["special token", "id 300, expected 256"], try GPT2Tokenizer(contentsOf: gap))
        let dir = try write(base, merges: [], special: [:])
        try Data("#version: 0.2\na b c\n".utf8).write(to: URL(fileURLWithPath: dir + "/merges.txt"))
        assertTokenizerError(.malformed, mentions: ["merges.txt line 2"], try GPT2Tokenizer(contentsOf: dir))
        let lonely = TokenizerFixtures.scratch("lonely")
        try FileManager.default.createDirectory(atPath: lonely, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: lonely + "/vocab.json"))
        assertTokenizerError(.unreadable, mentions: ["merges.txt", "does not exist"], try GPT2Tokenizer(contentsOf: lonely + "/vocab.json"))
    }
}

final class TokenizerLocationTests: XCTestCase {
    private func withEnvironment<T>(_ values: [String: String?], _ body: () throws -> T) rethrows -> T {
        let old = values.keys.map { ($0, ProcessInfo.processInfo.environment[$0]) }
        for (k, v) in values { if let v { setenv(k, v, 1) } else { unsetenv(k) } }
        defer { for (k, v) in old { if let v { setenv(k, v, 1) } else { unsetenv(k) } } }
        return try body()
    }

    func testExplicitThenEnvironmentThenCache() throws {
        let tiny = TokenizerFixtures.tinyPath
        let cache = TokenizerFixtures.scratch("cache")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        try withEnvironment(["WORKBENCH_TOKENIZER": nil, "WORKBENCH_CACHE": cache]) {
            XCTAssertEqual(try TokenizerLocation.resolve(explicit: tiny), tiny)
            assertTokenizerError(.notFound, mentions: ["no tokenizer", cache + "/gpt2.tiktoken", "Tools/setup.sh", "--tokenizer", "WORKBENCH_TOKENIZER"],
                                 try TokenizerLocation.resolve(explicit: nil))
            try FileManager.default.copyItem(atPath: tiny, toPath: cache + "/gpt2.tiktoken")
            XCTAssertEqual(try TokenizerLocation.resolve(explicit: nil), cache + "/gpt2.tiktoken")
            try withEnvironment(["WORKBENCH_TOKENIZER": tiny]) {
                XCTAssertEqual(try TokenizerLocation.resolve(explicit: nil), tiny)
                XCTAssertEqual(try TokenizerLocation.resolve(explicit: cache + "/gpt2.tiktoken"), cache + "/gpt2.tiktoken")
            }
            try withEnvironment(["WORKBENCH_TOKENIZER": "/nonexistent/t.tiktoken"]) {
                assertTokenizerError(.notFound, mentions: ["/nonexistent/t.tiktoken", "$WORKBENCH_TOKENIZER"], try TokenizerLocation.resolve(explicit: nil))
            }
            assertTokenizerError(.notFound, mentions: ["/nonexistent/x", "--tokenizer"], try TokenizerLocation.resolve(explicit: "/nonexistent/x"))
        }
    }

    func testCacheFolderRuleIsTheModelCachesRule() {
        withEnvironment(["WORKBENCH_CACHE": "/tmp/wbc", "XDG_CACHE_HOME": "/tmp/xdg"]) {
            XCTAssertEqual(TokenizerLocation.defaultPath, "/tmp/wbc/gpt2.tiktoken")
        }
        withEnvironment(["WORKBENCH_CACHE": nil, "XDG_CACHE_HOME": "/tmp/xdg"]) {
            XCTAssertEqual(TokenizerLocation.defaultPath, "/tmp/xdg/workbench/gpt2.tiktoken")
        }
        withEnvironment(["WORKBENCH_CACHE": "", "XDG_CACHE_HOME": nil, "HOME": "/home/u"]) {
            XCTAssertEqual(TokenizerLocation.defaultPath, "/home/u/.cache/workbench/gpt2.tiktoken")
        }
    }
}
