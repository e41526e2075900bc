// Matmul variants `bf16`, `q8` and `q4`: the weight formats as kernel variants. The kernels are C with
// AVX-512 intrinsics (Sources/CQuant: layouts, packing, the arithmetic rule); this file registers them.
//
//   bf16  weights rounded to bfloat16 (2 B/weight), widened to fp32 in registers, fp32 FMA chain per output
//   q8    int8 weights, one fp16 scale per 32 along C (ggml's q8_0, 1.0625 B/weight); activations quantized
//         per row and block of 32 to int8, exact int32 block dot products with VNNI vpdpbusd
//   q4    4-bit weights, one fp16 scale per 32 (ggml's q4_0, 0.5625 B/weight); activations as for q8
//
// For an fp32 weight, `prepare` quantizes it once into the WeightMatrix's cache under the format's key; a
// matrix from a converted model file arrives with those bytes already (no fp32 copy). Like `threaded`, the
// variants split their output columns across the pool, whole panels per worker, and obey the determinism
// rule (each output's bits depend only on its input row and weight column: tests check T = 1 vs batches,
// odd column splits and pools of 1-3). They are lossy: each format states its bound on `KernelError.normalised`
// against naive (`WeightFormat.tolerance`, the variant's `tolerance`) instead of the fp32 rounding bound.

import CQuant

/// How a weight matrix is stored for the matmul kernels (and in a converted model file).
public enum WeightFormat: String, CaseIterable, Codable, Sendable {
    /// fp32, row-major [OC, C] (llm.c's layout; the fp32 variants read it, `tiled` packs its own panels).
    case f32
    /// bfloat16 in panels of 32 output columns, k-major.
    case bf16
    /// int8 + fp16 scale per 32 weights along C, panels of 16 output columns.
    case q8
    /// 4-bit + fp16 scale per 32 weights along C, panels of 16 output columns.
    case q4

    /// The code stored in model files and passed to CQuant (CQ_F32, CQ_BF16, CQ_Q8, CQ_Q4).
    public var code: Int32 {
        switch self { case .f32: Int32(CQ_F32); case .bf16: Int32(CQ_BF16); case .q8: Int32(CQ_Q8); case .q4: Int32(CQ_Q4) }
    }
    public init?(code: Int32) {
        guard let f = WeightFormat.allCases.first(where: { $0.code == code }) else { return nil }
        self = f
    }

    /// Bytes of a weight [rows, C] in this format, as the kernels read it (whole panels, C padded to 64 for q8/q4).
    public func bytes(rows: Int, cols: Int) -> Int {
        self == .f32 ? rows * cols * MemoryLayout<Float>.size : Int(cq_packed_bytes(code, Int32(rows), Int32(cols)))
    }

    /// Average bytes per weight at GPT-2's shapes (C a multiple of 64, OC a multiple of the panel).
    public var bytesPerWeight: Double {
        switch self { case .f32: 4; case .bf16: 2; case .q8: 34.0 / 32; case .q4: 18.0 / 32 }
    }

    /// Output columns per panel (the column split granularity of the variant), 1 for f32.
    public var panelRows: Int { self == .f32 ? 1 : Int(cq_panel_rows(code)) }

    /// The key of the format's bytes in a `WeightMatrix` cache.
    public var cacheKey: String { "format." + rawValue }

    /// The largest normalised error (`KernelError.normalised`: max |y - y_naive| / max |y_naive|) a variant of
    /// this format may have against naive for inputs, weights and biases uniform in [-1, 1). Measured worst
    /// over 24 shapes x 5 seeds x bias on/off (T = 1...70, C = 1...3072; Notes/formats.md): bf16 3.4e-3,
    /// q8 9.7e-3, q4 0.106 (at C = 768, OC = 3072: 1.6e-3, 4.8e-3, 5.1e-2). Dropping 3 of 24 blocks gives ~0.35.
    /// f32: the fp32 rounding bound.
    public var tolerance: Double {
        switch self { case .f32: KernelError.fp32Tolerance; case .bf16: 6e-3; case .q8: 2e-2; case .q4: 0.15 }
    }

    /// The exact fp32 values of a packed weight [rows, C] (what the kernels multiply by).
    public func unpack(_ dst: UnsafeMutablePointer<Float>, from packed: UnsafeRawPointer, rows: Int, cols: Int) {
        if self == .f32 {
            dst.update(from: packed.assumingMemoryBound(to: Float.self), count: rows * cols)
        } else {
            cq_unpack(code, dst, packed, Int32(rows), Int32(cols))
        }
    }

