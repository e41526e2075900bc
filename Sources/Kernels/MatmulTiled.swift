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

// MARK: - The same arithmetic straight over the row-major weights (variant `threaded`, the engine default)
//
// The panel layout exists so that the 32 weights of one k are one vector; packing it costs a second copy
// of every weight. The kernels below read the checkpoint's own [OC, C] rows and still give every output
// the microkernel's exact FMA chain (k = 0, 1, ..., C-1 from 0, then + bias), so their results are
// bit-identical to `tiled` and to each other for every T, column range and worker:
//
// - narrow (T < 16: decode, short prompts): lanes = 16 output columns. A 16x16 block of weights (16 rows,
//   16 consecutive k) is transposed in registers into 16 column vectors w[o0..<o0+16, k], each multiplied
//   by the broadcast inp[t, k] into one accumulator per row t: the gemv of `gemvPanels`, with the
//   transpose doing the packing on the fly (~90 shuffles per 1 KB of weights, below the memory stream).
// - wide (T >= 16: prefill): lanes = 16 rows t. The input [T, C] is transposed once per call and thread
//   into xT [C, Tp] (T·C floats, small next to the weights' C·OC), and a 32 x 8 tile multiplies two
//   vectors xT[k, t0..<t0+32] by eight broadcast weights w[o, k] read along the weight rows: the
//   microkernel's 2 vector loads + 8 broadcasts per 16 FMAs, with the roles of inputs and weights swapped.

/// Rows from which the wide kernel (transposed input) is used instead of the narrow one.
public let matmulWideRows = 16

/// out[t, o] = bias[o] + sum_k inp[t, k] * weight[o, k] over the row-major weight [>= OC, C], with the
/// FMA chain of `matmulForwardTiled` (bit-identical results). out: [T, OC], inp: [T, C], bias: [OC] or nil.
/// Only columns `columns` (a sub-range of 0..<OC) are written.
public func matmulForwardRowMajor(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>
) {
    if columns.isEmpty || T == 0 { return }
    if T < matmulWideRows {
        narrowColumns(out, inp, weight, bias, T: T, C: C, OC: OC, columns: columns)
    } else {
        let (xT, Tp) = TransposedInput.forCall(inp, T: T, C: C)
        wideColumns(out, xT, Tp, weight, bias, T: T, C: C, OC: OC, columns: columns)
    }
}

// MARK: 16x16 transposes in registers

@usableFromInline typealias F16 = SIMD16<Float>
@usableFromInline typealias D8 = SIMD8<Double>

