// Matmul variants `tiled` and `threaded`: a register-blocked microkernel over weights packed once into
// column panels. See Notes/kernels-design.md for the layout, the tile shape and the measurements.
//
// Packed layout (made once per weight by `packWeightPanels`): the weight's rows (= output columns) are
// cut into panels of `matmulPanelWidth` = 32; panel p holds rows 32p ..< 32p+32, k-major:
//   packed[p * C * 32 + k * 32 + j] = weight[32p + j, k]      (0 past the last row)
// so the 32 weights the microkernel needs at step k are one contiguous 128-byte line pair: two zmm loads.
//
// Determinism: every output element is one fused multiply-add chain over k = 0, 1, ..., C-1 in order,
// starting from 0, then `+ bias[o]` (nothing added when there is no bias). That chain is what one lane
// of one accumulator does, whichever tile height (8, 4, 2 or 1 rows), row block, C block, column range
// or thread computes it, so out[t, o] has the same bits for T = 1 (decode) and T = 64 (prefill), and
// for every thread count.

import Foundation

/// Output columns per packed weight panel (two 16-float registers wide).
public let matmulPanelWidth = 32

/// Floats in the packed copy of a weight [rows, C]: whole panels, the last one zero-padded.
@inlinable
public func packedPanelCount(rows: Int, C: Int) -> Int {
    (rows + matmulPanelWidth - 1) / matmulPanelWidth * matmulPanelWidth * C
}

/// Packs weight [rows, C] into k-major panels of 32 rows (layout in the file comment).
/// dst: [packedPanelCount(rows, C)] floats.
public func packWeightPanels(_ dst: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, rows: Int, C: Int) {
    let NR = matmulPanelWidth
    let panels = (rows + NR - 1) / NR
    for p in 0..<panels {
        let panel = dst + p * C * NR
        for j in 0..<NR {
            let o = p * NR + j
            if o < rows {
                let w = weight + o * C
                for k in 0..<C { panel[k * NR + j] = w[k] }
            } else {
                for k in 0..<C { panel[k * NR + j] = 0 }
            }
        }
    }
}

/// Rows per cache block: the input rows (64 x C floats, in L2) that one pass over the panels reuses.
@usableFromInline let matmulRowBlock = 64
/// Channels per cache block: a panel's slice of KC x 32 weights (96 KB at 768, in L2) is reused by every
/// row tile of the row block; partial sums wait in `out` between slices. Measured on the fc shapes:
/// 256 or 128 (slices that fit L1) were slower, the partial sums' extra loads and stores cost more than
/// the L2 reads they save (Notes/kernels-design.md). So only C = 3072 (fcproj) is cut, into 4 slices.
@usableFromInline let matmulDepthBlock = 768

/// out[t, o] = bias[o] + sum_k inp[t, k] * weight[o, k], over the panel-packed weight (see the file comment).
/// out: [T, OC], inp: [T, C], packed: panels of the weight [>= OC, C], bias: [OC] or nil.
/// Only columns `columns` (a sub-range of 0..<OC) are written.
/// Loops: row blocks of 64 > panels > C blocks of 768 > row tiles of 8 (then 4, 2, 1) > k.
/// At T = 1 (decode) a separate loop streams four panels at a time (`gemvPanels`).
public func matmulForwardTiled(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    packed: UnsafePointer<Float>, bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>
) {
    if columns.isEmpty || T == 0 { return }
    let NR = matmulPanelWidth
    let p0 = columns.lowerBound / NR, p1 = (columns.upperBound + NR - 1) / NR
    if T == 1 {
        // decode: a matrix-vector product that streams the weights once; four panels at a time for
        // more loads in flight (each lane is still the same FMA chain over k = 0..<C)
        var p = p0
        while p + 4 <= p1 { gemvPanels(4, out, inp, packed, p, C, OC, bias, columns); p += 4 }
        while p < p1 { gemvPanels(1, out, inp, packed, p, C, OC, bias, columns); p += 1 }
        return
    }
    var r0 = 0
    while r0 < T {
        let r1 = min(T, r0 + matmulRowBlock)
        for p in p0..<p1 {
            let panel = packed + p * C * NR
            // The lanes of this panel that are ours: columns lo..<hi, lanes lo-o0..<hi-o0.
            let o0 = p * NR
            let lo = max(o0, columns.lowerBound), hi = min(o0 + NR, columns.upperBound)
            var k0 = 0
            repeat {
                let k1 = min(C, k0 + matmulDepthBlock)
                var tile = TileDestination(out: out, OC: OC, o0: o0, lo: lo, hi: hi, bias: bias,
                                           first: k0 == 0, last: k1 == C)
                var t = r0
                while t + 8 <= r1 { microkernel(8, &tile, inp, panel, t, C, k0, k1); t += 8 }
                if t + 4 <= r1 { microkernel(4, &tile, inp, panel, t, C, k0, k1); t += 4 }
                if t + 2 <= r1 { microkernel(2, &tile, inp, panel, t, C, k0, k1); t += 2 }
                if t < r1 { microkernel(1, &tile, inp, panel, t, C, k0, k1) }
                k0 = k1
            } while k0 < C
        }
        r0 = r1
    }
}

