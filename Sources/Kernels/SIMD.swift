// The small SIMD layer the kernel variants share: unaligned 16-float loads and stores, and two loops
// (dot product, y += a·x) with an explicit scalar tail for the leftovers. Compiled with
// `-target-cpu native`, `SIMD16<Float>` is one zmm register and `addingProduct` one vfmadd.

/// Loads 16 floats from `p` (any alignment).
@inline(__always) @usableFromInline
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Stores 16 floats to `p` (any alignment).
@inline(__always) @usableFromInline
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// The sum of the 16 lanes as a tree of halves (4 dependent adds; `SIMD.sum()` adds the lanes one by one).
@inline(__always) @usableFromInline
func horizontalSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    let c = b.lowHalf + b.highHalf
    return c[0] + c[1]
}

/// sum_i a[i] * b[i] for i in 0..<n: four 16-lane FMA accumulators over blocks of 64, one over the
/// remaining blocks of 16, then a horizontal sum (a tree), then a scalar FMA tail. The order of operations
/// depends only on n, so the same inputs always give the same bits.
@inline(__always) @usableFromInline
func dotSIMD(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
    var i = 0
    while i + 64 <= n {
        s0 = s0.addingProduct(load16(a + i), load16(b + i))
        s1 = s1.addingProduct(load16(a + i + 16), load16(b + i + 16))
        s2 = s2.addingProduct(load16(a + i + 32), load16(b + i + 32))
        s3 = s3.addingProduct(load16(a + i + 48), load16(b + i + 48))
        i += 64
    }
    while i + 16 <= n {
        s0 = s0.addingProduct(load16(a + i), load16(b + i))
        i += 16
    }
    var sum = horizontalSum((s0 + s1) + (s2 + s3))
    while i < n {
        sum = sum.addingProduct(a[i], b[i])
        i += 1
    }
    return sum
}

/// y[i] *= alpha for i in 0..<n.
@inline(__always) @usableFromInline
func scaleSIMD(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ n: Int) {
    let va = SIMD16<Float>(repeating: alpha)
    var i = 0
    while i + 16 <= n {
        store16(load16(y + i) * va, y + i)
        i += 16
    }
    while i < n {
        y[i] *= alpha
        i += 1
    }
}

/// y[j] += sum_u a[u] * x[u * stride + j] for j in 0..<n, u in 0..<m (y += aᵀ·X for m rows of X):
/// blocks of 64 columns of y live in four registers across all m rows, then blocks of 16, then a scalar
/// tail; for each y[j] the terms are added by FMA in the order u = 0, 1, ..., m-1.
@inline(__always) @usableFromInline
func accumulateRowsSIMD(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                        stride: Int, m: Int, n: Int) {
    var j = 0
    while j + 64 <= n {
        var y0 = load16(y + j), y1 = load16(y + j + 16), y2 = load16(y + j + 32), y3 = load16(y + j + 48)
        var row = x + j
        for u in 0..<m {
            let au = SIMD16<Float>(repeating: a[u])
            y0 = y0.addingProduct(au, load16(row))
            y1 = y1.addingProduct(au, load16(row + 16))
            y2 = y2.addingProduct(au, load16(row + 32))
            y3 = y3.addingProduct(au, load16(row + 48))
            row += stride
        }
        store16(y0, y + j); store16(y1, y + j + 16); store16(y2, y + j + 32); store16(y3, y + j + 48)
        j += 64
    }
    while j + 16 <= n {
        var y0 = load16(y + j)
        var row = x + j
        for u in 0..<m {
            y0 = y0.addingProduct(SIMD16<Float>(repeating: a[u]), load16(row))
            row += stride
        }
        store16(y0, y + j)
        j += 16
    }
    while j < n {
        var s = y[j]
        var row = x + j
        for u in 0..<m {
            s = s.addingProduct(a[u], row[0])
            row += stride
        }
        y[j] = s
        j += 1
    }
}

/// Loads the first m (0...16) floats of `p` into a vector, zero in the other lanes (the scalar tail of a row).
@inline(__always) @usableFromInline
func loadPartial16(_ p: UnsafePointer<Float>, _ m: Int) -> SIMD16<Float> {
    var v = SIMD16<Float>()
    for i in 0..<m { v[i] = p[i] }
    return v
}

