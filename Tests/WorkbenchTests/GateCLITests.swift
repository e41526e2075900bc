// `workbench gate` end to end on the quick suite (tiny shapes, seconds): a fresh baseline passes twice, a kernel
// slowed 2x by the test hook is caught as a regression, a changed token stream fails as incorrect, and every bad
// input gets one line and exit status 2 before anything is measured.
// Not timing-flaky by construction: the quick policy's thresholds are at least +50 % (a summary metric's at most
// +60 %), failing metrics are re-measured twice, and the injected slowdown doubles the kernel's CPU time.
import Foundation
import XCTest

final class GateCLITests: XCTestCase {
    /// A quick-suite baseline made once for the whole class (two runs, so thresholds include their drift).
    private static var baselinePath: String?

    private func quickBaseline() throws -> String {
        if let p = Self.baselinePath { return p }
        let p = Fixtures.shared.path("gate-quick.json")
        let r = try Subprocess.workbench(["gate", "--quick", "--update-baseline", "--runs", "2", "--no-instructions", "--baseline", p],
                                         timeout: 300)
        assertSuccess(r)
        guard r.status == 0 else { throw TestFailure("cannot make the quick baseline: \(r.summary)") }
        XCTAssertTrue(r.stdout.contains("wrote \(p):"), r.summary)
        Self.baselinePath = p
        return p
    }

