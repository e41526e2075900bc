import XCTest
@testable import Report

/// The page in a real browser: headless chromium loads it with no console errors, its script runs
/// (data-ready, data-errors="0" on <html>), and a screenshot is not blank. Skipped, with a message saying so,
/// where chromium is not installed.
final class BrowserTests: XCTestCase {
    /// Loads `page` in chromium and checks the DOM, the log and a screenshot; returns the DOM.
    static func check(_ page: String, sections: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let dom = try Chromium.dumpDOM(page)
        XCTAssertFalse(dom.timedOut, dom.summary, file: file, line: line)
        XCTAssertEqual(dom.status, 0, dom.summary, file: file, line: line)
        XCTAssertTrue(dom.stdout.contains("data-ready=\"1\""), "the page's script did not run: \(dom.summary)", file: file, line: line)
        XCTAssertTrue(dom.stdout.contains("data-errors=\"0\""), "script errors: \(dom.summary)", file: file, line: line)
        XCTAssertEqual(Chromium.consoleErrors(dom.stderr), [], dom.summary, file: file, line: line)
        for s in sections { XCTAssertTrue(dom.stdout.contains("<section id=\"\(s)\">"), "section \(s) missing in the DOM", file: file, line: line) }
        XCTAssertGreaterThan(dom.stdout.components(separatedBy: "<svg").count, sections.count, "inline SVG in the DOM", file: file, line: line)

        // A small screenshot (a quarter of the 1400 px layout) is decoded and must not be blank.
        let png = Run.path("shot.png")
        let shot = try Chromium.screenshot(page, to: png, width: 1400, height: 3000)
        XCTAssertEqual(shot.status, 0, shot.summary, file: file, line: line)
        let size = ((try? FileManager.default.attributesOfItem(atPath: png))?[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 60_000, "a 1400x3000 screenshot of the page should not compress to almost nothing: \(shot.summary)", file: file, line: line)
        let small = Run.path("small.png")
        let s2 = try Run.process(try Chromium.require(), Chromium.args(["--screenshot=\(small)", "--window-size=1400,3000", "--force-device-scale-factor=0.25",
                                                                      "--virtual-time-budget=3000", URL(fileURLWithPath: page).absoluteString]), timeout: 180)
        XCTAssertEqual(s2.status, 0, s2.summary, file: file, line: line)
        let summary = try PNGSummary.read(small)
        XCTAssertGreaterThan(summary.nonWhiteFraction, 0.03, "the screenshot is (almost) blank: \(summary)", file: file, line: line)
        XCTAssertGreaterThan(summary.distinctColors, 30, "the screenshot has too few colours for charts: \(summary)", file: file, line: line)
        return dom.stdout
    }

    func testAHandMadePageLoadsCleanlyAndIsNotBlank() throws {
        _ = try Chromium.require()
        let page = Run.path("sample.html")
        try Data(ReportPage.html(Sample.document).utf8).write(to: URL(fileURLWithPath: page))
        _ = try BrowserTests.check(page, sections: ["machine", "flame", "ops", "roofline", "compare", "scaling", "gate", "provenance"])
    }

    func testTheInlinedFlameGraphZoomsAndSearches() throws {
        // The profiling library's flame graph keeps working inside the page: ?zoom=NAME&search=REGEX act on load
        // and leave their state on the <svg> (data-zoom, data-matched).
        let bin = try Chromium.require()
        let page = Run.path("zoom.html")
        try Data(ReportPage.html(Sample.document).utf8).write(to: URL(fileURLWithPath: page))
        let r = try Run.process(bin, Chromium.args(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom",
                                                    URL(fileURLWithPath: page).absoluteString + "?zoom=forward&search=matmul"]), timeout: 180)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.stdout.contains("data-zoom=\"forward\""), r.summary)
        XCTAssertTrue(r.stdout.contains("data-matched=\"70"), "7 of the 10 samples are under matmul: \(r.summary)")
        XCTAssertTrue(r.stdout.contains("data-errors=\"0\""), r.summary)
    }

    func testAScriptErrorIsCaught() throws {
        // The check itself: a page with a failing script must be noticed.
        _ = try Chromium.require()
        let page = Run.path("broken.html")
        let html = ReportPage.html(Sample.document).replacingOccurrences(of: "</body>", with: "<script>undefinedFunction();</script></body>")
        try Data(html.utf8).write(to: URL(fileURLWithPath: page))
        let dom = try Chromium.dumpDOM(page)
        XCTAssertTrue(dom.stdout.contains("data-errors=\"1\""), dom.summary)
        XCTAssertFalse(Chromium.consoleErrors(dom.stderr).isEmpty, dom.summary)
    }
}
