import Foundation
import GPT2
import Kernels

// The problems the Lab checks and times variants on: random inputs in [-1, 1) from a seed (SplitMix64), the
// reference variant's output, and the one correctness check (`KernelError` against the reference).

/// A matmul problem with random inputs (fixed seed) and the reference output, owning its buffers:
/// what `compare`, `tune`, `kernels --time` and `gate` check a variant against before they time it.
public final class MatmulProblem {
    public let T: Int, C: Int, OC: Int
    public let inp: UnsafeMutablePointer<Float>
    public let bias: UnsafeMutablePointer<Float>
    public let weight: WeightMatrix
    /// naive's output.
    public let reference: UnsafeMutablePointer<Float>
    public let out: UnsafeMutablePointer<Float>
    private let weightData: UnsafeMutablePointer<Float>

    public init(T: Int, C: Int, OC: Int, seed: UInt64 = 1) {
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

    public func args(_ o: UnsafeMutablePointer<Float>? = nil) -> MatmulArgs {
        MatmulArgs(out: o ?? out, inp: inp, weight: weight, bias: bias, T: T, OC: OC)
    }
    public var flops: Double { args().flops }
    /// Bytes of the weight one call reads (OC rows of C floats).
    public var weightBytes: Double { Double(OC * C * MemoryLayout<Float>.size) }

    /// Runs `v` the engine's way (columns split across `pool`) into a NaN-filled output and returns its errors.
    public func check(_ v: MatmulVariant, pool: WorkerPool) -> KernelError {
        v.prepare(weight)
        return check { v.run($0, on: pool) }
    }

    /// Runs `body` into a NaN-filled output and returns its errors against the reference.
    public func check(_ body: (MatmulArgs) -> Void) -> KernelError {
        out.initialize(repeating: .nan, count: T * OC)
        body(args())
        return KernelError(out, reference, count: T * OC)
    }
}

/// An attention problem with a random KV cache (fixed seed) and the reference output.
public final class AttentionProblem {
    public let T: Int, C: Int, NH: Int, pos0: Int
    public let qkv: UnsafeMutablePointer<Float>
    public let scratch: UnsafeMutablePointer<Float>
    public let reference: UnsafeMutablePointer<Float>
    public let out: UnsafeMutablePointer<Float>
    public let workers: Int

    public init(T: Int, C: Int, NH: Int, pos0: Int, workers: Int, seed: UInt64 = 1) {
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

    public func args(_ o: UnsafeMutablePointer<Float>? = nil) -> AttentionArgs {
        AttentionArgs(out: o ?? out, qkv: qkv, pos0: pos0, T: T, C: C, NH: NH, scratch: scratch, scratchStride: pos0 + T)
    }
    public var flops: Double { args().flops }

    /// Runs `v` the engine's way (items split across `pool`) into a NaN-filled output and returns its errors.
    public func check(_ v: AttentionVariant, pool: WorkerPool) -> KernelError {
        precondition(pool.count <= workers)
        return check { v.run($0, on: pool) }
    }

    /// Runs `body` into a NaN-filled output and returns its errors against the reference.
    public func check(_ body: (AttentionArgs) -> Void) -> KernelError {
        out.initialize(repeating: .nan, count: T * C)
        body(args())
        return KernelError(out, reference, count: T * C)
    }
}

/// `count` floats uniform in [-1, 1) (caller deallocates).
public func randomUniform(_ count: Int, _ rng: inout SplitMix64) -> UnsafeMutablePointer<Float> {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
    for i in 0..<count { p[i] = Float(rng.nextUniform() * 2 - 1) }
    return p
}
