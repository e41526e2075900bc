import XCTest
@testable import Report

/// The charts and the page, from hand-made sections (no measuring).
final class ChartTests: XCTestCase {
    func testAPointAboveItsRoofIsFlaggedAndLabelled() {
        let r = Sample.roofline
        XCTAssertEqual(r.points.map(r.isAboveRoof), [false, false, true, false])
        // 1 thread: 100 GFLOP/s peak, 20 GB/s -> at 0.5 flop/byte the roof is 10 GFLOP/s.
        XCTAssertEqual(r.roof(for: r.points[2])?.threads, 1)
        XCTAssertEqual(r.roof(for: r.points[2])!.attainable(intensity: 0.5), 10, accuracy: 1e-9)
        XCTAssertEqual(r.percentOfAttainable(r.points[0])!, 50, accuracy: 1e-9)
        let svg = Charts.roofline(r)
        XCTAssertEqual(svg.components(separatedBy: "point above-roof").count - 1, 1, svg)
        XCTAssertTrue(svg.contains("cached T=1: above the roof, a measurement problem"), svg)
        XCTAssertTrue(svg.contains("above its roof: a measurement problem"), "legend entry: \(svg)")
        XCTAssertTrue(svg.contains("FMA peak 200 GFLOP/s (2 threads)"), svg)
        XCTAssertTrue(svg.contains("arithmetic intensity (flop per byte of weights, log scale)"), svg)
        XCTAssertTrue(svg.contains("GFLOP/s (log scale)"), svg)
        // Within the tolerance is not a problem.
        var edge = r
        edge.points = [.init(variant: "x", shape: "s", threads: 1, intensity: 0.5, gflops: 10.4)]
        XCTAssertFalse(edge.isAboveRoof(edge.points[0]))
        let page = ReportPage.html(Sample.document, flameGraph: { _, _ in "<svg></svg>" })
        XCTAssertTrue(page.contains("<tr class=\"problem\">"), "the table marks it too")
        XCTAssertTrue(page.contains("no kernel beats the machine"))
    }

    func testBoxStatsMatchHandComputedQuartiles() {
        let b = Charts.BoxStats([1, 2, 3, 4, 5, 6, 7, 8, 100])!
        XCTAssertEqual(b.q1, 3); XCTAssertEqual(b.median, 5); XCTAssertEqual(b.q3, 7)
        XCTAssertEqual(b.whiskerLow, 1); XCTAssertEqual(b.whiskerHigh, 8)
        XCTAssertEqual(b.outliers, [100])
        XCTAssertNil(Charts.BoxStats([]))
        XCTAssertEqual(Charts.BoxStats([4])?.median, 4)
    }

    func testEveryChartHasAxesLabelsAndALegend() {
        let d = Sample.document
        let charts = [Charts.opBreakdown(d.ops!), Charts.roofline(d.roofline!), Charts.distributions(d.distributions[0]),
                      Charts.speedups(d.distributions[0]), Charts.scaling(d.scaling[0]), Charts.gateMargins(d.gate!)]
        for c in charts {
            XCTAssertTrue(c.contains("class=\"axis x\""), c)
            XCTAssertTrue(c.contains("class=\"axislabel\""), c)
            XCTAssertTrue(c.contains("class=\"legend\""), c)
            XCTAssertTrue(c.contains("<title>"), c)
            XCTAssertFalse(c.contains("nan"), c)
        }
        XCTAssertTrue(charts[4].contains("usable cores 1.9"), charts[4])
        XCTAssertTrue(charts[4].contains("Amdahl fit, serial fraction 0.1"), charts[4])
        XCTAssertTrue(charts[2].contains("time per call (ms, log scale)"), charts[2])
        XCTAssertTrue(charts[0].contains(">52%<"), "segment labels: \(charts[0])")
        XCTAssertTrue(charts[0].contains("untimed glue"), charts[0])
        XCTAssertTrue(charts[5].contains("1 metric not drawn"), charts[5])
        XCTAssertTrue(charts[5].contains("regression (1)"), charts[5])
        // A/B: the yardstick is the minimum effect, and each change has its interval.
        var ab = d.gate!
        ab.mode = "ab"
        ab.rows[0].usedLow = 4; ab.rows[0].usedHigh = 9
        let abChart = Charts.gateMargins(ab)
        XCTAssertTrue(abChart.contains("minimum effect") && abChart.contains("95 % interval of the change"), abChart)
        XCTAssertTrue(abChart.contains("class=\"interval\""), abChart)
        XCTAssertTrue(Charts.machine(d.machine!).contains("read 20 GB/s with 1 thread, 40 GB/s with 2"))
    }

