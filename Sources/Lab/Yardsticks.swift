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
//     the stream's does, so their ratio does not;
//   - the compute-bound yardstick of the SIMD matmul variants is a frozen copy of the `simd` variant's loop
//     (SIMD16 dot products, four accumulators, over the unpacked weight): a SIMD kernel that streams its operands
//     through L2/L3 slows down with the neighbours' cache traffic as this loop does, while the scalar naive loop,
//     bound by the latency of one add chain, barely notices, and an FMA loop without memory does not at all:
//     against the naive loop the SIMD kernels' ratios moved 9-20 % from process to process on a busy machine,
//     against the FMA loop 20 %, against this loop about 5 % (Notes/gates.md);
//   - the compute-bound yardstick of the SIMD attention variants is the FMA-peak loop (12 independent SIMD16
//     fused multiply-adds, the loop `workbench machine` measures the peak with, copied here) for the call's flops:
//     attention works on a few hundred KiB in L2 and is bound by arithmetic and latency; its ratios moved about
//     2 % between processes against it, 7-11 % against the naive loop.
// The scalar reference variants stay on the naive yardstick (like with like) at every shape.
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

    /// The SIMD matmul yardstick as a variant (compute-bound shapes, every variant but the reference).
    public static let simdMatmul = MatmulVariant(name: "simd-yardstick", summary: "frozen SIMD16 dot-product loop (the SIMD variants' unit of time)") { a, cols in
        frozenSIMDMatmul(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
    }

    /// The FMA-peak yardstick: `flops` floating-point operations (an FMA counts as 2) of independent SIMD16
    /// fused multiply-adds, 384 per iteration, at least one iteration.
    public static func fmaPeak(flops: Double) {
        sink += frozenFMALoop(iterations: max(1, Int(flops / 384)), multiplier: fmaMultiplier, addend: fmaAddend)
    }

    /// Keeps the yardsticks' results alive.
    nonisolated(unsafe) public static var sink: Float = 0
    /// Not constants, so the optimiser cannot fold the loop (fixed point 1: nothing overflows or goes subnormal).
    nonisolated(unsafe) static var fmaMultiplier: Float = 0.999_999
    nonisolated(unsafe) static var fmaAddend: Float = 0.000_001
}

/// A frozen copy of the FMA-peak loop: acc = addend + acc * multiplier on 12 SIMD16 accumulators.
@inline(never)
func frozenFMALoop(iterations: Int, multiplier m: Float, addend c: Float) -> Float {
    let mv = SIMD16<Float>(repeating: m), cv = SIMD16<Float>(repeating: c)
    var a0 = SIMD16<Float>(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
    var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
    for _ in 0..<iterations {
        a0 = cv.addingProduct(a0, mv); a1 = cv.addingProduct(a1, mv); a2 = cv.addingProduct(a2, mv)
        a3 = cv.addingProduct(a3, mv); a4 = cv.addingProduct(a4, mv); a5 = cv.addingProduct(a5, mv)
        a6 = cv.addingProduct(a6, mv); a7 = cv.addingProduct(a7, mv); a8 = cv.addingProduct(a8, mv)
        a9 = cv.addingProduct(a9, mv); a10 = cv.addingProduct(a10, mv); a11 = cv.addingProduct(a11, mv)
    }
    return (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))).sum()
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

/// A frozen copy of the `simd` variant's loop: out[t, o] = bias[o] + dot(inp[t, :], weight[o, :]), column outer,
/// row inner, each dot product with four 16-lane FMA accumulators over blocks of 64, one over blocks of 16, a
/// tree sum of the lanes and a scalar tail.
@inline(never)
func frozenSIMDMatmul(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                      bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>) {
    @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    for o in columns {
        let w = weight + o * C
        let bo: Float = bias?[o] ?? 0
        for t in 0..<T {
            let x = inp + t * C
            var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
            var i = 0
            while i + 64 <= C {
                s0 = s0.addingProduct(load(x + i), load(w + i))
                s1 = s1.addingProduct(load(x + i + 16), load(w + i + 16))
                s2 = s2.addingProduct(load(x + i + 32), load(w + i + 32))
                s3 = s3.addingProduct(load(x + i + 48), load(w + i + 48))
                i += 64
            }
            while i + 16 <= C {
                s0 = s0.addingProduct(load(x + i), load(w + i))
                i += 16
            }
            let v = (s0 + s1) + (s2 + s3)
            let h1 = v.lowHalf + v.highHalf, h2 = h1.lowHalf + h1.highHalf, h3 = h2.lowHalf + h2.highHalf
            var sum = h3[0] + h3[1]
            while i < C {
                sum = sum.addingProduct(x[i], w[i])
                i += 1
            }
            out[t * OC + o] = sum + bo
        }
    }
}
