// Attention variants `simd` and `threaded`: the reference's four passes, each done 16 lanes at a time.

/// Causal multi-head attention as `attentionForwardNaive` (same shapes, same four passes), vectorised:
/// q·k sixteen keys at a time (`dot16Rows`), exponentials 16 at a time (`exp16`), the weighted sum of values
/// with 64 output lanes in registers while every key position passes by (`accumulateRowsSIMD`).
/// Each item's result depends only on its position, head and qkv, never on pos0, T or the worker.
/// out: [T, C], qkv: [pos0+T, 3C], scratch: >= pos0+T floats; items `items` (item = i * NH + h) are done.
public func attentionForwardSIMD(
    _ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
    pos0: Int, T: Int, C: Int, NH: Int, items: Range<Int>
) {
    let C3 = 3 * C
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    // Head-major order over the items: one head's keys and values (2 x 256 B per position) stay in L2
    // while all of its query rows are done.
    let iFirst = items.lowerBound / NH, iLast = (items.upperBound - 1) / NH
    for h in 0..<NH {
        for i in iFirst...iLast where items.contains(i * NH + h) {
            let t = pos0 + i
            let query = qkv + t * C3 + h * hs
            let keys = qkv + h * hs + C, values = qkv + h * hs + 2 * C
            // pass 1: query . key, sixteen keys at a time, and the max
            var k0 = 0
            while k0 <= t {
                let n = min(16, t + 1 - k0)
                dot16Rows(scratch + k0, query, keys + k0 * C3, stride: C3, count: n, n: hs, scale: scale)
                k0 += n
            }
            let maxval = maximum(scratch, t + 1, floor: -10000)
            // pass 2: exp and sum
            let expsum = expShiftSum(scratch, t + 1, shift: maxval)
            let expsumInv: Float = expsum == 0 ? 0 : 1 / expsum
            // pass 3: normalise
            scaleSIMD(scratch, expsumInv, t + 1)
            // pass 4: weighted sum of the values
            let o = out + i * C + h * hs
            for j in 0..<hs { o[j] = 0 }
            accumulateRowsSIMD(o, scratch, values, stride: C3, m: t + 1, n: hs)
        }
    }
}
