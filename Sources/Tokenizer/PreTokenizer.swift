import Foundation

// GPT-2's pre-tokenizer: the text is cut into pieces before any merge, and no merge crosses a cut. The cuts are
// those of the regular expression
//
//   '(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// searched left to right, leftmost alternative first (backtracking semantics, as tiktoken's fancy-regex and
// Python's `regex` give it; tiktoken's r50k/gpt2 pattern `...|\s++$|\s+(?!\S)|\s` cuts the same pieces). This
// file does not run a regex: it is a scanner over the UTF-8 bytes with the same four disjoint classes of
// scalars, decided per scalar from the Unicode properties:
//
//   space   White_Space                (what `\s` means in Unicode mode)
//   letter  General_Category L*        (`\p{L}`: Lu Ll Lt Lm Lo)
//   number  General_Category N*        (`\p{N}`: Nd Nl No)
//   other   everything else            (`[^\s\p{L}\p{N}]`: punctuation, symbols, marks, controls, emoji...)
//
// At each position the first alternative that matches wins:
//   1. `'` + s d m t ll ve re (ASCII, case-sensitive: `'S` is not a contraction)  -> those 2 or 3 bytes
//   2-4. an optional U+0020 then a maximal run of letters / numbers / others       -> the space and the run
//        (the run's class is that of its first scalar; the three classes are disjoint, so at most one applies)
//   5. a run of whitespace reaching the end of the text                            -> the whole run
//      a run of two or more whitespace scalars followed by a non-space            -> all but the last scalar
//        (`\s+(?!\S)` backtracks one scalar, which then starts the next piece: " word" or "\n")
//   6. a single whitespace scalar followed by a non-space                         -> that scalar (`\s+`)

/// A scalar's class for the pre-tokenizer.
enum ScalarClass: UInt8 {
    case space = 0, letter = 1, number = 2, other = 3

    /// The class of one scalar, from its Unicode properties.
    static func of(_ s: Unicode.Scalar) -> ScalarClass {
        let p = s.properties
        if p.isWhitespace { return .space }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The classes of U+0000 ..< U+0080.
    static let ascii: [ScalarClass] = (0..<0x80).map { ScalarClass.of(Unicode.Scalar(UInt8($0))) }
}

enum PreTokenizer {
    /// Calls `piece(start, end)` for each piece of the UTF-8 text `s` (valid UTF-8, as a Swift String's bytes
    /// are), in order; the pieces cover `s` exactly.
    @inline(__always)
    static func split(_ s: UnsafeBufferPointer<UInt8>, _ piece: (Int, Int) -> Void) {
        let n = s.count
        guard n > 0 else { return }
        let p = s.baseAddress!
        // Classes of the basic plane, looked up once per scalar value and call (0xFF: not yet looked up);
        // allocated at the first non-ASCII scalar. Supplementary scalars (emoji...) ask the properties each time.
        var bmp: UnsafeMutablePointer<UInt8>?
        defer { bmp?.deallocate() }
        ScalarClass.ascii.withUnsafeBufferPointer { asciiBuffer in
            let ascii = asciiBuffer.baseAddress!
            @inline(__always) func basic(_ v: UInt32) -> ScalarClass {
                let table: UnsafeMutablePointer<UInt8>
                if let b = bmp { table = b } else {
                    table = .allocate(capacity: 0x10000)
                    table.initialize(repeating: 0xFF, count: 0x10000)
                    bmp = table
                }
                var c = table[Int(v)]
                if c == 0xFF {
                    c = (Unicode.Scalar(v).map(ScalarClass.of) ?? .other).rawValue  // surrogates never occur in a String
                    table[Int(v)] = c
                }
                return unsafeBitCast(c, to: ScalarClass.self)
            }
            // The class and UTF-8 length of the scalar starting at byte i.
            @inline(__always) func classAt(_ i: Int) -> (ScalarClass, Int) {
                let b0 = UInt32(p[i])
                if b0 < 0x80 { return (ascii[Int(b0)], 1) }
                if b0 < 0xE0 { return (basic((b0 & 0x1F) << 6 | UInt32(p[i + 1]) & 0x3F), 2) }
                if b0 < 0xF0 {
                    return (basic((b0 & 0x0F) << 12 | (UInt32(p[i + 1]) & 0x3F) << 6 | UInt32(p[i + 2]) & 0x3F), 3)
                }
                let v = (b0 & 0x07) << 18 | (UInt32(p[i + 1]) & 0x3F) << 12 | (UInt32(p[i + 2]) & 0x3F) << 6
                    | UInt32(p[i + 3]) & 0x3F
                return (Unicode.Scalar(v).map(ScalarClass.of) ?? .other, 4)
            }

            var i = 0
            while i < n {
                let b = p[i]
                // 1. contractions
                if b == 0x27 && i + 1 < n {
                    let c = p[i + 1]
                    if c == 0x73 || c == 0x64 || c == 0x6D || c == 0x74 {   // s d m t
                        piece(i, i + 2); i += 2; continue
                    }
                    if i + 2 < n {
                        let d = p[i + 2]
                        if (c == 0x6C && d == 0x6C) || (c == 0x76 && d == 0x65) || (c == 0x72 && d == 0x65) {  // ll ve re
                            piece(i, i + 3); i += 3; continue
                        }
                    }
                }
                var (cls, len) = classAt(i)
                var runStart = i
                if b == 0x20 && i + 1 < n {
                    let (next, nextLen) = classAt(i + 1)
                    if next != .space { cls = next; len = nextLen; runStart = i + 1 }
                }
                if cls != .space {
                    // 2-4. ` ?` + a maximal run of one class
                    var k = runStart + len
                    while k < n {
                        let (c, l) = classAt(k)
                        if c != cls { break }
                        k += l
                    }
                    piece(i, k); i = k
                } else {
                    // 5-6. whitespace: find the run's end k and its last scalar's start
                    var k = i, last = i
                    while k < n {
                        let (c, l) = classAt(k)
                        if c != .space { break }
                        last = k; k += l
                    }
                    let end = (k == n || last == i) ? k : last
                    piece(i, end); i = end
                }
            }
        }
    }

    /// The pieces of `text` as strings (for tests and for explaining a tokenization).
    static func pieces(_ text: String) -> [String] {
        var t = text
        return t.withUTF8 { s in
            var out: [String] = []
            split(s) { a, b in out.append(String(decoding: UnsafeBufferPointer(rebasing: s[a..<b]), as: UTF8.self)) }
            return out
        }
    }
}
