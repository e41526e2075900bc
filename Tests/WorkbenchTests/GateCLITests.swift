// `workbench gate` through the CLI on the quick suite (tiny shapes, seconds): a fresh baseline passes twice against
// its own numbers, a changed token stream fails as incorrect, a baseline whose commit predates the child protocol
// falls back with a clear line, the child protocol writes schema'd JSON, --help lists the exit codes, and every
// bad input gets one line and exit status 2 before anything is measured.
// The A/B itself (which builds a revision, minutes) and the injected slowdowns are tested through the library
// (Tests/LabTests/GateSuiteTests.swift); Notes/gates.md has the A/B runs of the full suite.
// Not timing-flaky by construction: the quick policy's thresholds are at least +50 % and failing metrics are
// re-measured.
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

    private func edit(_ path: String, to out: String, _ change: (inout [String: Any]) throws -> Void) throws -> String {
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        try change(&json)
        let edited = Fixtures.shared.path(out)
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: edited))
        return edited
    }

    func testBaselineIsWrittenWithEveryMetricFamily() throws {
        let p = try quickBaseline()
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: p))) as! [String: Any]
        XCTAssertEqual(json["format"] as? Int, 2)
        XCTAssertEqual(json["schema"] as? String, "workbench.gate.baseline")
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

    func testUnchangedCodePassesTwiceAgainstItsNumbersAndWritesMarkdown() throws {
        // The committed-baseline comparison of a debug build on a shared test machine is noise-bound (that is why
        // the gate runs an A/B): its thresholds are widened here so this test checks the protocol and the
        // correctness metrics, not the test machine's load.
        let p = try edit(try quickBaseline(), to: "gate-wide.json") { json in
            json["metrics"] = (json["metrics"] as! [[String: Any]]).map { m in
                var m = m
                if var t = m["threshold"] as? [String: Any] {
                    if t["relative"] != nil { t["relative"] = 10.0 }
                    if t["absolute"] != nil, m["kind"] as? String == "share" { t["absolute"] = 50.0 }
                    m["threshold"] = t
                }
                return m
            }
        }
        let md = Fixtures.shared.path("gate.md"), json = Fixtures.shared.path("gate.json")
        for attempt in 1...2 {
            // Four re-measurements (default 2): a test machine may be far busier than a CI runner.
            let r = try Subprocess.workbench(["gate", "--quick", "--baseline-only", "--no-instructions", "--retries", "4", "--baseline", p]
                                             + (attempt == 2 ? ["--markdown", md, "--report-json", json] : []), timeout: 300)
            let failing = r.stdoutLines.filter { $0.contains("  REGRESSION") || $0.contains("  INCORRECT") }
            XCTAssertEqual(r.status, 0, "run \(attempt) failed on: \(failing)\n\(r.summary)")
            XCTAssertTrue(r.stdout.contains("\nPASS: "), "run \(attempt): \(r.summary)")
            XCTAssertTrue(r.stdout.contains("comparison: this build's numbers against the committed baseline's (no A/B: --baseline-only)"), r.summary)
            XCTAssertTrue(r.stdout.contains("load before: "), r.summary)
            XCTAssertTrue(r.stdout.contains("metrics: instructions: not tried"), r.summary)
            XCTAssertEqual(rows(r, "REGRESSION"), [], r.summary)
        }
        let text = try String(contentsOfFile: md, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("### ✅ workbench gate: PASS"), text)
        XCTAssertTrue(text.contains("| metric | baseline | now | change | threshold | verdict |"), text)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        XCTAssertEqual(report["schema"] as? String, "workbench.gate.report/1")
        XCTAssertEqual(report["mode"] as? String, "baseline")
    }

    func testAChangedTokenStreamFailsAsIncorrect() throws {
        let p = try quickBaseline()
        // Edit the expected stream: the first generated token becomes another one.
        let edited = try edit(p, to: "gate-edited.json") { json in
            var metrics = json["metrics"] as! [[String: Any]]
            let i = try XCTUnwrap(metrics.firstIndex { $0["name"] as? String == "gen/tiny/tokens" })
            var words = (metrics[i]["text"] as! String).split(separator: " ").map(String.init)
            words[0] = words[0] == "7" ? "8" : "7"
            metrics[i]["text"] = words.joined(separator: " ")
            json["metrics"] = metrics
        }
        let md = Fixtures.shared.path("gate-fail.md")
        let r = try Subprocess.workbench(["gate", "--quick", "--baseline-only", "--no-instructions", "--baseline", edited, "--markdown", md], timeout: 300)
        XCTAssertEqual(r.status, 1, r.summary)
        XCTAssertEqual(rows(r, "INCORRECT"), ["gen/tiny/tokens"], r.summary)
        XCTAssertTrue(r.stdout.contains("gen/tiny/tokens: INCORRECT: first difference at word 1:"), r.summary)
        let text = try String(contentsOfFile: md, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("### ❌ workbench gate: FAIL"), text)
        XCTAssertTrue(text.contains("**INCORRECT**"), text)
    }

    /// A baseline made at a commit without the child protocol (the repository's first commit): plain `gate`
    /// says so in one line and compares with the baseline's numbers instead.
    func testABaselineCommitOlderThanTheProtocolFallsBackWithAClearLine() throws {
        let git = try Subprocess.run("/usr/bin/env", ["git", "-C", TestPaths.packageRoot.path, "rev-list", "--max-parents=0", "HEAD"])
        guard git.status == 0, let first = git.stdoutLines.first, first.count == 40 else {
            throw XCTSkip("no git history here: \(git.summary)")
        }
        let p = try quickBaseline()
        let old = try edit(p, to: "gate-old-commit.json") { $0["commit"] = first }
        let r = try Subprocess.run("/usr/bin/env", ["-C", TestPaths.packageRoot.path, TestPaths.workbench!, "gate", "--quick",
                                                   "--no-instructions", "--retries", "4", "--baseline", old],
                                   environment: Subprocess.environment(), timeout: 300)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stderr.contains("gate: no A/B: revision \(first.prefix(12)) predates the gate's child protocol"), r.summary)
        XCTAssertTrue(r.stdout.contains("comparison: this build's numbers against the committed baseline's (no A/B: revision \(first.prefix(12)) predates"), r.summary)
    }

    func testTheChildProtocolWritesMeasurementsWithASchema() throws {
        let out = Fixtures.shared.path("measure.json")
        let r = try Subprocess.workbench(["gate", "--measure", "--quick", "--round", "3", "--json-out", out, "--no-instructions"], timeout: 300)
        assertSuccess(r)
        XCTAssertEqual(r.stdout, "", "the child prints nothing on stdout")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as! [String: Any]
        XCTAssertEqual(json["schema"] as? String, "workbench.gate.measurements/2")
        XCTAssertEqual(json["protocolVersion"] as? Int, 3)
        XCTAssertEqual(json["round"] as? Int, 3)
        let names = (json["measurements"] as! [[String: Any]]).map { $0["name"] as! String }
        XCTAssertTrue(names.contains("gen/tiny/tokens"), "\(names)")
        XCTAssertEqual((json["cases"] as! [[String: Any]]).map { $0["key"] as! String }, ["matmul-T32", "matmul-T1", "attention", "gen-tiny"])
        // --cases: only those cases.
        let some = Fixtures.shared.path("measure-some.json")
        assertSuccess(try Subprocess.workbench(["gate", "--measure", "--quick", "--round", "4", "--json-out", some, "--no-instructions", "--cases", "attention,gen-tiny"], timeout: 300))
        let sj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: some))) as! [String: Any]
        let snames = (sj["measurements"] as! [[String: Any]]).map { $0["name"] as! String }
        XCTAssertTrue(snames.allSatisfy { $0.hasPrefix("attention/") || $0.hasPrefix("gen/tiny/") || $0.hasPrefix("share/tiny-") }, "\(snames)")
        XCTAssertTrue(snames.contains("gen/tiny/tokens") && snames.contains("attention/online"), "\(snames)")
        // The calibration part: matmul cases only, the default variant timed.
        let cal = Fixtures.shared.path("measure-cal.json")
        let c = try Subprocess.workbench(["gate", "--measure", "--quick", "--round", "0", "--json-out", cal, "--calibration-slowdown", "20"], timeout: 300)
        assertSuccess(c)
        let cj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cal))) as! [String: Any]
        XCTAssertEqual(cj["calibrationSlowdown"] as? Double, 20)
        let cnames = (cj["measurements"] as! [[String: Any]]).map { $0["name"] as! String }
        XCTAssertTrue(cnames.contains("matmul/threaded/T32"), "\(cnames)")
        XCTAssertFalse(cnames.contains { $0.hasPrefix("gen/") || $0.hasPrefix("matmul/simd/") }, "\(cnames)")
    }

    func testHelpListsTheExitCodes() throws {
        let r = try Subprocess.workbench(["gate", "--help"])
        assertSuccess(r)
        let text = r.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        for s in ["0 pass", "1 regression", "2 bad input", "3 inconclusive", "--against", "--calibrate", "--baseline-only"] {
            XCTAssertTrue(text.contains(s), "help should mention '\(s)': \(r.stdout)")
        }
        XCTAssertFalse(text.contains("--inject-slowdown"), "the test hook left the CLI")
    }

    func testQuickWithoutAQuickBaselineNamesTheExactCommandAndPath() throws {
        let dir = Fixtures.shared.path("empty-checkout")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let r = try Subprocess.run("/usr/bin/env", ["-C", dir, TestPaths.workbench!, "gate", "--quick"])
        assertBadInput(r, mentions: ["baseline Profiles/baseline-quick.json not found: make it with `workbench gate --quick --update-baseline --runs 5`"])
    }

    func testBadInputIsOneLineAndExitTwoBeforeMeasuring() throws {
        let missing = Fixtures.shared.path("absent.json")
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", missing]),
                       mentions: [missing, "not found", "`workbench gate --quick --update-baseline --runs 5 --baseline \(missing)`"])

        let corrupt = Fixtures.shared.path("corrupt.json")
        try Data("{\"format\": 2, \"suite\": \"quick\", \"metr".utf8).write(to: URL(fileURLWithPath: corrupt))
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", corrupt]), mentions: [corrupt, "not a gate baseline"])

        let fields = Fixtures.shared.path("fields.json")
        try Data("{\"format\": 2, \"suite\": \"quick\"}".utf8).write(to: URL(fileURLWithPath: fields))
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", fields]), mentions: [fields, "is corrupt", "missing field"])

        let future = Fixtures.shared.path("future.json")
        try Data("{\"format\": 7}".utf8).write(to: URL(fileURLWithPath: future))
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", future]), mentions: ["format 7"])

        let p = try quickBaseline()
        let empty = try edit(p, to: "gate-empty.json") { $0["metrics"] = [Any]() }
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", empty]),
                       mentions: ["has no metrics", "`workbench gate --quick --update-baseline --runs 5 --baseline \(empty)`"])
        let unknown = try edit(p, to: "gate-unknown.json") { json in
            var metrics = json["metrics"] as! [[String: Any]]
            metrics[0]["name"] = "speed/of/light"
            json["metrics"] = metrics
        }
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", unknown]), mentions: ["does not measure (speed/of/light)"])

        assertBadInput(try Subprocess.workbench(["gate", "--suite", "full", "--baseline", p]), mentions: ["made by the quick suite"])
        assertBadInput(try Subprocess.workbench(["gate", "--suite", "huge", "--baseline", p]), mentions: ["unknown suite 'huge'"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--against", "no-such-revision-xyz"]),
                       mentions: ["no-such-revision-xyz"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--against", "HEAD", "--baseline-only"]),
                       mentions: ["contradict"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--inject-slowdown", "matmul:default=2"]),
                       mentions: ["--inject-slowdown"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--calibration-slowdown", "20"]),
                       mentions: ["only with --measure"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--measure", "--round", "0"]), mentions: ["go together"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--measure", "--round", "0", "--json-out", Fixtures.shared.path("never.json"), "--cases", "attention,bogus"]),
                       mentions: ["--cases: unknown case 'bogus'", "matmul-T32"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--cases", "attention"]), mentions: ["only with --measure"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--calibrate", "--update-baseline"]), mentions: ["pick one"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--rounds", "1"]), mentions: ["--rounds"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--retries", "-1"]), mentions: ["--retries"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--runs", "3"]), mentions: ["--runs only applies"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--baseline", p, "--markdown", "/nonexistent-dir/x.md"]),
                       mentions: ["/nonexistent-dir", "does not exist"])
        assertBadInput(try Subprocess.workbench(["gate", "--quick", "--update-baseline", "--baseline", "/nonexistent-dir/b.json"]),
                       mentions: ["/nonexistent-dir", "does not exist"])
    }
}