// Each stage is written at a different element width than the one before (32, 64, 32, 64 bits) so that
// LLVM keeps it a two-source shuffle (vunpck*, vshuff32x4/64x2: 64 per block, no index registers);
// written at one width, it folds consecutive stages into four-source element moves.
@inline(__always) @usableFromInline func lo32(_ a: F16, _ b: F16) -> F16 {
    F16(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5], a[8], b[8], a[9], b[9], a[12], b[12], a[13], b[13])
}
@inline(__always) @usableFromInline func hi32(_ a: F16, _ b: F16) -> F16 {
    F16(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7], a[10], b[10], a[11], b[11], a[14], b[14], a[15], b[15])
}
@inline(__always) @usableFromInline func lo64(_ a: F16, _ b: F16) -> D8 {
    let x = unsafeBitCast(a, to: D8.self), y = unsafeBitCast(b, to: D8.self)
    return D8(x[0], y[0], x[2], y[2], x[4], y[4], x[6], y[6])
}
@inline(__always) @usableFromInline func hi64(_ a: F16, _ b: F16) -> D8 {
    let x = unsafeBitCast(a, to: D8.self), y = unsafeBitCast(b, to: D8.self)
    return D8(x[1], y[1], x[3], y[3], x[5], y[5], x[7], y[7])
}
/// [a.c0, a.c2, b.c0, b.c2] and [a.c1, a.c3, b.c1, b.c3] of the 128-bit chunks c, written with 32-bit
/// elements (stage 3) and with 64-bit elements (stage 4): one `vshuff32x4`/`vshuff64x2` each.
@inline(__always) @usableFromInline func even128(_ p: D8, _ q: D8) -> F16 {
    let a = unsafeBitCast(p, to: F16.self), b = unsafeBitCast(q, to: F16.self)
    return F16(a[0], a[1], a[2], a[3], a[8], a[9], a[10], a[11], b[0], b[1], b[2], b[3], b[8], b[9], b[10], b[11])
}
@inline(__always) @usableFromInline func odd128(_ p: D8, _ q: D8) -> F16 {
    let a = unsafeBitCast(p, to: F16.self), b = unsafeBitCast(q, to: F16.self)
    return F16(a[4], a[5], a[6], a[7], a[12], a[13], a[14], a[15], b[4], b[5], b[6], b[7], b[12], b[13], b[14], b[15])
}
@inline(__always) @usableFromInline func even128d(_ a: F16, _ b: F16) -> F16 {
    let x = unsafeBitCast(a, to: D8.self), y = unsafeBitCast(b, to: D8.self)
    return unsafeBitCast(D8(x[0], x[1], x[4], x[5], y[0], y[1], y[4], y[5]), to: F16.self)
}
@inline(__always) @usableFromInline func odd128d(_ a: F16, _ b: F16) -> F16 {
    let x = unsafeBitCast(a, to: D8.self), y = unsafeBitCast(b, to: D8.self)
    return unsafeBitCast(D8(x[2], x[3], x[6], x[7], y[2], y[3], y[6], y[7]), to: F16.self)
}

/// Transposes the 16x16 block whose row l is src[l * ld ..< l * ld + 16] and hands its columns to
/// `body(j, column)` in order j = 0, 1, ..., 15 (lane l of column j = src[l * ld + j]).
@inline(__always) @usableFromInline
func transposeBlock16(_ src: UnsafePointer<Float>, _ ld: Int, _ body: (Int, F16) -> Void) {
    let r0 = load16(src), r1 = load16(src + ld), r2 = load16(src + 2 * ld), r3 = load16(src + 3 * ld)
    let r4 = load16(src + 4 * ld), r5 = load16(src + 5 * ld), r6 = load16(src + 6 * ld), r7 = load16(src + 7 * ld)
    let r8 = load16(src + 8 * ld), r9 = load16(src + 9 * ld), r10 = load16(src + 10 * ld), r11 = load16(src + 11 * ld)
    let r12 = load16(src + 12 * ld), r13 = load16(src + 13 * ld), r14 = load16(src + 14 * ld), r15 = load16(src + 15 * ld)
    // stage 1: t(2i) holds rows 2i, 2i+1 at columns 4c, 4c+1 of each 128-bit chunk c; t(2i+1) columns 4c+2, 4c+3
    let t0 = lo32(r0, r1), t1 = hi32(r0, r1), t2 = lo32(r2, r3), t3 = hi32(r2, r3)
    let t4 = lo32(r4, r5), t5 = hi32(r4, r5), t6 = lo32(r6, r7), t7 = hi32(r6, r7)
    let t8 = lo32(r8, r9), t9 = hi32(r8, r9), t10 = lo32(r10, r11), t11 = hi32(r10, r11)
    let t12 = lo32(r12, r13), t13 = hi32(r12, r13), t14 = lo32(r14, r15), t15 = hi32(r14, r15)
    // stage 2: u(4g+m), chunk c = rows 4g..<4g+4 at column 4c+m
    let u0 = lo64(t0, t2), u1 = hi64(t0, t2), u2 = lo64(t1, t3), u3 = hi64(t1, t3)
    let u4 = lo64(t4, t6), u5 = hi64(t4, t6), u6 = lo64(t5, t7), u7 = hi64(t5, t7)
    let u8 = lo64(t8, t10), u9 = hi64(t8, t10), u10 = lo64(t9, t11), u11 = hi64(t9, t11)
    let u12 = lo64(t12, t14), u13 = hi64(t12, t14), u14 = lo64(t13, t15), u15 = hi64(t13, t15)
    // stage 3: v(m) = [rows 0-3 col m, rows 0-3 col 8+m, rows 4-7 col m, rows 4-7 col 8+m], v'(m) the same at
    // columns 4+m and 12+m; w, w' the same for rows 8-15
    let v0 = even128(u0, u4), v1 = even128(u1, u5), v2 = even128(u2, u6), v3 = even128(u3, u7)
    let p0 = odd128(u0, u4), p1 = odd128(u1, u5), p2 = odd128(u2, u6), p3 = odd128(u3, u7)
    let w0 = even128(u8, u12), w1 = even128(u9, u13), w2 = even128(u10, u14), w3 = even128(u11, u15)
    let q0 = odd128(u8, u12), q1 = odd128(u9, u13), q2 = odd128(u10, u14), q3 = odd128(u11, u15)
    // stage 4: whole columns
    body(0, even128d(v0, w0)); body(1, even128d(v1, w1)); body(2, even128d(v2, w2)); body(3, even128d(v3, w3))
    body(4, even128d(p0, q0)); body(5, even128d(p1, q1)); body(6, even128d(p2, q2)); body(7, even128d(p3, q3))
    body(8, odd128d(v0, w0)); body(9, odd128d(v1, w1)); body(10, odd128d(v2, w2)); body(11, odd128d(v3, w3))
    body(12, odd128d(p0, q0)); body(13, odd128d(p1, q1)); body(14, odd128d(p2, q2)); body(15, odd128d(p3, q3))
}

