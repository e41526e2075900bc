import Foundation
import XCTest

/// `workbench scale` and `workbench tune` / `--kernels auto`, end to end on the tiny model.
final class ScaleTuneTests: XCTestCase {
    func testScaleReportsEveryThreadCountAndTheFits() throws {
        let model = try Fixtures.shared.checkpoint(.tiny)
        let r = try Subprocess.workbench(["scale", "--model", model, "--t", "8", "--runs", "2", "--max-threads", "2"])
        assertSuccess(r)
        let lines = r.stdoutLines
        XCTAssertTrue(lines.contains { $0.hasPrefix("      1 ") }, r.summary)
        XCTAssertTrue(lines.contains { $0.hasPrefix("      2 ") }, r.summary)
        XCTAssertTrue(r.stdout.contains("Amdahl fit"), r.summary)
        XCTAssertTrue(r.stdout.contains("usable cores:"), r.summary)
        XCTAssertTrue(r.stdout.contains("pinning (2 threads)"), r.summary)
    }

    func testScaleJSONHasOnePointPerThreadCount() throws {
        let model = try Fixtures.shared.checkpoint(.tiny)
        let r = try Subprocess.workbench(["scale", "--model", model, "--workload", "generate", "--runs", "1",
                                          "--max-threads", "3", "--no-pin-comparison", "--json"])
        assertSuccess(r)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let points = json?["points"] as? [[String: Any]]
        XCTAssertEqual(points?.map { $0["threads"] as? Int }, [1, 2, 3], r.summary)
        XCTAssertEqual((points?.first?["seconds"] as? [Double])?.count, 1, r.summary)
    }

    func testScaleBadArguments() throws {
        let model = try Fixtures.shared.checkpoint(.tiny)
        assertBadInput(try Subprocess.workbench(["scale", "--model", model, "--workload", "bogus"]), mentions: ["bogus"])
        assertBadInput(try Subprocess.workbench(["scale", "--model", model, "--max-threads", "0"]), mentions: ["--max-threads"])
        assertBadInput(try Subprocess.workbench(["scale", "--model", model, "--t", "65"]), mentions: ["--t"])
    }

    func testTuneWritesAChoiceThatAutoUsesWithTheSameTokens() throws {
        let model = try Fixtures.shared.checkpoint(.tiny)
        let tune = Fixtures.shared.path("tune.json")
        let r = try Subprocess.workbench(["tune", "--model", model, "--t", "1,8", "--budget", "0.02", "--threads", "2", "--out", tune])
        assertSuccess(r)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: tune))) as? [String: Any]
        let matmul = json?["matmul"] as? [String: String]
        XCTAssertEqual(Set(matmul?.keys.map { $0 } ?? []), ["qkv", "attproj", "fc", "fcproj", "lmhead"], r.summary)
        XCTAssertNotNil(json?["attention"] as? String, r.summary)
        let auto = try Subprocess.workbench(["run", "--model", model, "--kernels", "auto", "--tune-file", tune, "--n", "12", "5", "6"])
        let naive = try Subprocess.workbench(["run", "--model", model, "--matmul", "naive", "--attention", "naive",
                                              "--threads", "1", "--n", "12", "5", "6"])
        assertSuccess(auto); assertSuccess(naive)
        XCTAssertEqual(auto.stdoutLines, naive.stdoutLines)
        XCTAssertEqual(auto.stdoutLines.count, 10)
    }

    func testKernelsAutoBadInputs() throws {
        let model = try Fixtures.shared.checkpoint(.tiny)
        let missing = Fixtures.shared.path("none.json")
        assertBadInput(try Subprocess.workbench(["run", "--model", model, "--kernels", "auto", "--tune-file", missing, "1"]),
                       mentions: [missing, "workbench tune"])
        let corrupt = Fixtures.shared.path("corrupt.json")
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: corrupt))
        assertBadInput(try Subprocess.workbench(["run", "--model", model, "--kernels", "auto", "--tune-file", corrupt, "1"]),
                       mentions: [corrupt, "not a valid tuning file"])
        let unknown = Fixtures.shared.path("unknown.json")
        try Data(#"{"fingerprint":"x","date":"d","threads":1,"tokenCounts":[1],"model":"m","matmul":{"fc":"warp-drive"},"attention":"naive","measurements":[]}"#.utf8)
            .write(to: URL(fileURLWithPath: unknown))
        assertBadInput(try Subprocess.workbench(["run", "--model", model, "--kernels", "auto", "--tune-file", unknown, "1"]),
                       mentions: ["warp-drive"])
        assertBadInput(try Subprocess.workbench(["run", "--model", model, "--kernels", "fastest", "1"]), mentions: ["fastest"])
        assertBadInput(try Subprocess.workbench(["tune", "--model", model, "--t", "0"]), mentions: ["--t"])
    }
}