    /// Packs only panels `panels` (of `panelRows` rows each) of w into dst (the whole matrix's buffer): for
    /// packing in parallel. f32: rows.
    public func pack(_ dst: UnsafeMutableRawPointer, from w: UnsafePointer<Float>, rows: Int, cols: Int, panels: Range<Int>) {
        if self == .f32 {
            let lo = min(rows, panels.lowerBound), hi = min(rows, panels.upperBound)
            (dst + lo * cols * 4).copyMemory(from: w + lo * cols, byteCount: (hi - lo) * cols * 4)
        } else {
            cq_pack_panels(code, dst, w, Int32(rows), Int32(cols), Int32(panels.lowerBound), Int32(panels.upperBound))
        }
    }

    /// Panels of a weight with `rows` rows (rows for f32).
    public func panelCount(rows: Int) -> Int { (rows + panelRows - 1) / panelRows }

    /// Packs (quantizes) a row-major fp32 weight [rows, C] into dst [bytes(rows:cols:)].
    public func pack(_ dst: UnsafeMutableRawPointer, from w: UnsafePointer<Float>, rows: Int, cols: Int) {
        if self == .f32 {
            dst.copyMemory(from: w, byteCount: rows * cols * MemoryLayout<Float>.size)
        } else {
            cq_pack(code, dst, w, Int32(rows), Int32(cols))
        }
    }
}

/// The relative RMS error sqrt(sum (x - ref)^2 / sum ref^2) (0 when both are all zero; NaN in x gives NaN):
/// the second figure Notes/formats.md gives for each format (the tolerance is on `KernelError.normalised`).
public func relativeRMSError(_ x: UnsafePointer<Float>, _ ref: UnsafePointer<Float>, count: Int) -> Double {
    var e = 0.0, r = 0.0
    for i in 0..<count {
        let d = Double(x[i]) - Double(ref[i])
        e += d * d
        r += Double(ref[i]) * Double(ref[i])
    }
    if e.isNaN { return .nan }
    return e == 0 ? 0 : (e / r).squareRoot()
}

extension MatmulVariants {
    /// Makes `w`'s bytes in format `f` (cached; a matrix from a converted file already has them).
    static func prepareFormat(_ f: WeightFormat, _ w: WeightMatrix) -> UnsafeRawPointer {
        if let b = w.existingFormatBytes(f.cacheKey) { return b }
        return w.formatBytes(f.cacheKey, count: f.bytes(rows: w.rows, cols: w.cols)) { dst in
            f.pack(dst, from: w.data, rows: w.rows, cols: w.cols)
        }
    }

    static func formatVariant(_ f: WeightFormat, summary: String) -> MatmulVariant {
        MatmulVariant(name: f.rawValue, summary: summary, columnAlignment: f.panelRows, standaloneOnPool: true,
                      bitReproducible: true, tolerance: f.tolerance, prepare: { w in _ = prepareFormat(f, w) }) { a, cols in
            // `prepare` normally made the bytes already; making them here keeps a direct call correct.
            let packed = a.weight.existingFormatBytes(f.cacheKey) ?? prepareFormat(f, a.weight)
            cq_matmul(f.code, a.out, a.inp, packed, a.bias, Int32(a.T), Int32(a.C), Int32(a.OC),
                      Int32(cols.lowerBound), Int32(cols.upperBound))
        }
    }

    /// The weight-format variants (lossy; appended to `all`).
    public static let formatVariants: [MatmulVariant] = [
        formatVariant(.bf16, summary: "bf16 weights (2 B) in 32-column panels, widened to fp32 in registers, one FMA chain per output (lossy)"),
        formatVariant(.q8, summary: "int8 weights + fp16 scale per 32 (ggml q8_0), int8 activations, AVX-512 VNNI dot products (lossy)"),
        formatVariant(.q4, summary: "4-bit weights + fp16 scale per 32 (ggml q4_0), int8 activations, AVX-512 VNNI dot products (lossy)"),
    ]

    /// Whether CQuant runs its AVX-512 kernels here (else its bit-identical scalar code: correct, slow).
    public static var formatKernelsUseSIMD: Bool { cq_simd_available() != 0 }
}

extension MatmulVariant {
    /// The weight format the variant reads (`.f32` for every fp32 variant).
    public var weightFormat: WeightFormat {
        MatmulVariants.formatVariants.contains { $0.name == name } ? WeightFormat(rawValue: name)! : .f32
    }

    /// Whether the variant is lossy (a weight format: held to its format's `tolerance`, not the fp32 one).
    public var isLossy: Bool { weightFormat != .f32 }

    /// Bytes of weights one call of this variant streams (its format's bytes of the first OC rows).
    public func weightBytes(rows: Int, cols: Int) -> Int { weightFormat.bytes(rows: rows, cols: cols) }
}
