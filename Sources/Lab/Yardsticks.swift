// The gate's frozen yardsticks: the units of time every kernel ratio is expressed in.
//
// FROZEN. Do not edit, optimise or "clean up" anything in this file. A gate ratio is a kernel's time divided by
// a yardstick's time measured in the same interleaved rounds; the ratio means the same thing from one commit to
// the next only while the yardstick is the same machine code. Change a yardstick and every ratio of every
// baseline moves with it, and a kernel regression can hide behind (or be invented by) the change. Hence:
//   - the loops live here, in the Lab library, not in Kernels, so no kernel change can move them;
//   - the compute-bound yardstick is a copy of the naive matmul's loop, not a call to it, so a change to the
//     `naive` variant itself is caught too (it has a ratio like every other variant);
//   - the memory-bound yardstick is the SIMD read-sum `workbench machine` measures bandwidth with
//     (`Peak.readSum`, Bench): a memory-bound kernel's time moves with the neighbours' memory traffic just as
//     the stream's does, so their ratio does not.
// If a yardstick must change (a compiler makes one of them meaningless), change it in its own commit and
// re-make every baseline in that commit (Notes/gates.md, "The committed baseline").
import Bench
import Kernels

public enum Yardsticks {
    /// The compute-bound yardstick as a matmul variant, so it runs exactly like the others (same args, same pool).
    public static let matmul = MatmulVariant(name: "yardstick", summary: "frozen naive loop (the gate's unit of time)") { a, cols in
        frozenNaiveMatmul(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
    }

    /// The memory-bound yardstick: the time to read `n` floats once, summed with SIMD (the result is kept in
    /// `sink` so the optimiser cannot drop the loop).
    @inline(__always)
    public static func stream(_ p: UnsafePointer<Float>, _ n: Int) {
        sink += Peak.readSum(p, n)
    }

    /// Keeps the stream yardstick's result alive.
    nonisolated(unsafe) public static var sink: Float = 0
}

/// A frozen copy of the naive matmul loop: out[t, o] = bias[o] + sum_i inp[t, i] * weight[o, i].
@inline(never)
func frozenNaiveMatmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                       bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>) {
    for t in 0..<T {
        let x = inp + t * C
        for o in columns {
            let w = weight + o * C
            var val: Float = bias?[o] ?? 0
            for i in 0..<C { val += x[i] * w[i] }
            out[t * OC + o] = val
        }
    }
}
