// Accuracy of a candidate's logits against a reference's (e.g. a quantized model against the f32 one), over
// plain float arrays: Bench knows nothing about models. Inputs are row-major [positions, V] logits of the same
// teacher-forced token sequence (position i = the distribution of token i + 1), and greedy token streams.
//
//   max |Δlogit|       max over every position and token of |candidate - reference|
//   relative RMS       sqrt(sum Δ^2 / sum reference^2) over every position and token
//   top-1 agreement    fraction of positions where both argmaxes (lowest index on ties) agree
//   KL                 KL(p_ref || p_cand) of the softmax distributions per position, in nats, mean and max
//   greedy agreement   tokens two greedy streams share before their first difference
//
// Softmax and KL are computed in Double with the max subtracted (log-sum-exp), so fp32 logits of any range
// are fine. Notes/formats.md states each weight format's figures and the tolerances the tests use.

import Foundation

/// Logit accuracy of a candidate against a reference over the same positions.
public struct LogitAccuracy: Codable, Equatable, Sendable {
    public var positions: Int
    public var vocabulary: Int
    public var maxAbsDiff: Double
    public var relativeRMS: Double
    public var top1Agreement: Double
    public var meanKL: Double
    public var maxKL: Double

    /// Compares `candidate` with `reference`, both row-major [positions, V] (V = `vocabulary`).
    public init(reference: [Float], candidate: [Float], vocabulary V: Int) {
        precondition(V > 0 && reference.count == candidate.count && reference.count % V == 0,
                     "LogitAccuracy: both arrays must be [positions, \(V)]")
        let n = reference.count / V
        positions = n; vocabulary = V
        var maxAbs = 0.0, e2 = 0.0, r2 = 0.0, agree = 0, klSum = 0.0, klMax = 0.0
        reference.withUnsafeBufferPointer { r in
            candidate.withUnsafeBufferPointer { c in
                for i in 0..<n {
                    let rr = UnsafeBufferPointer(rebasing: r[(i * V)..<((i + 1) * V)])
                    let cc = UnsafeBufferPointer(rebasing: c[(i * V)..<((i + 1) * V)])
                    for j in 0..<V {
                        let d = Double(cc[j]) - Double(rr[j])
                        maxAbs = max(maxAbs, abs(d))
                        e2 += d * d
                        r2 += Double(rr[j]) * Double(rr[j])
                    }
                    if Accuracy.argmax(rr) == Accuracy.argmax(cc) { agree += 1 }
                    let kl = Accuracy.klDivergence(logitsP: rr, logitsQ: cc)
                    klSum += kl
                    klMax = max(klMax, kl)
                }
            }
        }
        maxAbsDiff = maxAbs
        relativeRMS = e2 == 0 ? 0 : (e2 / r2).squareRoot()
        top1Agreement = n == 0 ? 1 : Double(agree) / Double(n)
        meanKL = n == 0 ? 0 : klSum / Double(n)
        maxKL = klMax
    }

    /// One line for reports: `max|dlogit| 0.066, rel RMS 1.2e-2, top-1 98.4% of 64, KL mean 1.1e-4 max 9.0e-4 nats`.
    public var summary: String {
        String(format: "max|dlogit| %.3g, rel RMS %.2e, top-1 %.1f%% of %d, KL mean %.2e max %.2e nats",
               maxAbsDiff, relativeRMS, 100 * top1Agreement, positions, meanKL, maxKL)
    }
}

/// The accuracy figures of one candidate: logits over a teacher-forced sequence plus greedy agreement.
public struct ModelAccuracy: Codable, Equatable, Sendable {
    public var logits: LogitAccuracy
    /// Greedy tokens the candidate generated identically to the reference before the first difference.
    public var greedyAgreement: Int
    /// Greedy tokens compared (the agreement is at most this).
    public var greedyCompared: Int

    public init(logits: LogitAccuracy, greedyAgreement: Int, greedyCompared: Int) {
        self.logits = logits; self.greedyAgreement = greedyAgreement; self.greedyCompared = greedyCompared
    }

    public var summary: String { "\(logits.summary); greedy tokens agree for \(greedyAgreement) of \(greedyCompared)" }
}

/// The metric functions, one at a time.
public enum Accuracy {
    /// Index of the largest value (the first on ties; NaN never wins).
    public static func argmax(_ x: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<max(1, x.count) where x[i] > x[best] || (x[best].isNaN && !x[i].isNaN) { best = i }
        return best
    }
    public static func argmax(_ x: [Float]) -> Int { x.withUnsafeBufferPointer { argmax($0) } }

    /// log(sum_j exp(x_j)) in Double, max-subtracted.
    public static func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Double {
        var m = -Double.infinity
        for v in x { m = max(m, Double(v)) }
        if m == -.infinity { return m }
        var s = 0.0
        for v in x { s += Foundation.exp(Double(v) - m) }
        return m + Foundation.log(s)
    }

    /// KL(softmax(p) || softmax(q)) = sum_j P_j (log P_j - log Q_j), in nats, from logits (>= 0; 0 iff equal up
    /// to a constant shift).
    public static func klDivergence(logitsP p: UnsafeBufferPointer<Float>, logitsQ q: UnsafeBufferPointer<Float>) -> Double {
        precondition(p.count == q.count)
        let lp = logSumExp(p), lq = logSumExp(q)
        var kl = 0.0
        for j in 0..<p.count {
            let a = Double(p[j]) - lp, b = Double(q[j]) - lq
            let pj = Foundation.exp(a)
            if pj > 0 { kl += pj * (a - b) }
        }
        return max(0, kl)
    }
    public static func klDivergence(logitsP p: [Float], logitsQ q: [Float]) -> Double {
        p.withUnsafeBufferPointer { pp in q.withUnsafeBufferPointer { klDivergence(logitsP: pp, logitsQ: $0) } }
    }

    /// Length of the common prefix of two token streams (the greedy tokens agreeing before the first divergence).
    public static func agreementPrefix<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
        var n = 0
        while n < a.count && n < b.count && a[n] == b[n] { n += 1 }
        return n
    }
}
