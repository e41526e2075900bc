import Experiments
import XCTest
@testable import Kernels

/// Every attention variant against `naive`; the KV-cache determinism rule (a row computed with pos0 = t,
/// T = 1 equals row t of one pos0 = 0 call, bit for bit); splitting across pools; scratch bounds.
///
/// Tolerance: max |out - naive| <= 1e-5. The outputs are convex combinations of values in [-2, 2); the
/// variants differ from naive only in rounding (sums in another order, exp16 within 1.2e-7 relative of
/// expf, division by the sum at the end instead of normalising the weights first), each contributing a
/// few ulps of |out| <= 2, i.e. ~1e-6 at most. A wrong key, head, scale or mask gives errors ~0.1-1.
final class AttentionVariantTests: XCTestCase {
    override func setUp() { Experiments.register() }

    static let tolerance: Float = 1e-5

    /// (C, NH): head sizes 12 (not a multiple of 16), 32, 64 (GPT-2's), 80 (64 + 16), 24 (16 + 8).
    static let shapes: [(Int, Int)] = [(36, 3), (64, 2), (128, 2), (80, 1), (48, 2)]

    func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { $0.isNaN || $1.isNaN ? .infinity : abs($0 - $1) }.max() ?? 0
    }

    func testEveryVariantMatchesNaive() {
        for (C, NH) in Self.shapes {
            for (pos0, T) in [(0, 1), (0, 7), (0, 37), (5, 1), (5, 7), (30, 37), (0, 100), (70, 3)] {
                let p = AttentionProblem(positions: pos0 + T, C: C, NH: NH, seed: UInt64(C + T))
                let ref = p.run(pos0: pos0, T: T) { AttentionVariants.reference.kernel($0, 0..<($0.items), 0) }.out
                XCTAssertFalse(ref.contains { $0.isNaN })
                for v in AttentionVariants.all {
                    let (got, intact) = p.run(pos0: pos0, T: T) { v.kernel($0, 0..<($0.items), 0) }
                    let err = maxAbsDiff(got, ref)
                    XCTAssertLessThanOrEqual(err, Self.tolerance, "\(v.name) C=\(C) NH=\(NH) pos0=\(pos0) T=\(T)")
                    XCTAssertTrue(intact, "\(v.name) wrote past its scratch row")
                }
            }
        }
    }

    /// A peaky softmax (scores up to ~±200): the online variant's rescaling must still agree with naive.
    /// Tolerance 5e-4: at |score| ~ 200 two summation orders of the 64-term q·k differ by a few ulps of 200
    /// (~1e-5 to 1e-4), which moves the softmax weights by that relative amount and the outputs (|v| < 2) by
    /// up to ~2e-4 (measured 6.4e-5 with these inputs); a wrong key, scale or mask still moves them by ~0.1-1.
    func testLargeScores() {
        let C = 64, NH = 1, T = 90
        var p = AttentionProblem(positions: T, C: C, NH: NH, seed: 3)
        p = AttentionProblem(positions: T, C: C, NH: NH, qkv: p.qkv.enumerated().map { i, x in
            // queries and keys x8, values unchanged; later keys grow so the running max keeps moving
            let col = i % (3 * C), row = i / (3 * C)
            return col < 2 * C ? x * 8 * (1 + Float(row) / 30) : x
        })
        let ref = p.run(pos0: 0, T: T) { AttentionVariants.reference.kernel($0, 0..<($0.items), 0) }.out
        for v in AttentionVariants.all {
            let got = p.run(pos0: 0, T: T) { v.kernel($0, 0..<($0.items), 0) }.out
            XCTAssertLessThanOrEqual(maxAbsDiff(got, ref), 5e-4, v.name)
        }
    }

    /// KV cache on or off must give the same bits: row t with pos0 = t, T = 1 (decode) equals row t of
    /// a pos0 = 0, T = t + 1 call (and of any other split of the positions into calls).
    func testKVCacheSplitsAreBitIdentical() {
        for (C, NH) in [(36, 3), (128, 2)] {
            let positions = 75
            let p = AttentionProblem(positions: positions, C: C, NH: NH, seed: 9)
            for v in AttentionVariants.all where v.bitReproducible {
                let full = p.run(pos0: 0, T: positions) { v.kernel($0, 0..<($0.items), 0) }.out
                for t in [0, 1, 15, 16, 31, 32, 33, 63, 64, 74] {
                    let alone = p.run(pos0: t, T: 1) { v.kernel($0, 0..<($0.items), 0) }.out
                    XCTAssertTrue(bitIdentical(alone, Array(full[(t * C)..<((t + 1) * C)])),
                                  "\(v.name) C=\(C): row \(t) decoded alone differs from the full call")
                }
                // prefill 0..<10, then 10..<47 in one call, then 47..<75
                var pieces: [Float] = []
                for (pos0, T) in [(0, 10), (10, 37), (47, 28)] {
                    pieces += p.run(pos0: pos0, T: T) { v.kernel($0, 0..<($0.items), 0) }.out
                }
                XCTAssertTrue(bitIdentical(pieces, full), "\(v.name) C=\(C): positions split into three calls differ")
            }
        }
    }

    /// Items done in any grouping, by any worker's scratch row, and split across pools of 1, 2, 3 workers.
    func testItemSplitsAndPools() {
        let pools = [1, 2, 3].map { WorkerPool(count: $0) }
        let (C, NH, pos0, T) = (48, 4, 6, 29)
        let p = AttentionProblem(positions: pos0 + T, C: C, NH: NH, seed: 4)
        for v in AttentionVariants.all {
            let single = p.run(pos0: pos0, T: T) { v.kernel($0, 0..<($0.items), 0) }.out
            // odd item ranges, each with a different worker's scratch row
            let cuts = [0, 1, 2, 7, 30, 31, 57, 100, T * NH]
            let pieces = p.run(pos0: pos0, T: T, workers: 3) { a in
                for (k, (lo, hi)) in zip(cuts, cuts.dropFirst()).enumerated() { v.kernel(a, lo..<hi, k % 3) }
            }
            XCTAssertTrue(pieces.guardIntact)
            guard v.bitReproducible else { continue }
            XCTAssertTrue(bitIdentical(pieces.out, single), "\(v.name): items in odd ranges differ")
            for pool in pools {
                let split = p.run(pos0: pos0, T: T, workers: pool.count) { v.run($0, on: pool) }
                XCTAssertTrue(bitIdentical(split.out, single), "\(v.name): split over \(pool.count) workers differs")
                XCTAssertTrue(split.guardIntact, "\(v.name): scratch overrun with \(pool.count) workers")
                let direct = p.run(pos0: pos0, T: T, workers: pool.count) { v.runStandalone($0, pool: pool) }
                XCTAssertTrue(bitIdentical(direct.out, single), "\(v.name): called with \(pool.count) workers differs")
            }
        }
    }

    /// The engine's split: contiguous ranges that cover every item once, each within one item's cost of
    /// an equal share of the keys attended (a first-half/second-half split would be 25% / 75% at pos0 = 0).
    func testBalancedItemRanges() {
        var dummy: Float = 0
        withUnsafeMutablePointer(to: &dummy) { p in
            for (pos0, T, NH) in [(0, 256, 12), (0, 1, 12), (100, 7, 3), (0, 2, 1), (5, 37, 4), (0, 3, 2)] {
                let a = AttentionArgs(out: p, qkv: p, pos0: pos0, T: T, C: NH, NH: NH, scratch: p, scratchStride: 1)
                let total = a.keysBefore(item: a.items)
                XCTAssertEqual(total, (0..<T).reduce(0) { $0 + NH * (pos0 + $1 + 1) })
                for nth in [1, 2, 3, 5] {
                    let ranges = (0..<nth).map { a.balancedItems(ith: $0, nth: nth) }
                    XCTAssertEqual(ranges.first!.lowerBound, 0)
                    XCTAssertEqual(ranges.last!.upperBound, a.items)
                    for (r, s) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(r.upperBound, s.lowerBound) }
                    for r in ranges {
                        let work = a.keysBefore(item: r.upperBound) - a.keysBefore(item: r.lowerBound)
                        XCTAssertLessThanOrEqual(work, total / nth + pos0 + T + 1, "pos0=\(pos0) T=\(T) nth=\(nth) \(r)")
                    }
                }
            }
        }
    }

    func testOnlyTheGivenItemsAreWritten() {
        let (C, NH, T) = (36, 3, 9)
        let p = AttentionProblem(positions: T, C: C, NH: NH)
        let hs = C / NH
        for v in AttentionVariants.all {
            let got = p.run(pos0: 0, T: T) { v.kernel($0, 4..<11, 0) }.out
            for i in 0..<T {
                for h in 0..<NH {
                    let item = i * NH + h
                    let written = got[(i * C + h * hs)..<(i * C + (h + 1) * hs)].allSatisfy { !$0.isNaN }
                    let untouched = got[(i * C + h * hs)..<(i * C + (h + 1) * hs)].allSatisfy { $0.isNaN }
                    XCTAssertTrue((4..<11).contains(item) ? written : untouched, "\(v.name): item \(item)")
                }
            }
        }
    }
}

extension AttentionProblem {
    init(positions: Int, C: Int, NH: Int, qkv: [Float]) {
        self.positions = positions; self.C = C; self.NH = NH; self.qkv = qkv
    }
}
