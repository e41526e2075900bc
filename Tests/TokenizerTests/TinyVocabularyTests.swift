// Merges, decoding and checks on the hand-made vocabulary Fixtures/tiny.tiktoken (see TokenizerFixtures.tinyPath
// for its tokens), where every expected id list can be worked out by hand.
import XCTest
@testable import Tokenizer

final class TinyVocabularyTests: XCTestCase {
    func testLoadsSizesAndEndOfText() throws {
        let t = try TokenizerFixtures.tiny()
        XCTAssertEqual(t.vocabularySize, 267)
        XCTAssertEqual(t.endOfText, 266)
        XCTAssertEqual(t.format, .tiktoken)
        XCTAssertTrue(t.canEncode)
        XCTAssertEqual(try t.bytes(of: 266), Array("<|endoftext|>".utf8))
        XCTAssertEqual(try t.bytes(of: 258), Array("abc".utf8))
        XCTAssertEqual(try t.bytes(of: 0x41), [0x41])
    }

    func testWholePieceThatIsATokenIsThatToken() throws {
        let t = try TokenizerFixtures.tiny()
        XCTAssertEqual(try t.encode("abc"), [258])
        XCTAssertEqual(try t.encode("aaaa"), [260])
        XCTAssertEqual(try t.encode("a a"), [97, 264])          // pieces "a", " a"
        XCTAssertEqual(try t.encode(""), [])
    }

    func testLowestRankMergesFirst() throws {
        let t = try TokenizerFixtures.tiny()
        // "xyz": yz (261) ranks before xy (262), so x + yz, although xy is on the left.
        XCTAssertEqual(try t.encode("xyz"), [120, 261])
        // "abcb": ab (256) first, then ab+c = abc (258); "abcb" and "cb" have no rank.
        XCTAssertEqual(try t.encode("abcb"), [258, 98])
        // "bcab": bc (257) and ab (256) do not overlap: ab first, then bc; "bcab" has no rank.
        XCTAssertEqual(try t.encode("bcab"), [257, 256])
    }

    func testTiesGoToTheLeftmostPair() throws {
        let t = try TokenizerFixtures.tiny()
        // "aaa": aa at 0 and at 1 tie; the left one merges: [aa][a] (the right one would give [a][aa]).
        XCTAssertEqual(try t.encode("aaa"), [259, 97])
        // "aaaaa": [aa][a][a][a] -> [aa][aa][a] -> aa+aa = aaaa (260): [aaaa][a].
        XCTAssertEqual(try t.encode("aaaaa"), [260, 97])
        // six: [aa][aa][aa] -> [aaaa][aa]
        XCTAssertEqual(try t.encode("aaaaaa"), [260, 259])
    }

    func testMultiByteCharacterMergesFromItsBytes() throws {
        let t = try TokenizerFixtures.tiny()
        XCTAssertEqual(try t.encode("é"), [265])
        XCTAssertEqual(try t.encode("ü"), [0xC3, 0xBC])        // no merge for ü: its two bytes
        XCTAssertEqual(try t.encode("éé"), [265, 265])
    }

    func testRepeatedPiecesThatMissTheVocabularyMergeTheSameEachTime() throws {
        // " abcb" is not a token: merged once, then reused from the per-call piece cache
        let t = try TokenizerFixtures.tiny()
        XCTAssertEqual(try t.encode(" abcb"), [32, 258, 98])
        XCTAssertEqual(try t.encode(String(repeating: " abcb", count: 5)), Array([[Int32]](repeating: [32, 258, 98], count: 5).joined()))
        // and a long piece (no cache) between cached ones
        let long = " " + String(repeating: "xyz", count: 10)      // 31 bytes: more than the cache keeps
        XCTAssertEqual(try t.encode(" abcb" + long + " abcb"), [32, 258, 98] + (try t.encode(long)) + [32, 258, 98])
    }

