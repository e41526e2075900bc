// The real GPT-2 vocabulary against tiktoken: Fixtures/corpus.json holds the ids tiktoken 0.14 gives for a few
// hundred strings (written by Tools/tokenizer_corpus.py); every one must match exactly and decode back.
// Skipped, with a message, where gpt2.tiktoken is absent (`bash Tools/setup.sh` fetches it).
import XCTest
@testable import Tokenizer

struct Corpus: Decodable {
    struct Case: Decodable { var text: String; var ids: [Int32] }
    var schema: Int
    var tiktoken: String
    var ranks_sha256: String
    var pattern: String
    var cases: [Case]

    static let shared: Result<Corpus, Error> = Result {
        let url = URL(fileURLWithPath: TokenizerFixtures.directory + "/corpus.json")
        return try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: url))
    }
}

final class CorpusTests: XCTestCase {
    func testCorpusCoversWhatItShould() throws {
        let c = try Corpus.shared.get()
        XCTAssertEqual(c.schema, 1)
        XCTAssertEqual(c.ranks_sha256, TokenizerLocation.sha256)
        XCTAssertGreaterThanOrEqual(c.cases.count, 200)
        let texts = Set(c.cases.map(\.text))
        for must in ["", "<|endoftext|>", String(repeating: "a", count: 10000), "IT'S", "👨‍👩‍👧‍👦", "cafe\u{301}", "שלום עולם",
                     "مرحبا بالعالم", "日本語のテキスト", "trailing spaces   ", "\t\ttwo tabs\n\t\t\tthree tabs", "👍🏽"] {
            XCTAssertTrue(texts.contains(must), "the corpus should contain \(must.prefix(20).debugDescription)")
        }
    }

    func testEveryStringEncodesAsTiktokenDoes() throws {
        let t = try TokenizerFixtures.gpt2()
        let c = try Corpus.shared.get()
        var mismatches = 0
        for k in c.cases {
            let ids = try t.encode(k.text)
            if ids != k.ids {
                mismatches += 1
                if mismatches <= 10 {
                    XCTFail("\(k.text.prefix(80).debugDescription): got \(ids.prefix(40)), tiktoken \(k.ids.prefix(40)); pieces \(PreTokenizer.pieces(k.text).prefix(20))")
                }
            }
        }
        XCTAssertEqual(mismatches, 0, "\(mismatches) of \(c.cases.count) strings differ from tiktoken")
    }

    func testEveryStringRoundTrips() throws {
        let t = try TokenizerFixtures.gpt2()
        for k in try Corpus.shared.get().cases {
            XCTAssertEqual(try t.decode(try t.encode(k.text)), k.text, k.text.prefix(80).debugDescription)
            XCTAssertEqual(try t.decode(k.ids), k.text)
        }
    }