/// A tile dimension known at compile time: kernels generic over it are specialised once per value, so the
/// unused rows/columns of a smaller tile vanish (an `Int` argument left them as branches in the loop when
/// the optimiser chose not to inline).
@usableFromInline protocol TileCount { static var n: Int { get } }
@usableFromInline enum Tile1: TileCount { @inlinable static var n: Int { 1 } }
@usableFromInline enum Tile2: TileCount { @inlinable static var n: Int { 2 } }
@usableFromInline enum Tile4: TileCount { @inlinable static var n: Int { 4 } }
@usableFromInline enum Tile8: TileCount { @inlinable static var n: Int { 8 } }

/// Copies a rows x cols (<= 16 x 16) corner of a matrix (row stride ld) into a zero-filled 16x16 block.
@inline(__always) @usableFromInline
func stageBlock16(_ block: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ ld: Int, rows: Int, cols: Int) {
    block.initialize(repeating: 0, count: 256)
    for l in 0..<rows {
        let s = src + l * ld, d = block + l * 16
        for j in 0..<cols { d[j] = s[j] }
    }
}

// MARK: narrow: lanes = output columns

/// Rows t0..<t0+R (R <= 8) of out, columns o0..<o0+m (m <= 16): one group of 16 weight rows over all of C.
@usableFromInline
func narrowGroup<Rows: TileCount>(_: Rows.Type, _ out: UnsafeMutablePointer<Float>, _ OC: Int, _ x: UnsafePointer<Float>,
                                  _ w: UnsafePointer<Float>, _ C: Int, _ o0: Int, _ m: Int, _ bias: UnsafePointer<Float>?,
                                  _ staging: UnsafeMutablePointer<Float>) {
    let R = Rows.n
    let x0 = x, x1 = x0 + C, x2 = x1 + C, x3 = x2 + C, x4 = x3 + C, x5 = x4 + C, x6 = x5 + C, x7 = x6 + C
    let z = F16()
    var a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z
    @inline(__always) func step(_ k: Int, _ col: F16) {
        a0 = a0.addingProduct(F16(repeating: x0[k]), col)
        if R > 1 { a1 = a1.addingProduct(F16(repeating: x1[k]), col) }
        if R > 2 { a2 = a2.addingProduct(F16(repeating: x2[k]), col) }
        if R > 3 { a3 = a3.addingProduct(F16(repeating: x3[k]), col) }
        if R > 4 { a4 = a4.addingProduct(F16(repeating: x4[k]), col) }
        if R > 5 { a5 = a5.addingProduct(F16(repeating: x5[k]), col) }
        if R > 6 { a6 = a6.addingProduct(F16(repeating: x6[k]), col) }
        if R > 7 { a7 = a7.addingProduct(F16(repeating: x7[k]), col) }
    }
    var k = 0
    if m == 16 {
        while k + 16 <= C {
            transposeBlock16(w + k, C) { j, col in step(k + j, col) }
            k += 16
        }
    }
    // a partial group (m < 16 rows) or the last partial block of C: staged through a zero-filled block;
    // only the real k are stepped (the chain has exactly C terms)
    while k < C {
        let kc = min(16, C - k)
        stageBlock16(staging, w + k, C, rows: m, cols: kc)
        transposeBlock16(UnsafePointer(staging), 16) { j, col in if j < kc { step(k + j, col) } }
        k += kc
    }
    @inline(__always) func store(_ r: Int, _ a: F16) {
        let row = out + r * OC + o0
        if m == 16 {
            store16(bias.map { a + load16($0 + o0) } ?? a, row)
        } else {
            for l in 0..<m { row[l] = bias.map { a[l] + $0[o0 + l] } ?? a[l] }
        }
    }
    store(0, a0)
    if R > 1 { store(1, a1) }
    if R > 2 { store(2, a2) }
    if R > 3 { store(3, a3) }
    if R > 4 { store(4, a4) }
    if R > 5 { store(5, a5) }
    if R > 6 { store(6, a6) }
    if R > 7 { store(7, a7) }
}

