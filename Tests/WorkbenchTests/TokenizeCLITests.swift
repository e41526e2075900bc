// `workbench tokenize` and `workbench detokenize` end to end: output shapes, standard input, JSON, and every bad
// input's exit status 2 with one line. Most cases use the hand-made vocabulary
// Tests/TokenizerTests/Fixtures/tiny.tiktoken (ids worked out by hand in TinyVocabularyTests); the ones on the real
// GPT-2 vocabulary skip when gpt2.tiktoken is absent (`bash Tools/setup.sh` fetches it).
import Foundation
import XCTest

final class TokenizeCLITests: XCTestCase {
    /// The raw bytes the last `workbench(...)` call wrote to stdout.
    private var lastStdout = Data()
    private let tiny = TestPaths.packageRoot.appendingPathComponent("Tests/TokenizerTests/Fixtures/tiny.tiktoken").path

    /// GPT-2's vocabulary where the commands would find it from this test process's environment, or skip.
    private func gpt2Path() throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let p = env["WORKBENCH_TOKENIZER"], !p.isEmpty, FileManager.default.fileExists(atPath: p) { return p }
        let cache = env["WORKBENCH_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 + "/workbench" })
            ?? (env["HOME"] ?? "") + "/.cache/workbench"
        let p = cache + "/gpt2.tiktoken"
        guard FileManager.default.fileExists(atPath: p) else {
            throw XCTSkip("GPT-2's vocabulary is not at \(p); run `bash Tools/setup.sh` (CI does) or set WORKBENCH_TOKENIZER")
        }
        return p
    }

