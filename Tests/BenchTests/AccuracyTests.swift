import Bench
import Foundation
import XCTest

/// The logit-accuracy metrics against hand-computed cases.
final class AccuracyTests: XCTestCase {
    func testIdenticalLogitsAreExact() {
        let r: [Float] = [1, 2, 3, -1, 0.5, 0.5]
        let a = LogitAccuracy(reference: r, candidate: r, vocabulary: 3)
        XCTAssertEqual(a.positions, 2)
        XCTAssertEqual(a.vocabulary, 3)
        XCTAssertEqual(a.maxAbsDiff, 0)
        XCTAssertEqual(a.relativeRMS, 0)
        XCTAssertEqual(a.top1Agreement, 1)
        XCTAssertEqual(a.meanKL, 0, accuracy: 1e-15)
        XCTAssertEqual(a.maxKL, 0, accuracy: 1e-15)
    }

    func testHandComputedCase() {
        // position 0: reference [0, 0] (p = 1/2, 1/2), candidate [log 3, 0] (q = 3/4, 1/4)
        // position 1: reference [1, 2], candidate [1, 2.5]
        let r: [Float] = [0, 0, 1, 2]
        let c: [Float] = [Float(log(3.0)), 0, 1, 2.5]
        let a = LogitAccuracy(reference: r, candidate: c, vocabulary: 2)
        XCTAssertEqual(a.maxAbsDiff, log(3.0), accuracy: 1e-6)
        let e2 = pow(Double(Float(log(3.0))), 2) + 0.25
        XCTAssertEqual(a.relativeRMS, (e2 / 5).squareRoot(), accuracy: 1e-7)
        // position 0: argmax ties -> index 0 for the reference, 0 for the candidate: agree; position 1: 1 and 1
        XCTAssertEqual(a.top1Agreement, 1)
        // KL(p || q) = 1/2 log((1/2)/(3/4)) + 1/2 log((1/2)/(1/4)) = 1/2 log(4/3)
        let kl0 = 0.5 * log(4.0 / 3.0)
        // position 1: p = softmax(1, 2), q = softmax(1, 2.5)
        let p = [exp(1.0), exp(2.0)].map { $0 / (exp(1.0) + exp(2.0)) }
        let q = [exp(1.0), exp(2.5)].map { $0 / (exp(1.0) + exp(2.5)) }
        let kl1 = p[0] * log(p[0] / q[0]) + p[1] * log(p[1] / q[1])
        XCTAssertEqual(a.meanKL, (kl0 + kl1) / 2, accuracy: 1e-7)
        XCTAssertEqual(a.maxKL, max(kl0, kl1), accuracy: 1e-7)
        XCTAssertEqual(Accuracy.klDivergence(logitsP: [0, 0], logitsQ: [Float(log(3.0)), 0]), kl0, accuracy: 1e-7)
    }

    func testTopOneDisagreementAndTies() {
        let r: [Float] = [1, 3, 2, 5, 5, 0, 0, 0, 1]
        let c: [Float] = [1, 2, 3, 5, 5, 0, 1, 0, 0]
        let a = LogitAccuracy(reference: r, candidate: c, vocabulary: 3)
        // position 0: 1 vs 2 (disagree); position 1: tie 5,5 -> 0 vs 0 (agree); position 2: 2 vs 1 (disagree)
        XCTAssertEqual(a.top1Agreement, 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(Accuracy.argmax([Float.nan, 1, 2]), 2)
        XCTAssertEqual(Accuracy.argmax([4, 4, 4]), 0)
    }

    func testKLIsShiftInvariantNonNegativeAndStableForLargeLogits() {
        XCTAssertEqual(Accuracy.klDivergence(logitsP: [1, 2, 3], logitsQ: [101, 102, 103]), 0, accuracy: 1e-12)
        XCTAssertEqual(Accuracy.klDivergence(logitsP: [1000, 0], logitsQ: [0, 1000]), 1000, accuracy: 1e-6)
        XCTAssertGreaterThan(Accuracy.klDivergence(logitsP: [0, 1], logitsQ: [1, 0]), 0)
        XCTAssertEqual([-Float.infinity, -Float.infinity].withUnsafeBufferPointer { Accuracy.logSumExp($0) }, -.infinity)
        XCTAssertEqual(Accuracy.klDivergence(logitsP: [0, -Float.infinity], logitsQ: [0, 0]), log(2.0), accuracy: 1e-12, "P_j = 0 terms vanish")
    }

    func testGreedyAgreementPrefix() {
        XCTAssertEqual(Accuracy.agreementPrefix([1, 2, 3, 4], [1, 2, 5, 4]), 2)
        XCTAssertEqual(Accuracy.agreementPrefix([Int32](), [1]), 0)
        XCTAssertEqual(Accuracy.agreementPrefix([7, 8], [7, 8]), 2)
        XCTAssertEqual(Accuracy.agreementPrefix([7, 8, 9], [7, 8]), 2)
        XCTAssertEqual(Accuracy.agreementPrefix([3], [4]), 0)
    }

    func testZeroPositionsAndSummaryAndCodable() throws {
        let a = LogitAccuracy(reference: [], candidate: [], vocabulary: 4)
        XCTAssertEqual(a.positions, 0)
        XCTAssertEqual(a.top1Agreement, 1)
        XCTAssertEqual(a.meanKL, 0)
        let m = ModelAccuracy(logits: LogitAccuracy(reference: [0, 1], candidate: [0, 1.5], vocabulary: 2), greedyAgreement: 5, greedyCompared: 8)
        XCTAssertTrue(m.summary.contains("greedy tokens agree for 5 of 8"), m.summary)
        XCTAssertTrue(m.summary.contains("top-1 100.0% of 1"), m.summary)
        XCTAssertFalse(m.summary.contains("\n"))
        let back = try JSONDecoder().decode(ModelAccuracy.self, from: JSONEncoder().encode(m))
        XCTAssertEqual(back, m)
    }
}