    func testTextFromInputsIsEscapedEverywhere() {
        var d = Sample.document
        d.roofline!.points[0].variant = "<img src=x onerror=alert(1)>"
        d.distributions[0].sides[0].name = "<script>alert(2)</script>"
        d.notes = ["</aside><script>alert(3)</script>"]
        d.machine!.cpuModel = "CPU \"quoted\" & <tagged>"
        let page = ReportPage.html(d, flameGraph: { _, _ in "<svg></svg>" })
        XCTAssertFalse(page.contains("<img"), "unescaped variant name")
        XCTAssertFalse(page.contains("<script>alert"), "unescaped script")
        XCTAssertTrue(page.contains("&lt;script&gt;alert(2)&lt;/script&gt;"))
        XCTAssertTrue(page.contains("CPU &quot;quoted&quot; &amp; &lt;tagged&gt;"))
    }

    func testThePageIsSelfContained() {
        let page = ReportPage.html(Sample.document, flameGraph: ReportInputs.flameGraphElement)
        // No network: the only URL is the SVG namespace.
        let urls = page.components(separatedBy: "http").dropFirst().map { String($0.prefix(30)) }
        XCTAssertTrue(urls.allSatisfy { $0.hasPrefix("://www.w3.org/2000/svg") }, "\(urls)")
        for bad in ["<link", " src=", "@import", "url("] { XCTAssertFalse(page.contains(bad), bad) }
        XCTAssertTrue(page.contains("@media print"))
        for id in ["machine", "flame", "ops", "roofline", "compare", "scaling", "gate", "provenance"] {
            XCTAssertTrue(page.contains("<section id=\"\(id)\">"), id)
        }
        XCTAssertEqual(page.components(separatedBy: "<svg").count - 1, page.components(separatedBy: "</svg>").count - 1)
        // The interactive flame graph is inlined: no XML declaration, its ids prefixed.
        XCTAssertTrue(page.contains("id=\"fg0"), "the flame graph's id prefix")
        XCTAssertFalse(page.contains("<?xml"))
    }
}