/// Where one panel's tile goes: columns lo..<hi of out (lanes lo-o0..<hi-o0 of the panel).
@usableFromInline
struct TileDestination {
    let out: UnsafeMutablePointer<Float>
    let OC: Int
    let o0: Int, lo: Int, hi: Int
    let bias: UnsafePointer<Float>?
    /// First C block (accumulators start at 0) / last C block (add the bias, store the result).
    let first: Bool, last: Bool
    @usableFromInline var whole: Bool { lo == o0 && hi == o0 + matmulPanelWidth }

    @usableFromInline
    init(out: UnsafeMutablePointer<Float>, OC: Int, o0: Int, lo: Int, hi: Int, bias: UnsafePointer<Float>?,
         first: Bool, last: Bool) {
        self.out = out; self.OC = OC; self.o0 = o0; self.lo = lo; self.hi = hi; self.bias = bias
        self.first = first; self.last = last
    }

    /// The partial sums of row t from the previous C block (0 in lanes that are not ours).
    @inline(__always) @usableFromInline
    func load(_ t: Int) -> (SIMD16<Float>, SIMD16<Float>) {
        if first { return (SIMD16(), SIMD16()) }
        let row = out + t * OC + o0
        if whole { return (load16(row), load16(row + 16)) }
        var a = SIMD16<Float>(), b = SIMD16<Float>()
        for o in lo..<hi {
            let j = o - o0
            if j < 16 { a[j] = row[j] } else { b[j - 16] = row[j] }
        }
        return (a, b)
    }

    /// Stores row t's accumulators: partial sums, or (last C block) the sums plus the bias.
    @inline(__always) @usableFromInline
    func store(_ t: Int, _ a: SIMD16<Float>, _ b: SIMD16<Float>) {
        let row = out + t * OC + o0
        if whole {
            if last, let bias {
                store16(a + load16(bias + o0), row)
                store16(b + load16(bias + o0 + 16), row + 16)
            } else {
                store16(a, row)
                store16(b, row + 16)
            }
            return
        }
        for o in lo..<hi {
            let j = o - o0
            var v = j < 16 ? a[j] : b[j - 16]
            if last, let bias { v = v + bias[o] }
            row[j] = v
        }
    }
}

