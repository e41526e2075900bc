// The interactive flame graph: layout (alphabetical children, widths, inverted), --min-width, ids that can be
// embedded in HTML, the differential colours; and in a real browser (headless chromium, skipped without it): it
// renders, ?zoom= zooms into a frame, ?search= highlights and measures the matches.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Profiling
import XCTest

/// One drawn frame of an SVG: its name (the first tooltip line), level, sample range, and box.
struct DrawnFrame {
    var name: String, level: Int, start: Int, count: Int
    var x: Double, y: Double, width: Double, fill: String, classes: String
}

/// The frames of SVG text (as written, or as chromium's DOM dump has them after the script ran), read with
/// plain string search (FoundationXML on Linux loses attributes of elements in the SVG namespace).
func drawnFrames(_ svg: String) throws -> [DrawnFrame] {
    func attr(_ tag: Substring, _ name: String) -> String {
        guard let r = tag.range(of: " \(name)=\"") else { return "" }
        let rest = tag[r.upperBound...]
        return String(rest[..<(rest.firstIndex(of: "\"") ?? rest.endIndex)])
    }
    func unescape(_ s: Substring) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }
    var out: [DrawnFrame] = []
    var rest = svg[...]
    while let g = rest.range(of: "<g class=\"f") {
        let gEnd = rest[g.lowerBound...].firstIndex(of: ">")!
        let gTag = rest[g.lowerBound...gEnd]
        guard let t0 = rest[gEnd...].range(of: "<title>"), let t1 = rest[t0.upperBound...].range(of: "</title>"),
              let r0 = rest[t1.upperBound...].range(of: "<rect") else { throw TestError("frame without title or rect") }
        let rEnd = rest[r0.lowerBound...].firstIndex(of: ">")!
        let rTag = rest[r0.lowerBound...rEnd]
        let title = unescape(rest[t0.upperBound..<t1.lowerBound])
        out.append(DrawnFrame(name: String(title.split(separator: "\n", omittingEmptySubsequences: false)[0]),
                              level: Int(attr(gTag, "data-l")) ?? -1, start: Int(attr(gTag, "data-s")) ?? -1,
                              count: Int(attr(gTag, "data-c")) ?? -1, x: Double(attr(rTag, "x")) ?? .nan, y: Double(attr(rTag, "y")) ?? .nan,
                              width: Double(attr(rTag, "width")) ?? .nan, fill: attr(rTag, "fill"), classes: attr(gTag, "class")))
        rest = rest[rEnd...]
    }
    return out
}

final class FlameGraphTests: XCTestCase {
    // 10 samples: main -> zeta (6), main -> alpha -> leaf (3), main -> alpha (1).
    let p = StackProfile([(["main", "zeta"], 6), (["main", "alpha", "leaf"], 3), (["main", "alpha"], 1)])

    func testLayoutIsFlamegraphPls() throws {
        let o = FlameGraph.Options(title: "t", width: 1020)  // 1000 px of frames between 10 px pads
        let frames = try drawnFrames(FlameGraph.svg(p, o))
        XCTAssertEqual(frames.map(\.name), ["all", "main", "alpha", "leaf", "zeta"], "children in alphabetical order")
        let byName = Dictionary(uniqueKeysWithValues: frames.map { ($0.name, $0) })
        XCTAssertEqual(byName["alpha"]!.x, 10); XCTAssertEqual(byName["alpha"]!.width, 400)
        XCTAssertEqual(byName["zeta"]!.x, 410); XCTAssertEqual(byName["zeta"]!.width, 600)
        XCTAssertEqual(byName["leaf"]!.width, 300)
        // The root at the bottom, each level one frame higher.
        XCTAssertGreaterThan(byName["all"]!.y, byName["main"]!.y)
        XCTAssertEqual(byName["main"]!.y - byName["alpha"]!.y, 16)
        XCTAssertEqual(byName["zeta"]!.start, 4); XCTAssertEqual(byName["zeta"]!.count, 6); XCTAssertEqual(byName["zeta"]!.level, 2)
    }

    func testInvertedIsAnIcicleOfCallers() throws {
        let frames = try drawnFrames(FlameGraph.svg(p, FlameGraph.Options(inverted: true)))
        let level1 = frames.filter { $0.level == 1 }.map(\.name)
        XCTAssertEqual(level1, ["alpha", "leaf", "zeta"], "the leaves are the roots' children")
        let leaf = frames.first { $0.name == "leaf" }!, root = frames.first { $0.level == 0 }!
        XCTAssertLessThan(root.y, leaf.y, "drawn top-down")
        XCTAssertEqual(frames.filter { $0.level == 2 && $0.start == leaf.start }.map(\.name), ["alpha"], "leaf's caller below it")
    }

