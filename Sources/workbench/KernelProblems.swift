import Foundation
import GPT2
import Kernels

/// A matmul problem with random inputs (fixed seed) and the reference output, owning its buffers:
/// what `compare`, `tune` and `gate` check a variant against before they time it.
final class MatmulProblem {
    let T: Int, C: Int, OC: Int
    let inp: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>
    let weight: WeightMatrix
    /// naive's output.
    let reference: UnsafeMutablePointer<Float>
    let out: UnsafeMutablePointer<Float>
    private let weightData: UnsafeMutablePointer<Float>

    init(T: Int, C: Int, OC: Int, seed: UInt64 = 1) {
        self.T = T; self.C = C; self.OC = OC
        var rng = SplitMix64(seed: seed)
        inp = randomUniform(T * C, &rng)
        weightData = randomUniform(OC * C, &rng)
        bias = randomUniform(OC, &rng)
        weight = WeightMatrix(data: weightData, rows: OC, cols: C)
        reference = .allocate(capacity: max(1, T * OC))
        out = .allocate(capacity: max(1, T * OC))
        MatmulVariants.reference.kernel(args(reference), 0..<OC)
    }
    deinit { for p in [inp, bias, reference, out, weightData] { p.deallocate() } }

    func args(_ o: UnsafeMutablePointer<Float>? = nil) -> MatmulArgs {
        MatmulArgs(out: o ?? out, inp: inp, weight: weight, bias: bias, T: T, OC: OC)
    }
    var flops: Double { args().flops }
    var weightBytes: Double { Double(OC * C * MemoryLayout<Float>.size) }

    /// Runs `v` the engine's way (columns split across `pool`) into a NaN-filled output and returns its errors.
    func check(_ v: MatmulVariant, pool: WorkerPool) -> KernelErrors {
        v.prepare(weight)
        return check { v.split($0, pool: pool) }
    }

    /// Runs `body` into a NaN-filled output and returns its errors; `perturb` is added to the first output
    /// element before the comparison (how tests exercise the WRONG path).
    func check(perturb: Float? = nil, _ body: (MatmulArgs) -> Void) -> KernelErrors {
        out.initialize(repeating: .nan, count: T * OC)
        body(args())
        if let perturb { out[0] += perturb }
        return KernelErrors(out, reference, count: T * OC)
    }
}

/// An attention problem with a random KV cache (fixed seed) and the reference output.
final class AttentionProblem {
    let T: Int, C: Int, NH: Int, pos0: Int
    let qkv: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>
    let reference: UnsafeMutablePointer<Float>
    let out: UnsafeMutablePointer<Float>
    let workers: Int

    init(T: Int, C: Int, NH: Int, pos0: Int, workers: Int, seed: UInt64 = 1) {
        self.T = T; self.C = C; self.NH = NH; self.pos0 = pos0; self.workers = max(1, workers)
        var rng = SplitMix64(seed: seed)
        qkv = randomUniform((pos0 + T) * 3 * C, &rng)
        scratch = .allocate(capacity: self.workers * (pos0 + T))
        scratch.initialize(repeating: 0, count: self.workers * (pos0 + T))
        reference = .allocate(capacity: max(1, T * C))
        out = .allocate(capacity: max(1, T * C))
        AttentionVariants.reference.kernel(args(reference), 0..<(T * NH), 0)
    }
    deinit { for p in [qkv, scratch, reference, out] { p.deallocate() } }

    func args(_ o: UnsafeMutablePointer<Float>? = nil) -> AttentionArgs {
        AttentionArgs(out: o ?? out, qkv: qkv, pos0: pos0, T: T, C: C, NH: NH, scratch: scratch, scratchStride: pos0 + T)
    }
    var flops: Double { args().flops }

    /// Runs `v` the engine's way (items split across `pool`) into a NaN-filled output and returns its errors.
    func check(_ v: AttentionVariant, pool: WorkerPool) -> KernelErrors {
        precondition(pool.count <= workers)
        return check { v.split($0, pool: pool) }
    }

    /// Runs `body` into a NaN-filled output and returns its errors (`perturb` as for matmul).
    func check(perturb: Float? = nil, _ body: (AttentionArgs) -> Void) -> KernelErrors {
        out.initialize(repeating: .nan, count: T * C)
        body(args())
        if let perturb { out[0] += perturb }
        return KernelErrors(out, reference, count: T * C)
    }
}

/// How far a variant's output is from the reference's.
struct KernelErrors: Codable {
    /// max |x - ref|
    var maxAbs: Double
    /// max |x - ref| / (1 + |ref|)
    var maxRel: Double
    /// sqrt(sum (x - ref)^2 / sum ref^2): what the lossy (weight-format) variants are held to.
    var normalised: Double
    /// The tolerance every variant must meet on max |x - ref| / (1 + |ref|) for inputs in [-1, 1).
    static let tolerance = 1e-4

    init(_ x: UnsafePointer<Float>, _ ref: UnsafePointer<Float>, count: Int) {
        var a = 0.0, r = 0.0
        for i in 0..<count {
            let d = abs(Double(x[i]) - Double(ref[i]))
            if d.isNaN { a = .nan; r = .nan; break }
            a = max(a, d); r = max(r, d / (1 + abs(Double(ref[i]))))
        }
        maxAbs = a; maxRel = r
        normalised = normalisedError(x, ref, count: count)
    }
    var passes: Bool { maxRel <= KernelErrors.tolerance }  // false for NaN
    /// The check for matmul variant `v`: the rounding bound above, or its weight format's normalised error.
    func passes(_ v: MatmulVariant) -> Bool { v.withinTolerance(maxRel: maxRel, normalised: normalised, exactBound: KernelErrors.tolerance) }
}

/// `count` floats uniform in [-1, 1) (caller deallocates).
func randomUniform(_ count: Int, _ rng: inout SplitMix64) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
    for i in 0..<count { p[i] = Float(rng.nextUniform() * 2 - 1) }
    return p
}
