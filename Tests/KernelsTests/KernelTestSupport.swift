import Basics
import Kernels

/// Deterministic pseudo-random floats, uniform in [-scale, scale) (the project's one generator, SplitMix64).
func randomFloats(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in Float(rng.nextUniform() * 2 - 1) * scale }
}

/// One matmul problem: input [T, C], weight [rows, C] (rows >= OC, like the lm-head's Vp >= V), bias [OC] or nil.
struct MatmulProblem {
    let T: Int, C: Int, OC: Int, rows: Int
    let inp: [Float]
    let weight: WeightMatrix
    let bias: [Float]?

    init(T: Int, C: Int, OC: Int, extraRows: Int = 0, bias: Bool = true, seed: UInt64 = 1) {
        self.T = T; self.C = C; self.OC = OC; rows = OC + extraRows
        inp = randomFloats(T * C, seed: seed)
        weight = WeightMatrix(copying: randomFloats(rows * C, seed: seed + 1), rows: rows, cols: C)
        self.bias = bias ? randomFloats(OC, seed: seed + 2) : nil
    }

    /// Runs `body` with the arguments of this problem writing into a NaN-filled [T, OC] output, returns it.
    func run(T rowsToUse: Int? = nil, inputRow: Int = 0, _ body: (MatmulArgs) -> Void) -> [Float] {
        let t = rowsToUse ?? T
        var out = [Float](repeating: .nan, count: t * OC)
        let biasCopy = bias.map { b -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: b.count)
            p.initialize(from: b, count: b.count)
            return p
        }
        defer { biasCopy?.deallocate() }
        inp.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                body(MatmulArgs(out: o.baseAddress!, inp: x.baseAddress! + inputRow * C, weight: weight,
                                bias: biasCopy.map { UnsafePointer($0) }, T: t, OC: OC))
            }
        }
        return out
    }

    /// The bound on |variant - naive| for out[t, o]: both sums are within γ_C · Σ|terms| of the exact
    /// value whatever the summation order (Higham, Accuracy and Stability, eq. 3.5), γ_C ≈ C·u, u = 2^-24.
    /// So |a - b| <= 2·γ_(C+1)·(Σ_i |x_i w_i| + |b|); we allow 3·(C+1)·u·(...). A wrong index or a missing
    /// term gives an error of the order of one |x_i w_i| (~0.25 here), far above it.
    func tolerance(t: Int, o: Int) -> Float {
        var s = Double(abs(bias?[o] ?? 0))
        for i in 0..<C { s += Double(abs(inp[t * C + i] * weight.data[o * C + i])) }
        return Float(3 * Double(C + 1) * 0x1p-24 * s)
    }
}

/// One attention problem: qkv [pos0 + T, 3C] (values in [-2, 2), so the softmax is far from uniform).
struct AttentionProblem {
    let positions: Int, C: Int, NH: Int
    let qkv: [Float]

    init(positions: Int, C: Int, NH: Int, seed: UInt64 = 7) {
        self.positions = positions; self.C = C; self.NH = NH
        qkv = randomFloats(positions * 3 * C, seed: seed, scale: 2)
    }

    /// Runs `body` for query positions pos0..<pos0+T with `workers` scratch rows (NaN-filled, with a NaN
    /// guard after them that must survive); returns out [T, C] (NaN-filled before the call).
    func run(pos0: Int, T: Int, workers: Int = 1, _ body: (AttentionArgs) -> Void) -> (out: [Float], guardIntact: Bool) {
        let stride = pos0 + T
        var out = [Float](repeating: .nan, count: T * C)
        var scratch = [Float](repeating: .nan, count: workers * stride + 64)
        for i in (workers * stride)..<scratch.count { scratch[i] = 12345 }
        qkv.withUnsafeBufferPointer { q in
            out.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { s in
                    body(AttentionArgs(out: o.baseAddress!, qkv: q.baseAddress!, pos0: pos0, T: T, C: C, NH: NH,
                                       scratch: s.baseAddress!, scratchStride: stride))
                }
            }
        }
        let intact = scratch[(workers * stride)...].allSatisfy { $0 == 12345 }
        return (out, intact)
    }
}

/// Bitwise equality of two float arrays (NaN == NaN if the bits match; -0 != +0).
func bitIdentical(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}
