import XCTest
@testable import Kernels

final class RegistryTests: XCTestCase {
    func testMatmulRegistry() {
        let names = MatmulVariants.all.map(\.name)
        XCTAssertEqual(names, ["naive", "simd", "tiled", "threaded", "blas", "bf16", "q8", "q4"])
        XCTAssertEqual(Set(names).count, names.count, "names are unique")
        XCTAssertEqual(MatmulVariants.reference.name, "naive")
        XCTAssertNil(MatmulVariants.named("nope"))
        XCTAssertNil(MatmulVariants.named("Tiled"), "names are case-sensitive")
        XCTAssertNotNil(MatmulVariants.named(MatmulVariants.defaultName))
        XCTAssertTrue(MatmulVariants.all.allSatisfy { !$0.summary.isEmpty && !$0.summary.contains("\n") })
        XCTAssertEqual(MatmulVariants.named("tiled")!.columnAlignment, matmulPanelWidth)
        XCTAssertEqual(MatmulVariants.named("threaded")!.columnAlignment, matmulPanelWidth)
        XCTAssertTrue(MatmulVariants.named("threaded")!.usesPool)
        XCTAssertFalse(MatmulVariants.named("tiled")!.usesPool)
        XCTAssertNotNil(MatmulVariants.named("blas")!.ownThreads)
        // the engine default must be one of the variants held to the determinism rule
        XCTAssertNotEqual(MatmulVariants.defaultName, "blas")
    }

    func testAttentionRegistry() {
        let names = AttentionVariants.all.map(\.name)
        XCTAssertEqual(names, ["naive", "simd", "threaded", "online"])
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertEqual(AttentionVariants.reference.name, "naive")
        XCTAssertNil(AttentionVariants.named(""))
        XCTAssertNotNil(AttentionVariants.named(AttentionVariants.defaultName))
        XCTAssertTrue(AttentionVariants.named("threaded")!.usesPool)
        XCTAssertFalse(AttentionVariants.named("simd")!.usesPool)
    }

    func testBLASReportsItsConfiguration() {
        XCTAssertFalse(BLASThreads.config.isEmpty)
    }
}
