// `workbench compare` end to end: a real (small) comparison, its JSON (schema 2, the first format's field
// names), engine comparisons on the tiny model, and one line + exit status 2 for every bad argument.
import Foundation
import XCTest

final class CompareCLITests: XCTestCase {
    /// The JSON report's fields these tests read.
    struct Report: Decodable {
        struct Side: Decodable {
            var spec: String; var threads: Int; var correct: Bool
            var maxAbsError: Double?; var maxRelError: Double?; var tokens: [Int32]?
            var gflops: Double?; var percentOfPeak: Double?; var gbs: Double?
        }
        struct Summary: Decodable {
            var count: Int; var median: Double; var min: Double; var p90: Double; var mad: Double
            enum CodingKeys: String, CodingKey { case count, median = "medianNs", min = "minNs", p90 = "p90Ns", mad = "madNs" }
        }
        struct MannWhitney: Decodable { var p: Double; var method: String }
        struct Comparison: Decodable {
            var a: Summary; var b: Summary; var ratio: Double; var ratioLow: Double?; var ratioHigh: Double?
            var mannWhitney: MannWhitney; var verdict: String
        }
        var schema: Int; var kind: String; var shape: [String: Int]; var a: Side; var b: Side; var wrong: Bool; var comparison: Comparison?
        var weights: Weights?
        struct Weights: Decodable { var copies: Int; var bytesPerCopy: Int }
    }

    private func decode(_ r: ProcessResult) throws -> Report {
        do { return try JSONDecoder().decode(Report.self, from: Data(r.stdout.utf8)) }
        catch { XCTFail("stdout is not the JSON report (\(error)): \(r.summary)"); throw error }
    }

    func testNaiveAgainstNaiveIsCorrectAndTimed() throws {
        let r = try Subprocess.workbench(["compare", "matmul:naive", "matmul:naive", "--shape", "4,16,8", "--runs", "10"])
        assertSuccess(r)
        XCTAssertFalse(r.stdout.contains("WRONG"), r.summary)
        let lines = r.stdoutLines
        XCTAssertEqual(lines.filter { $0.contains("matmul:naive") && $0.hasSuffix(" ok") }.count, 2, r.summary)
        for needle in ["compare matmul T=4 C=16 OC=8", "median", "GFLOP/s", "%peak", "GB/s", "roofline A:", "speedup B/A:",
                       "Mann-Whitney U: p =", "verdict: "] {
            XCTAssertTrue(r.stdout.contains(needle), "stdout should contain '\(needle)': \(r.summary)")
        }
        // Each timing row says 10 runs.
        let rows = lines.filter { $0.hasPrefix("  A  matmul:naive") || $0.hasPrefix("  B  matmul:naive") }.filter { $0.contains(" ns") || $0.contains(" us") }
        XCTAssertEqual(rows.count, 2, r.summary)
        for row in rows { XCTAssertTrue(row.split(separator: " ").contains("10"), "runs column: \(row)") }
    }

    func testJSONReport() throws {
        let r = try Subprocess.workbench(["compare", "matmul:naive", "matmul:naive", "--shape", "3,20,5", "--runs", "12", "--json"])
        assertSuccess(r)
        let rep = try decode(r)
        XCTAssertEqual(rep.kind, "matmul"); XCTAssertEqual(rep.shape, ["T": 3, "C": 20, "OC": 5])
        XCTAssertFalse(rep.wrong)
        XCTAssertEqual(rep.a.spec, "matmul:naive"); XCTAssertEqual(rep.a.threads, 1)
        XCTAssertEqual(rep.a.maxAbsError, 0); XCTAssertEqual(rep.b.maxRelError, 0, "naive is deterministic")
        let c = try XCTUnwrap(rep.comparison)
        XCTAssertEqual(c.a.count, 12); XCTAssertEqual(c.b.count, 12)
        XCTAssertTrue(c.a.min <= c.a.median && c.a.median <= c.a.p90)
        XCTAssertTrue(["faster", "slower", "no significant difference"].contains(c.verdict))
        XCTAssertLessThanOrEqual(c.ratioLow!, c.ratio); XCTAssertGreaterThanOrEqual(c.ratioHigh!, c.ratio)
        XCTAssertEqual(rep.a.gflops!, 2 * 3 * 20 * 5 / c.a.median, accuracy: 1e-9 * rep.a.gflops!)
        XCTAssertEqual(rep.a.gbs!, Double(20 * 5 * 4) / c.a.median, accuracy: 1e-9 * rep.a.gbs!)
        XCTAssertEqual(rep.schema, 2)
        XCTAssertEqual(rep.weights?.bytesPerCopy, 20 * 5 * 4, "timed calls cycle weight copies")
    }

