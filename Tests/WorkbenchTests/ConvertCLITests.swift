// `workbench convert` end to end: the files it writes, --check's figures, `run --model` on a converted file
// (detected by its magic), and its bad-input messages (one line, exit 2).
import Foundation
import XCTest

final class ConvertCLITests: XCTestCase {
    private func tiny() throws -> String { try Fixtures.shared.checkpoint(.tiny) }

    private func convert(_ format: String, _ extra: [String] = []) throws -> (String, ProcessResult) {
        let out = Fixtures.shared.path("tiny-\(format).wbm")
        return (out, try Subprocess.workbench(["convert", try tiny(), out, "--format", format] + extra))
    }

    func testEveryFormatWritesAFileThatRunLoads() throws {
        let reference = try Subprocess.workbench(["run", "--model", try tiny(), "--sampler", "argmax", "--n", "12", "--threads", "1", "7", "300"])
        assertSuccess(reference)
        for format in ["f32", "bf16", "q8", "q4"] {
            let (out, r) = try convert(format)
            assertSuccess(r)
            XCTAssertEqual(r.stdout, "", r.summary)
            XCTAssertEqual(r.stderrLines.count, 1, r.summary)
            XCTAssertTrue(r.stderr.contains("wrote \(out): \(format) matmul weights, \(format) lm-head"), r.summary)
            let magic = try Data(contentsOf: URL(fileURLWithPath: out)).prefix(4)
            XCTAssertEqual(Array(magic), Array("WBQM".utf8))
            let run = try Subprocess.workbench(["run", "--model", out, "--sampler", "argmax", "--n", "12", "--threads", "2", "7", "300"])
            assertSuccess(run)
            XCTAssertEqual(run.stdoutLines.count, 10, run.summary)
            if format == "f32" { XCTAssertEqual(run.stdout, reference.stdout, "an f32 file runs the same engine on the same weights") }
            // --timings names the format's variant at every matmul site
            let t = try Subprocess.workbench(["run", "--model", out, "--timings", "--n", "4", "7"])
            assertSuccess(t)
            XCTAssertTrue(t.stdout.contains("matmul=\(format == "f32" ? "threaded" : format) "), t.summary)
        }
    }

    func testCheckPrintsTheAccuracyFigures() throws {
        let json = Fixtures.shared.path("acc.json")
        let (_, r) = try convert("q8", ["--check", "--check-prompt", "7 300", "--check-length", "24", "--check-greedy", "8", "--check-json", json])
        assertSuccess(r)
        XCTAssertTrue(r.stdout.contains("accuracy of "), r.summary)
        XCTAssertTrue(r.stdout.contains("KL mean"), r.summary)
        XCTAssertTrue(r.stdout.contains("top-1"), r.summary)
        XCTAssertTrue(r.stdout.contains("of 8"), r.summary)
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let logits = obj?["logits"] as? [String: Any]
        XCTAssertEqual(logits?["positions"] as? Int, 24)
        XCTAssertNotNil(logits?["meanKL"] as? Double)
        XCTAssertEqual(obj?["greedyCompared"] as? Int, 8)
    }

    func testLmheadOption() throws {
        let (out, r) = try convert("q4", ["--lmhead", "f32"])
        assertSuccess(r)
        XCTAssertTrue(r.stderr.contains("q4 matmul weights, f32 lm-head"), r.summary)
        let t = try Subprocess.workbench(["run", "--model", out, "--timings", "--n", "4", "7"])
        assertSuccess(t)
        XCTAssertTrue(t.stdout.contains("lmhead=threaded"), t.summary)
    }