/// Sixteen dot products at once, times `scale`: out[u] = scale * sum_j q[j] * row_u[j] for j in 0..<n and
/// u in 0..<count (1...16), where row_u = rows + u * stride. Only out[0..<count] is written.
/// Each row has its own 16-lane FMA accumulator over j (the last partial block zero-padded), then a
/// `horizontalSum`; out[u] depends only on q and row_u, never on the other rows or on `count`. Sixteen
/// independent accumulators keep the FMA unit busy, and q is loaded once for the sixteen rows.
@inline(__always) @usableFromInline
func dot16Rows(_ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ rows: UnsafePointer<Float>,
               stride: Int, count: Int, n: Int, scale: Float) {
    let last = count - 1
    let r0 = rows, r1 = rows + min(1, last) * stride, r2 = rows + min(2, last) * stride
    let r3 = rows + min(3, last) * stride, r4 = rows + min(4, last) * stride, r5 = rows + min(5, last) * stride
    let r6 = rows + min(6, last) * stride, r7 = rows + min(7, last) * stride, r8 = rows + min(8, last) * stride
    let r9 = rows + min(9, last) * stride, r10 = rows + min(10, last) * stride, r11 = rows + min(11, last) * stride
    let r12 = rows + min(12, last) * stride, r13 = rows + min(13, last) * stride
    let r14 = rows + min(14, last) * stride, r15 = rows + min(15, last) * stride
    var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
    var a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0
    var j = 0
    while j + 16 <= n {
        let qv = load16(q + j)
        a0 = a0.addingProduct(qv, load16(r0 + j)); a1 = a1.addingProduct(qv, load16(r1 + j))
        a2 = a2.addingProduct(qv, load16(r2 + j)); a3 = a3.addingProduct(qv, load16(r3 + j))
        a4 = a4.addingProduct(qv, load16(r4 + j)); a5 = a5.addingProduct(qv, load16(r5 + j))
        a6 = a6.addingProduct(qv, load16(r6 + j)); a7 = a7.addingProduct(qv, load16(r7 + j))
        a8 = a8.addingProduct(qv, load16(r8 + j)); a9 = a9.addingProduct(qv, load16(r9 + j))
        a10 = a10.addingProduct(qv, load16(r10 + j)); a11 = a11.addingProduct(qv, load16(r11 + j))
        a12 = a12.addingProduct(qv, load16(r12 + j)); a13 = a13.addingProduct(qv, load16(r13 + j))
        a14 = a14.addingProduct(qv, load16(r14 + j)); a15 = a15.addingProduct(qv, load16(r15 + j))
        j += 16
    }
    if j < n {
        // the last partial block, zero-padded
        let m = n - j
        let qv = loadPartial16(q + j, m)
        a0 = a0.addingProduct(qv, loadPartial16(r0 + j, m)); a1 = a1.addingProduct(qv, loadPartial16(r1 + j, m))
        a2 = a2.addingProduct(qv, loadPartial16(r2 + j, m)); a3 = a3.addingProduct(qv, loadPartial16(r3 + j, m))
        a4 = a4.addingProduct(qv, loadPartial16(r4 + j, m)); a5 = a5.addingProduct(qv, loadPartial16(r5 + j, m))
        a6 = a6.addingProduct(qv, loadPartial16(r6 + j, m)); a7 = a7.addingProduct(qv, loadPartial16(r7 + j, m))
        a8 = a8.addingProduct(qv, loadPartial16(r8 + j, m)); a9 = a9.addingProduct(qv, loadPartial16(r9 + j, m))
        a10 = a10.addingProduct(qv, loadPartial16(r10 + j, m)); a11 = a11.addingProduct(qv, loadPartial16(r11 + j, m))
        a12 = a12.addingProduct(qv, loadPartial16(r12 + j, m)); a13 = a13.addingProduct(qv, loadPartial16(r13 + j, m))
        a14 = a14.addingProduct(qv, loadPartial16(r14 + j, m)); a15 = a15.addingProduct(qv, loadPartial16(r15 + j, m))
    }
    // one horizontal sum per row, stored as a scalar
    @inline(__always) func put(_ u: Int, _ a: SIMD16<Float>) { if u < count { out[u] = horizontalSum(a) * scale } }
    put(0, a0); put(1, a1); put(2, a2); put(3, a3); put(4, a4); put(5, a5); put(6, a6); put(7, a7)
    put(8, a8); put(9, a9); put(10, a10); put(11, a11); put(12, a12); put(13, a13); put(14, a14); put(15, a15)
}

