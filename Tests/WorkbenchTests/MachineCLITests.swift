// `workbench machine`: the facts as text and JSON, and the cache (tests run the debug build, whose
// measurements are never cached, so the cache is exercised with a file written here).
import Foundation
import XCTest

final class MachineCLITests: XCTestCase {
    struct Info: Codable {
        var schema: Int; var fingerprint: String; var build: String; var cpuModel: String; var logicalCores: Int
        var usableCPUs: [Int]; var simdFlags: [String]; var fmaPeakGFLOPS: Double; var readBandwidthGBs: Double
        var readBandwidthAllGBs: Double
    }

    func testTextAndJSON() throws {
        let r = try Subprocess.workbench(["machine"])
        assertSuccess(r)
        for key in ["cpu ", "cores ", "simd ", "fp32 fma peak ", "read bandwidth ", "balance "] {
            XCTAssertTrue(r.stdoutLines.contains { $0.hasPrefix(key) }, "a line starts with '\(key)': \(r.summary)")
        }
        let j = try Subprocess.workbench(["machine", "--json"])
        assertSuccess(j)
        let info = try JSONDecoder().decode(Info.self, from: Data(j.stdout.utf8))
        XCTAssertGreaterThanOrEqual(info.logicalCores, 1)
        XCTAssertFalse(info.usableCPUs.isEmpty)
        XCTAssertTrue(info.fmaPeakGFLOPS > 0 && info.readBandwidthGBs > 0 && info.readBandwidthAllGBs > 0, j.stdout)
        #if arch(x86_64)
        XCTAssertTrue(info.simdFlags.contains("sse2"), "every x86_64 CPU has SSE2: \(info.simdFlags)")
        #endif
    }

    func testReusesAMatchingCacheUnlessRefreshed() throws {
        let cache = Fixtures.shared.path("machine-cache")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let env = Subprocess.environment(["WORKBENCH_CACHE": cache])
        // This machine's own facts, with a recognisable peak written into the cache.
        let j = try Subprocess.workbench(["machine", "--json"], environment: env)
        assertSuccess(j)
        var info = try JSONDecoder().decode(Info.self, from: Data(j.stdout.utf8))
        var raw = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        raw["fmaPeakGFLOPS"] = 12345.5
        raw["build"] = "release"
        raw["warnings"] = [Any]()
        try JSONSerialization.data(withJSONObject: raw).write(to: URL(fileURLWithPath: cache + "/machine.json"))
        let cached = try Subprocess.workbench(["machine", "--json"], environment: env)
        assertSuccess(cached)
        info = try JSONDecoder().decode(Info.self, from: Data(cached.stdout.utf8))
        XCTAssertEqual(info.fmaPeakGFLOPS, 12345.5, "the cached facts are used")
        XCTAssertFalse(cached.stderr.contains("measuring"), cached.summary)
        let text = try Subprocess.workbench(["machine"], environment: env)
        XCTAssertTrue(text.stdout.contains("12345.5 GFLOP/s"), text.summary)
        let fresh = try Subprocess.workbench(["machine", "--json", "--refresh"], environment: env)
        assertSuccess(fresh)
        XCTAssertTrue(fresh.stderr.contains("measuring"), fresh.summary)
        XCTAssertNotEqual(try JSONDecoder().decode(Info.self, from: Data(fresh.stdout.utf8)).fmaPeakGFLOPS, 12345.5)
        // Another machine's cache is ignored.
        raw["fingerprint"] = "some other CPU | 64 logical cores | x86_64"
        try JSONSerialization.data(withJSONObject: raw).write(to: URL(fileURLWithPath: cache + "/machine.json"))
        let other = try Subprocess.workbench(["machine", "--json"], environment: env)
        assertSuccess(other)
        XCTAssertNotEqual(try JSONDecoder().decode(Info.self, from: Data(other.stdout.utf8)).fmaPeakGFLOPS, 12345.5)
    }

    func testBadArgumentIsAUsageError() throws {
        let r = try Subprocess.workbench(["machine", "--frobnicate"])
        XCTAssertEqual(r.status, 2, r.summary)
        XCTAssertEqual(r.stdout, "", r.summary)
        XCTAssertTrue(r.stderrLines.first?.hasPrefix("workbench: ") == true && r.stderr.contains("--frobnicate"), r.summary)
    }
}
