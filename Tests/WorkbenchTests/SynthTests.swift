// `workbench synth` end to end: the file it writes (size, header, determinism) and its bad-input messages.
import Foundation
import XCTest

final class SynthTests: XCTestCase {
    private func synth(_ args: [String]) throws -> (String, ProcessResult) {
        let p = Fixtures.shared.path("synth.bin")
        return (p, try Subprocess.workbench(["synth", p] + args))
    }

    /// No file (and no temporary file) is left in the fixtures folder for `path`.
    private func assertNothingWritten(_ path: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(path) should not exist", file: file, line: line)
        let name = URL(fileURLWithPath: path).lastPathComponent
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: Fixtures.shared.directory)) ?? [])
            .filter { $0.hasPrefix(name) }
        XCTAssertEqual(leftovers, [], "temporary files left behind", file: file, line: line)
    }

    func testTinyPresetFileAndHeader() throws {
        let (p, r) = try synth(["--preset", "tiny"])
        assertSuccess(r)
        XCTAssertEqual(r.stdout, "", "synth prints its notice on stderr only")
        XCTAssertEqual(r.stderrLines.count, 1, r.summary)
        XCTAssertTrue(r.stderr.contains("wrote \(p)"), r.summary)
        let size = try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int
        XCTAssertEqual(size, ModelSpec.tiny.fileSize)
        let h = try readInt32s(p, count: 256)
        XCTAssertEqual(Array(h[0..<8]), [20240326, 3, 64, 512, 2, 4, 64, 576])
        XCTAssertTrue(h[8...].allSatisfy { $0 == 0 }, "the rest of the header is zero")
    }

    func testVersionOneHeaderHasNoPaddedVocabulary() throws {
        let (p, r) = try synth(["--preset", "tiny", "--version", "1", "--vocab", "257"])
        assertSuccess(r)
        let h = try readInt32s(p, count: 8)
        XCTAssertEqual(h, [20240326, 1, 64, 257, 2, 4, 64, 0])
        let size = try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int
        XCTAssertEqual(size, ModelSpec(L: 2, NH: 4, C: 64, V: 257, Vp: 257, maxT: 64, version: 1).fileSize)
    }

    func testVocabularyIsPaddedToSixtyFourByDefault() throws {
        let (p, r) = try synth(["--preset", "tiny", "--vocab", "300"])
        assertSuccess(r)
        XCTAssertEqual(try readInt32s(p, count: 8)[7], 320)
    }

    func testSameSeedSameBytesDifferentSeedDifferentBytes() throws {
        let (a, ra) = try synth(["--preset", "tiny", "--seed", "42"])
        let (b, rb) = try synth(["--preset", "tiny", "--seed", "42"])
        let (c, rc) = try synth(["--preset", "tiny", "--seed", "43"])
        assertSuccess(ra); assertSuccess(rb); assertSuccess(rc)
        let da = try Data(contentsOf: URL(fileURLWithPath: a))
        let db = try Data(contentsOf: URL(fileURLWithPath: b))
        let dc = try Data(contentsOf: URL(fileURLWithPath: c))
        XCTAssertEqual(da, db)
        XCTAssertEqual(da.prefix(1024), dc.prefix(1024), "the header does not depend on the seed")
        XCTAssertNotEqual(da, dc)
    }

    func testPaddedRowsOfTokenEmbeddingAreZero() throws {
        let (p, r) = try synth(["--preset", "tiny"])
        assertSuccess(r)
        let floats = try readFloats(p).dropFirst(256)  // header ints are read as floats; skip them
        let wte = Array(floats.prefix(576 * 64))
        XCTAssertTrue(wte[(512 * 64)...].allSatisfy { $0 == 0 }, "rows V..<Vp are zero")
        XCTAssertFalse(wte[((511) * 64)..<(512 * 64)].allSatisfy { $0 == 0 }, "row V-1 is not")
    }

    func testWritesAreLoadableByRun() throws {
        let (p, r) = try synth(["--preset", "tiny", "--layers", "1", "--heads", "2", "--channels", "8", "--vocab", "11",
                                "--padded-vocab", "16", "--max-t", "5"])
        assertSuccess(r)
        let run = try Subprocess.workbench(["run", "--model", p, "--n", "5", "10"])
        assertSuccess(run)
        XCTAssertEqual(run.stdoutLines.count, 4)
    }

    // MARK: bad input

    func testInvalidShapes() throws {
        let cases: [([String], [String])] = [
            (["--preset", "tiny", "--heads", "5"], ["divisible"]),
            (["--channels", "65"], ["divisible"]),
            (["--preset", "tiny", "--heads", "65"], ["head"]),
            (["--preset", "tiny", "--version", "1", "--padded-vocab", "576"], ["version 1", "padded"]),
            (["--preset", "tiny", "--version", "2"], ["version 2"]),
            (["--preset", "tiny", "--layers", "0"], ["layer"]),
            (["--preset", "tiny", "--vocab", "0"], ["vocabulary"]),
            (["--preset", "tiny", "--padded-vocab", "100"], ["padded vocabulary", "100"]),
            (["--preset", "tiny", "--max-t", "0"], ["sequence length"]),
            (["--preset", "tiny", "--layers", "99999"], ["99999"]),
            (["--preset", "huge"], ["unknown preset", "'huge'"]),
        ]
        for (args, mentions) in cases {
            let (p, r) = try synth(args)
            assertBadInput(r, mentions: mentions)
            assertNothingWritten(p)
        }
    }

    func testUnwritableDestination() throws {
        let p = "/nonexistent-dir-\(getpid())/x.bin"
        let r = try Subprocess.workbench(["synth", p, "--preset", "tiny"])
        assertBadInput(r, mentions: [p, "cannot write"])
    }

    /// A shape whose file cannot fit on the disk is refused before anything is written.
    func testCheckpointLargerThanTheDiskIsRefused() throws {
        let p = Fixtures.shared.path("huge.bin")
        // 4096 layers x 12 x 65536^2 floats: petabytes, more than any test machine's disk.
        let r = try Subprocess.workbench(["synth", p, "--layers", "4096", "--channels", "65536", "--heads", "1"])
        assertBadInput(r, mentions: [p, "GB are free"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: p))
    }

    func testUsageErrorsAreOneLine() throws {
        assertBadInput(try Subprocess.workbench(["synth"]), mentions: ["<out>"])
        assertBadInput(try Subprocess.workbench(["synth", Fixtures.shared.path("x.bin"), "--layers", "two"]), mentions: ["two"])
        assertBadInput(try Subprocess.workbench(["synth", Fixtures.shared.path("x.bin"), "--seed=-1"]), mentions: ["-1"])
    }
}