/// Packs `count` rows (row u at rows + u * stride, n floats each) into blocks of 16 rows, transposed:
///   dst[b * 16n + j * 16 + u] = row_(16b + u)[j],  zero for the padding rows past `count`,
/// so that `dot16Transposed` reads one 16-lane vector per j (lanes = rows). dst: ceil(count/16) * 16n floats.
@inline(__always) @usableFromInline
func packTransposed16(_ dst: UnsafeMutablePointer<Float>, _ rows: UnsafePointer<Float>, stride: Int, count: Int, n: Int) {
    let blocks = (count + 15) / 16
    for b in 0..<blocks {
        let block = dst + b * 16 * n
        for u in 0..<16 {
            let r = b * 16 + u
            if r < count {
                let row = rows + r * stride
                for j in 0..<n { block[j * 16 + u] = row[j] }
            } else {
                for j in 0..<n { block[j * 16 + u] = 0 }
            }
        }
    }
}

/// The sixteen dot products of `dot16Rows`, bit for bit, from one block packed by `packTransposed16`:
/// the sixteen accumulators hold lanes l = j mod 16 of every row at once (vector A_l, lanes = rows), get
/// exactly the FMAs dot16Rows gives lane l of each row (the zero-padded last block included), and are then
/// added in `horizontalSum`'s tree (l + 8, then + 4, + 2, + 1) as whole vectors: no shuffles at all.
/// out[u] = scale * dot(q, row_u) for u in 0..<count.
@inline(__always) @usableFromInline
func dot16Transposed(_ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ block: UnsafePointer<Float>,
                     count: Int, n: Int, scale: Float) {
    var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0
    var a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0
    var j = 0
    while j + 16 <= n {
        let k = block + j * 16
        @inline(__always) func term(_ l: Int) -> (SIMD16<Float>, SIMD16<Float>) { (SIMD16(repeating: q[j + l]), load16(k + l * 16)) }
        var (x, y) = term(0); a0 = a0.addingProduct(x, y); (x, y) = term(1); a1 = a1.addingProduct(x, y)
        (x, y) = term(2); a2 = a2.addingProduct(x, y); (x, y) = term(3); a3 = a3.addingProduct(x, y)
        (x, y) = term(4); a4 = a4.addingProduct(x, y); (x, y) = term(5); a5 = a5.addingProduct(x, y)
        (x, y) = term(6); a6 = a6.addingProduct(x, y); (x, y) = term(7); a7 = a7.addingProduct(x, y)
        (x, y) = term(8); a8 = a8.addingProduct(x, y); (x, y) = term(9); a9 = a9.addingProduct(x, y)
        (x, y) = term(10); a10 = a10.addingProduct(x, y); (x, y) = term(11); a11 = a11.addingProduct(x, y)
        (x, y) = term(12); a12 = a12.addingProduct(x, y); (x, y) = term(13); a13 = a13.addingProduct(x, y)
        (x, y) = term(14); a14 = a14.addingProduct(x, y); (x, y) = term(15); a15 = a15.addingProduct(x, y)
        j += 16
    }
    if j < n {
        // the last partial block: lanes l >= m get dot16Rows' zero padding, an FMA of 0 · 0
        let m = n - j
        let k = block + j * 16
        @inline(__always) func step(_ l: Int, _ a: SIMD16<Float>) -> SIMD16<Float> {
            l < m ? a.addingProduct(SIMD16(repeating: q[j + l]), load16(k + l * 16)) : a.addingProduct(SIMD16(), SIMD16())
        }
        a0 = step(0, a0); a1 = step(1, a1); a2 = step(2, a2); a3 = step(3, a3)
        a4 = step(4, a4); a5 = step(5, a5); a6 = step(6, a6); a7 = step(7, a7)
        a8 = step(8, a8); a9 = step(9, a9); a10 = step(10, a10); a11 = step(11, a11)
        a12 = step(12, a12); a13 = step(13, a13); a14 = step(14, a14); a15 = step(15, a15)
    }
    // horizontalSum's tree, lane-parallel: v[l] + v[l+8], then + 4, + 2, + 1
    let b0 = a0 + a8, b1 = a1 + a9, b2 = a2 + a10, b3 = a3 + a11, b4 = a4 + a12, b5 = a5 + a13
    let b6 = a6 + a14, b7 = a7 + a15
    let c0 = b0 + b4, c1 = b1 + b5, c2 = b2 + b6, c3 = b3 + b7
    let d0 = c0 + c2, d1 = c1 + c3
    storePartial16((d0 + d1) * scale, out, count)
}

