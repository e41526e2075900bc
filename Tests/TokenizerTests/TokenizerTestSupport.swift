// Shared by the tokenizer tests: the committed fixtures (a tiny hand-made vocabulary, the tiktoken corpus), the real
// GPT-2 vocabulary (skipped when absent), scratch files, and the two merge implementations called directly.
import Foundation
import XCTest
@testable import Tokenizer

enum TokenizerFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// Fixtures/tiny.tiktoken: bytes 0...255 have ranks 0...255 (rank = byte value), then
    /// 256 "ab", 257 "bc", 258 "abc", 259 "aa", 260 "aaaa", 261 "yz", 262 "xy", 263 [0xA9, 0x20], 264 " a",
    /// 265 "é" (C3 A9); <|endoftext|> = 266; 267 ids. Written by hand (see the file: merges first, ranks out of
    /// file order on purpose).
    static let tinyPath = directory + "/tiny.tiktoken"
    static func tiny() throws -> GPT2Tokenizer { try GPT2Tokenizer(contentsOf: tinyPath) }

    /// The real GPT-2 vocabulary, found the way the commands find it ($WORKBENCH_TOKENIZER, else the cache
    /// folder's gpt2.tiktoken); skips the test when it is absent.
    static func gpt2() throws -> GPT2Tokenizer {
        switch real {
        case .found(let t): return t
        case .absent(let why):
            throw XCTSkip("GPT-2's vocabulary is not here (\(why)); run `bash Tools/setup.sh` (CI does) to fetch gpt2.tiktoken, or set WORKBENCH_TOKENIZER")
        case .broken(let e): throw e                  // present but unloadable: a failure, not a skip
        }
    }
    private enum Real { case found(GPT2Tokenizer), absent(String), broken(Error) }
    private static let real: Real = {
        let path: String
        do { path = try TokenizerLocation.resolve(explicit: nil) } catch { return .absent("\(error)") }
        do { return .found(try GPT2Tokenizer(contentsOf: path)) } catch { return .broken(error) }
    }()

    /// A fresh scratch path (the folder is removed when the test process exits).
    static func scratch(_ name: String) -> String {
        let dir = scratchDirectory
        return "\(dir)/\(UUID().uuidString.prefix(8))-\(name)"
    }
    static let scratchDirectory: String = {
        let d = FileManager.default.temporaryDirectory.path + "/tokenizer-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.path + "/tokenizer-tests-\(getpid())") }
        return d
    }()

    /// Writes `text` to a scratch file and returns its path.
    static func write(_ text: String, name: String = "v.tiktoken") throws -> String {
        let p = scratch(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: p))
        return p
    }

    static func write(_ data: Data, name: String) throws -> String {
        let p = scratch(name)
        try data.write(to: URL(fileURLWithPath: p))
        return p
    }

    /// The lines of a .tiktoken file for `tokens` (rank = index).
    static func tiktokenText(_ tokens: [[UInt8]]) -> String {
        tokens.enumerated().map { "\(Data($0.element).base64EncodedString()) \($0.offset)" }.joined(separator: "\n") + "\n"
    }

    /// The 256 single bytes, rank = byte value.
    static let singleBytes: [[UInt8]] = (0...255).map { [UInt8($0)] }
}

/// Merges one piece with the scan (tiktoken's loop) or the heap implementation, bypassing the whole-piece lookup.
func merge(_ tok: GPT2Tokenizer, _ piece: [UInt8], heap: Bool) -> [Int32] {
    var out: [Int32] = []
    tok.table.withLookup { t in
        piece.withUnsafeBufferPointer { p in
            if p.count == 1 { out.append(t.rank(p.baseAddress!, 1)); return }
            if heap { BytePairMerge.mergeHeap(p.baseAddress!, p.count, t, into: &out) }
            else { BytePairMerge.mergeScan(p.baseAddress!, p.count, t, into: &out) }
        }
    }
    return out
}

extension XCTestCase {
    /// Asserts `body` throws a TokenizerError of `kind` whose message is one line containing every `mentions`.
    func assertTokenizerError<T>(_ kind: TokenizerError.Kind, mentions: [String], _ body: @autoclosure () throws -> T,
                                 file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("expected a \(kind) error mentioning \(mentions), got no error", file: file, line: line)
        } catch let e as TokenizerError {
            XCTAssertEqual(e.kind, kind, "kind of: \(e)", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), "one line: \(e)", file: file, line: line)
            for m in mentions { XCTAssertTrue(e.description.contains(m), "'\(e)' should mention '\(m)'", file: file, line: line) }
        } catch {
            XCTFail("expected a TokenizerError, got \(type(of: error)): \(error)", file: file, line: line)
        }
    }
}
