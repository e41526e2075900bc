import ArgumentParser
import Basics
import Foundation
import Tokenizer

extension Workbench {
    /// `workbench tokenize`: text -> GPT-2 token ids.
    struct Tokenize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn text into GPT-2 token ids (the ids tiktoken's gpt2 encoding gives).",
            discussion: """
            The text is the arguments (joined by single spaces), or standard input when there are none or the \
            only one is '-'. Put the text after '--' when it starts with '-'. '<|endoftext|>' in the text is \
            ordinary text; only the id 50256 is the end-of-text token. The tokenizer is --tokenizer FILE, else \
            $WORKBENCH_TOKENIZER, else gpt2.tiktoken in the cache folder ($WORKBENCH_CACHE, default \
            ~/.cache/workbench), which `bash Tools/setup.sh` fetches.

            Examples:
              workbench tokenize -- "Hello world"              # prints 15496 995
              printf 'naïve café' | workbench tokenize --json  # id, text, hex per token
              workbench run $(workbench tokenize -- "The quick brown fox")
            """)

        @Option(help: "Tokenizer file: a .tiktoken file, or Hugging Face vocab.json with merges.txt beside it (llm.c's .bin only decodes).")
        var tokenizer: String?
        @Flag(help: "Print a JSON object: schema, tool, command, tokenizer, and per token its id, text (null if not UTF-8 alone) and hex bytes.")
        var json = false
        @Argument(help: "The text (default: standard input).")
        var text: [String] = []

        func run() throws {
            let tok = try GPT2Tokenizer.resolved(tokenizer)
            let input: String
            if text.isEmpty || text == ["-"] {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                guard let s = String(validating: data, as: UTF8.self) else {
                    throw WorkbenchError("standard input is not valid UTF-8 text (\(data.count) bytes)")
                }
                input = s
            } else {
                input = text.joined(separator: " ")
            }
            let ids = try tok.encode(input)
            if json {
                print(try ToolJSON.string(TokenListing(ids: ids, tokenizer: tok)))
            } else {
                FileHandle.standardOutput.write(Tokenize.line(ids))
            }
        }

        /// "15496 995\n": the ids in decimal, one space apart (built as bytes: a megabyte of text is ~300k ids).
        static func line(_ ids: [Int32]) -> Data {
            var out = Data(count: ids.count * 12 + 1)      // at most 11 characters per id and a separator
            let used = out.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) -> Int in
                let o = raw.bindMemory(to: UInt8.self)
                var at = 0
                var digits: (UInt64, UInt64) = (0, 0)
                for (k, id) in ids.enumerated() {
                    if k > 0 { o[at] = 0x20; at += 1 }
                    if id < 0 { o[at] = 0x2D; at += 1 }
                    var v = id.magnitude, n = 0
                    withUnsafeMutableBytes(of: &digits) { d in
                        repeat { d[n] = 0x30 + UInt8(v % 10); v /= 10; n += 1 } while v > 0
                        while n > 0 { n -= 1; o[at] = d[n]; at += 1 }
                    }
                }
                o[at] = 0x0A
                return at + 1
            }
            out.count = used
            return out
        }
    }

    /// `workbench detokenize`: GPT-2 token ids -> text.
    struct Detokenize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn GPT-2 token ids into text, written exactly (nothing added, no newline).",
            discussion: """
            The ids are the arguments, or whitespace-separated on standard input when there are none or the \
            only one is '-' (so `workbench run`'s output, one id per line, can be piped in). The bytes of the \
            tokens are written as they are: ids that cut a character in two give its bytes, not U+FFFD. \
            Accepts llm.c's gpt2_tokenizer.bin as --tokenizer too.

            Examples:
              workbench detokenize 15496 995                   # prints Hello world
              workbench tokenize -- "héllo wörld" | workbench detokenize
              workbench run 31373 612 | workbench detokenize   # the generated text
            """)

        @Option(help: "Tokenizer file: .tiktoken, llm.c's gpt2_tokenizer.bin, or Hugging Face vocab.json.")
        var tokenizer: String?
        @Argument(parsing: .allUnrecognized, help: "Token ids (integers in 0..<vocabulary size; default: standard input).")
        var ids: [String] = []

        func run() throws {
            var words = ids.filter { $0 != "--" }
            if words.isEmpty || words == ["-"] {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                words = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0.isWhitespace }).map(String.init)
            }
            let tok = try GPT2Tokenizer.resolved(tokenizer)
            let parsed = try words.map { w -> Int32 in
                guard let v = Int32(w) else {
                    throw WorkbenchError("'\(w.prefix(40))' is not a token id (an integer in 0...\(tok.vocabularySize - 1))")
                }
                return v
            }
            FileHandle.standardOutput.write(Data(try tok.decodeBytes(parsed)))
        }
    }
}