    func testHeapAndScanAgreeOnEveryPiece() throws {
        let t = try TokenizerFixtures.gpt2()
        var checked = 0
        for k in try Corpus.shared.get().cases {
            for piece in PreTokenizer.pieces(k.text) where piece.utf8.count >= 2 && piece.utf8.count <= 4096 {
                let b = Array(piece.utf8)
                XCTAssertEqual(merge(t, b, heap: false), merge(t, b, heap: true), piece.debugDescription)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 1000)
    }

    func testKnownIdsAndVocabulary() throws {
        let t = try TokenizerFixtures.gpt2()
        XCTAssertEqual(t.vocabularySize, 50257)
        XCTAssertEqual(t.endOfText, 50256)
        XCTAssertEqual(try t.encode("Hello world"), [15496, 995])
        XCTAssertEqual(try t.decode([50256]), "<|endoftext|>")
        XCTAssertEqual(try t.encode("<|endoftext|>"), [27, 91, 437, 1659, 5239, 91, 29], "ordinary text, not the special id")
        XCTAssertNoThrow(try t.checkVocabularySize(matches: 50257, model: "gpt2_124M.bin"))
        assertTokenizerError(.sizeMismatch, mentions: ["50257", "V=512"], try t.checkVocabularySize(matches: 512, model: "tiny.bin"))
        assertTokenizerError(.idOutOfRange, mentions: ["50257", "0...50256"], try t.decode([50257]))
    }

    /// Random mixtures of the pre-tokenizer's classes: encode then decode gives the text back, and the ids
    /// never contain the special token.
    func testRandomTextRoundTrips() throws {
        let t = try TokenizerFixtures.gpt2()
        var rng = SplitMix(seed: 2024)
        let atoms = ["a", "Z", "é", "日", "ж", "ا", "0", "½", " ", "  ", "\t", "\n", "\r\n", "\u{A0}", "'", "'s", "!",
                     "\u{301}", "👍", "🏽", "\u{200D}", "\u{0}", "<|endoftext|>", " the", "ing"]
        for _ in 0..<500 {
            let s = (0..<(1 + Int(rng.next() % 40))).map { _ in atoms[Int(rng.next() % UInt64(atoms.count))] }.joined()
            let ids = try t.encode(s)
            XCTAssertEqual(try t.decode(ids), s)
            XCTAssertFalse(ids.contains(50256))
        }
    }

    /// The same vocabulary as llm.c's gpt2_tokenizer.bin (what its train_gpt2.py writes: every id's bytes, v2,
    /// eot 50256) decodes every corpus string.
    func testLlmcFormOfTheVocabularyDecodesTheCorpus() throws {
        let t = try TokenizerFixtures.gpt2()
        let tokens = try (0..<Int32(t.vocabularySize)).map { try t.bytes(of: $0) }
        let p = try TokenizerFixtures.write(LlmcTokenizerFile.encode(tokens, version: 2, eot: 50256), name: "gpt2_tokenizer.bin")
        let bin = try GPT2Tokenizer(contentsOf: p)
        XCTAssertEqual(bin.vocabularySize, 50257)
        XCTAssertEqual(bin.endOfText, 50256)
        for k in try Corpus.shared.get().cases { XCTAssertEqual(try bin.decode(k.ids), k.text) }
    }

    /// The same ranks written as Hugging Face vocab.json + merges.txt (each merge split into two lower-ranked
    /// tokens) encode every corpus string the same.
    func testHuggingFaceFormOfTheVocabularyEncodesTheCorpus() throws {
        let t = try TokenizerFixtures.gpt2()
        let n = t.vocabularySize - 1
        let tokens = try (0..<Int32(n)).map { try t.bytes(of: $0) }
        var rank = [[UInt8]: Int](minimumCapacity: n)
        for (r, b) in tokens.enumerated() { rank[b] = r }
        var merges = ["#version: 0.2"]
        var vocab: [String: Int] = ["<|endoftext|>": n]
        for (r, b) in tokens.enumerated() {
            vocab[HuggingFaceFiles.text(b)] = r
            guard b.count > 1 else { continue }
            let cut = try XCTUnwrap((1..<b.count).first { (rank[Array(b[..<$0])] ?? .max) < r && (rank[Array(b[$0...])] ?? .max) < r },
                                    "token \(r) has no split into two earlier tokens")
            merges.append(HuggingFaceFiles.text(Array(b[..<cut])) + " " + HuggingFaceFiles.text(Array(b[cut...])))
        }
        XCTAssertEqual(merges.count - 1, n - 256)
        let dir = TokenizerFixtures.scratch("gpt2-hf")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: vocab).write(to: URL(fileURLWithPath: dir + "/vocab.json"))
        try Data((merges.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/merges.txt"))
        let hf = try GPT2Tokenizer(contentsOf: dir + "/vocab.json")
        XCTAssertEqual(hf.vocabularySize, 50257)
        XCTAssertEqual(hf.endOfText, 50256)
        for k in try Corpus.shared.get().cases { XCTAssertEqual(try hf.encode(k.text), k.ids, k.text.prefix(60).debugDescription) }
    }
}