    func testMinWidthInPixelsAndPercent() throws {
        let many = StackProfile([(["main", "big"], 990), (["main", "tiny"], 10)])
        let w = 1020.0
        XCTAssertTrue(try drawnFrames(FlameGraph.svg(many, FlameGraph.Options(width: w))).contains { $0.name == "tiny" })
        XCTAssertFalse(try drawnFrames(FlameGraph.svg(many, FlameGraph.Options(width: w, minWidth: .pixels(20)))).contains { $0.name == "tiny" })
        XCTAssertFalse(try drawnFrames(FlameGraph.svg(many, FlameGraph.Options(width: w, minWidth: .percent(2)))).contains { $0.name == "tiny" })
        XCTAssertTrue(try drawnFrames(FlameGraph.svg(many, FlameGraph.Options(width: w, minWidth: .percent(0.5)))).contains { $0.name == "tiny" })
        XCTAssertEqual(try FlameGraph.MinWidth(parsing: "0.5%"), .percent(0.5))
        XCTAssertEqual(try FlameGraph.MinWidth(parsing: "2"), .pixels(2))
        for bad in ["", "-1", "x", "120%", "5px"] {
            XCTAssertThrowsError(try FlameGraph.MinWidth(parsing: bad), bad) { e in XCTAssertTrue("\(e)".contains("--min-width"), "\(e)") }
        }
    }