@usableFromInline
func narrowColumns(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                   _ bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { buf in
        let staging = buf.baseAddress!
        var o0 = columns.lowerBound
        while o0 < columns.upperBound {
            let m = min(16, columns.upperBound - o0)
            let w = weight + o0 * C
            var t = 0
            while t < T {
                let left = T - t
                let dst = out + t * OC, x = inp + t * C
                if left >= 8 { narrowGroup(Tile8.self, dst, OC, x, w, C, o0, m, bias, staging); t += 8 }
                else if left >= 4 { narrowGroup(Tile4.self, dst, OC, x, w, C, o0, m, bias, staging); t += 4 }
                else if left >= 2 { narrowGroup(Tile2.self, dst, OC, x, w, C, o0, m, bias, staging); t += 2 }
                else { narrowGroup(Tile1.self, dst, OC, x, w, C, o0, m, bias, staging); t += 1 }
            }
            o0 += m
        }
    }
}

// MARK: wide: lanes = input rows

/// The input of one matmul call transposed, xT [C, Tp] (Tp = T rounded up to 16, zero rows past T):
/// made once per thread and call (`WorkerPool.currentJob` names the call), reused by every chunk of
/// columns the thread runs. Outside a pool job it is remade on every call.
@usableFromInline
final class TransposedInput {
    var buffer: UnsafeMutablePointer<Float>?
    var capacity = 0
    var job: UInt64 = 0
    var source: UnsafePointer<Float>?
    var T = 0, C = 0
    deinit { buffer?.deallocate() }

    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in if let p { Unmanaged<TransposedInput>.fromOpaque(p).release() } }
        return k
    }()

    private static var threadCache: TransposedInput {
        if let p = pthread_getspecific(key) { return Unmanaged<TransposedInput>.fromOpaque(p).takeUnretainedValue() }
        let c = TransposedInput()
        pthread_setspecific(key, Unmanaged.passRetained(c).toOpaque())
        return c
    }

    @usableFromInline
    static func forCall(_ inp: UnsafePointer<Float>, T: Int, C: Int) -> (UnsafePointer<Float>, Int) {
        let c = threadCache
        let Tp = (T + 15) / 16 * 16
        let job = WorkerPool.currentJob
        if job != 0 && c.job == job && c.source == inp && c.T == T && c.C == C, let b = c.buffer {
            return (UnsafePointer(b), Tp)
        }
        if c.capacity < Tp * C {
            c.buffer?.deallocate()
            c.capacity = Tp * C
            c.buffer = .allocate(capacity: c.capacity)
        }
        transposeInput(c.buffer!, inp, T: T, C: C, Tp: Tp)
        c.job = job; c.source = inp; c.T = T; c.C = C
        return (UnsafePointer(c.buffer!), Tp)
    }
}