    /// The rows of the gate's table whose verdict is `verdict` (first column: the metric name).
    private func rows(_ r: ProcessResult, _ verdict: String) -> [String] {
        r.stdoutLines.filter { $0.contains("  \(verdict)") }.compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    func testBaselineIsWrittenWithEveryMetricFamily() throws {
        let p = try quickBaseline()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p))) as! [String: Any]
        XCTAssertEqual(json["format"] as? Int, 1)
        XCTAssertEqual(json["suite"] as? String, "quick")
        let names = (json["metrics"] as! [[String: Any]]).map { $0["name"] as! String }
        for prefix in ["matmul/naive/qkv/T32", "matmul/naive/T32", "matmul/qkv/T32/max-error", "attention/naive/T32-pos0",
                       "attention/naive", "gen/tiny/tokens", "gen/tiny/logits-rms", "gen/tiny/decode", "share/tiny-decode/"] {
            XCTAssertTrue(names.contains { $0.hasPrefix(prefix) }, "baseline should have \(prefix)...: \(names)")
        }
        let env = json["environment"] as! [String: Any]
        XCTAssertEqual(env["threads"] as? Int, 1)
        XCTAssertNotNil(env["fingerprint"] as? String)
    }

    func testUnchangedCodePassesTwiceAndWritesMarkdown() throws {
        let p = try quickBaseline()
        let md = Fixtures.shared.path("gate.md")
        for attempt in 1...2 {
            // Four re-measurements (default 2): a test machine may be far busier than a CI runner.
            let r = try Subprocess.workbench(["gate", "--quick", "--no-instructions", "--retries", "4", "--baseline", p]
                                             + (attempt == 2 ? ["--markdown", md] : []), timeout: 300)
            let failing = r.stdoutLines.filter { $0.contains("  REGRESSION") || $0.contains("  INCORRECT") }
            XCTAssertEqual(r.status, 0, "run \(attempt) failed on: \(failing)\n\(r.summary)")
            XCTAssertFalse(r.timedOut)
            XCTAssertTrue(r.stdout.contains("\nPASS: "), "run \(attempt): \(r.summary)")
            XCTAssertTrue(r.stdout.contains("same machine as the baseline"), r.summary)
            XCTAssertTrue(r.stdout.contains("metrics: instructions: not tried"), r.summary)
            XCTAssertEqual(rows(r, "REGRESSION"), [], r.summary)
        }
        let text = try String(contentsOfFile: md, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("### ✅ workbench gate: PASS"), text)
        XCTAssertTrue(text.contains("| metric | baseline | now | change | threshold | verdict |"), text)
    }

    func testADoubledKernelIsCaughtAsARegression() throws {
        let p = try quickBaseline()
        let r = try Subprocess.workbench(["gate", "--quick", "--no-instructions", "--baseline", p, "--inject-slowdown", "matmul:default=2"],
                                         timeout: 300)
        XCTAssertFalse(r.timedOut, r.summary)
        XCTAssertEqual(r.status, 1, r.summary)
        // The hook names the variant it slowed: the engine's default.
        let hook = r.stderrLines.first { $0.hasPrefix("gate: test hook: matmul variant '") }
        let name = try XCTUnwrap(hook?.split(separator: "'").dropFirst().first.map(String.init), r.summary)
        let failed = rows(r, "REGRESSION")
        XCTAssertTrue(failed.contains("matmul/\(name)/T32"), "the variant's summary must fail: \(failed)\n\(r.summary)")
        XCTAssertTrue(failed.contains("matmul/\(name)/T1"), "the variant's summary must fail: \(failed)\n\(r.summary)")
        XCTAssertTrue(r.stdout.contains("\nFAIL: "), r.summary)
    }

    func testAChangedTokenStreamFailsAsIncorrect() throws {
        let p = try quickBaseline()
        // Edit the expected stream: the first generated token becomes another one.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p))) as! [String: Any]
        var metrics = json["metrics"] as! [[String: Any]]
        let i = try XCTUnwrap(metrics.firstIndex { $0["name"] as? String == "gen/tiny/tokens" })
        var words = (metrics[i]["text"] as! String).split(separator: " ").map(String.init)
        words[0] = words[0] == "7" ? "8" : "7"
        metrics[i]["text"] = words.joined(separator: " ")
        json["metrics"] = metrics
        let edited = Fixtures.shared.path("gate-edited.json")
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: edited))
        let md = Fixtures.shared.path("gate-fail.md")
        let r = try Subprocess.workbench(["gate", "--quick", "--no-instructions", "--baseline", edited, "--markdown", md], timeout: 300)
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(rows(r, "INCORRECT"), ["gen/tiny/tokens"], r.summary)
        XCTAssertTrue(r.stdout.contains("gen/tiny/tokens: INCORRECT: first difference at word 1:"), r.summary)
        let text = try String(contentsOfFile: md, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("### ❌ workbench gate: FAIL"), text)
        XCTAssertTrue(text.contains("**INCORRECT**"), text)
    }

    func testBadInputIsOneLineAndExitTwoBeforeMeasuring() throws {
        let missing = Fixtures.shared.path("absent.json")
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", missing]), mentions: [missing, "not found", "--update-baseline"])

        let corrupt = Fixtures.shared.path("corrupt.json")
        try Data("{\"format\": 1, \"suite\": \"quick\", \"metr".utf8).write(to: URL(fileURLWithPath: corrupt))
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", corrupt]), mentions: [corrupt, "not a gate baseline"])

        let fields = Fixtures.shared.path("fields.json")
        try Data("{\"format\": 1, \"suite\": \"quick\"}".utf8).write(to: URL(fileURLWithPath: fields))
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", fields]), mentions: [fields, "is corrupt", "missing field"])

        let future = Fixtures.shared.path("future.json")
        try Data("{\"format\": 7}".utf8).write(to: URL(fileURLWithPath: future))
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", future]), mentions: ["format 7"])

        let p = try quickBaseline()
        assertBadInput(try Subprocess.workbench(["gate", "--suite", "full", "--baseline", p]), mentions: ["made by the quick suite"])
        assertBadInput(try Subprocess.workbench(["gate", "--suite", "huge", "--baseline", p]), mentions: ["unknown suite 'huge'"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--inject-slowdown", "matmul:nope=2"]),
                       mentions: ["unknown matmul variant 'nope'"])
        for spec in ["matmul:naive", "matmul:naive=0.5", "cache:naive=2", "matmul:=2", "matmul:naive=x"] {
            assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--inject-slowdown", spec]),
                           mentions: ["--inject-slowdown expects KIND:VARIANT=FACTOR"])
        }
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--update-baseline", "--baseline", Fixtures.shared.path("x.json"),
                                                 "--inject-slowdown", "matmul:naive=2"]), mentions: ["test hook"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--retries", "-1"]), mentions: ["--retries"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--runs", "3"]), mentions: ["--runs only applies"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--markdown", "/nonexistent-dir/x.md"]),
                       mentions: ["/nonexistent-dir", "does not exist"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--update-baseline", "--baseline", "/nonexistent-dir/b.json"]),
                       mentions: ["/nonexistent-dir", "does not exist"])
    }
}