    func testHeapAndScanMergesAgreeOnRandomPieces() throws {
        let t = try TokenizerFixtures.tiny()
        var rng = SplitMix(seed: 7)
        let alphabet: [[UInt8]] = [[0x61], [0x62], [0x63], [0x78], [0x79], [0x7A], [0xC3, 0xA9], [0x20]]
        for _ in 0..<2000 {
            var piece: [UInt8] = []
            for _ in 0..<(2 + Int(rng.next() % 300)) { piece += alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let scan = merge(t, piece, heap: false), heap = merge(t, piece, heap: true)
            XCTAssertEqual(scan, heap, "piece \(piece)")
            XCTAssertEqual(try t.decodeBytes(scan), piece)
        }
    }

    func testDecodeAndRoundTrip() throws {
        let t = try TokenizerFixtures.tiny()
        for s in ["abc abcb xyz aaa", "é ü 日本", "<|endoftext|>", "  \n\t x", ""] {
            XCTAssertEqual(try t.decode(try t.encode(s)), s)
        }
        XCTAssertEqual(try t.decode([258, 266, 264]), "abc<|endoftext|> a")
        // Bytes that are not UTF-8 on their own decode to U+FFFD; decodeBytes gives them raw.
        XCTAssertEqual(try t.decode([0xC3]), "\u{FFFD}")
        XCTAssertEqual(try t.decodeBytes([0xC3, 263]), [0xC3, 0xA9, 0x20])
    }

    func testIdOutsideTheVocabularyIsAnError() throws {
        let t = try TokenizerFixtures.tiny()
        assertTokenizerError(.idOutOfRange, mentions: ["267", "tiny.tiktoken", "0...266"], try t.decode([1, 267]))
        assertTokenizerError(.idOutOfRange, mentions: ["-1"], try t.decode([-1]))
        assertTokenizerError(.idOutOfRange, mentions: ["99999"], try t.bytes(of: 99999))
    }

    func testVocabularySizeMustMatchTheModel() throws {
        let t = try TokenizerFixtures.tiny()
        XCTAssertNoThrow(try t.checkVocabularySize(matches: 267, model: "m.bin"))
        assertTokenizerError(.sizeMismatch, mentions: ["267", "V=512", "tiny.bin"], try t.checkVocabularySize(matches: 512, model: "tiny.bin"))
    }

    func testTextPromptChecksTheModelAndTheText() throws {
        let tiny = TokenizerFixtures.tinyPath
        let p = try TextPrompt(text: "abc a", tokenizer: tiny, modelVocabularySize: 267, model: "m.bin")
        XCTAssertEqual(p.ids, [258, 264])
        var d = p.decoder()
        XCTAssertEqual(try d.push(258), "abc")
        assertTokenizerError(.sizeMismatch, mentions: ["267", "V=50257", "gpt2_124M.bin"],
                             try TextPrompt(text: "abc", tokenizer: tiny, modelVocabularySize: 50257, model: "gpt2_124M.bin"))
        assertTokenizerError(.emptyText, mentions: ["empty", "266"], try TextPrompt(text: "", tokenizer: tiny, modelVocabularySize: 267, model: "m.bin"))
        assertTokenizerError(.notFound, mentions: ["/nonexistent/t.tiktoken"],
                             try TextPrompt(text: "abc", tokenizer: "/nonexistent/t.tiktoken", modelVocabularySize: 267, model: "m.bin"))
    }

    func testListingHasTextWhereValidAndHexAlways() throws {
        let t = try TokenizerFixtures.tiny()
        let l = try TokenListing(ids: [258, 0xC3, 263], tokenizer: t)
        XCTAssertEqual(l.schema, 1)  // tool and command: added by ToolJSON when written
        XCTAssertEqual(l.count, 3)
        XCTAssertEqual(l.tokens, [.init(id: 258, text: "abc", hex: "616263"), .init(id: 0xC3, text: nil, hex: "c3"),
                                  .init(id: 263, text: nil, hex: "a920")])
        let json = String(decoding: try JSONEncoder().encode(l), as: UTF8.self)
        XCTAssertTrue(json.contains("\"text\":null"), json)
        XCTAssertTrue(json.contains("\"vocabulary_size\":267"), json)
        XCTAssertEqual(try JSONDecoder().decode(TokenListing.self, from: Data(json.utf8)), l)
    }
}

/// A small deterministic generator for the randomized tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
