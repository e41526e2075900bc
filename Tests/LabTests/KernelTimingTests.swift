import Bench
import Foundation
import Kernels
@testable import Lab
import XCTest

/// `kernels --time` and `kernels` as library functions.
final class KernelTimingTests: XCTestCase {
    override func setUp() { _ = experimentsRegistered }

    func testEveryVariantIsCheckedThenTimed() throws {
        let s = try KernelTimingSettings(matmul: ["3,20,40"], attention: ["5,16,2,3"], threads: 2, split: true, seconds: 0.001, only: nil)
        var seen = 0
        let r = KernelTiming.run(s, machine: testMachine()) { _ in seen += 1 }
        XCTAssertEqual(seen, 2); XCTAssertEqual(r.tables.count, 2); XCTAssertEqual(r.schema, KernelTimingReport.currentSchema)
        let mm = r.tables[0]
        XCTAssertEqual(mm.rows.map(\.variant), MatmulVariants.all.map(\.name), "every registered variant, experiments too")
        XCTAssertTrue(mm.rows.allSatisfy { $0.correct && $0.medianNs != nil && $0.rates?.gbs != nil })
        XCTAssertEqual(mm.way, .engine); XCTAssertTrue(mm.rows.allSatisfy { $0.threads == 2 })
        XCTAssertNotNil(mm.work.weights)
        XCTAssertTrue(mm.text.contains("unrolled"), mm.text)
        let at = r.tables[1]
        XCTAssertEqual(at.work.shape, ["T": 5, "C": 16, "NH": 2, "pos0": 3])
        XCTAssertEqual(at.rows.first?.speedupOverReference ?? 0, 1, accuracy: 1e-12)
        _ = try LabJSON.string(r)
    }

    func testSettings() throws {
        let d = try KernelTimingSettings(matmul: [], attention: [], threads: 1, split: false, seconds: 0.3, only: nil)
        XCTAssertEqual(d.matmul, [[64, 768, 3072], [1, 768, 3072]]); XCTAssertEqual(d.attention, [[256, 768, 12, 0]])
        XCTAssertEqual(d.way, .standalone)
        let only = try KernelTimingSettings(matmul: ["1,2,3"], attention: [], threads: 1, split: false, seconds: 1, only: "naive,unrolled")
        XCTAssertEqual(only.only, ["naive", "unrolled"]); XCTAssertEqual(only.attention, [])
        for (mm, at, message) in [(["1,2"], [], "--mm '1,2'"), (["0,2,3"], [], "T must be"), ([], ["4,10,3"], "multiple of NH"),
                                  ([], ["4,16,2,-1"], "pos0 must be")] as [([String], [String], String)] {
            XCTAssertThrowsError(try KernelTimingSettings(matmul: mm, attention: at, threads: 1, split: false, seconds: 1, only: nil)) {
                XCTAssertTrue("\($0)".contains(message), "\($0)")
            }
        }
        XCTAssertThrowsError(try KernelTimingSettings(matmul: [], attention: [], threads: 1, split: false, seconds: 1, only: "warp")) {
            XCTAssertTrue("\($0)".contains("unknown variant 'warp'"))
        }
        XCTAssertThrowsError(try KernelTimingSettings(matmul: [], attention: [], threads: 0, split: false, seconds: 1, only: nil))
        XCTAssertThrowsError(try KernelTimingSettings(matmul: [], attention: [], threads: 1, split: false, seconds: 0, only: nil))
    }

    func testListingMarksTheExperiments() throws {
        let l = KernelListing.current()
        XCTAssertEqual(l.schema, KernelListing.currentSchema)
        XCTAssertEqual(l.matmul.map(\.name), MatmulVariants.all.map(\.name))
        XCTAssertTrue(l.matmul[0].reference)
        XCTAssertEqual(l.matmul.filter(\.isDefault).map(\.name), [MatmulVariants.defaultName])
        let unrolled = try XCTUnwrap(l.matmul.first { $0.name == "unrolled" })
        XCTAssertTrue(unrolled.experiment); XCTAssertFalse(l.matmul[0].experiment)
        XCTAssertTrue(l.text.contains("unrolled") && l.text.contains("[experiment]"), l.text)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: LabJSON.data(l)) as? [String: Any])
        XCTAssertEqual(json["schema"] as? Int, KernelListing.currentSchema)
        let first = try XCTUnwrap((json["matmul"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["default"] as? Bool, false); XCTAssertEqual(first["reference"] as? Bool, true)
    }
}
