// The ops of a GPT-2 forward pass, one plain function each, in llm.c's style: output first, then the
// inputs, then the sizes. Dimension names are used everywhere the same way:
//   T  = number of token positions processed,  C = channels,  OC = output channels,
//   V  = vocabulary size,  Vp = padded vocabulary size (row stride of wte and logits),
//   NH = heads,  hs = C / NH (head size).
// All tensors are float32, row-major, batch size 1.
import Foundation

/// out[t, c] = wte[tokens[t], c] + wpe[pos0 + t, c].
/// out: [T, C], tokens: [T], wte: [Vp, C], wpe: [maxT, C]. `pos0` is the absolute position of tokens[0].
@inlinable
public func encoderForward(
    _ out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
    wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>, pos0: Int, T: Int, C: Int
) {
    for t in 0..<T {
        let o = out + t * C
        let te = wte + Int(tokens[t]) * C
        let pe = wpe + (pos0 + t) * C
        for i in 0..<C { o[i] = te[i] + pe[i] }
    }
}

/// Layer normalisation over the channels of each row, eps 1e-5.
/// out: [T, C], inp: [T, C], weight: [C], bias: [C]. Rows `rows` of the T rows are done (for splitting).
@inlinable
public func layernormForward(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Range<Int>, C: Int
) {
    let eps: Float = 1e-5
    for t in rows {
        let x = inp + t * C
        // pass 1: mean
        var m: Float = 0
        for i in 0..<C { m += x[i] }
        m = m / Float(C)
        // pass 2: variance (biased, as GPT-2)
        var v: Float = 0
        for i in 0..<C { let d = x[i] - m; v += d * d }
        v = v / Float(C)
        let rstd = 1 / (v + eps).squareRoot()
        // pass 3: normalise, scale, shift
        let o = out + t * C
        for i in 0..<C { o[i] = (rstd * (x[i] - m)) * weight[i] + bias[i] }
    }
}

/// The reference matmul with bias: out[t, o] = bias[o] + sum_i inp[t, i] * weight[o, i].
/// out: [T, OC], inp: [T, C], weight: [OC, C] (PyTorch's Linear layout), bias: [OC] or nil.
/// Only output columns `columns` are written (a sub-range of 0..<OC, for splitting across workers).
@inlinable
public func matmulForwardNaive(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>
) {
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

/// The reference causal multi-head attention, for query positions pos0..<pos0+T over keys 0...t.
/// out: [T, C] (row i is position pos0+i), qkv: [pos0+T, 3C] rows of (q | k | v) for every position so far
/// (the KV cache: rows before pos0 were written by earlier calls), scratch: >= pos0+T floats.
/// Only work items `items` are done, item = i * NH + h (query row i, head h), for splitting across workers.
/// Four passes per (position, head), as llm.c: scores + max, exp + sum, normalise, weighted sum of values.
@inlinable
public func attentionForwardNaive(
    _ out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
    pos0: Int, T: Int, C: Int, NH: Int, items: Range<Int>
) {
    let C3 = 3 * C
    let hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    for item in items {
        let i = item / NH, h = item % NH
        let t = pos0 + i
        let query = qkv + t * C3 + h * hs
        // pass 1: query . key, and the max
        var maxval: Float = -10000
        for t2 in 0...t {
            let key = qkv + t2 * C3 + h * hs + C
            var val: Float = 0
            for j in 0..<hs { val += query[j] * key[j] }
            val *= scale
            if val > maxval { maxval = val }
            scratch[t2] = val
        }
        // pass 2: exp and sum
        var expsum: Float = 0
        for t2 in 0...t {
            let e = expf(scratch[t2] - maxval)
            expsum += e
            scratch[t2] = e
        }
        let expsumInv: Float = expsum == 0 ? 0 : 1 / expsum
        // pass 3: normalise
        for t2 in 0...t { scratch[t2] *= expsumInv }
        // pass 4: weighted sum of the values
        let o = out + i * C + h * hs
        for j in 0..<hs { o[j] = 0 }
        for t2 in 0...t {
            let value = qkv + t2 * C3 + h * hs + 2 * C
            let a = scratch[t2]
            for j in 0..<hs { o[j] += a * value[j] }
        }
    }
}

/// GELU, tanh approximation: out[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), for i in `range`.
/// out, inp: [N] (may alias).
@inlinable
public func geluForward(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, range: Range<Int>) {
    let s: Float = (2 / Float.pi).squareRoot()
    for i in range {
        let x = inp[i]
        let cube = 0.044715 * x * x * x
        out[i] = 0.5 * x * (1 + tanhf(s * (x + cube)))
    }
}

/// Residual connection: out[i] = a[i] + b[i], for i in `range`. out, a, b: [N] (out may alias a).
@inlinable
public func residualForward(
    _ out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, range: Range<Int>
) {
    for i in range { out[i] = a[i] + b[i] }
}

/// Softmax over the first V entries of each row, as llm.c: max subtraction, a serial float sum, divide;
/// the padding entries V..<Vp are set to 0. probs, logits: [T, Vp]; rows `rows` are done.
@inlinable
public func softmaxForward(
    _ probs: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>, rows: Range<Int>, V: Int, Vp: Int
) {
    for t in rows {
        let l = logits + t * Vp, p = probs + t * Vp
        var maxval: Float = -10000
        for i in 0..<V where l[i] > maxval { maxval = l[i] }
        var sum: Float = 0
        for i in 0..<V {
            p[i] = expf(l[i] - maxval)
            sum += p[i]
        }
        for i in 0..<V { p[i] /= sum }
        for i in V..<Vp { p[i] = 0 }
    }
}
