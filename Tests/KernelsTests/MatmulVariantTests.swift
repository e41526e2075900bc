import Experiments
import XCTest
@testable import Kernels

/// Every registered matmul variant (the experiments too) against `naive`, on shapes that are not multiples
/// of 16 or of the 8x32 tile, with and without bias, with OC < weight rows (the lm-head); the determinism rule
/// for the variants whose `bitReproducible` trait claims it; pool splitting.
final class MatmulVariantTests: XCTestCase {
    override func setUp() { Experiments.register() }

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
        let deterministic = MatmulVariants.all.filter(\.bitReproducible)
        for (C, OC, extra) in [(67, 33, 7), (768, 100, 0), (36, 64, 0)] {
            for bias in [true, false] {
                let p = MatmulProblem(T: 37, C: C, OC: OC, extraRows: extra, bias: bias, seed: 11)
                for v in deterministic {
                    v.prepare(p.weight)
                    let batch = p.run { v.kernel($0, 0..<OC) }
                    // `threaded` has one order below T = 16 and tiled's from 16 on: rows alone and short
                    // batches are compared with a T = 15 batch, and batches of >= 16 rows with T = 37
                    let twoOrders = v.name == "threaded"
                    let short = twoOrders ? p.run(T: 15) { v.kernel($0, 0..<OC) } : batch
                    for t in [0, 5, 8, 14] + (twoOrders ? [] : [31, 32, 36]) {
                        let alone = p.run(T: 1, inputRow: t) { v.kernel($0, 0..<OC) }
                        XCTAssertTrue(bitIdentical(alone, Array(short[(t * OC)..<((t + 1) * OC)])),
                                      "\(v.name) C=\(C) bias=\(bias): row \(t) alone differs from row \(t) of a batch")
                    }
                    // T = 2, 3, 4 batches (other tile heights) starting at row 11 (33 for one-order variants)
                    let at = twoOrders ? 11 : 33
                    for rows in [2, 3, 4] {
                        let part = p.run(T: rows, inputRow: at) { v.kernel($0, 0..<OC) }
                        XCTAssertTrue(bitIdentical(part, Array(short[(at * OC)..<((at + rows) * OC)])),
                                      "\(v.name) C=\(C): rows \(at)..<\(at + rows) as a T=\(rows) call differ")
                    }
                    if twoOrders {
                        for (from, rows) in [(16, 21), (5, 16), (1, 33)] {
                            let part = p.run(T: rows, inputRow: from) { v.kernel($0, 0..<OC) }
                            XCTAssertTrue(bitIdentical(part, Array(batch[(from * OC)..<((from + rows) * OC)])),
                                          "threaded C=\(C): rows \(from)..<\(from + rows) as a T=\(rows) call differ from T=37")
                        }
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
        for v in MatmulVariants.all where v.bitReproducible {
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

    /// The engine's way (`run(_:on:)`: chunks of columns taken from a shared counter) with pools of 1, 2, 3 and 5
    /// workers: bit-identical to one call for the deterministic variants; within the tolerance for blas
    /// (OpenBLAS's own threads).
    func testSplitAcrossPools() {
        let pools = [1, 2, 3, 5].map { WorkerPool(count: $0) }
        for (T, C, OC, extra) in [(37, 67, 33, 7), (7, 130, 300, 0), (1, 64, 1000, 0), (64, 96, 257, 0), (20, 48, 700, 3), (2, 768, 96, 0)] {
            let p = MatmulProblem(T: T, C: C, OC: OC, extraRows: extra, seed: 5)
            let ref = p.run { MatmulVariants.reference.kernel($0, 0..<OC) }
            for v in MatmulVariants.all {
                v.prepare(p.weight)
                let single = p.run { v.kernel($0, 0..<OC) }
                for pool in pools {
                    let split = p.run { v.run($0, on: pool) }
                    let direct = p.run { v.runStandalone($0, pool: pool) }
                    if !v.bitReproducible {
                        assertClose(split, ref, p, T: T, "\(v.name) split over \(pool.count)")
                        assertClose(direct, ref, p, T: T, "\(v.name) called with a pool of \(pool.count)")
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

    /// `tiled` packs a copy of the weight once; `threaded` (the engine default) reads the row-major weight
    /// itself and makes no copy, in `prepare` or in a call.
    func testOnlyTiledMakesAPackedCopy() {
        let p = MatmulProblem(T: 20, C: 8, OC: 40)
        let threaded = MatmulVariants.named("threaded")!
        threaded.prepare(p.weight)
        _ = p.run { threaded.kernel($0, 0..<40) }
        _ = p.run(T: 1) { threaded.kernel($0, 0..<40) }
        XCTAssertNil(p.weight.existingPacked(MatmulVariants.panelKey))
        MatmulVariants.named("tiled")!.prepare(p.weight)
        XCTAssertNotNil(p.weight.existingPacked(MatmulVariants.panelKey))
        XCTAssertNil(p.weight.existingPacked("no such key"))
    }

    /// The dot order of `threaded` (MatmulSIMD.swift), written out lane by lane: lane j is the FMA chain over
    /// k = j, j+16, ... (zero-padded past C), then horizontalSum's tree, then + bias.
    static func dotOrderReference(_ p: MatmulProblem, T: Int) -> [Float] {
        var out = [Float](repeating: 0, count: T * p.OC)
        for t in 0..<T {
            for o in 0..<p.OC {
                var lanes = [Float](repeating: 0, count: 16)
                var k = 0
                while k < p.C {
                    for j in 0..<16 {
                        let x: Float = k + j < p.C ? p.inp[t * p.C + k + j] : 0
                        let w: Float = k + j < p.C ? p.weight.data[o * p.C + k + j] : 0
                        lanes[j] = lanes[j].addingProduct(x, w)
                    }
                    k += 16
                }
                let a = (0..<8).map { lanes[$0] + lanes[$0 + 8] }
                let b = (0..<4).map { a[$0] + a[$0 + 4] }
                let c = (0..<2).map { b[$0] + b[$0 + 2] }
                let sum = c[0] + c[1]
                out[t * p.OC + o] = p.bias.map { sum + $0[o] } ?? sum
            }
        }
        return out
    }

    /// `threaded` computes exactly the dot order above below T = 16 (decode tiles, 2x8 tiles with the joint
    /// reduction, channel blocks past 768) and exactly `tiled`'s chains from T = 16 on (the transposed-input
    /// tiles), for C and OC not multiples of 16, odd column cuts, with and without bias.
    func testThreadedComputesItsTwoOrdersBitForBit() {
        let threaded = MatmulVariants.named("threaded")!, tiled = MatmulVariants.named("tiled")!
        for (C, OC, extra) in [(67, 33, 7), (16, 32, 0), (48, 70, 0), (130, 97, 3), (1, 40, 0), (768, 24, 0), (1541, 19, 3), (1600, 16, 0)] {
            for bias in [true, false] {
                let p = MatmulProblem(T: 70, C: C, OC: OC, extraRows: extra, bias: bias, seed: UInt64(C * 7 + OC))
                tiled.prepare(p.weight)
                for T in [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 64, 65, 70] where C < 1000 || [1, 2, 3, 15, 16, 64, 65].contains(T) {
                    let ref = T < matmulWideRows ? Self.dotOrderReference(p, T: T) : p.run(T: T) { tiled.kernel($0, 0..<OC) }
                    let got = p.run(T: T) { threaded.kernel($0, 0..<OC) }
                    XCTAssertTrue(bitIdentical(got, ref), "T=\(T) C=\(C) OC=\(OC) bias=\(bias): threaded differs from its \(T < matmulWideRows ? "dot order" : "tiled order")")
                    if T == 17 || T == 3 {
                        let cuts = [0, 1, 9, 16, 17, 33, OC].map { min($0, OC) }.sorted()
                        let pieces = p.run(T: T) { a in for (lo, hi) in zip(cuts, cuts.dropFirst()) { threaded.kernel(a, lo..<hi) } }
                        XCTAssertTrue(bitIdentical(pieces, ref), "T=\(T) C=\(C): threaded with columns cut at \(cuts) differs")
                    }
                }
            }
        }
    }

    /// reduce16 is sixteen horizontalSums at once, bit for bit, with lane L = vector L/4 + 4(L%4).
    func testJointReductionIsSixteenHorizontalSums() {
        let v = (0..<16).map { i in SIMD16<Float>(randomFloats(16, seed: UInt64(100 + i), scale: 1000)) }
        let r = reduce16(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15])
        for L in 0..<16 {
            XCTAssertEqual(r[L].bitPattern, horizontalSum(v[L / 4 + 4 * (L % 4)]).bitPattern, "lane \(L)")
        }
    }

    /// The transposed input (T >= 16) is cached per thread and per pool job: a second call on the same input
    /// buffer with new contents (the engine reuses its buffers every layer) must see the new contents, in a
    /// pool job and in direct calls.
    func testThreadedSeesNewInputInTheSameBuffer() {
        let threaded = MatmulVariants.named("threaded")!
        let T = 40, C = 48, OC = 200
        let w = WeightMatrix(copying: randomFloats(OC * C, seed: 3), rows: OC, cols: C)
        let inputs = [randomFloats(T * C, seed: 4), randomFloats(T * C, seed: 5)]
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: T * C)
        defer { buffer.deallocate() }
        func call(_ pool: WorkerPool?) -> [Float] {
            var out = [Float](repeating: .nan, count: T * OC)
            out.withUnsafeMutableBufferPointer { o in
                let a = MatmulArgs(out: o.baseAddress!, inp: buffer, weight: w, bias: nil, T: T)
                if let pool { threaded.run(a, on: pool) } else { threaded.kernel(a, 0..<OC) }
            }
            return out
        }
        var expected: [[Float]] = []
        for x in inputs { buffer.update(from: x, count: T * C); expected.append(call(nil)) }
        XCTAssertFalse(bitIdentical(expected[0], expected[1]))
        for k in [1, 2, 3] {
            let pool = WorkerPool(count: k)
            for round in 0..<4 {
                buffer.update(from: inputs[round % 2], count: T * C)
                XCTAssertTrue(bitIdentical(call(pool), expected[round % 2]), "pool \(k) round \(round)")
                XCTAssertTrue(bitIdentical(call(nil), expected[round % 2]), "direct, round \(round)")
            }
        }
    }
}
