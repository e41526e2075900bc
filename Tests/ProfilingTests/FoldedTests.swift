// The folded-stack format: writer/reader round trip, escaping, a golden file, and every kind of bad input
// with its one-line message.
import Foundation
@testable import Profiling
import XCTest

/// Fixture files beside this test file.
enum ProfilingFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static func path(_ name: String) -> String { directory + "/" + name }
    static func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }
}

/// A fresh temporary folder, removed by the test.
func profilingTemporaryDirectory() throws -> String {
    let d = FileManager.default.temporaryDirectory.path + "/profilingtests-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

final class FoldedTests: XCTestCase {
    let sample = StackProfile([
        (["_start", "main", "Kernels.matmul(_:_:)"], 412),
        (["_start", "main", "GPT2.GPT2Model.forward(_:pos0:allLogits:)", "Kernels.gelu(_:)"], 17),
        (["clone3", "start_thread", "worker loop (spinning)"], 5),
    ])

    func testWriteIsSortedAndReadable() {
        let text = Folded.write(sample)
        XCTAssertEqual(text, """
        _start;main;GPT2.GPT2Model.forward(_:pos0:allLogits:);Kernels.gelu(_:) 17
        _start;main;Kernels.matmul(_:_:) 412
        clone3;start_thread;worker loop (spinning) 5

        """)
    }

    func testRoundTrip() throws {
        let back = try Folded.parse(Folded.write(sample), source: "test")
        XCTAssertEqual(back, sample)
        XCTAssertEqual(back.total, 434)
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Folded.write(sample, to: dir + "/p.folded")
        XCTAssertEqual(try Folded.read(path: dir + "/p.folded"), sample)
    }

    func testSemicolonsAndLineBreaksInNamesAreReplaced() throws {
        let p = StackProfile([(["a;b", "c\nd", "ok"], 3)])
        let text = Folded.write(p)
        XCTAssertEqual(text, "a:b;c d;ok 3\n")
        XCTAssertEqual(try Folded.parse(text, source: "t").counts, [["a:b", "c d", "ok"]: 3])
    }

    func testDuplicateLinesAddUpAndBlankLinesAndCRLFAreAccepted() throws {
        let p = try Folded.parse("a;b 2\r\n\n  \na;b 3\nc 0\n", source: "t")
        XCTAssertEqual(p.counts, [["a", "b"]: 5])
        XCTAssertEqual(p.total, 5)
    }

    func testGoldenFile() throws {
        // The committed golden file is what the writer produces for this profile, byte for byte.
        let golden = try ProfilingFixtures.text("golden.folded")
        let p = try Folded.parse(golden, source: "golden.folded")
        XCTAssertEqual(Folded.write(p), golden)
        XCTAssertEqual(p.total, 100)
        XCTAssertEqual(Reports.flat(p, top: 1).first?.frame, "Kernels.microkernel(_:_:_:_:_:_:_:_:)")
    }

    func testGarbledInputsFailWithTheLineNumber() {
        let bad: [(String, String)] = [
            ("a;b 3\nno-count-here\n", "line 2 is not a folded stack"),
            ("a;b three\n", "line 1 does not end with a sample count"),
            ("a;b -4\n", "line 1 does not end with a sample count"),
            ("a;;b 4\n", "line 1 has an empty frame"),
            (" 4\n", "line 1 has an empty frame"),
            ("a;b 1.5\n", "line 1 does not end with a sample count"),
        ]
        for (text, message) in bad {
            XCTAssertThrowsError(try Folded.parse(text, source: "x.folded"), text) { e in
                let s = "\(e)"
                XCTAssertTrue(s.hasPrefix("x.folded: "), s)
                XCTAssertTrue(s.contains(message), "\(s) should contain \(message)")
                XCTAssertFalse(s.contains("\n"), "one line: \(s)")
            }
        }
    }

    func testMissingUnreadableAndNonTextFiles() throws {
        XCTAssertThrowsError(try Folded.read(path: "/nonexistent/a.folded")) { e in
            XCTAssertEqual("\(e)", "/nonexistent/a.folded: no such file")
        }
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try Folded.read(path: dir)) { e in XCTAssertTrue("\(e)".contains("is a directory")) }
        FileManager.default.createFile(atPath: dir + "/bin", contents: Data([0xff, 0xfe, 0x00, 0x80]))
        XCTAssertThrowsError(try Folded.read(path: dir + "/bin")) { e in XCTAssertTrue("\(e)".contains("not UTF-8")) }
        FileManager.default.createFile(atPath: dir + "/empty", contents: Data())
        XCTAssertEqual(try Folded.read(path: dir + "/empty").total, 0)
    }
}
