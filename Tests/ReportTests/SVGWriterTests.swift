import XCTest
@testable import Report

/// The SVG writer and its scales: escaping, number formatting, ticks on linear and log scales, label placement.
final class SVGWriterTests: XCTestCase {
    func testEscapingCoversTextAndAttributes() {
        XCTAssertEqual(XML.escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;")
        XCTAssertEqual(XML.escape("tab\tok\u{1}gone"), "tab\tokgone")
        var svg = SVG(width: 100, height: 50, title: "</title><script>alert(1)</script>")
        svg.text("<b>x & y</b>", x: 1, y: 2, tooltip: "\"quoted\" <tip>")
        svg.rect(x: 0, y: 0, width: 1, height: 1, fill: "red\" onload=\"evil()", class: "c")
        let out = svg.render()
        XCTAssertFalse(out.contains("<script>"), out)
        XCTAssertFalse(out.contains("<b>"), out)
        XCTAssertFalse(out.contains("onload=\"evil"), out)
        XCTAssertTrue(out.contains("&lt;b&gt;x &amp; y&lt;/b&gt;"), out)
        XCTAssertTrue(out.contains("fill=\"red&quot; onload=&quot;evil()\""), out)
        XCTAssertTrue(out.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""), out)
        XCTAssertTrue(out.hasSuffix("</svg>"), out)
    }

    func testNumbersAreShortAndNeverNaN() {
        XCTAssertEqual(num(3), "3")
        XCTAssertEqual(num(3.14159), "3.14")
        XCTAssertEqual(num(-0.5), "-0.5")
        XCTAssertEqual(num(2.999), "3")
        XCTAssertEqual(num(.nan), "0")
        XCTAssertEqual(num(.infinity), "0")
    }

    func testLinearTicksAreNiceSteps() {
        let s = LinearScale(nice: 0.3...9.2, range: (0, 100))
        XCTAssertEqual(s.domain, 0...10)
        XCTAssertEqual(s.ticks.map(\.value), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(s.ticks.map(\.label), ["0", "2", "4", "6", "8", "10"])
        XCTAssertEqual(s(5), 50, accuracy: 1e-9)
        let small = LinearScale(nice: 0...0.7, range: (0, 1))
        XCTAssertEqual(small.ticks.map(\.label), ["0", "0.2", "0.4", "0.6", "0.8"])
        // A degenerate domain still gets an axis.
        let flat = LinearScale(nice: 5...5, range: (0, 1))
        XCTAssertGreaterThan(flat.ticks.count, 1)
        XCTAssertEqual(LinearScale(exact: 0...100, range: (0, 1), step: 25).ticks.map(\.value), [0, 25, 50, 75, 100])
    }

    func testLogTicksAtDecadesWithUnlabelledMinorTicks() {
        let s = LogScale(nice: 0.3...2000, range: (0, 400))
        XCTAssertEqual(s.domain, 0.1...10000)
        let majors = s.ticks.filter(\.major)
        XCTAssertEqual(majors.map(\.value), [0.1, 1, 10, 100, 1000, 10000].map { $0 }, accuracy: 1e-12)
        XCTAssertEqual(majors.map(\.label), ["0.1", "1", "10", "100", "1000", "10000"])
        let minors = s.ticks.filter { !$0.major }
        XCTAssertEqual(minors.count, 8 * 5)
        XCTAssertTrue(minors.allSatisfy { $0.label.isEmpty })
        XCTAssertTrue(minors.contains { abs($0.value - 20) < 1e-9 })
        // Each decade is the same width.
        XCTAssertEqual(s(1) - s(0.1), s(1000) - s(100), accuracy: 1e-9)
        XCTAssertEqual(s(10000), 400, accuracy: 1e-9)
    }

    func testLogTicksOnANarrowRangeUse125AndWideRangesSkipDecades() {
        let narrow = LogScale(nice: 12...80, range: (0, 1))
        XCTAssertEqual(narrow.domain, 10...100)
        XCTAssertEqual(narrow.ticks.map(\.label), ["10", "20", "50", "100"])
        let tiny = LogScale(nice: 21...38, range: (0, 1))
        XCTAssertEqual(tiny.ticks.map(\.label), ["20", "30", "40", "50"])
        let wide = LogScale(nice: 1e-3...1e9, range: (0, 1))
        let labelled = wide.ticks.filter { !$0.label.isEmpty }.map(\.label)
        XCTAssertEqual(labelled, ["0.001", "0.1", "10", "1000", "1e5", "1e7", "1e9"])
        // Non-positive input is replaced, not crashed on.
        XCTAssertGreaterThan(LogScale(nice: 0...10, range: (0, 1)).domain.lowerBound, 0)
    }

    func testTickLabels() {
        XCTAssertEqual(TickFormat.label(0), "0")
        XCTAssertEqual(TickFormat.label(2e6), "2e6")
        XCTAssertEqual(TickFormat.label(0.0005), "5e-4")
        XCTAssertEqual(TickFormat.label(0.25), "0.25")
        XCTAssertEqual(TickFormat.label(1234.7), "1235")
        XCTAssertEqual(TickFormat.label(100_000), "1e5")
        XCTAssertEqual(TickFormat.label(-3), "-3")
    }

    func testLabelPlacerAvoidsOverlaps() {
        var placer = LabelPlacer(bounds: Box(x: 0, y: 0, width: 400, height: 300))
        var boxes: [Box] = []
        for _ in 0..<4 {
            let spot = placer.place("a label of some width", x: 200, y: 150)
            XCTAssertFalse(spot.overlaps)
            boxes.append(placer.placed.last!)
        }
        for i in boxes.indices { for j in boxes.indices where i < j { XCTAssertFalse(boxes[i].intersects(boxes[j]), "\(boxes[i]) vs \(boxes[j])") } }
        XCTAssertTrue(boxes.allSatisfy { $0.inside(placer.bounds) })
        // Near the right edge the label goes left.
        let edge = placer.place("right edge", x: 395, y: 20)
        XCTAssertEqual(edge.anchor, .end)
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(a) vs \(b)", file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy * max(1, abs(y)), "\(a) vs \(b)", file: file, line: line) }
}
