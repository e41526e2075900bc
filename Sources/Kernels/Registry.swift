// The variant registries: `workbench kernels` lists them, `--matmul NAME` / `--attention NAME` pick one.

public enum MatmulVariants {
    /// All matmul variants, in order (the first is the reference).
    public static let all: [MatmulVariant] = [
        MatmulVariant(name: "naive", summary: "reference loop order: one scalar dot product per output") { a, cols in
            matmulForwardNaive(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
        },
    ]
    /// The variant named `name`, or nil.
    public static func named(_ name: String) -> MatmulVariant? { all.first { $0.name == name } }
    public static var reference: MatmulVariant { all[0] }
    /// What the engine uses when the user names none: the fastest variant proven equal to `naive`.
    public static let defaultName = "naive"
}

public enum AttentionVariants {
    /// All attention variants, in order (the first is the reference).
    public static let all: [AttentionVariant] = [
        AttentionVariant(name: "naive", summary: "reference: four passes (scores+max, exp+sum, normalise, weighted sum)") { a, items, ith in
            attentionForwardNaive(a.out, qkv: a.qkv, scratch: a.scratch + ith * a.scratchStride,
                                  pos0: a.pos0, T: a.T, C: a.C, NH: a.NH, items: items)
        },
    ]
    public static func named(_ name: String) -> AttentionVariant? { all.first { $0.name == name } }
    public static var reference: AttentionVariant { all[0] }
    /// What the engine uses when the user names none.
    public static let defaultName = "naive"
}