    /// The format variants through `compare` (held to their normalised error, GB/s of their own bytes) and
    /// `kernels --time`.
    func testCompareAndKernelsTakeTheFormatVariants() throws {
        for f in ["bf16", "q8", "q4"] {
            let r = try Subprocess.workbench(["compare", "matmul:naive", "matmul:\(f)", "--shape", "4,96,64", "--runs", "10", "--json"])
            assertSuccess(r)
            let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            let b = obj?["b"] as? [String: Any]
            XCTAssertEqual(b?["correct"] as? Bool, true, r.summary)
            XCTAssertEqual(obj?["wrong"] as? Bool, false, r.summary)
            XCTAssertLessThanOrEqual(b?["maxRelError"] as? Double ?? 1, b?["tolerance"] as? Double ?? 0, r.summary)
            XCTAssertGreaterThan(b?["tolerance"] as? Double ?? 0, 1e-4, "a lossy format's own tolerance: \(r.summary)")
            let bytes = ["bf16": 64 * 96 * 2, "q8": 64 * 128 / 32 * 34, "q4": 64 * 128 / 32 * 18][f]!
            let c = obj?["comparison"] as? [String: Any], med = (c?["b"] as? [String: Any])?["medianNs"] as? Double
            XCTAssertEqual(b?["gbs"] as? Double ?? 0, Double(bytes) / (med ?? 1), accuracy: 1e-6 * Double(bytes) / (med ?? 1), r.summary)
            let text = try Subprocess.workbench(["compare", "matmul:naive", "matmul:\(f)", "--shape", "4,96,64", "--runs", "5"])
            assertSuccess(text)
            XCTAssertTrue(text.stdout.contains("matmul:\(f)") && text.stdout.contains(" ok"), text.summary)
        }
        // A converted file wherever --model is read: compare --engine (and a lossy side's accuracy), scale, profile.
        let (q, conv) = try convert("q8")
        assertSuccess(conv)
        let e = try Subprocess.workbench(["compare", "--model", q, "--engine", "threads=1", "--engine", "threads=2", "--runs", "2", "--n", "6"])
        assertSuccess(e)
        XCTAssertTrue(e.stdout.contains("same as A") && e.stdout.contains("matmul=q8"), e.summary)
        let lossy = try Subprocess.workbench(["compare", "--model", try tiny(), "--engine", "threads=1", "--engine", "matmul=q4", "--runs", "2", "--n", "8"])
        assertSuccess(lossy)
        XCTAssertTrue(lossy.stdout.contains("accuracy of B against A: ") && lossy.stdout.contains("KL"), lossy.summary)
        let sc = try Subprocess.workbench(["scale", "--model", q, "--t", "8", "--max-threads", "2", "--runs", "1", "--no-pin-comparison", "--json"])
        assertSuccess(sc)
        XCTAssertTrue(sc.stdout.contains("q8"), sc.summary)
        let pr = try Subprocess.workbench(["profile", "--model", q, "--duration", "0.5", "--top", "5"])
        assertSuccess(pr)
        let k = try Subprocess.workbench(["kernels", "--time", "--budget", "0.01", "--mm", "2,768,768", "--attn", "4,64,4", "--variants", "naive,q8,q4,bf16"])
        assertSuccess(k)
        for f in ["q8", "q4", "bf16"] { XCTAssertTrue(k.stdoutLines.contains { $0.hasPrefix("  \(f) ") && !$0.contains("WRONG") }, k.summary) }
    }

    func testBadInput() throws {
        let m = try tiny()
        let out = Fixtures.shared.path("bad.wbm")
        assertBadInput(try Subprocess.workbench(["convert", m, out, "--format", "q5"]), mentions: ["unknown --format 'q5'", "f32, bf16, q8, q4"])
        assertBadInput(try Subprocess.workbench(["convert", m, out, "--format", "q8", "--lmhead", "fp8"]), mentions: ["unknown --lmhead 'fp8'"])
        assertBadInput(try Subprocess.workbench(["convert", m, out]), mentions: ["--format"])
        assertBadInput(try Subprocess.workbench(["convert", m + ".missing", out, "--format", "q8"]), mentions: ["cannot open"])
        assertBadInput(try Subprocess.workbench(["convert", m, "/nonexistent-dir/x.wbm", "--format", "q8"]), mentions: ["/nonexistent-dir/x.wbm", "does not exist"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let (q, r) = try convert("q8")
        assertSuccess(r)
        assertBadInput(try Subprocess.workbench(["convert", q, out, "--format", "q4"]), mentions: ["already a converted model file"])
        // a damaged converted file: one line naming the file and the problem, exit 2, wherever --model is read
        var data = try Data(contentsOf: URL(fileURLWithPath: q))
        let cut = Fixtures.shared.path("cut.wbm")
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: cut))
        assertBadInput(try Subprocess.workbench(["run", "--model", cut, "7"]), mentions: [cut, "truncated"])
        data[20] = 65
        let bad = Fixtures.shared.path("badalign.wbm")
        try data.write(to: URL(fileURLWithPath: bad))
        assertBadInput(try Subprocess.workbench(["run", "--model", bad, "7"]), mentions: [bad, "alignment"])
    }
}