    func testNamedShapeAndThreads() throws {
        let r = try Subprocess.workbench(["compare", "matmul:naive", "matmul:naive", "--shape", "attproj", "--t", "1",
                                          "--threads", "2", "--runs", "3", "--json"])
        assertSuccess(r)
        let rep = try decode(r)
        XCTAssertEqual(rep.shape, ["T": 1, "C": 768, "OC": 768])
        XCTAssertEqual(rep.a.threads, 1, "naive does not use the pool, whatever --threads says")
    }

    func testAttention() throws {
        let r = try Subprocess.workbench(["compare", "attention:naive", "attention:naive", "--t", "3", "--c", "16", "--nh", "4",
                                          "--pos0", "5", "--runs", "4", "--json"])
        assertSuccess(r)
        let rep = try decode(r)
        XCTAssertEqual(rep.kind, "attention"); XCTAssertEqual(rep.shape, ["T": 3, "C": 16, "NH": 4, "pos0": 5])
        XCTAssertEqual(rep.comparison?.a.count, 4)
        XCTAssertNotNil(rep.a.gflops); XCTAssertNil(rep.a.gbs)
    }

    // The WRONG path (exit 1, not timed) is tested through the library (LabTests.CompareTests) and end to
    // end with a wrong shared-library kernel (SharedLibraryTests); there is no hidden flag for it any more.

    func testEnginesOnTheTinyModel() throws {
        let m = try Fixtures.shared.checkpoint(.tiny)
        let r = try Subprocess.workbench(["compare", "--model", m, "--engine", "", "--engine", "matmul=naive,threads=2",
                                          "--n", "6", "--prompt", "1 2", "--runs", "3", "--json"])
        assertSuccess(r)
        let rep = try decode(r)
        XCTAssertEqual(rep.kind, "engine"); XCTAssertFalse(rep.wrong)
        XCTAssertEqual(rep.a.tokens?.count, 4); XCTAssertEqual(rep.a.tokens, rep.b.tokens)
        XCTAssertEqual(rep.b.threads, 2)
        XCTAssertEqual(rep.comparison?.b.count, 3)
        let t = try Subprocess.workbench(["compare", "--model", m, "--engine", "default", "--engine", "attention=naive,qkv=naive",
                                          "--n", "4", "--prompt", "5,6", "--runs", "2"])
        assertSuccess(t)
        XCTAssertTrue(t.stdout.contains("same as A"), t.summary)
        XCTAssertTrue(t.stdout.contains("verdict: "), t.summary)
    }