/// xT[k * Tp + t] = x[t * C + k] for t < T, 0 for T <= t < Tp (Tp a multiple of 16).
@usableFromInline
func transposeInput(_ xT: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, T: Int, C: Int, Tp: Int) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { buf in
        let staging = buf.baseAddress!
        var t0 = 0
        while t0 < Tp {
            let rows = min(16, T - t0)
            var k0 = 0
            while k0 < C {
                let kc = min(16, C - k0)
                let dst = xT + k0 * Tp + t0
                if rows == 16 && kc == 16 {
                    transposeBlock16(x + t0 * C + k0, C) { j, col in store16(col, dst + j * Tp) }
                } else {
                    stageBlock16(staging, x + t0 * C + k0, C, rows: max(0, rows), cols: kc)
                    transposeBlock16(UnsafePointer(staging), 16) { j, col in if j < kc { store16(col, dst + j * Tp) } }
                }
                k0 += kc
            }
            t0 += 16
        }
    }
}

/// One tile: rows t0..<t0+rows (rows <= 16·RT) x weight rows o0..<o0+RO, over all of C.
/// Per k: RT vector loads of xT[k, t0...], RO broadcasts of w[o, k], RT·RO FMAs.
@usableFromInline
func wideTile<Vectors: TileCount, Columns: TileCount>(
    _: Vectors.Type, _: Columns.Type, _ out: UnsafeMutablePointer<Float>, _ OC: Int, _ xT: UnsafePointer<Float>, _ Tp: Int,
    _ t0: Int, _ rows: Int, _ weight: UnsafePointer<Float>, _ C: Int, _ o0: Int, _ bias: UnsafePointer<Float>?,
    _ tile: UnsafeMutablePointer<Float>
) {
    let RT = Vectors.n, RO = Columns.n
    let z = F16()
    var a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z
    var b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z
    let w0 = weight + o0 * C, w1 = w0 + C, w2 = w1 + C, w3 = w2 + C
    let w4 = w3 + C, w5 = w4 + C, w6 = w5 + C, w7 = w6 + C
    var xp = xT + t0
    for k in 0..<C {
        let xa = load16(xp), xb = RT > 1 ? load16(xp + 16) : z
        xp += Tp
        var s = F16(repeating: w0[k])
        a0 = a0.addingProduct(xa, s); if RT > 1 { b0 = b0.addingProduct(xb, s) }
        if RO > 1 { s = F16(repeating: w1[k]); a1 = a1.addingProduct(xa, s); if RT > 1 { b1 = b1.addingProduct(xb, s) } }
        if RO > 2 { s = F16(repeating: w2[k]); a2 = a2.addingProduct(xa, s); if RT > 1 { b2 = b2.addingProduct(xb, s) } }
        if RO > 3 { s = F16(repeating: w3[k]); a3 = a3.addingProduct(xa, s); if RT > 1 { b3 = b3.addingProduct(xb, s) } }
        if RO > 4 { s = F16(repeating: w4[k]); a4 = a4.addingProduct(xa, s); if RT > 1 { b4 = b4.addingProduct(xb, s) } }
        if RO > 5 { s = F16(repeating: w5[k]); a5 = a5.addingProduct(xa, s); if RT > 1 { b5 = b5.addingProduct(xb, s) } }
        if RO > 6 { s = F16(repeating: w6[k]); a6 = a6.addingProduct(xa, s); if RT > 1 { b6 = b6.addingProduct(xb, s) } }
        if RO > 7 { s = F16(repeating: w7[k]); a7 = a7.addingProduct(xa, s); if RT > 1 { b7 = b7.addingProduct(xb, s) } }
    }
    // tile[i * 32 + l] = out[t0 + l, o0 + i] before the bias; then copied out row by row
    store16(a0, tile); if RT > 1 { store16(b0, tile + 16) }
    if RO > 1 { store16(a1, tile + 32); if RT > 1 { store16(b1, tile + 48) } }
    if RO > 2 { store16(a2, tile + 64); if RT > 1 { store16(b2, tile + 80) } }
    if RO > 3 { store16(a3, tile + 96); if RT > 1 { store16(b3, tile + 112) } }
    if RO > 4 { store16(a4, tile + 128); if RT > 1 { store16(b4, tile + 144) } }
    if RO > 5 { store16(a5, tile + 160); if RT > 1 { store16(b5, tile + 176) } }
    if RO > 6 { store16(a6, tile + 192); if RT > 1 { store16(b6, tile + 208) } }
    if RO > 7 { store16(a7, tile + 224); if RT > 1 { store16(b7, tile + 240) } }
    for l in 0..<rows {
        let row = out + (t0 + l) * OC + o0
        if let bias {
            for i in 0..<RO { row[i] = tile[i * 32 + l] + bias[o0 + i] }
        } else {
            for i in 0..<RO { row[i] = tile[i * 32 + l] }
        }
    }
}