/// Hand-made sections for the chart and page tests.
enum Sample {
    static let source = SectionSource(commands: ["workbench test"], detail: "made by hand")
    static let machine = MachineSection(cpuModel: "Test CPU", architecture: "x86_64", logicalCores: 2, usableCores: 2,
                                        simdFlags: ["avx2", "fma", "avx512f"],
                                        caches: [.init(level: 1, type: "Data", bytes: 32 << 10, sharedBy: 1),
                                                 .init(level: 2, type: "Unified", bytes: 1 << 20, sharedBy: 1),
                                                 .init(level: 3, type: "Unified", bytes: 32 << 20, sharedBy: 2)],
                                        fmaPeakGFLOPS: 100, readBandwidthGBs: 20, readBandwidthAllGBs: 40, bandwidthThreads: 2,
                                        measuredAt: "2026-12-01T00:00:00Z", build: "release", warnings: [], source: source)
    static var roofline: RooflineSection {
        RooflineSection(roofs: ReportInputs.roofs(machine),
                        points: [.init(variant: "tiled", shape: "fc T=64", threads: 1, intensity: 32, gflops: 50),
                                 .init(variant: "threaded", shape: "fc T=64", threads: 2, intensity: 32, gflops: 180),
                                 .init(variant: "cached", shape: "T=1", threads: 1, intensity: 0.5, gflops: 30),
                                 .init(variant: "threaded", shape: "lm-head T=1", threads: 2, intensity: 0.5, gflops: 15)],
                        bytesCounted: "weights", tolerance: 0.05, source: source)
    }
    static var document: ReportDocument {
        var d = ReportDocument(title: "test report", provenance: ReportProvenance(toolCommit: String(repeating: "a", count: 40), dirty: false,
                                                                                 compiler: "Swift 6.3", swiftVersion: nil, date: "2026-12-01T00:00:00Z",
                                                                                 command: ["workbench", "report"], mode: "by hand", build: "release"))
        d.machine = machine
        d.profiles = [ProfileSection(title: "flame", subtitle: "sub", samples: 10, seconds: 1,
                                     stacks: [.init(frames: ["main", "forward", "matmul"], count: 7), .init(frames: ["main", "forward", "gelu<T>"], count: 3)],
                                     top: [.init(name: "matmul", selfPercent: 70, totalPercent: 70, stdErr: 14.5)], source: source)]
        d.ops = OpSection(phases: [OpPhase(label: "prefill T=64", forwards: 3, forwardMs: 300, opsMs: 290, taggedSamples: 100, untaggedSamples: 5,
                                           rows: [.init(key: "fc", name: "fc matmul", timerMs: 156, timerPercent: 52, samples: 50, sampledPercent: 50, sampledStdErr: 5),
                                                  .init(key: "gelu", name: "gelu", timerMs: 30, timerPercent: 10, samples: 12, sampledPercent: 12, sampledStdErr: 3.2),
                                                  .init(key: "attention", name: "attention", timerMs: 104, timerPercent: 34.7, samples: 38, sampledPercent: 38, sampledStdErr: 4.9)])],
                          source: source)
        d.roofline = roofline
        let a = (0..<20).map { 100e6 + Double($0) * 1e6 }, b = (0..<20).map { 4e6 + Double($0 % 5) * 0.1e6 } + [9e6]
        d.distributions = [DistributionSection(title: "matmul fc T=64", sides: [.init(name: "naive", nanoseconds: a, threads: 1),
                                                                              .init(name: "tiled", nanoseconds: b, threads: 1),
                                                                              .init(name: "broken", nanoseconds: [], threads: 1, problem: "WRONG")],
                                               speedups: [.init(a: "naive", b: "tiled", speedup: 25, low: 24, high: 26, confidence: 0.95, p: 1e-7, verdict: "faster")],
                                               notes: ["a note"], source: source)]
        d.scaling = [ScalingSection(workload: "prefill T=64", engine: "matmul=threaded", points: [.init(threads: 1, seconds: [0.2, 0.21, 0.19]),
                                                                                                 .init(threads: 2, seconds: [0.11, 0.112, 0.115])],
                                    serialFraction: 0.1, usableCores: 1.93, cpusReported: 2, warnings: [], source: source)]
        d.gate = GateSection(summary: "FAIL: 1 regression of 3 metrics", passed: false, mode: "baseline", header: ["suite quick"],
                             rows: [.init(name: "matmul/tiled/T64", baseline: "0.03x", now: "0.05x", change: "+66%", threshold: "+10%", verdict: "REGRESSION (3 runs)", status: "regression", fails: true, detail: "slower", kind: "ratio", used: 6.6),
                                    .init(name: "share/fc", baseline: "50%", now: "51%", change: "+1 pts", threshold: "+2 pts", verdict: "ok", status: "pass", fails: false, detail: nil, kind: "share", used: 0.5),
                                    .init(name: "new/metric", baseline: "-", now: "1x", change: "-", threshold: "-", verdict: "new", status: "new", fails: false, detail: nil)],
                             source: source)
        return d
    }
}
