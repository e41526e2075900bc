// The pieces GPT-2's pattern cuts, worked out by hand from the regex (each alternative, and where they meet).
import XCTest
@testable import Tokenizer

final class PreTokenizerTests: XCTestCase {
    private func check(_ text: String, _ pieces: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(PreTokenizer.pieces(text), pieces, "pieces of \(text.debugDescription)", file: file, line: line)
    }

    func testWordsNumbersAndPunctuationTakeTheirLeadingSpace() {
        check("Hello world", ["Hello", " world"])
        check("Hello, world!", ["Hello", ",", " world", "!"])
        check("abc123def", ["abc", "123", "def"])
        check("x = 42;", ["x", " =", " 42", ";"])
        check("...!!!???", ["...!!!???"])
        check(" (a)", [" (", "a", ")"])
        check("", [])
    }

    func testContractionsAreLowerCaseAscii() {
        check("don't", ["don", "'t"])
        check("we'll've", ["we", "'ll", "'ve"])
        check("they're I'm she'd", ["they", "'re", " I", "'m", " she", "'d"])
        check("DON'T", ["DON", "'", "T"])                    // 'T is not a contraction
        check("IT'S", ["IT", "'", "S"])
        check("'s'", ["'s", "'"])
        check("''s", ["''", "s"])                             // the run of others takes both quotes first
        check(" 's", [" '", "s"])                             // the space goes with the quote, not the contraction
        check("'l", ["'", "l"])
        check("’s", ["’", "s"])                               // U+2019 is not an apostrophe here
    }

    func testWhitespaceRunsLeaveTheirLastSpaceToTheNextWord() {
        check("a  b", ["a", " ", " b"])
        check("a   b", ["a", "  ", " b"])
        check("a\nb", ["a", "\n", "b"])
        check("a\n\nb", ["a", "\n", "\n", "b"])               // \s+(?!\S) gives "\n", then a lone "\n" before b
        check("a \nb", ["a", " ", "\n", "b"])
        check("a\n b", ["a", "\n", " b"])
        check("a  \n  b", ["a", "  \n ", " b"])
        check("hello   ", ["hello", "   "])                   // a run that reaches the end stays whole
        check("   ", ["   "])
        check(" ", [" "])
        check("\t\tx", ["\t", "\t", "x"])
        check(" !", [" !"])
        check("  !", [" ", " !"])
        check("\u{3000}\u{3000}x", ["\u{3000}", "\u{3000}", "x"])   // multi-byte whitespace backs off one scalar
        check("a\u{A0}b", ["a", "\u{A0}", "b"])               // NBSP is whitespace but not ' ': it does not join b
    }

    func testUnicodeClasses() {
        check("café", ["café"])
        check("cafe\u{301}", ["cafe", "\u{301}"])               // a combining mark is not a letter
        check("日本語 テキスト", ["日本語", " テキスト"])
        check("½ Ⅻ ٣", ["½", " Ⅻ", " ٣"])                    // No, Nl, Nd are all numbers
        check("👍🏽 ok", ["👍🏽", " ok"])
        check("a\u{0}b", ["a", "\u{0}", "b"])
        check("x\u{1C}\u{1C}y", ["x", "\u{1C}\u{1C}", "y"])  // U+001C is not White_Space (Python's isspace says it is)
    }
}
