// Experiment: matmul `unrolled`, an example of a user's variant in one file. Try it:
//   workbench kernels                                     # listed after the built-in variants
//   workbench compare matmul:simd matmul:unrolled --shape fc --t 1
//   workbench run --matmul unrolled 31373 612
// It gets the whole variant test suite (Tests/KernelsTests iterate the registry with the experiments
// registered): against naive on odd shapes, column splits, pools, bit-reproducibility (its trait says yes).
import Kernels

/// out[t, o] = bias[o] + Σ_i inp[t, i] · weight[o, i] for o in `columns`: plain scalar code with the dot
/// product unrolled by four into four accumulators (added pairwise at the end), then the tail. The sum's
/// order depends only on C, so every element has the same bits whatever T and the column split.
/// out: [T, OC], inp: [T, C], weight: [>= OC, C] (row-major), bias: [OC] or nil.
public func matmulForwardUnrolled(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>
) {
    for t in 0..<T {
        let x = inp + t * C
        for o in columns {
            let w = weight + o * C
            var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
            var i = 0
            while i + 4 <= C {
                s0 += x[i] * w[i]; s1 += x[i + 1] * w[i + 1]
                s2 += x[i + 2] * w[i + 2]; s3 += x[i + 3] * w[i + 3]
                i += 4
            }
            var s = (s0 + s1) + (s2 + s3)
            while i < C { s += x[i] * w[i]; i += 1 }
            out[t * OC + o] = s + (bias?[o] ?? 0)
        }
    }
}

/// The registry entry (listed once in Experiments.swift).
public let matmulExampleUnrolled = MatmulVariant(
    name: "unrolled",
    summary: "experiment (Sources/Experiments/MatmulExampleUnrolled.swift): scalar dot products unrolled by four, four accumulators"
) { a, cols in
    matmulForwardUnrolled(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
}
