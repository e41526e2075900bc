// One variant on one problem, the way the Lab checks and times it: matmul and attention become the same
// thing (a spec, a correctness check, a timed call), so compare, tune and `kernels --time` have one path for
// both kernels.
import Bench
import Kernels

/// How a variant is run when it is checked and timed.
public enum KernelWay: String, Codable, Sendable {
    /// `runStandalone`: across the pool only for variants that use it (compare, the gate, `kernels --time`).
    case standalone
    /// `run(_:on:)`: split across every worker of the pool, as inside the engine (tune, `kernels --time --split`).
    case engine
}

/// A variant on a problem: its correctness check against the reference and one timed call.
public struct KernelCase {
    /// "matmul:tiled".
    public var spec: String
    /// The variant's name alone ("tiled").
    public var name: String
    /// Workers the call uses (1 for variants that stay on the calling thread).
    public var threads: Int
    /// The largest normalised error allowed (the variant's `tolerance`).
    public var tolerance: Double
    /// Runs the variant once into a NaN-filled output and returns its error against the reference.
    public var check: () -> KernelError
    /// One call, as timed (with cold weights, each call on the next weight copy).
    public var call: () -> Void
    /// Weight bytes one call reads when they are not the problem's fp32 bytes (a weight format's: bf16, q8, q4).
    public var weightBytes: Double?

    public init(spec: String, name: String, threads: Int, tolerance: Double,
                check: @escaping () -> KernelError, call: @escaping () -> Void) {
        self.spec = spec; self.name = name; self.threads = threads; self.tolerance = tolerance
        self.check = check; self.call = call
    }

    /// `v` on `p`, run `way` on `pool`; timed calls take their weight from `weights` when given (which must be
    /// copies of `p.weight`), else they reuse `p.weight` (cache-resident: only for compute-bound timings).
    public static func matmul(_ v: MatmulVariant, on p: MatmulProblem, pool: WorkerPool, way: KernelWay,
                              weights: ColdWeights?) -> KernelCase {
        v.prepare(p.weight)
        weights?.prepare(v)
        let run: (MatmulArgs) -> Void = way == .engine ? { v.run($0, on: pool) } : { v.runStandalone($0, pool: pool) }
        let threads = way == .engine || v.standaloneOnPool ? pool.count : 1
        let args = p.args()
        var c = KernelCase(spec: "matmul:\(v.name)", name: v.name, threads: threads, tolerance: v.tolerance,
                           check: { p.check(run) },
                           call: {
                               guard let weights else { return run(args) }
                               var a = args
                               a.weight = weights.next()
                               run(a)
                           })
        if v.isLossy { c.weightBytes = Double(v.weightBytes(rows: p.OC, cols: p.C)) }
        return c
    }

    /// `v` on `p`, run `way` on `pool` (the KV cache is small enough to stay in the caches in the engine too).
    public static func attention(_ v: AttentionVariant, on p: AttentionProblem, pool: WorkerPool, way: KernelWay) -> KernelCase {
        precondition(pool.count <= p.workers, "the problem has scratch rows for \(p.workers) workers")
        let run: (AttentionArgs) -> Void = way == .engine ? { v.run($0, on: pool) } : { v.runStandalone($0, pool: pool) }
        let threads = way == .engine || v.standaloneOnPool ? pool.count : 1
        let args = p.args()
        return KernelCase(spec: "attention:\(v.name)", name: v.name, threads: threads, tolerance: v.tolerance,
                          check: { p.check(run) }, call: { run(args) })
    }
}

/// What one call of a kernel problem does: for the rates and the report's title.
public struct KernelWork: Codable, Equatable, Sendable {
    /// "matmul" or "attention".
    public var kind: String
    /// T, C, OC (matmul) or T, C, NH, pos0 (attention).
    public var shape: [String: Int]
    /// The 124M model's matmul site the shape is, if any.
    public var site: String?
    public var flops: Double
    /// Weight bytes read per call (nil: attention, which reads no weights).
    public var weightBytes: Double?
    /// How the weights were kept out of the caches (nil: not cycled).
    public var weights: WeightStreaming?

    public init(kind: String, shape: [String: Int], site: String?, flops: Double, weightBytes: Double?, weights: WeightStreaming?) {
        self.kind = kind; self.shape = shape; self.site = site; self.flops = flops; self.weightBytes = weightBytes; self.weights = weights
    }

    /// "matmul fc T=1 C=768 OC=3072 (0.00472 GFLOP, weights 9.0 MiB)".
    public var title: String {
        let s = shape
        switch kind {
        case "matmul":
            return "matmul \(site.map { "\($0) " } ?? "")T=\(s["T"] ?? 0) C=\(s["C"] ?? 0) OC=\(s["OC"] ?? 0) (\(String(format: "%.3g", flops / 1e9)) GFLOP, weights \(mebibytes(weightBytes ?? 0)))"
        default:
            return "attention T=\(s["T"] ?? 0) C=\(s["C"] ?? 0) NH=\(s["NH"] ?? 0) pos0=\(s["pos0"] ?? 0) (\(String(format: "%.3g", flops / 1e9)) GFLOP)"
        }
    }

    public static func matmul(_ p: MatmulProblem, site: String?, weights: ColdWeights?) -> KernelWork {
        KernelWork(kind: "matmul", shape: ["T": p.T, "C": p.C, "OC": p.OC], site: site, flops: p.flops,
                   weightBytes: p.weightBytes, weights: weights?.streaming)
    }

    public static func attention(_ p: AttentionProblem) -> KernelWork {
        KernelWork(kind: "attention", shape: ["T": p.T, "C": p.C, "NH": p.NH, "pos0": p.pos0], site: nil,
                   flops: p.flops, weightBytes: nil, weights: nil)
    }
}
