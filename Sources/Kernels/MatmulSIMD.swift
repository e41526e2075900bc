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

// MARK: - The engine's matmul below T = 16 (variant `threaded`'s decode): dot products over the row-major weights
//
// The checkpoint stores every weight row-major, [OC, C]: one output's C weights are contiguous. This kernel
// reads them in place (no packed copy of the weights anywhere) and gives every output the same sum
// whatever T, the column range, the tile or the worker:
//
//   out[t, o] = horizontalSum(acc) (+ bias[o]), where lane j of the 16-lane accumulator acc is the FMA
//   chain over k = j, j+16, j+32, ... < C in increasing k, from 0 (the last partial block of C zero-padded,
//   so a lane past C adds fma(0, 0, acc)), and horizontalSum is SIMD.swift's tree (j + 8, + 4, + 2, + 1).
//
// A decode step (T = 1) is a stream over the weight rows, 8 at a time, one FMA per 16 weights and no
// shuffles: memory-bound. (tiled's one-chain-per-output order needs the 16 weights w[o..<o+16, k] as one
// vector; from row-major rows that is a 16x16 transpose in registers, ~100 shuffles per KB of weights, and
// measured 0.62-0.65x the packed gemv's speed here; Notes/engine.md.) Small batches (2 <= T < 16) use 2 x 8
// tiles (2 input rows, 8 weight rows: 10 loads per 16 FMAs) reduced together by `reduce16` (horizontalSum's
// tree as 15 vector adds and ~30 two-source shuffles instead of 16 trees); for C > 768 (fcproj) they run in
// blocks of 768 channels with the partial accumulators kept in a small stack buffer (a vector stored and
// reloaded is exact). From T = 16 on, `threaded` switches to tiled's order (`matmulForwardRowMajor`,
// MatmulTiled.swift): the dot order's per-output reductions cost ~15-25% at prefill sizes. The two orders
// agree within the naive tolerance, not bit for bit.

/// A tile dimension known at compile time: kernels generic over it are specialised once per value, so the
/// unused rows/columns of a smaller tile vanish (`Int` arguments left them as branches in the loop when
/// the optimiser chose not to inline).
@usableFromInline protocol TileCount { static var n: Int { get } }
@usableFromInline enum Tile1: TileCount { @inlinable static var n: Int { 1 } }
@usableFromInline enum Tile2: TileCount { @inlinable static var n: Int { 2 } }
@usableFromInline enum Tile4: TileCount { @inlinable static var n: Int { 4 } }
@usableFromInline enum Tile8: TileCount { @inlinable static var n: Int { 8 } }

@usableFromInline typealias F16 = SIMD16<Float>
@usableFromInline typealias D8 = SIMD8<Double>

/// Channels per block when T > 1 and C is larger (the partial lane sums are kept between blocks).
public let matmulDotDepthBlock = 768
/// Input rows per block: the rows whose tiles reuse one block of 8 weight rows from L1.
@usableFromInline let matmulDotRowBlock = 64