@usableFromInline
func wideColumns(_ out: UnsafeMutablePointer<Float>, _ xT: UnsafePointer<Float>, _ Tp: Int, _ weight: UnsafePointer<Float>,
                 _ bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>) {
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { buf in
        let tile = buf.baseAddress!
        var r0 = 0
        while r0 < T {
            // a block of up to 64 input rows (64 x C of xT, in L2) against every weight row of the columns
            let r1 = min(T, r0 + matmulRowBlock)
            var o = columns.lowerBound
            func tiles<Columns: TileCount>(_ c: Columns.Type) {
                var t = r0
                while t < r1 {
                    let rows = min(32, r1 - t)
                    if rows > 16 { wideTile(Tile2.self, c, out, OC, xT, Tp, t, rows, weight, C, o, bias, tile) }
                    else { wideTile(Tile1.self, c, out, OC, xT, Tp, t, rows, weight, C, o, bias, tile) }
                    t += 32
                }
            }
            while o + 8 <= columns.upperBound { tiles(Tile8.self); o += 8 }
            if o + 4 <= columns.upperBound { tiles(Tile4.self); o += 4 }
            if o + 2 <= columns.upperBound { tiles(Tile2.self); o += 2 }
            if o < columns.upperBound { tiles(Tile1.self); o += 1 }
            r0 = r1
        }
    }
}

extension MatmulVariants {
    /// `threaded`, the engine's default: the tiled arithmetic (bit-identical to `tiled`) straight over the
    /// row-major weights, no packed copy; columns split across the pool in chunks of whole 32-column panels.
    public static let threaded = MatmulVariant(
        name: "threaded",
        summary: "tiled's FMA chains over the row-major weights, no packed copy (in the engine the same as tiled: bit-identical outputs): in-register 16x16 transposes for T<16, transposed input for T>=16; columns in chunks across the pool",
        columnAlignment: matmulPanelWidth, standaloneOnPool: true
    ) { a, cols in
        matmulForwardRowMajor(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
    }
}
