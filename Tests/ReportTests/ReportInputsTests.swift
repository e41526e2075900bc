import XCTest
import Bench
import GPT2
import Profiling
@testable import Report

/// The adapters: saved results of the other verbs (Fixtures/, made by the real verbs on the tiny model) ->
/// sections, wrong kinds rejected with one line naming the file.
final class ReportInputsTests: XCTestCase {
    let fixtures = ReportCLITests.fixtures

    func testEveryFixtureKindBecomesASection() throws {
        let saved = try ReportInputs.load(directory: fixtures)
        XCTAssertEqual(saved.machine.count, 1)
        XCTAssertEqual(saved.compareFiles.count, 2)
        XCTAssertEqual(saved.scaleFiles.count, 1)
        XCTAssertEqual(saved.kernelFiles.count, 1)
        XCTAssertGreaterThanOrEqual(saved.profiles.count, 2, "profile --json and a saved run pair")
        XCTAssertEqual(saved.timings.count, 1)
        XCTAssertEqual(saved.gates.count, 1)
        let doc = ReportInputs.document(saved, provenance: ReportBuilder.provenance(command: ["test"], mode: "from fixtures"))
        XCTAssertNotNil(doc.machine)
        XCTAssertFalse(doc.profiles.isEmpty)
        XCTAssertTrue(doc.profiles.allSatisfy { $0.samples > 0 && !$0.stacks.isEmpty })
        let ops = try XCTUnwrap(doc.ops)
        XCTAssertTrue(ops.phases.contains { $0.rows.contains { $0.sampledPercent != nil } }, "the profile's op view has sampled shares")
        XCTAssertTrue(ops.phases.contains { $0.label == "timings" && $0.rows.contains { $0.key == "fc" } })
        let roof = try XCTUnwrap(doc.roofline)
        XCTAssertGreaterThanOrEqual(roof.points.count, 4 + 5, "two sides of two matmul comparisons, every variant of kernels --time")
        XCTAssertEqual(roof.tolerance, 0.15, "Lab's noise margin")
        XCTAssertEqual(roof.roofs.count, doc.machine!.usableCores > 1 ? 2 : 1)
        XCTAssertEqual(doc.distributions.count, 2)
        XCTAssertTrue(doc.distributions.allSatisfy { $0.speedups.count == 1 && $0.sides.allSatisfy { !$0.nanoseconds.isEmpty } })
        XCTAssertEqual(doc.scaling.first?.points.map(\.threads), [1, 2])
        XCTAssertNotNil(doc.gate)
        XCTAssertTrue(doc.gate!.rows.count > 10)
        // The page renders every section from them.
        let page = ReportPage.html(doc)
        for id in ["machine", "flame", "ops", "roofline", "compare", "compare-2", "scaling", "gate"] { XCTAssertTrue(page.contains("<section id=\"\(id)\">"), id) }
    }

    func testAdaptersFromTheLibraryTypes() {
        var p = StackProfile()
        p.add(["main", "forward", "matmul"], count: 30)
        p.add(["main", "forward", "gelu"], count: 10)
        let s = ReportInputs.profile(p, title: "t", subtitle: "s", seconds: 1, source: SectionSource())
        XCTAssertEqual(s.samples, 40)
        XCTAssertEqual(s.top.first?.name, "matmul")
        XCTAssertEqual(s.top.first?.selfPercent ?? 0, 75, accuracy: 1e-9)
        let svg = ReportInputs.flameGraphElement(s, index: 3)
        XCTAssertTrue(svg.hasPrefix("<svg"), svg)
        XCTAssertTrue(svg.contains("id=\"fg3"), svg)
        XCTAssertTrue(svg.contains("<script"), "the interactive flame graph brings its script: \(svg.prefix(300))")

        var timers = OpTimers(layers: 1)
        timers.record(.fc, layer: 0, since: monotonicNanos() - 3_000_000, flops: 1e6)
        timers.record(.gelu, layer: 0, since: monotonicNanos() - 1_000_000)
        let report = timers.report()
        let phase = ReportInputs.opPhase(label: "x", timings: report, byTag: [0: 5, Int32(Op.fc.rawValue + 1): 30, Int32(Op.gelu.rawValue + 1): 10])
        XCTAssertEqual(phase.taggedSamples, 40)
        XCTAssertEqual(phase.untaggedSamples, 5)
        let fc = phase.rows.first { $0.key == "fc" }!
        XCTAssertEqual(fc.sampledPercent ?? 0, 75, accuracy: 1e-9)
        XCTAssertEqual(fc.sampledStdErr ?? 0, Reports.stdErrPercent(0.75, 40), accuracy: 1e-9)
        XCTAssertNotNil(fc.timerMs)

        let merged = ReportMeasurements.merge(report, report)
        XCTAssertEqual(merged.forwards, 2 * report.forwards)
        XCTAssertEqual(merged.ops.first { $0.op == "fc" }!.ms, 2 * report.ops.first { $0.op == "fc" }!.ms, accuracy: 1e-9)
    }

    func testWrongKindsAreRejectedWithTheFileName() throws {
        let dir = Run.path("kinds")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func expect(_ text: String, _ mention: String, file: StaticString = #filePath, line: UInt = #line) {
            try? Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/x.json"))
            XCTAssertThrowsError(try ReportInputs.load(directory: dir), file: file, line: line) { e in
                XCTAssertTrue("\(e)".contains("x.json") && "\(e)".contains(mention), "\(e)", file: file, line: line)
            }
        }
        expect("[1, 2]", "array")
        expect("{\"a\": 1}", "does not read")
        expect("{\"schema\": 1, \"points\": [], \"usableCores\": \"many\"}", "does not decode")
        expect("{\"points\": [], \"usableCores\": 2}", "older workbench")
        expect("{\"suite\": \"quick\", \"rows\": [], \"baselinePath\": \"b.json\"}", "older workbench")
        expect("{\"fingerprint\": \"x\", \"fmaPeakGFLOPS\": 1}", "missing")
        expect("{\"kind\": \"matmul\", \"a\": {}, \"b\": {}, \"machine\": {}}", "older workbench")
        // A gate baseline is recognised and skipped: alone it leaves nothing to draw.
        try Data(contentsOf: URL(fileURLWithPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path + "/Profiles/baseline.json")).write(to: URL(fileURLWithPath: dir + "/x.json"))
        XCTAssertThrowsError(try ReportInputs.load(directory: dir)) { e in XCTAssertTrue("\(e)".contains("gate baseline"), "\(e)") }
        XCTAssertThrowsError(try ReportInputs.load(directory: dir + "/x.json")) { e in XCTAssertTrue("\(e)".contains("not a folder"), "\(e)") }
    }

    func testOutputChecks() throws {
        XCTAssertThrowsError(try ReportBuilder.checkOutput("/nonexistent-dir-\(getpid())/r.html"))
        XCTAssertThrowsError(try ReportBuilder.checkOutput(Run.temp))
        XCTAssertThrowsError(try ReportBuilder.checkOutput(""))
        XCTAssertNoThrow(try ReportBuilder.checkOutput(Run.path("ok.html")))
        XCTAssertNoThrow(try ReportBuilder.checkOutput("relative.html"))
    }
}
