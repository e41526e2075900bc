// The streaming decoder holds back a character split across tokens, and its pieces always add up to `decode`.
import XCTest
@testable import Tokenizer

final class StreamingDecoderTests: XCTestCase {
    func testCharacterSplitAcrossTokensIsHeldBackUntilComplete() throws {
        let t = try TokenizerFixtures.tiny()
        var d = StreamingDecoder(t)
        XCTAssertEqual(try d.push(258), "abc")
        XCTAssertEqual(try d.push(0xC3), "")          // first byte of é
        XCTAssertEqual(d.pendingByteCount, 1)
        XCTAssertEqual(try d.push(263), "é ")         // [A9 20]: completes é, then a space
        XCTAssertEqual(d.pendingByteCount, 0)
        XCTAssertEqual(d.finish(), "")
    }

    func testFourByteCharacterOneByteAtATime() throws {
        let t = try TokenizerFixtures.tiny()
        var d = StreamingDecoder(t)
        let bytes = Array("👍".utf8)                  // F0 9F 91 8D
        XCTAssertEqual(try d.push(Int32(bytes[0])), "")
        XCTAssertEqual(try d.push(Int32(bytes[1])), "")
        XCTAssertEqual(try d.push(Int32(bytes[2])), "")
        XCTAssertEqual(try d.push(Int32(bytes[3])), "👍")
    }

    func testUnfinishedSequenceAtTheEndIsReplaced() throws {
        let t = try TokenizerFixtures.tiny()
        var d = StreamingDecoder(t)
        XCTAssertEqual(try d.push(0x61), "a")
        XCTAssertEqual(try d.push(0xE2), "")
        XCTAssertEqual(try d.push(0x82), "")
        XCTAssertEqual(d.finish(), "\u{FFFD}")
        XCTAssertEqual(d.pendingByteCount, 0)
    }

    func testInvalidBytesAreNotHeldBack() throws {
        let t = try TokenizerFixtures.tiny()
        var d = StreamingDecoder(t)
        XCTAssertEqual(try d.push(0xA9), "\u{FFFD}")   // a continuation byte with no lead
        XCTAssertEqual(try d.push(0xFF), "\u{FFFD}")   // never valid
        XCTAssertEqual(try d.push(0xE0), "")
        XCTAssertEqual(try d.push(0x80), "\u{FFFD}\u{FFFD}")   // E0 80 is an overlong start: not a prefix
    }

    func testBadIdThrowsAndLeavesTheDecoderAsItWas() throws {
        let t = try TokenizerFixtures.tiny()
        var d = StreamingDecoder(t)
        XCTAssertEqual(try d.push(0xC3), "")
        assertTokenizerError(.idOutOfRange, mentions: ["267"], try d.push(267))
        XCTAssertEqual(try d.push(0xA9), "é")
    }

    /// Random byte tokens (valid, cut, and invalid UTF-8), pushed one by one: the pieces join to decode(ids).
    func testPiecesAlwaysJoinToTheWholeDecode() throws {
        let t = try TokenizerFixtures.tiny()
        var rng = SplitMix(seed: 11)
        let menu: [[Int32]] = [Array("é".utf8).map(Int32.init), Array("日".utf8).map(Int32.init),
                               Array("👍🏽".utf8).map(Int32.init), [0x61], [263], [265], [0xFF], [0xC0], [0xED, 0xA0],
                               [0xF4, 0x90], [0xE0, 0xA0], [0x80], [258]]
        for _ in 0..<3000 {
            var ids: [Int32] = []
            for _ in 0..<(1 + Int(rng.next() % 12)) {
                let m = menu[Int(rng.next() % UInt64(menu.count))]
                ids += rng.next() % 4 == 0 ? Array(m.prefix(1 + Int(rng.next() % UInt64(m.count)))) : m
            }
            var d = StreamingDecoder(t)
            var s = ""
            for id in ids { s += try d.push(id) }
            s += d.finish()
            XCTAssertEqual(Array(s.utf8), Array(try t.decode(ids).utf8), "ids \(ids)")
        }
    }

    func testRealVocabularyEmojiSplitAcrossTokens() throws {
        let t = try TokenizerFixtures.gpt2()
        let text = "I ❤️ 👨‍👩‍👧 and 日本語!"
        let ids = try t.encode(text)
        var d = StreamingDecoder(t)
        var pieces: [String] = []
        for id in ids { pieces.append(try d.push(id)) }
        XCTAssertEqual(d.finish(), "")
        XCTAssertEqual(pieces.joined(), text)
        XCTAssertTrue(pieces.contains(""), "some emoji spans several tokens, so some pushes print nothing: \(pieces)")
        XCTAssertFalse(pieces.contains { $0.contains("\u{FFFD}") }, "no half character is ever printed: \(pieces)")
    }
}
