// Attention variant `online`: one pass over the keys and values with an online softmax (flash-attention
// style): a running max and sum, the accumulator rescaled whenever the max grows.
import Foundation

/// Keys per tile of the online attention (their scores wait in the worker's scratch row). A multiple of 16.
@usableFromInline let attentionKeyTile = 32
/// Query rows (of one head) that walk the key tiles together, so a tile's keys and values are read from
/// L1 by all of them.
@usableFromInline let attentionQueryBlock = 8

/// Causal multi-head attention in one pass over keys 0...t, in tiles of 32 keys counted from key 0:
///   pass a: s[u] = scale · q·k[u] for the tile (16 keys at a time), and the tile's max; if it beats the
///           running max m, rescale the accumulator and the running sum by exp(m_old - m_new);
///   pass b: s[u] = exp(s[u] - m), running sum += Σ s[u];
///   pass c: accumulator += Σ_u s[u] · v[u]  (64 lanes in registers across the tile);
/// finally out = accumulator / sum. The accumulator is the output row itself. Blocks of 8 query rows of
/// one head take each key tile in turn (flash-attention's loop order).
/// When a call has at least 8 query rows of a head, that head's keys are first packed transposed in blocks
/// of 16 (`packTransposed16`, scores without horizontal sums) and its values contiguously (no cache-set
/// conflicts from the 3C-float row stride); the packed scores are bit-identical to the direct ones
/// (`dot16Transposed`). Every row does exactly its own sequence of tiles from key 0, so an item's result
/// depends only on its position, head and qkv: not on pos0, T, the other rows of its block, or the worker.
/// out: [T, C], qkv: [pos0+T, 3C], scratch: >= min(32, pos0+T) floats; items `items` (item = i * NH + h).
public func attentionForwardOnline(
    _ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
    pos0: Int, T: Int, C: Int, NH: Int, items: Range<Int>
) {
    let C3 = 3 * C
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    let s = scratch
    let iFirst = items.lowerBound / NH, iLast = (items.upperBound - 1) / NH
    // packed keys (transposed, 16-key blocks) and values of one head, for the keys this call needs
    let maxKeys = pos0 + iLast + 1
    let usePacked = iLast - iFirst + 1 >= attentionQueryBlock
    let keyBlocks = (maxKeys + 15) / 16
    let packed: UnsafeMutablePointer<Float>? = usePacked ? .allocate(capacity: keyBlocks * 16 * hs + maxKeys * hs) : nil
    defer { packed?.deallocate() }
    for h in 0..<NH {
        // this head's rows in the range: lo...hi (contiguous, since items are)
        let lo = items.contains(iFirst * NH + h) ? iFirst : iFirst + 1
        let hi = items.contains(iLast * NH + h) ? iLast : iLast - 1
        if lo > hi { continue }
        let keys = qkv + h * hs + C, values = qkv + h * hs + 2 * C
        let nk = pos0 + hi + 1
        var packedKeys: UnsafeMutablePointer<Float>? = nil, packedValues: UnsafeMutablePointer<Float>? = nil
        if let packed {
            packTransposed16(packed, keys, stride: C3, count: nk, n: hs)
            let v = packed + keyBlocks * 16 * hs
            for k in 0..<nk { (v + k * hs).update(from: values + k * C3, count: hs) }
            packedKeys = packed; packedValues = v
        }
        var i0 = lo
        while i0 <= hi {
            let i1 = min(hi + 1, i0 + attentionQueryBlock)
            var m = SIMD8<Float>(repeating: -.infinity)  // running max of row i0 + r
            var sum = SIMD8<Float>()                      // running sum of row i0 + r
            for i in i0..<i1 { let o = out + i * C + h * hs; for j in 0..<hs { o[j] = 0 } }
            var k0 = 0
            while k0 <= pos0 + i1 - 1 {
                for i in i0..<i1 where k0 <= pos0 + i {
                    let r = i - i0, t = pos0 + i
                    let query = qkv + t * C3 + h * hs
                    let o = out + i * C + h * hs
                    let n = min(attentionKeyTile, t + 1 - k0)
                    // pass a: scores and the tile max; rescale what is accumulated if the max grows
                    var u0 = 0
                    while u0 < n {
                        let nu = min(16, n - u0)
                        if let packedKeys {
                            dot16Transposed(s + u0, query, packedKeys + (k0 + u0) * hs, count: nu, n: hs, scale: scale)
                        } else {
                            dot16Rows(s + u0, query, keys + (k0 + u0) * C3, stride: C3, count: nu, n: hs, scale: scale)
                        }
                        u0 += nu
                    }
                    let tileMax = maximum(s, n, floor: -.infinity)
                    if tileMax > m[r] {
                        if k0 > 0 {
                            let correction = expf(m[r] - tileMax)
                            sum[r] *= correction
                            scaleSIMD(o, correction, hs)
                        }
                        m[r] = tileMax
                    }
                    // pass b: exponentials and the running sum
                    sum[r] += expShiftSum(s, n, shift: m[r])
                    // pass c: weighted sum of the tile's values
                    if let packedValues {
                        accumulateRowsSIMD(o, s, packedValues + k0 * hs, stride: hs, m: n, n: hs)
                    } else {
                        accumulateRowsSIMD(o, s, values + k0 * C3, stride: C3, m: n, n: hs)
                    }
                }
                k0 += attentionKeyTile
            }
            for i in i0..<i1 {
                let total = sum[i - i0]
                scaleSIMD(out + i * C + h * hs, total == 0 ? 0 : 1 / total, hs)
            }
            i0 = i1
        }
    }
}
