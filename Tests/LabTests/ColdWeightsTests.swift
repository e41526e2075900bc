import Kernels
@testable import Lab
import XCTest

/// The honest-measurement helper: copies larger than the last-level cache, byte-identical, handed out in turn.
final class ColdWeightsTests: XCTestCase {
    func testCopiesExceedTheCacheAndCycle() {
        let w = WeightMatrix(copying: (0..<(96 * 64)).map { Float($0) / 7 }, rows: 96, cols: 64)  // 24 KiB
        let cold = ColdWeights(w, totalBytes: 100 << 10)
        XCTAssertEqual(cold.copies.count, 5, "ceil(100 KiB / 24 KiB)")
        XCTAssertTrue(cold.copies[0] === w, "copy 0 is the source")
        XCTAssertGreaterThanOrEqual(cold.totalBytes, 100 << 10)
        XCTAssertEqual(Set(cold.copies.map { $0.data }).count, 5, "distinct buffers")
        for c in cold.copies {
            XCTAssertEqual(c.rows, 96); XCTAssertEqual(c.cols, 64)
            XCTAssertTrue((0..<(96 * 64)).allSatisfy { c.data[$0] == w.data[$0] })
        }
        let order = (0..<11).map { _ in cold.next() }
        for (i, m) in order.enumerated() { XCTAssertTrue(m === cold.copies[i % 5], "call \(i)") }
        XCTAssertEqual(cold.streaming, WeightStreaming(copies: 5, bytesPerCopy: 96 * 64 * 4, totalBytes: 5 * 96 * 64 * 4))
    }

    func testLimits() {
        XCTAssertEqual(ColdWeights.totalBytes(lastLevelCache: nil), 256 << 20)
        XCTAssertEqual(ColdWeights.totalBytes(lastLevelCache: 32 << 20), 256 << 20)
        XCTAssertEqual(ColdWeights.totalBytes(lastLevelCache: 64 << 20), 512 << 20)
        let big = WeightMatrix(copying: [Float](repeating: 1, count: 1024), rows: 32, cols: 32)
        XCTAssertEqual(ColdWeights(big, totalBytes: 4096).copies.count, 1, "a weight as large as the total is its own cold copy")
        let tiny = WeightMatrix(copying: [1, 2], rows: 1, cols: 2)
        XCTAssertEqual(ColdWeights(tiny, totalBytes: 1 << 30).copies.count, ColdWeights.maximumCopies)
    }

    func testPrepareMakesEveryCopysPackedForm() {
        let w = WeightMatrix(copying: [Float](repeating: 0.5, count: 40 * 8), rows: 40, cols: 8)
        let cold = ColdWeights(w, totalBytes: 4 * 40 * 8 * 4)
        let tiled = MatmulVariants.named("tiled")!
        cold.prepare(tiled)
        // the tiled kernel finds each copy's panels (a direct call would pack on first use otherwise)
        let p = MatmulProblem(T: 2, C: 8, OC: 40)
        let cold2 = ColdWeights(p.weight, totalBytes: 4 * 40 * 8 * 4)
        let c = KernelCase.matmul(tiled, on: p, pool: WorkerPool(count: 1), way: .standalone, weights: cold2)
        XCTAssertTrue(c.check().passes(c.tolerance))
        for _ in 0..<8 { c.call() }
        XCTAssertEqual(cold.copies.count, 4)
    }
}