    func testBadArguments() throws {
        let m = try Fixtures.shared.checkpoint(.tiny)
        let cases: [([String], [String])] = [
            (["conv:naive", "conv:naive"], ["unknown kernel 'conv'"]),
            (["matmul:naive", "matmul:nope"], ["unknown matmul variant 'nope'", "naive", "unrolled"]),
            (["attention:nope", "attention:naive"], ["unknown attention variant 'nope'"]),
            (["matmul", "matmul:naive"], ["'matmul' is not kernel:variant"]),
            (["matmul:naive"], ["give two variants"]),
            ([], ["give two variants"]),
            (["matmul:naive", "attention:naive"], ["same kernel"]),
            (["matmul:naive", "matmul:naive", "--shape", "foo"], ["--shape 'foo'", "qkv"]),
            (["matmul:naive", "matmul:naive", "--shape", "4,16"], ["--shape '4,16'"]),
            (["matmul:naive", "matmul:naive", "--shape", "4,x,8"], ["--shape '4,x,8'"]),
            (["matmul:naive", "matmul:naive", "--shape", "0,16,8"], ["must be positive"]),
            (["matmul:naive", "matmul:naive", "--shape", "100000,100000,100000"], ["too large"]),
            (["matmul:naive", "matmul:naive", "--shape", "4,16,8", "--t", "3"], ["--t contradicts"]),
            (["matmul:naive", "matmul:naive", "--shape", "qkv", "--t", "0"], ["--t must be"]),
            (["matmul:naive", "matmul:naive", "--nh", "4"], ["attention options"]),
            (["attention:naive", "attention:naive", "--shape", "qkv"], ["--shape is a matmul option"]),
            (["attention:naive", "attention:naive", "--c", "10", "--nh", "3"], ["not divisible"]),
            (["attention:naive", "attention:naive", "--pos0=-1"], ["pos0"]),
            (["matmul:naive", "matmul:naive", "--threads", "0"], ["--threads must be in 1...256"]),
            (["matmul:naive", "matmul:naive", "--runs", "0"], ["--runs must be"]),
            (["matmul:naive", "matmul:naive", "--budget=-1"], ["--budget must be"]),
            (["matmul:naive", "matmul:naive", "--n", "5"], ["apply to --engine"]),
            (["--engine", "matmul=naive"], ["exactly twice"]),
            (["--engine", "", "--engine", "", "--engine", ""], ["exactly twice"]),
            (["matmul:naive", "matmul:naive", "--engine", "", "--engine", ""], ["not both"]),
            (["--engine", "", "--engine", "", "--shape", "qkv"], ["not to --engine"]),
            (["--engine", "", "--engine", "colour=red"], ["cannot read 'colour=red'"]),
            (["--engine", "", "--engine", "matmul=nope"], ["unknown matmul variant 'nope'"]),
            (["--engine", "", "--engine", "threads=0"], ["threads must be"]),
            (["--engine", "", "--engine", "", "--model", m, "--prompt", "1 x"], ["token 'x' is not an integer"]),
            (["--engine", "", "--engine", "", "--model", m, "--prompt", "1 999"], ["out of range"]),
            (["--engine", "", "--engine", "", "--model", m, "--prompt", "1 2", "--n", "1000"], ["exceeds"]),
            (["--engine", "", "--engine", "", "--model", Fixtures.shared.path("missing.bin")], ["missing.bin"]),
        ]
        for (args, mentions) in cases {
            let r = try Subprocess.workbench(["compare"] + args)
            assertBadInput(r, mentions: mentions)
        }
    }

    /// Errors ArgumentParser itself finds: `workbench: <message>` first, then its usage lines, status 2.
    func testUsageErrors() throws {
        for (args, mention) in [(["matmul:naive", "matmul:naive", "--runs", "many"], "'many'"),
                                (["matmul:naive", "matmul:naive", "--frobnicate"], "--frobnicate"),
                                (["matmul:naive", "matmul:naive", "--threads"], "--threads")] {
            let r = try Subprocess.workbench(["compare"] + args)
            XCTAssertEqual(r.status, 2, r.summary)
            XCTAssertEqual(r.stdout, "", r.summary)
            XCTAssertTrue(r.stderrLines.first?.hasPrefix("workbench: ") == true, r.summary)
            XCTAssertTrue(r.stderrLines.first?.contains(mention) == true, r.summary)
        }
    }
}