// The reduction of 16 accumulators at once. Each level pairs two vectors and adds, for every accumulator
// it holds, the two halves that horizontalSum adds at that level; consecutive levels are written with
// different element widths (64, 32, 64, 32 bits) so LLVM keeps each a two-source shuffle.
/// Level 1 (lane j + lane j+8): [a.lo256, b.lo256] + [a.hi256, b.hi256].
@inline(__always) @usableFromInline func reduceHalves(_ a: F16, _ b: F16) -> F16 {
    let x = unsafeBitCast(a, to: D8.self), y = unsafeBitCast(b, to: D8.self)
    let lo = D8(x[0], x[1], x[2], x[3], y[0], y[1], y[2], y[3]), hi = D8(x[4], x[5], x[6], x[7], y[4], y[5], y[6], y[7])
    return unsafeBitCast(lo, to: F16.self) + unsafeBitCast(hi, to: F16.self)
}
/// Level 2 (+ 4): 128-bit chunks [a.c0, a.c2, b.c0, b.c2] + [a.c1, a.c3, b.c1, b.c3].
@inline(__always) @usableFromInline func reduceChunks(_ a: F16, _ b: F16) -> F16 {
    let lo = F16(a[0], a[1], a[2], a[3], a[8], a[9], a[10], a[11], b[0], b[1], b[2], b[3], b[8], b[9], b[10], b[11])
    let hi = F16(a[4], a[5], a[6], a[7], a[12], a[13], a[14], a[15], b[4], b[5], b[6], b[7], b[12], b[13], b[14], b[15])
    return lo + hi
}
/// Level 3 (+ 2): 64-bit pairs interleaved within each chunk.
@inline(__always) @usableFromInline func reducePairs(_ a: F16, _ b: F16) -> F16 {
    let x = unsafeBitCast(a, to: D8.self), y = unsafeBitCast(b, to: D8.self)
    let lo = D8(x[0], y[0], x[2], y[2], x[4], y[4], x[6], y[6]), hi = D8(x[1], y[1], x[3], y[3], x[5], y[5], x[7], y[7])
    return unsafeBitCast(lo, to: F16.self) + unsafeBitCast(hi, to: F16.self)
}
/// Level 4 (+ 1): even and odd lanes.
@inline(__always) @usableFromInline func reduceLanes(_ a: F16, _ b: F16) -> F16 {
    let lo = F16(a[0], a[2], b[0], b[2], a[4], a[6], b[4], b[6], a[8], a[10], b[8], b[10], a[12], a[14], b[12], b[14])
    let hi = F16(a[1], a[3], b[1], b[3], a[5], a[7], b[5], b[7], a[9], a[11], b[9], b[11], a[13], a[15], b[13], b[15])
    return lo + hi
}

/// horizontalSum of 16 vectors at once, bit for bit: lane L of the result is horizontalSum(v[n]) with
/// n = L / 4 + 4 (L % 4).
@inline(__always) @usableFromInline
func reduce16(_ v0: F16, _ v1: F16, _ v2: F16, _ v3: F16, _ v4: F16, _ v5: F16, _ v6: F16, _ v7: F16,
              _ v8: F16, _ v9: F16, _ v10: F16, _ v11: F16, _ v12: F16, _ v13: F16, _ v14: F16, _ v15: F16) -> F16 {
    let p0 = reduceHalves(v0, v1), p1 = reduceHalves(v2, v3), p2 = reduceHalves(v4, v5), p3 = reduceHalves(v6, v7)
    let p4 = reduceHalves(v8, v9), p5 = reduceHalves(v10, v11), p6 = reduceHalves(v12, v13), p7 = reduceHalves(v14, v15)
    // q(i) chunk c holds vector 4i + c (4 lanes left)
    let q0 = reduceChunks(p0, p1), q1 = reduceChunks(p2, p3), q2 = reduceChunks(p4, p5), q3 = reduceChunks(p6, p7)
    // r(i) chunk c holds vectors 8i + c and 8i + 4 + c (2 lanes each)
    let r0 = reducePairs(q0, q1), r1 = reducePairs(q2, q3)
    // lane 4c + m holds vector c + 4m
    return reduceLanes(r0, r1)
}

