import Kernels
import Lab
import XCTest

final class KernelProblemTests: XCTestCase {
    /// Every registered variant passes its own tolerance on an odd shape, the engine's way.
    override func setUp() { _ = experimentsRegistered }

    func testEveryVariantWithinItsTolerance() {
        let pool = WorkerPool(count: 3)
        let p = MatmulProblem(T: 7, C: 40, OC: 70, seed: 3)
        for v in MatmulVariants.all {
            let e = p.check(v, pool: pool)
            XCTAssertTrue(e.passes(v.tolerance), "\(v.name): \(e)")
        }
        let a = AttentionProblem(T: 7, C: 48, NH: 4, pos0: 5, workers: 3, seed: 3)
        for v in AttentionVariants.all {
            let e = a.check(v, pool: pool)
            XCTAssertTrue(e.passes(v.tolerance), "\(v.name): \(e)")
        }
    }

    /// The WRONG path: a variant off by 1 on one element fails the check.
    func testPerturbedOutputFails() {
        let p = MatmulProblem(T: 1, C: 16, OC: 8)
        let e = p.check(perturbedMatmul(1), pool: WorkerPool(count: 1))
        XCTAssertFalse(e.passes(KernelError.fp32Tolerance))
        XCTAssertEqual(e.maxAbs, 1, accuracy: 1e-6)
    }
}