    func testEmbeddableInHTMLWithUniqueIDs() throws {
        var o = FlameGraph.Options(title: "one", standalone: false, idPrefix: "rep1")
        let a = FlameGraph.svg(p, o)
        XCTAssertTrue(a.hasPrefix("<svg id=\"rep1\""), String(a.prefix(80)))
        XCTAssertFalse(a.contains("<?xml"))
        let ids = a.matches(of: #/id="([^"]+)"/#).map { String($0.1) }
        XCTAssertFalse(ids.isEmpty)
        XCTAssertTrue(ids.allSatisfy { $0.hasPrefix("rep1") }, "\(ids)")
        XCTAssertEqual(Set(ids).count, ids.count)
        XCTAssertTrue(a.contains("#rep1 text {"), "style scoped to the element")
        XCTAssertTrue(a.contains("<script") && a.contains("<style") && a.contains("<![CDATA["), "inline script and style")
        XCTAssertEqual(a.components(separatedBy: "http").count - 1, 1, "no URL but the SVG namespace")
        XCTAssertFalse(a.contains("src=") || a.contains("href="), "no external resources")
        // Default ids differ between profiles, and are stable for one.
        o.idPrefix = nil
        let b = FlameGraph.svg(p, o), c = FlameGraph.svg(StackProfile([(["x"], 1)]), o)
        XCTAssertEqual(b.firstMatch(of: #/id="([^"]+)"/#)?.1, FlameGraph.svg(p, o).firstMatch(of: #/id="([^"]+)"/#)?.1)
        XCTAssertNotEqual(b.firstMatch(of: #/id="([^"]+)"/#)?.1, c.firstMatch(of: #/id="([^"]+)"/#)?.1)
        // Standalone: well-formed XML; tooltips give samples, share and module.
        let s = FlameGraph.svg(p, FlameGraph.Options(modules: ["zeta": "libz.so"]))
        XCTAssertEqual(try XMLDocument(data: Data(s.utf8)).rootElement()?.name, "svg")
        XCTAssertTrue(s.contains("<title>zeta\n6 samples (60.00%)\nmodule: libz.so</title>"), s)
    }

    func testDifferentialColoursFollowTheSignOfTheChange() throws {
        // A: leafA 70%, leafB 20%, a 10%. B: leafA 35%, leafB 60%, a 5% (20 samples); same stays the same.
        let a = StackProfile([(["main", "a", "leafA"], 7), (["main", "a"], 1), (["main", "b", "leafB"], 2), (["main", "same"], 10)])
        let b = StackProfile([(["main", "a", "leafA"], 7), (["main", "a"], 1), (["main", "b", "leafB"], 12), (["main", "same"], 20)])
        let frames = try drawnFrames(FlameGraph.diffSVG(before: a, after: b))
        func rgb(_ name: String) throws -> (Int, Int, Int) {
            let f = try XCTUnwrap(frames.first { $0.name == name }, name)
            let v = f.fill.dropFirst(4).dropLast().split(separator: ",").compactMap { Int($0) }
            guard v.count == 3 else { throw TestError("fill of \(name): \(f.fill)") }
            return (v[0], v[1], v[2])
        }
        // leafB: 10% -> 30% of samples: grew, red, the deepest colour (the largest change).
        let lb = try rgb("leafB")
        XCTAssertTrue(lb == (255, 0, 0), "\(lb)")
        // leafA: 35% -> 17.5%: shrank, blue.
        let la = try rgb("leafA")
        XCTAssertEqual(la.2, 255); XCTAssertLessThan(la.0, 255); XCTAssertEqual(la.0, la.1)
        // a: 5% -> 2.5% self: shrank a little: paler blue than leafA.
        let aa = try rgb("a")
        XCTAssertGreaterThan(aa.0, la.0)
        // same: 50% -> 50%; main and b: no self samples: white.
        for n in ["same", "main", "b"] { let c = try rgb(n); XCTAssertTrue(c == (255, 255, 255), "\(n): \(c)") }
        // B's shape: widths are B's shares.
        let leafB = frames.first { $0.name == "leafB" }!
        XCTAssertEqual(leafB.count, 12)
        XCTAssertEqual(FlameGraph.diffColor(0.1, max: 0.2), "rgb(255,105,105)")
        XCTAssertEqual(FlameGraph.diffColor(-0.2, max: 0.2), "rgb(0,0,255)")
        XCTAssertEqual(FlameGraph.diffColor(0, max: 0.2), "rgb(255,255,255)")
    }

    // MARK: in a browser

    func chromium() throws -> String {
        for name in ["chromium", "chromium-browser", "google-chrome"] { if let p = ProfilingTools.find(name) { return p } }
        throw XCTSkip("chromium is not installed (apt-get install chromium): the SVG's script is not checked in a browser")
    }

    func browse(_ svgPath: String, query: String, extra: [String] = ["--dump-dom"]) throws -> String {
        let url = URL(fileURLWithPath: svgPath).absoluteString + query
        let home = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let r = try ProfilingTools.run(try chromium(), ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                                        "--user-data-dir=\(home)/profile", "--hide-scrollbars"] + extra + [url],
                                       environment: ["HOME": home])
        XCTAssertEqual(r.status, 0, r.output)
        return r.output
    }

    func testRendersZoomsAndSearchesInChromium() throws {
        _ = try chromium()
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/fg.svg"
        try FlameGraph.write(p, to: path, FlameGraph.Options(title: "zoom test", width: 1020))

        // As loaded: the script ran, nothing zoomed.
        let plain = try browse(path, query: "")
        XCTAssertTrue(plain.contains("data-ready=\"1\""), String(plain.prefix(400)))
        XCTAssertTrue(plain.contains("data-zoom=\"\""))

        // ?zoom=alpha: alpha fills the width, its callee is redrawn to scale, its callers dimmed, the rest hidden.
        let zoomed = try browse(path, query: "?zoom=alpha")
        let dom = String(zoomed[zoomed.range(of: "<svg")!.lowerBound...])
        let svgText = String(dom[..<dom.range(of: "</svg>")!.upperBound])
        XCTAssertTrue(svgText.contains("data-zoom=\"alpha\""), String(svgText.prefix(400)))
        let frames = try drawnFrames(svgText)
        let f = Dictionary(uniqueKeysWithValues: frames.map { ($0.name, $0) })
        XCTAssertEqual(f["alpha"]!.x, 10); XCTAssertEqual(f["alpha"]!.width, 1000)
        XCTAssertEqual(f["leaf"]!.width, 750, accuracy: 0.01)  // 3 of alpha's 4 samples
        XCTAssertTrue(f["zeta"]!.classes.contains("hide"), f["zeta"]!.classes)
        XCTAssertTrue(f["main"]!.classes.contains("par") && f["all"]!.classes.contains("par"))
        XCTAssertEqual(f["main"]!.width, 1000)
        XCTAssertTrue(svgText.contains("id=\"") && svgText.contains("-unzoom\" class=\"ctl\""), "Reset Zoom shown")

        // ?search=^(leaf|alpha)$: both match, nested: 4 of 10 samples counted once.
        let searched = try browse(path, query: "?search=%5E(leaf%7Calpha)%24")
        XCTAssertTrue(searched.contains("data-matched=\"40.00\""), String(searched.prefix(600)))
        XCTAssertTrue(searched.contains("data-matches=\"2\""))
        XCTAssertTrue(searched.contains("Matched: 40.0%"))

        // And it paints: a screenshot of the zoomed graph.
        let png = dir + "/shot.png"
        _ = try browse(path, query: "?zoom=alpha", extra: ["--screenshot=\(png)", "--window-size=1020,200"])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertGreaterThan(bytes.count, 1000)
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4e, 0x47], "a PNG")
    }

    func testTwoGraphsInlineInOneHTMLPageWorkApart() throws {
        _ = try chromium()
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let one = FlameGraph.svg(p, FlameGraph.Options(title: "one", standalone: false, idPrefix: "g1"))
        let two = FlameGraph.svg(StackProfile([(["main", "alpha"], 2), (["main", "beta"], 2)]), FlameGraph.Options(title: "two", standalone: false, idPrefix: "g2"))
        let html = """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>report</title></head><body>
        <h1>report</h1>\(one)<p>between</p>\(two)
        <script>document.getElementById("g2").flamegraph.zoom("alpha");</script>
        </body></html>
        """
        try html.write(toFile: dir + "/r.html", atomically: true, encoding: .utf8)
        let dom = try browse(dir + "/r.html", query: "")
        let g1 = try XCTUnwrap(dom.range(of: "<svg id=\"g1\"")), g2 = try XCTUnwrap(dom.range(of: "<svg id=\"g2\""))
        let tag1 = dom[g1.lowerBound...].prefix { $0 != ">" }, tag2 = dom[g2.lowerBound...].prefix { $0 != ">" }
        XCTAssertTrue(tag1.contains("data-ready=\"1\"") && tag2.contains("data-ready=\"1\""), "both scripts ran: \(tag1) \(tag2)")
        XCTAssertTrue(tag1.contains("data-zoom=\"\""), String(tag1))
        XCTAssertTrue(tag2.contains("data-zoom=\"alpha\""), String(tag2))
    }
}
