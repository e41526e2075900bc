// `workbench kernels` end to end: the registries with the experiments, the JSON, the timing harness.
import Foundation
import XCTest

final class KernelsCLITests: XCTestCase {
    func testTheExampleExperimentIsListedAndComparable() throws {
        let r = try Subprocess.workbench(["kernels"])
        assertSuccess(r)
        XCTAssertTrue(r.stdoutLines.contains { $0.contains("unrolled") && $0.contains("[experiment]") }, r.summary)
        let j = try Subprocess.workbench(["kernels", "--json"])
        assertSuccess(j)
        let json = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(json?["schema"] as? Int, j.summary)
        let unrolled = (json?["matmul"] as? [[String: Any]])?.first { $0["name"] as? String == "unrolled" }
        XCTAssertEqual(unrolled?["experiment"] as? Bool, true, j.summary)
        let c = try Subprocess.workbench(["compare", "matmul:simd", "matmul:unrolled", "--shape", "3,40,24", "--runs", "3"])
        assertSuccess(c)
        XCTAssertTrue(c.stdout.contains("matmul:unrolled"), c.summary)
        let m = try Fixtures.shared.checkpoint(.tiny)
        let run = try Subprocess.workbench(["run", "--model", m, "--matmul", "unrolled", "--n", "5", "1"])
        let naive = try Subprocess.workbench(["run", "--model", m, "--matmul", "naive", "--attention", "naive", "--n", "5", "1"])
        assertSuccess(run)
        XCTAssertEqual(run.stdoutLines, naive.stdoutLines)
    }

    func testTiming() throws {
        let r = try Subprocess.workbench(["kernels", "--time", "--mm", "2,24,40", "--attn", "3,16,2,1", "--budget", "0.01", "--threads", "2"])
        assertSuccess(r)
        XCTAssertTrue(r.stdout.contains("matmul T=2 C=24 OC=40"), r.summary)
        XCTAssertTrue(r.stdout.contains("weight copies"), r.summary)
        XCTAssertFalse(r.stdout.contains("WRONG"), r.summary)
        let j = try Subprocess.workbench(["kernels", "--time", "--mm", "2,24,40", "--attn", "3,16,2", "--budget", "0.01", "--json", "--variants", "naive,simd"])
        assertSuccess(j)
        let json = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        XCTAssertNotNil(json?["schema"] as? Int, j.summary)
        XCTAssertEqual((json?["tables"] as? [Any])?.count, 2, j.summary)
        assertBadInput(try Subprocess.workbench(["kernels", "--mm", "1,2,3"]), mentions: ["need --time"])
        assertBadInput(try Subprocess.workbench(["kernels", "--time", "--mm", "1,2"]), mentions: ["--mm '1,2'"])
        assertBadInput(try Subprocess.workbench(["kernels", "--time", "--variants", "warp"]), mentions: ["unknown variant 'warp'"])
    }
}
