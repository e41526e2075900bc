import XCTest
@testable import Kernels

/// Every matmul variant against `naive`, on shapes that are not multiples of 16 or of the 8x32 tile,
/// with and without bias, with OC < weight rows (the lm-head); the determinism rule; pool splitting.
final class MatmulVariantTests: XCTestCase {
    /// (T, C, OC, extra weight rows)
    static let shapes: [(Int, Int, Int, Int)] = [
        (1, 67, 5, 0), (7, 67, 33, 0), (37, 67, 33, 7), (1, 16, 32, 0), (9, 130, 97, 3),
        (37, 36, 64, 0), (64, 48, 70, 0), (70, 33, 31, 1), (3, 1, 40, 0), (13, 300, 65, 31),
    ]

    func assertClose(_ got: [Float], _ ref: [Float], _ p: MatmulProblem, T: Int, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, ref.count, what, file: file, line: line)
        for t in 0..<T {
            for o in 0..<p.OC {
                let a = got[t * p.OC + o], b = ref[t * p.OC + o]
                let tol = p.tolerance(t: t, o: o)
                if !(abs(a - b) <= tol) {
                    XCTFail("\(what): out[\(t), \(o)] = \(a), naive \(b), |diff| \(abs(a - b)) > \(tol)", file: file, line: line)
                    return
                }
            }
        }
    }

    func testEveryVariantMatchesNaive() {
        for (T, C, OC, extra) in Self.shapes {
            for bias in [true, false] {
                let p = MatmulProblem(T: T, C: C, OC: OC, extraRows: extra, bias: bias, seed: UInt64(T * 1000 + C))
                let ref = p.run { MatmulVariants.reference.kernel($0, 0..<OC) }
                for v in MatmulVariants.all where !v.isLossy {  // the weight formats: QuantVariantTests
                    v.prepare(p.weight)
                    let got = p.run { v.kernel($0, 0..<OC) }
                    assertClose(got, ref, p, T: T, "\(v.name) T=\(T) C=\(C) OC=\(OC) rows=\(p.rows) bias=\(bias)")
                }
            }
        }
    }

    func testOnlyTheGivenColumnsAreWritten() {
        let p = MatmulProblem(T: 5, C: 40, OC: 70)
        for v in MatmulVariants.all {
            v.prepare(p.weight)
            let got = p.run { v.kernel($0, 17..<45) }
            for t in 0..<5 {
                for o in 0..<70 {
                    let written = !got[t * 70 + o].isNaN
                    XCTAssertEqual(written, (17..<45).contains(o), "\(v.name): out[\(t), \(o)]")
                }
            }
        }
    }

    /// The determinism rule: a row computed alone (T = 1, like a decode step) equals the same row inside a
    /// T = 37 batch, bit for bit; and columns split at odd places equal the whole call, bit for bit.
    func testDeterministicVariantsAreBitIdenticalAcrossRowsAndColumnSplits() {
        let deterministic = MatmulVariants.all.filter { $0.name != "blas" }
        for (C, OC, extra) in [(67, 33, 7), (768, 100, 0), (36, 64, 0)] {
            for bias in [true, false] {
                let p = MatmulProblem(T: 37, C: C, OC: OC, extraRows: extra, bias: bias, seed: 11)
                for v in deterministic {
                    v.prepare(p.weight)
                    let batch = p.run { v.kernel($0, 0..<OC) }
                    for t in [0, 5, 8, 31, 32, 36] {
                        let alone = p.run(T: 1, inputRow: t) { v.kernel($0, 0..<OC) }
                        XCTAssertTrue(bitIdentical(alone, Array(batch[(t * OC)..<((t + 1) * OC)])),
                                      "\(v.name) C=\(C) bias=\(bias): row \(t) alone differs from row \(t) of T=37")
                    }
                    // T = 4 and T = 2 batches (other tile heights) starting at row 33
                    for rows in [2, 3, 4] {
                        let part = p.run(T: rows, inputRow: 33) { v.kernel($0, 0..<OC) }
                        XCTAssertTrue(bitIdentical(part, Array(batch[(33 * OC)..<((33 + rows) * OC)])),
                                      "\(v.name) C=\(C): rows 33..<\(33 + rows) as a T=\(rows) call differ")
                    }
                    for cuts in [[0, 1, OC], [0, 5, 19, 32, OC], [0, 13, 45, OC - 1, OC], [0, 32, 64, OC]].map({ $0.map { min($0, OC) }.sorted() }) {
                        let pieces = p.run { a in
                            for (lo, hi) in zip(cuts, cuts.dropFirst()) { v.kernel(a, lo..<hi) }
                        }
                        XCTAssertTrue(bitIdentical(pieces, batch), "\(v.name) C=\(C): columns split at \(cuts) differ")
                    }
                }
            }
        }
    }

    /// The decode path (T = 1, four panels at a time) with odd column ranges against rows of a batch.
    func testDecodeRowsWithOddColumnRanges() {
        let p = MatmulProblem(T: 9, C: 45, OC: 300, extraRows: 20, seed: 21)
        for v in MatmulVariants.all where v.name != "blas" {
            v.prepare(p.weight)
            let batch = p.run { v.kernel($0, 0..<300) }
            for t in [0, 4, 8] {
                for cuts in [[0, 300], [0, 5, 37, 160, 290, 300], [0, 128, 129, 300], [0, 31, 33, 95, 97, 300]] {
                    let row = p.run(T: 1, inputRow: t) { a in
                        for (lo, hi) in zip(cuts, cuts.dropFirst()) { v.kernel(a, lo..<hi) }
                    }
                    XCTAssertTrue(bitIdentical(row, Array(batch[(t * 300)..<((t + 1) * 300)])),
                                  "\(v.name): row \(t) decoded with columns cut at \(cuts) differs from the batch")
                }
            }
        }
    }

    /// The engine's way (`split`) with pools of 1, 2 and 3 workers: bit-identical to one call for the
    /// deterministic variants; within the tolerance for blas (OpenBLAS's own threads).
    func testSplitAcrossPools() {
        let pools = [1, 2, 3].map { WorkerPool(count: $0) }
        for (T, C, OC, extra) in [(37, 67, 33, 7), (7, 130, 300, 0), (1, 64, 1000, 0), (64, 96, 257, 0)] {
            let p = MatmulProblem(T: T, C: C, OC: OC, extraRows: extra, seed: 5)
            let ref = p.run { MatmulVariants.reference.kernel($0, 0..<OC) }
            for v in MatmulVariants.all {
                v.prepare(p.weight)
                let single = p.run { v.kernel($0, 0..<OC) }
                for pool in pools {
                    let split = p.run { v.split($0, pool: pool) }
                    let direct = p.run { v($0, pool: pool) }
                    if v.name == "blas" {
                        assertClose(split, ref, p, T: T, "blas split over \(pool.count)")
                        assertClose(direct, ref, p, T: T, "blas called with a pool of \(pool.count)")
                    } else {
                        XCTAssertTrue(bitIdentical(split, single), "\(v.name) T=\(T) OC=\(OC): split over \(pool.count) workers differs")
                        XCTAssertTrue(bitIdentical(direct, single), "\(v.name) T=\(T) OC=\(OC): called with \(pool.count) workers differs")
                    }
                }
            }
        }
    }

    func testPanelLayout() {
        let rows = 35, C = 3
        let w = (0..<(rows * C)).map { Float($0) }
        var packed = [Float](repeating: -1, count: packedPanelCount(rows: rows, C: C))
        XCTAssertEqual(packed.count, 64 * C)
        w.withUnsafeBufferPointer { src in
            packed.withUnsafeMutableBufferPointer { packWeightPanels($0.baseAddress!, src.baseAddress!, rows: rows, C: C) }
        }
        for p in 0..<2 {
            for k in 0..<C {
                for j in 0..<32 {
                    let o = p * 32 + j
                    XCTAssertEqual(packed[p * C * 32 + k * 32 + j], o < rows ? w[o * C + k] : 0, "panel \(p) k \(k) lane \(j)")
                }
            }
        }
    }

    /// A direct call of `tiled` without `prepare` packs on first use (and gives the same bits as after prepare).
    func testTiledWithoutPrepare() {
        let p = MatmulProblem(T: 3, C: 20, OC: 40)
        let v = MatmulVariants.named("tiled")!
        let first = p.run { v.kernel($0, 0..<40) }
        v.prepare(p.weight)
        let second = p.run { v.kernel($0, 0..<40) }
        XCTAssertTrue(bitIdentical(first, second))
        XCTAssertFalse(first.contains { $0.isNaN })
    }

    func testVariantsShareOnePackedCopy() {
        let p = MatmulProblem(T: 1, C: 8, OC: 40)
        MatmulVariants.named("tiled")!.prepare(p.weight)
        let a = p.weight.existingPacked(MatmulVariants.panelKey)
        MatmulVariants.named("threaded")!.prepare(p.weight)
        XCTAssertEqual(a, p.weight.existingPacked(MatmulVariants.panelKey))
        XCTAssertNil(p.weight.existingPacked("no such key"))
    }
}