/// max(floor, p[0], ..., p[n-1]) (16 lanes at a time with compare-and-blend: the standard library's
/// `pointwiseMax` and `max()` go lane by lane).
@inline(__always) @usableFromInline
func maximum(_ p: UnsafePointer<Float>, _ n: Int, floor: Float) -> Float {
    var m = SIMD16<Float>(repeating: floor)
    var u = 0
    while u + 16 <= n {
        let v = load16(p + u)
        m.replace(with: v, where: v .> m)
        u += 16
    }
    var best: Float = floor
    while u < n {
        if p[u] > best { best = p[u] }
        u += 1
    }
    let h = m.lowHalf.replacing(with: m.highHalf, where: m.highHalf .> m.lowHalf)
    let q = h.lowHalf.replacing(with: h.highHalf, where: h.highHalf .> h.lowHalf)
    let d = q.lowHalf.replacing(with: q.highHalf, where: q.highHalf .> q.lowHalf)
    for i in 0..<2 where d[i] > best { best = d[i] }
    return best
}

/// Lane indices 0...15, for masking the lanes past a partial block.
@usableFromInline let laneIndex16 = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/// Stores the first m (1...16) lanes of v to p: one vector store for a full block, else lane by lane
/// (so nothing past p[m-1] is touched).
@inline(__always) @usableFromInline
func storePartial16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ m: Int) {
    if m == 16 { store16(v, p); return }
    for i in 0..<m { p[i] = v[i] }
}

/// e^x lane by lane (Cephes' expf: x = n·ln2 + r with |r| <= ln2/2, a degree-6 polynomial for e^r, then
/// 2^n through the exponent bits). Relative error <= 1.2e-7 for x in [-87, 88] (checked against expf in
/// the tests); x is clamped to that range, so e^x for x < -87 is ~1.6e-38 instead of a denormal or 0.
/// Written with compares, FMAs and bit casts only: the generic `clamped`/`rounded`/Int conversions of the
/// standard library's SIMD types are not vectorised.
@inline(__always) @usableFromInline
func exp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var x = x.replacing(with: -87, where: x .< -87)
    x = x.replacing(with: 88, where: x .> 88)
    // adding 1.5·2^23 rounds x·log2(e) to the nearest integer n, which lands in the low mantissa bits
    let magic = SIMD16<Float>(repeating: 12582912)
    let shifted = x * 1.44269504088896341 + magic
    let n = shifted - magic
    var r = x.addingProduct(n, SIMD16(repeating: -0.693359375))
    r = r.addingProduct(n, SIMD16(repeating: 2.12194440e-4))
    var p = SIMD16<Float>(repeating: 1.9875691500e-4)
    p = SIMD16(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = SIMD16(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = SIMD16(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = SIMD16(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = SIMD16(repeating: 5.0000001201e-1).addingProduct(p, r)
    let y = (p * (r * r) + r) + 1
    // 2^n: (n + 127) << 23 as float bits; n = bits(shifted) - bits(magic)
    let e = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return y * unsafeBitCast(e, to: SIMD16<Float>.self)
}

/// s[u] = e^(s[u] - shift) for u in 0..<n (16 lanes at a time by `exp16`), returning the sum of the new
/// values: one 16-lane accumulator in order over the blocks, then `horizontalSum`.
@inline(__always) @usableFromInline
func expShiftSum(_ s: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    var sum = SIMD16<Float>()
    var u = 0
    while u + 16 <= n {
        let e = exp16(load16(s + u) - shift)
        store16(e, s + u)
        sum += e
        u += 16
    }
    if u < n {
        let m = n - u
        let e = exp16(loadPartial16(s + u, m) - shift).replacing(with: 0, where: laneIndex16 .>= Int32(m))
        storePartial16(e, s + u, m)
        sum += e
    }
    return horizontalSum(sum)
}