/// One tile: input rows t..<t+R (R = 1, 2), weight rows o..<o+N (N = 1, 2, 4, 8), channels k0..<k1.
/// `first`: the accumulators start at 0, else at `partials` (row r, column i at partials[r * 8 + i]);
/// `last`: reduce, add the bias and store out[t + r, o + i], else store the accumulators to `partials`.
@usableFromInline
func dotTile<Rows: TileCount, Cols: TileCount>(
    _: Rows.Type, _: Cols.Type, _ out: UnsafeMutablePointer<Float>, _ OC: Int, _ inp: UnsafePointer<Float>,
    _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ C: Int, _ t: Int, _ o: Int,
    _ k0: Int, _ k1: Int, _ first: Bool, _ last: Bool, _ partials: UnsafeMutablePointer<F16>
) {
    let R = Rows.n, N = Cols.n
    let z = F16()
    var a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z
    var b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z
    if !first {
        let p = partials, q = partials + 8
        a0 = p[0]; if N > 1 { a1 = p[1] }; if N > 2 { a2 = p[2]; a3 = p[3] }
        if N > 4 { a4 = p[4]; a5 = p[5]; a6 = p[6]; a7 = p[7] }
        if R > 1 {
            b0 = q[0]; if N > 1 { b1 = q[1] }; if N > 2 { b2 = q[2]; b3 = q[3] }
            if N > 4 { b4 = q[4]; b5 = q[5]; b6 = q[6]; b7 = q[7] }
        }
    }
    let x0 = inp + t * C, x1 = x0 + C
    let w0 = weight + o * C, w1 = w0 + C, w2 = w1 + C, w3 = w2 + C, w4 = w3 + C, w5 = w4 + C, w6 = w5 + C, w7 = w6 + C
    @inline(__always) func step(_ xa: F16, _ xb: F16, _ w: (UnsafePointer<Float>) -> F16) {
        var v = w(w0); a0 = a0.addingProduct(xa, v); if R > 1 { b0 = b0.addingProduct(xb, v) }
        if N > 1 { v = w(w1); a1 = a1.addingProduct(xa, v); if R > 1 { b1 = b1.addingProduct(xb, v) } }
        if N > 2 {
            v = w(w2); a2 = a2.addingProduct(xa, v); if R > 1 { b2 = b2.addingProduct(xb, v) }
            v = w(w3); a3 = a3.addingProduct(xa, v); if R > 1 { b3 = b3.addingProduct(xb, v) }
        }
        if N > 4 {
            v = w(w4); a4 = a4.addingProduct(xa, v); if R > 1 { b4 = b4.addingProduct(xb, v) }
            v = w(w5); a5 = a5.addingProduct(xa, v); if R > 1 { b5 = b5.addingProduct(xb, v) }
            v = w(w6); a6 = a6.addingProduct(xa, v); if R > 1 { b6 = b6.addingProduct(xb, v) }
            v = w(w7); a7 = a7.addingProduct(xa, v); if R > 1 { b7 = b7.addingProduct(xb, v) }
        }
    }
    var k = k0
    while k + 16 <= k1 {
        step(load16(x0 + k), R > 1 ? load16(x1 + k) : z) { load16($0 + k) }
        k += 16
    }
    if k < k1 {
        // the last partial block of C: both operands zero-padded (lanes past C add fma(0, 0, acc))
        let m = k1 - k
        step(loadPartial16(x0 + k, m), R > 1 ? loadPartial16(x1 + k, m) : z) { loadPartial16($0 + k, m) }
    }
    if !last {
        let p = partials, q = partials + 8
        p[0] = a0; if N > 1 { p[1] = a1 }; if N > 2 { p[2] = a2; p[3] = a3 }
        if N > 4 { p[4] = a4; p[5] = a5; p[6] = a6; p[7] = a7 }
        if R > 1 {
            q[0] = b0; if N > 1 { q[1] = b1 }; if N > 2 { q[2] = b2; q[3] = b3 }
            if N > 4 { q[4] = b4; q[5] = b5; q[6] = b6; q[7] = b7 }
        }
        return
    }
    let row0 = out + t * OC + o, row1 = row0 + OC
    if R == 2 && N == 8 {
        // lanes 0..<8 = row t, 8..<16 = row t+1 (accumulator order from reduce16's lane map)
        var s = reduce16(a0, a4, b0, b4, a1, a5, b1, b5, a2, a6, b2, b6, a3, a7, b3, b7)
        if let bias {
            let bb = UnsafeRawPointer(bias + o).loadUnaligned(as: SIMD8<Float>.self)
            s = s + F16(lowHalf: bb, highHalf: bb)
        }
        UnsafeMutableRawPointer(row0).storeBytes(of: s.lowHalf, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(row1).storeBytes(of: s.highHalf, as: SIMD8<Float>.self)
        return
    }
    @inline(__always) func put(_ row: UnsafeMutablePointer<Float>, _ i: Int, _ a: F16) {
        let v = horizontalSum(a)
        row[i] = bias.map { v + $0[o + i] } ?? v
    }
    put(row0, 0, a0); if N > 1 { put(row0, 1, a1) }; if N > 2 { put(row0, 2, a2); put(row0, 3, a3) }
    if N > 4 { put(row0, 4, a4); put(row0, 5, a5); put(row0, 6, a6); put(row0, 7, a7) }
    if R > 1 {
        put(row1, 0, b0); if N > 1 { put(row1, 1, b1) }; if N > 2 { put(row1, 2, b2); put(row1, 3, b3) }
        if N > 4 { put(row1, 4, b4); put(row1, 5, b5); put(row1, 6, b6); put(row1, 7, b7) }
    }
}

/// out[t, o] = bias[o] + sum_k inp[t, k] * weight[o, k] over the row-major weight [>= OC, C], in the dot
/// order of the section comment (the same bits for every T, column range and split).
/// out: [T, OC], inp: [T, C], bias: [OC] or nil. Only columns `columns` (a sub-range of 0..<OC) are written.
/// Loops: row blocks of 64 > 8 weight rows > channel blocks of 768 (T > 1 only) > tiles of 2 rows > k.
/// Meant for T < 16 (`threaded` uses it there); correct for any T.
public func matmulForwardDot(
    _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, T: Int, C: Int, OC: Int, columns: Range<Int>
) {
    if columns.isEmpty || T == 0 { return }
    let kc = T == 1 || C <= matmulDotDepthBlock ? C : matmulDotDepthBlock
    withUnsafeTemporaryAllocation(of: F16.self, capacity: kc < C ? matmulDotRowBlock * 8 : 1) { buffer in
        let partials = buffer.baseAddress!
        var r0 = 0
        while r0 < T {
            let r1 = min(T, r0 + matmulDotRowBlock)
            var o = columns.lowerBound
            func block<Cols: TileCount>(_ cols: Cols.Type) {
                var k0 = 0
                repeat {
                    let k1 = min(C, k0 + kc)
                    let first = k0 == 0, last = k1 == C
                    var t = r0
                    while t + 2 <= r1 {
                        dotTile(Tile2.self, cols, out, OC, inp, weight, bias, C, t, o, k0, k1, first, last, partials + (t - r0) * 8)
                        t += 2
                    }
                    if t < r1 {
                        dotTile(Tile1.self, cols, out, OC, inp, weight, bias, C, t, o, k0, k1, first, last, partials + (t - r0) * 8)
                    }
                    k0 = k1
                } while k0 < C
            }
            while o + 8 <= columns.upperBound { block(Tile8.self); o += 8 }
            if o + 4 <= columns.upperBound { block(Tile4.self); o += 4 }
            if o + 2 <= columns.upperBound { block(Tile2.self); o += 2 }
            if o < columns.upperBound { block(Tile1.self); o += 1 }
            r0 = r1
        }
    }
}

extension MatmulVariants {
    /// `threaded`, the engine's default: straight over the row-major weights (no packed copy), its columns
    /// split across the pool in chunks of whole 32-column panels; T < 16: `matmulForwardDot` (dot order),
    /// T >= 16: `matmulForwardRowMajor` (tiled's order, bit-identical to `tiled`).
    public static let threaded = MatmulVariant(
        name: "threaded",
        summary: "over the row-major weights, no packed copy: dot products for T<16 (decode), tiled's FMA chains for T>=16 (bit-identical to tiled); columns in chunks across the pool",
        columnAlignment: matmulPanelWidth, standaloneOnPool: true
    ) { a, cols in
        if a.T < matmulWideRows {
            matmulForwardDot(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
        } else {
            matmulForwardRowMajor(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
        }
    }
}
