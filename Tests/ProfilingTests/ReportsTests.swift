// Reports on hand-built profiles whose numbers are worked out by hand: the call tree, the flat view, the
// standard error, the op table, the diff, the SVG flame graph, and the saved run.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Profiling
import XCTest

final class ReportsTests: XCTestCase {
    // 10 samples: main -> a -> leafA (5), main -> a (1, self in a), main -> b -> leafA (2), main -> b -> leafB (2)
    let p = StackProfile([
        (["main", "a", "leafA"], 5), (["main", "a"], 1), (["main", "b", "leafA"], 2), (["main", "b", "leafB"], 2),
    ])

    func testCallTreeCounts() {
        let root = CallTreeNode.build(p)
        XCTAssertEqual(root.total, 10)
        let main = root.children[0]
        XCTAssertEqual(main.name, "main"); XCTAssertEqual(main.total, 10); XCTAssertEqual(main.selfCount, 0)
        XCTAssertEqual(main.children.map(\.name), ["a", "b"])  // hottest first
        XCTAssertEqual(main.children.map(\.total), [6, 4])
        XCTAssertEqual(main.children[0].selfCount, 1)
        XCTAssertEqual(main.children[1].children.map(\.name), ["leafA", "leafB"])  // tie: by name
    }

    func testTreeText() {
        let t = Reports.tree(p, minPercent: 25, barWidth: 10)
        let lines = t.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0].trimmingCharacters(in: .whitespaces).hasPrefix("total"), true)
        // total%, self%, a 10-cell bar, then the name indented by its depth.
        func row(_ t: String, _ s: String, _ cells: Int, _ depth: Int, _ name: String) -> String {
            t + " " + s + "  " + String(repeating: "█", count: cells) + String(repeating: " ", count: 10 - cells) + "  "
                + String(repeating: " ", count: depth) + name
        }
        XCTAssertEqual(lines[1], row(" 100.0%", "   0.0%", 10, 0, "main"))
        XCTAssertEqual(lines[2], row("  60.0%", "  10.0%", 6, 1, "a"))
        XCTAssertEqual(lines[3], row("  50.0%", "  50.0%", 5, 2, "leafA"))
        XCTAssertEqual(lines[4], row("  40.0%", "   0.0%", 4, 1, "b"))
        // leafA and leafB under b are 20% each: below 25%, pruned and counted.
        XCTAssertEqual(lines.last, "(2 subtrees below 25.0% not shown)")
        XCTAssertEqual(Reports.tree(StackProfile()), "(no samples)\n")
    }

    func testPassThroughChainsAreJoined() {
        let q = StackProfile([(["_start", "main", "run", "hot"], 3), (["_start", "main", "run", "cold"], 1)])
        let lines = Reports.tree(q, minPercent: 0, barWidth: 4).split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[1].hasSuffix("_start > main > run"), lines[1])
        XCTAssertTrue(lines[2].hasSuffix(" hot"), lines[2])
    }

    func testBar() {
        XCTAssertEqual(Reports.bar(0.5, width: 4), "██  ")
        XCTAssertEqual(Reports.bar(1.0 / 16, width: 4), "▎   ")  // 2 eighths of a cell
        XCTAssertEqual(Reports.bar(2, width: 3), "███")
        XCTAssertEqual(Reports.bar(0, width: 2), "  ")
    }

    func testFlatView() {
        let rows = Reports.flat(p, top: 0)
        XCTAssertEqual(rows.map(\.frame), ["leafA", "leafB", "a", "main", "b"])
        XCTAssertEqual(rows.map(\.flat), [7, 2, 1, 0, 0])
        XCTAssertEqual(rows.map(\.cum), [7, 2, 6, 10, 4])
        XCTAssertEqual(rows.map(\.sumPercent), [70, 90, 100, 100, 100])
        // Standard error of 70% from 10 samples: 100 * sqrt(0.7 * 0.3 / 10) = 14.49 points.
        XCTAssertEqual(rows[0].flatStdErr, 14.491, accuracy: 0.001)
        XCTAssertEqual(Reports.flat(p, top: 2).count, 2)
        // Recursion counts once per sample in cum.
        let r = StackProfile([(["f", "f", "f"], 4)])
        XCTAssertEqual(Reports.flat(r).first?.cum, 4)
        let table = Reports.flatTable(Reports.flat(p, top: 1))
        XCTAssertTrue(table.contains("       7   70.0% 14.5    70.0%        7   70.0%  leafA"), table)
    }

    func testStdErr() {
        XCTAssertEqual(Reports.stdErrPercent(0.5, 1000), 1.581, accuracy: 0.001)
        XCTAssertEqual(Reports.stdErrPercent(0, 100), 0)
        XCTAssertEqual(Reports.stdErrPercent(0.5, 0), 0)
    }

    func testOpTable() {
        let rows = [OpShareRow(key: "fc", name: "fc matmul", timerMs: 50, timerPercent: 50, samples: 55, sampledPercent: 55, sampledStdErr: 5),
                    OpShareRow(key: "gelu", name: "gelu", timerMs: 10, timerPercent: 10)]
        let t = Reports.opTable(rows, taggedSamples: 100, untaggedSamples: 25, timerTotalLabel: "100 ms")
        XCTAssertTrue(t.contains("fc matmul            50.0   50.0%        55     55.0%   5.0      +5.0 pts"), t)
        XCTAssertTrue(t.contains("gelu                 10.0   10.0%         -         -     -"), t)
        XCTAssertTrue(t.contains("25 samples (20.0%) were outside them"), t)
        XCTAssertTrue(Reports.opTable(rows, taggedSamples: nil, untaggedSamples: 0, timerTotalLabel: "x").contains("carry no op tag"))
    }

    func testDiff() {
        // A: leafA 70%, leafB 20%, a 10%. B: leafA 35%, leafB 60%, a 5% (20 samples).
        let b = StackProfile([(["main", "a", "leafA"], 7), (["main", "a"], 1), (["main", "b", "leafB"], 12)])
        let rows = Reports.diff(p, b)
        XCTAssertEqual(rows[0].frame, "leafB")
        XCTAssertEqual(rows[0].selfA, 0.2, accuracy: 1e-9); XCTAssertEqual(rows[0].selfB, 0.6, accuracy: 1e-9)
        XCTAssertEqual(rows[0].selfDelta, 0.4, accuracy: 1e-9)
        XCTAssertEqual(rows[1].frame, "leafA")
        XCTAssertEqual(rows[1].selfDelta, -0.35, accuracy: 1e-9)
        let b_ = rows.first { $0.frame == "b" }!
        XCTAssertEqual(b_.totalA, 0.4, accuracy: 1e-9); XCTAssertEqual(b_.totalB, 0.6, accuracy: 1e-9)
        // Identical profiles: nothing moved.
        XCTAssertTrue(Reports.diff(p, p).allSatisfy { $0.selfDelta == 0 && $0.totalDelta == 0 })
        let t = Reports.diffTable(rows, nA: 10, nB: 20, top: 2)
        XCTAssertTrue(t.contains("leafB"), t)
        XCTAssertTrue(t.contains("+40.0"), t)
        XCTAssertTrue(t.contains("self shares moved: 40.0 pts"), t)
    }

    func testSVG() throws {
        let q = StackProfile([(["main", "Kernels.f<T>(_:) & \"x\""], 3), (["main", "g"], 1)])
        let svg = FlameGraph.svg(q, title: "t <1>", subtitle: "s")
        XCTAssertTrue(svg.hasPrefix("<?xml"))
        XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertTrue(svg.contains("<title>all\n4 samples (100.00%)</title>"))
        XCTAssertTrue(svg.contains("<title>main\n4 samples (100.00%)</title>"))
        XCTAssertTrue(svg.contains("<title>Kernels.f&lt;T&gt;(_:) &amp; &quot;x&quot;\n3 samples (75.00%)</title>"), svg)
        XCTAssertTrue(svg.contains("<title>g\n1 samples (25.00%)</title>"))
        XCTAssertTrue(svg.contains("t &lt;1&gt;"))
        XCTAssertEqual(svg.components(separatedBy: "<rect").count - 1, 5)  // background + 4 frames
        // Well-formed XML.
        let doc = try XMLDocument(data: Data(svg.utf8))
        XCTAssertEqual(doc.rootElement()?.name, "svg")
    }

    func testProfileStoreSavesFoldedAndMetadata() throws {
        let dir = try profilingTemporaryDirectory() + "/runs"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var meta = ProfileMetadata(command: ["workbench", "profile"], backend: "signal", requestedHz: 250, samples: 10, seconds: 1.5)
        meta.engine = "matmul=x threads=2"
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let paths = try ProfileStore.save(p, metadata: meta, in: dir, date: date)
        XCTAssertEqual(paths.folded, dir + "/20270115-080000-signal.folded")
        XCTAssertEqual(try Folded.read(path: paths.folded), p)
        let back = try JSONDecoder().decode(ProfileMetadata.self, from: Data(contentsOf: URL(fileURLWithPath: paths.json)))
        XCTAssertEqual(back.samples, 10); XCTAssertEqual(back.engine, "matmul=x threads=2"); XCTAssertEqual(back.backend, "signal")
        // Same second again: a new name, nothing overwritten.
        let again = try ProfileStore.save(p, metadata: meta, in: dir, date: date)
        XCTAssertEqual(again.folded, dir + "/20270115-080000-signal-2.folded")
        XCTAssertThrowsError(try ProfileStore.save(p, metadata: meta, in: "/proc/nope/runs")) { e in
            XCTAssertTrue("\(e)".hasPrefix("cannot create /proc/nope/runs"), "\(e)")
        }
    }
}
