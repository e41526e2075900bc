// Matmul variant `simd`: the naive loop with its inner dot product done 16 lanes at a time.

/// out[t, o] = bias[o] + dot(inp[t, :], weight[o, :]) with `dotSIMD` (four independent 16-lane FMA
/// accumulators, scalar tail), over the unpacked weight. Loop order: output column outer, row inner, so
/// one weight row (C floats) stays in L1 while every input row passes by.
/// out: [T, OC], inp: [T, C], weight: [OC, C], bias: [OC] or nil; only columns `columns` are written.
public func matmulForwardSIMD(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>
) {
    for o in columns {
        let w = weight + o * C
        let b: Float = bias?[o] ?? 0
        for t in 0..<T {
            out[t * OC + o] = dotSIMD(inp + t * C, w, C) + b
        }
    }
}
