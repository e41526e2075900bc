import XCTest
@testable import Report

/// `workbench report` end to end: bad input (exit 2, one line, before measuring), --from the fixtures, and
/// --quick on the tiny model, each page checked in headless chromium when it is installed.
final class ReportCLITests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    func testBadInputFailsWithOneLineBeforeMeasuring() throws {
        let start = Date()
        assertBadInput(try Run.workbench(["report", "--quick", "--out", "/nonexistent-\(getpid())/r.html"]), mentions: ["/nonexistent-\(getpid())", "does not exist"])
        assertBadInput(try Run.workbench(["report", "--out", Run.temp]), mentions: ["folder"])
        assertBadInput(try Run.workbench(["report", "--from", "/nonexistent-\(getpid())", "--out", Run.path("r.html")]), mentions: ["no such folder"])
        assertBadInput(try Run.workbench(["report", "--from", ReportCLITests.fixtures, "--quick"]), mentions: ["--quick"])
        assertBadInput(try Run.workbench(["report", "--model", "/nonexistent-\(getpid()).bin", "--out", Run.path("r.html")]), mentions: ["nonexistent"])
        let dir = Run.path("wrong-kind")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(#"{"schema": "something/else", "hello": 1}"#.utf8).write(to: URL(fileURLWithPath: dir + "/other.json"))
        assertBadInput(try Run.workbench(["report", "--from", dir, "--out", Run.path("r.html")]), mentions: ["other.json", "does not read"])
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: dir + "/other.json"))
        assertBadInput(try Run.workbench(["report", "--from", dir, "--out", Run.path("r.html")]), mentions: ["other.json", "not valid JSON"])
        let empty = Run.path("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertBadInput(try Run.workbench(["report", "--from", empty, "--out", Run.path("r.html")]), mentions: ["none of the files"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "bad input is reported before measuring")
    }

    func testFromSavedResultsDrawsEverySection() throws {
        let out = Run.path("from.html")
        let r = try Run.workbench(["report", "--from", ReportCLITests.fixtures, "--out", out])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, out + "\n", r.summary)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        for id in ["machine", "flame", "ops", "roofline", "compare", "scaling", "gate", "provenance"] {
            XCTAssertTrue(html.contains("<section id=\"\(id)\">"), "section \(id) missing")
        }
        if Chromium.binary != nil {
            _ = try BrowserTests.check(out, sections: ["machine", "flame", "ops", "roofline", "compare", "scaling", "gate"])
        }
    }

    func testQuickOnTheTinyModel() throws {
        let model = try Run.tinyModel.get()
        let out = Run.path("quick.html")
        // Run in a folder whose Profiles/ holds a saved gate verdict: the page shows it.
        let cwd = Run.path("cwd")
        try FileManager.default.createDirectory(atPath: cwd + "/Profiles", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: ReportCLITests.fixtures + "/gate.json", toPath: cwd + "/Profiles/gate-last.json")
        let start = Date()
        let r = try Run.workbench(["report", "--quick", "--model", model, "--out", out], cwd: cwd, timeout: 300)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, out + "\n", r.summary)
        XCTAssertTrue(r.stderr.contains("report: [1/5]") && r.stderr.contains("report: [5/5]"), "progress lines: \(r.summary)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 240, r.summary)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        for id in ["machine", "flame", "ops", "roofline", "compare", "compare-2", "scaling", "gate", "provenance"] {
            XCTAssertTrue(html.contains("<section id=\"\(id)\">"), "section \(id) missing")
        }
        XCTAssertTrue(html.contains("[prefill T=64]") && html.contains("[decode]"), "both phases in the flame graph")
        XCTAssertTrue(html.contains("Profiles/gate-last.json"), "names the gate file it read")
        // Elsewhere, without a saved verdict, the page says how to get one.
        let bare = Run.path("bare")
        try FileManager.default.createDirectory(atPath: bare, withIntermediateDirectories: true)
        XCTAssertNil(ReportInputs.latestGate(in: bare + "/Profiles"))
        if Chromium.binary != nil {
            _ = try BrowserTests.check(out, sections: ["machine", "flame", "ops", "roofline", "scaling", "gate"])
        }
    }
}