    /// Runs the built binary with `stdin` as its standard input (empty when nil); WORKBENCH_TOKENIZER unset
    /// unless given, the cache folder the tests' temporary one.
    private func workbench(_ args: [String], stdin: Data? = nil, env extra: [String: String] = [:],
                           file: StaticString = #filePath, line: UInt = #line) throws -> ProcessResult {
        guard let bin = TestPaths.workbench else {
            XCTFail("cannot find the built `workbench` binary; build it or set WORKBENCH_BIN", file: file, line: line)
            throw TestFailure("no binary")
        }
        let dir = Fixtures.shared.directory, id = UUID().uuidString
        let outPath = "\(dir)/stdout-\(id)", errPath = "\(dir)/stderr-\(id)"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let input = Pipe()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = args
        p.environment = Subprocess.environment(extra, remove: extra["WORKBENCH_TOKENIZER"] == nil ? ["WORKBENCH_TOKENIZER"] : [])
        p.standardInput = input
        p.standardOutput = out
        p.standardError = err
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        let writer = input.fileHandleForWriting
        DispatchQueue.global().async {
            if let stdin { writer.write(stdin) }
            try? writer.close()
        }
        var timedOut = false
        if done.wait(timeout: .now() + 60) == .timedOut { timedOut = true; p.terminate(); done.wait() }
        try out.close(); try err.close()
        lastStdout = try Data(contentsOf: URL(fileURLWithPath: outPath))
        return ProcessResult(command: (["workbench"] + args).joined(separator: " "), status: p.terminationStatus,
                             stdout: String(decoding: lastStdout, as: UTF8.self),
                             stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self),
                             timedOut: timedOut)
    }

    // MARK: tokenize

    func testTokenizePrintsIdsOnOneLine() throws {
        let r = try workbench(["tokenize", "--tokenizer", tiny, "--", "abc abcb"])
        assertSuccess(r)
        XCTAssertEqual(r.stdout, "258 32 258 98\n")       // "abc", " abcb" -> " " + abc + b
        XCTAssertEqual(r.stderr, "")
        let joined = try workbench(["tokenize", "--tokenizer", tiny, "abc", "abcb"])   // arguments joined by a space
        XCTAssertEqual(joined.stdout, r.stdout, joined.summary)
    }

    func testTokenizeReadsStandardInput() throws {
        let a = try workbench(["tokenize", "--tokenizer", tiny], stdin: Data("xyz aaa\n".utf8))
        assertSuccess(a)
        XCTAssertEqual(a.stdout, "120 261 32 259 97 10\n")  // x + yz; " aaa": aa (259) ranks before " a" (264); "\n"
        let b = try workbench(["tokenize", "--tokenizer", tiny, "-"], stdin: Data("xyz aaa\n".utf8))
        XCTAssertEqual(b.stdout, a.stdout, b.summary)
        let empty = try workbench(["tokenize", "--tokenizer", tiny], stdin: Data())
        assertSuccess(empty)
        XCTAssertEqual(empty.stdout, "\n")
    }

    func testTokenizeJSON() throws {
        let r = try workbench(["tokenize", "--tokenizer", tiny, "--json", "--", "abcé"])
        assertSuccess(r)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(o["schema"] as? Int, 1)
        XCTAssertEqual(o["tool"] as? String, "workbench")
        XCTAssertEqual(o["command"] as? String, "workbench tokenize --tokenizer \(tiny) --json -- abcé")
        XCTAssertEqual(o["tokenizer"] as? String, tiny)
        XCTAssertEqual(o["vocabulary_size"] as? Int, 267)
        XCTAssertEqual(o["count"] as? Int, 2)
        let tokens = try XCTUnwrap(o["tokens"] as? [[String: Any]])
        XCTAssertEqual(tokens.map { $0["id"] as? Int }, [258, 265])
        XCTAssertEqual(tokens.map { $0["text"] as? String }, ["abc", "é"])
        XCTAssertEqual(tokens.map { $0["hex"] as? String }, ["616263", "c3a9"])
    }

    func testTokenizeJSONMarksBytesThatAreNotTextAlone() throws {
        let gpt2 = try gpt2Path()
        let r = try workbench(["tokenize", "--tokenizer", gpt2, "--json", "--", "👍"])
        assertSuccess(r)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let tokens = try XCTUnwrap(o["tokens"] as? [[String: Any]])
        XCTAssertGreaterThan(tokens.count, 1, "👍 is more than one GPT-2 token")
        XCTAssertTrue(tokens.allSatisfy { $0["text"] is NSNull && $0["hex"] is String }, r.stdout)
        XCTAssertEqual(tokens.map { $0["hex"] as! String }.joined(), "f09f918d")
    }

    func testTokenizeRealVocabularyMatchesTiktoken() throws {
        let gpt2 = try gpt2Path()
        let r = try workbench(["tokenize", "--", "Hello world"], env: ["WORKBENCH_TOKENIZER": gpt2])
        assertSuccess(r)
        XCTAssertEqual(r.stdout, "15496 995\n")
        // text -> ids -> text, through the two commands
        let text = "naïve café, 日本語 and 👨‍👩‍👧 <|endoftext|>\n\ttabs  "
        let ids = try workbench(["tokenize", "--tokenizer", gpt2], stdin: Data(text.utf8))
        assertSuccess(ids)
        let back = try workbench(["detokenize", "--tokenizer", gpt2], stdin: Data(ids.stdout.utf8))
        assertSuccess(back)
        XCTAssertEqual(back.stdout, text)
    }

    func testTokenizeBadInput() throws {
        assertBadInput(try workbench(["tokenize", "--tokenizer", "/nonexistent/v.tiktoken", "--", "x"]),
                       mentions: ["/nonexistent/v.tiktoken", "does not exist"])
        let missing = try workbench(["tokenize", "--", "x"])      // no --tokenizer, no env, empty cache
        assertBadInput(missing, mentions: ["no tokenizer", "gpt2.tiktoken", "Tools/setup.sh", "--tokenizer", "WORKBENCH_TOKENIZER"])
        assertBadInput(try workbench(["tokenize", "--tokenizer", tiny], stdin: Data([0x61, 0xFF, 0x62])),
                       mentions: ["standard input", "UTF-8"])
        let garbled = Fixtures.shared.path("garbled.tiktoken")
        try Data("IQ== 0\n!!!! 1\n".utf8).write(to: URL(fileURLWithPath: garbled))
        assertBadInput(try workbench(["tokenize", "--tokenizer", garbled, "--", "x"]), mentions: [garbled, "line 2", "base64"])
    }

    func testTokenizeWithDecodeOnlyFileSaysWhy() throws {
        // a tiny llm.c tokenizer file: 256 single bytes + eot, version 2
        var header = [Int32](repeating: 0, count: 256)
        header[0] = 20240328; header[1] = 2; header[2] = 257; header[3] = 256
        var d = header.withUnsafeBytes { Data($0) }
        for b in 0..<256 { d.append(1); d.append(UInt8(b)) }
        d.append(13); d.append(contentsOf: Array("<|endoftext|>".utf8))
        let bin = Fixtures.shared.path("tok.bin")
        try d.write(to: URL(fileURLWithPath: bin))
        assertBadInput(try workbench(["tokenize", "--tokenizer", bin, "--", "hi"]), mentions: [bin, "not encode"])
        let r = try workbench(["detokenize", "--tokenizer", bin, "104", "105", "256"])
        assertSuccess(r)
        XCTAssertEqual(r.stdout, "hi<|endoftext|>")
    }

    // MARK: detokenize

    func testDetokenizeWritesExactlyTheText() throws {
        let r = try workbench(["detokenize", "--tokenizer", tiny, "258", "264", "10", "266"])
        assertSuccess(r)
        XCTAssertEqual(r.stdout, "abc a\n<|endoftext|>")        // nothing added, no trailing newline
        let none = try workbench(["detokenize", "--tokenizer", tiny], stdin: Data())
        assertSuccess(none)
        XCTAssertEqual(none.stdout, "")
        let piped = try workbench(["detokenize", "--tokenizer", tiny, "-"], stdin: Data("258\n264\n".utf8))
        XCTAssertEqual(piped.stdout, "abc a", piped.summary)
        let split = try workbench(["detokenize", "--tokenizer", tiny, "195"])   // half of é: its byte, as is
        assertSuccess(split)
        XCTAssertEqual(lastStdout, Data([0xC3]))
    }

    func testDetokenizeBadIds() throws {
        assertBadInput(try workbench(["detokenize", "--tokenizer", tiny, "1", "267"]), mentions: ["267", "0...266"])
        assertBadInput(try workbench(["detokenize", "--tokenizer", tiny, "1", "abc"]), mentions: ["'abc'", "not a token id"])
        assertBadInput(try workbench(["detokenize", "--tokenizer", tiny, "-5"]), mentions: ["-5"])
        assertBadInput(try workbench(["detokenize", "--tokenizer", tiny, "99999999999"]), mentions: ["99999999999"])
        assertBadInput(try workbench(["detokenize", "1"]), mentions: ["no tokenizer", "Tools/setup.sh"])
    }

    func testHelpHasExamples() throws {
        for verb in ["tokenize", "detokenize"] {
            let r = try workbench([verb, "--help"])
            assertSuccess(r)
            XCTAssertTrue(r.stdout.contains("Examples:"), r.stdout)
            XCTAssertTrue(r.stdout.contains("workbench \(verb) "), r.stdout)
        }
    }
}