/// One R x 32 tile (R = 8, 4, 2 or 1 rows from t, all 32 lanes of `panel`) over k0..<k1:
/// 2R accumulators, and per step k two weight loads feeding R broadcasts of inp[t + r, k].
/// R is a constant at every call site, so after inlining the unused rows disappear.
@inline(__always) @usableFromInline
func microkernel(_ R: Int, _ dst: inout TileDestination, _ inp: UnsafePointer<Float>, _ panel: UnsafePointer<Float>,
                 _ t: Int, _ C: Int, _ k0: Int, _ k1: Int) {
    let NR = matmulPanelWidth
    let x0 = inp + t * C, x1 = x0 + C, x2 = x1 + C, x3 = x2 + C
    let x4 = x3 + C, x5 = x4 + C, x6 = x5 + C, x7 = x6 + C
    let z = SIMD16<Float>()
    var (a0, b0) = dst.load(t)
    var (a1, b1) = R > 1 ? dst.load(t + 1) : (z, z)
    var (a2, b2) = R > 2 ? dst.load(t + 2) : (z, z)
    var (a3, b3) = R > 3 ? dst.load(t + 3) : (z, z)
    var (a4, b4) = R > 4 ? dst.load(t + 4) : (z, z)
    var (a5, b5) = R > 5 ? dst.load(t + 5) : (z, z)
    var (a6, b6) = R > 6 ? dst.load(t + 6) : (z, z)
    var (a7, b7) = R > 7 ? dst.load(t + 7) : (z, z)
    var w = panel + k0 * NR
    for k in k0..<k1 {
        let wa = load16(w), wb = load16(w + 16)
        w += NR
        var x = SIMD16<Float>(repeating: x0[k])
        a0 = a0.addingProduct(x, wa); b0 = b0.addingProduct(x, wb)
        if R > 1 { x = SIMD16(repeating: x1[k]); a1 = a1.addingProduct(x, wa); b1 = b1.addingProduct(x, wb) }
        if R > 2 { x = SIMD16(repeating: x2[k]); a2 = a2.addingProduct(x, wa); b2 = b2.addingProduct(x, wb) }
        if R > 3 { x = SIMD16(repeating: x3[k]); a3 = a3.addingProduct(x, wa); b3 = b3.addingProduct(x, wb) }
        if R > 4 { x = SIMD16(repeating: x4[k]); a4 = a4.addingProduct(x, wa); b4 = b4.addingProduct(x, wb) }
        if R > 5 { x = SIMD16(repeating: x5[k]); a5 = a5.addingProduct(x, wa); b5 = b5.addingProduct(x, wb) }
        if R > 6 { x = SIMD16(repeating: x6[k]); a6 = a6.addingProduct(x, wa); b6 = b6.addingProduct(x, wb) }
        if R > 7 { x = SIMD16(repeating: x7[k]); a7 = a7.addingProduct(x, wa); b7 = b7.addingProduct(x, wb) }
    }
    dst.store(t, a0, b0)
    if R > 1 { dst.store(t + 1, a1, b1) }
    if R > 2 { dst.store(t + 2, a2, b2) }
    if R > 3 { dst.store(t + 3, a3, b3) }
    if R > 4 { dst.store(t + 4, a4, b4) }
    if R > 5 { dst.store(t + 5, a5, b5) }
    if R > 6 { dst.store(t + 6, a6, b6) }
    if R > 7 { dst.store(t + 7, a7, b7) }
}

/// One input row times P (4 or 1) consecutive panels over all of C: 2P accumulators, 2P loads per k
/// from P sequential streams. Lane arithmetic is the microkernel's (one FMA chain over k, then + bias).
@inline(__always) @usableFromInline
func gemvPanels(_ P: Int, _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ packed: UnsafePointer<Float>,
                _ p: Int, _ C: Int, _ OC: Int, _ bias: UnsafePointer<Float>?, _ columns: Range<Int>) {
    let NR = matmulPanelWidth
    let z = SIMD16<Float>()
    var a0 = z, b0 = z, a1 = z, b1 = z, a2 = z, b2 = z, a3 = z, b3 = z
    var w0 = packed + p * C * NR
    var w1 = w0 + C * NR, w2 = w1 + C * NR, w3 = w2 + C * NR
    if P == 1 { w1 = w0; w2 = w0; w3 = w0 }
    for k in 0..<C {
        let xk = SIMD16<Float>(repeating: x[k])
        a0 = a0.addingProduct(xk, load16(w0)); b0 = b0.addingProduct(xk, load16(w0 + 16)); w0 += NR
        if P > 1 {
            a1 = a1.addingProduct(xk, load16(w1)); b1 = b1.addingProduct(xk, load16(w1 + 16)); w1 += NR
            a2 = a2.addingProduct(xk, load16(w2)); b2 = b2.addingProduct(xk, load16(w2 + 16)); w2 += NR
            a3 = a3.addingProduct(xk, load16(w3)); b3 = b3.addingProduct(xk, load16(w3 + 16)); w3 += NR
        }
    }
    @inline(__always) func store(_ q: Int, _ a: SIMD16<Float>, _ b: SIMD16<Float>) {
        let o0 = q * NR
        let tile = TileDestination(out: out, OC: OC, o0: o0, lo: max(o0, columns.lowerBound),
                                   hi: min(o0 + NR, columns.upperBound), bias: bias, first: true, last: true)
        tile.store(0, a, b)
    }
    store(p, a0, b0)
    if P > 1 { store(p + 1, a1, b1); store(p + 2, a2, b2); store(p + 3, a3, b3) }
}
