// The variant registries: `workbench kernels` lists them, `--matmul NAME` / `--attention NAME` pick one.
// Numbered in order, the first is the reference every other variant is checked against.

public enum MatmulVariants {
    /// The key of the panel-packed weight copy shared by `tiled` and `threaded`.
    static let panelKey = "panels32"

    /// Packs `w` into 32-column panels once (cached in the matrix).
    @Sendable static func preparePanels(_ w: WeightMatrix) {
        _ = w.packed(panelKey, count: packedPanelCount(rows: w.rows, C: w.cols)) { dst in
            packWeightPanels(dst, w.data, rows: w.rows, C: w.cols)
        }
    }

    @Sendable static func tiledKernel(_ a: MatmulArgs, _ cols: Range<Int>) {
        // `prepare` normally made the panels already; packing here keeps a direct call correct.
        let packed = a.weight.existingPacked(panelKey) ?? {
            preparePanels(a.weight)
            return a.weight.existingPacked(panelKey)!
        }()
        matmulForwardTiled(a.out, a.inp, packed: packed, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
    }

    /// All matmul variants, in order (the first is the reference).
    public static let all: [MatmulVariant] = [
        // 0
        MatmulVariant(name: "naive", summary: "reference loop order: one scalar dot product per output") { a, cols in
            matmulForwardNaive(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
        },
        // 1
        MatmulVariant(name: "simd", summary: "SIMD16 dot products, four independent accumulators, over the unpacked weight") { a, cols in
            matmulForwardSIMD(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
        },
        // 2
        MatmulVariant(name: "tiled", summary: "8x32 register tiles (one FMA chain per output) over weights packed once in 32-column panels",
                      columnAlignment: matmulPanelWidth, prepare: preparePanels, kernel: tiledKernel),
        // 3
        MatmulVariant(name: "threaded", summary: "tiled, its columns split across the worker pool (whole panels per worker)",
                      columnAlignment: matmulPanelWidth, usesPool: true, prepare: preparePanels, kernel: tiledKernel),
        // 4
        MatmulVariant(name: "blas", summary: "OpenBLAS cblas_sgemm + bias, on OpenBLAS's own threads (not bit-reproducible across T)",
                      usesPool: true,
                      ownThreads: { a, threads in
                          matmulForwardBLAS(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC,
                                            columns: 0..<a.OC, threads: threads)
                      }) { a, cols in
            matmulForwardBLAS(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC,
                              columns: cols, threads: 1)
        },
    ] + formatVariants  // 5, 6, 7: bf16, q8, q4 (MatmulQuant.swift)
    /// The variant named `name`, or nil.
    public static func named(_ name: String) -> MatmulVariant? { all.first { $0.name == name } }
    public static var reference: MatmulVariant { all[0] }
    /// What the engine uses when the user names none: the fastest variant proven equal to `naive` and
    /// bit-identical for every T, column split and thread count (see MatmulTiled.swift).
    public static let defaultName = "threaded"
}

public enum AttentionVariants {
    /// All attention variants, in order (the first is the reference).
    public static let all: [AttentionVariant] = [
        // 0
        AttentionVariant(name: "naive", summary: "reference: four passes (scores+max, exp+sum, normalise, weighted sum)") { a, items, ith in
            attentionForwardNaive(a.out, qkv: a.qkv, scratch: a.scratch + ith * a.scratchStride,
                                  pos0: a.pos0, T: a.T, C: a.C, NH: a.NH, items: items)
        },
        // 1
        AttentionVariant(name: "simd", summary: "the same four passes, SIMD16 over the head dimension for q.k and the weighted sum") { a, items, ith in
            attentionForwardSIMD(a.out, qkv: a.qkv, scratch: a.scratch + ith * a.scratchStride,
                                 pos0: a.pos0, T: a.T, C: a.C, NH: a.NH, items: items)
        },
        // 2
        AttentionVariant(name: "threaded", summary: "simd, its (position, head) items split across the worker pool", usesPool: true) { a, items, ith in
            attentionForwardSIMD(a.out, qkv: a.qkv, scratch: a.scratch + ith * a.scratchStride,
                                 pos0: a.pos0, T: a.T, C: a.C, NH: a.NH, items: items)
        },
        // 3
        AttentionVariant(name: "online", summary: "one pass, online softmax over tiles of 32 keys, blocks of 8 query rows (flash-style), SIMD16", usesPool: true) { a, items, ith in
            attentionForwardOnline(a.out, qkv: a.qkv, scratch: a.scratch + ith * a.scratchStride,
                                   pos0: a.pos0, T: a.T, C: a.C, NH: a.NH, items: items)
        },
    ]
    public static func named(_ name: String) -> AttentionVariant? { all.first { $0.name == name } }
    public static var reference: AttentionVariant { all[0] }
    /// What the engine uses when the user names none: the fastest variant proven close to `naive` and
    /// independent of pos0/T splits and workers.
    public static let defaultName = "online"
}
