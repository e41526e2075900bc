// The variant registries: `workbench kernels` lists them, `--matmul NAME` / `--attention NAME` pick one.
// Numbered in order: the built-in variants first (the first is the reference every other variant is checked
// against, `KernelError`), then the variants registered at start-up (users' experiments, Sources/Experiments).
// A matmul spec that names a shared library (`./libmine.so[:SYMBOL]`) resolves to a variant loaded at run
// time (MatmulSharedLibrary.swift).
import Synchronization

/// A registry of kernel variants: the built-in ones, then those registered at start-up.
///
/// Thread-safe: `register` and `all` take a lock. Register at start-up, before any engine, comparison or
/// test picks its variants (workbench's `main` and the variant tests call `Experiments.register()` first), so
/// that every part of a run sees the same list.
public final class VariantRegistry<Variant: KernelVariant>: Sendable {
    /// "matmul" or "attention" (for messages).
    public let kernel: String
    /// The variants of the core library, in order; the first is the reference.
    public let builtIn: [Variant]
    private let registered = Mutex<[Variant]>([])

    public init(kernel: String, builtIn: [Variant]) {
        precondition(!builtIn.isEmpty, "a registry needs its reference variant")
        self.kernel = kernel; self.builtIn = builtIn
    }

    /// Every variant: the built-in ones, then the registered ones in registration order.
    public var all: [Variant] { builtIn + registered.withLock { $0 } }

    /// The variant named `name`, or nil (names are case-sensitive).
    public func named(_ name: String) -> Variant? { all.first { $0.name == name } }

    /// Whether `name` is one of the core library's variants (not a registered experiment).
    public func isBuiltIn(_ name: String) -> Bool { builtIn.contains { $0.name == name } }

    /// Adds `v` after the others. Throws when its name is taken or cannot be written in a spec.
    public func register(_ v: Variant) throws {
        if let problem = VariantRegistry.problem(name: v.name) {
            throw VariantRegistrationError(kernel: kernel, name: v.name, problem: problem)
        }
        let taken: Bool = registered.withLock { list in
            if builtIn.contains(where: { $0.name == v.name }) || list.contains(where: { $0.name == v.name }) { return true }
            list.append(v)
            return false
        }
        if taken { throw VariantRegistrationError(kernel: kernel, name: v.name, problem: "the name is taken") }
    }

    /// Why `name` cannot name a variant (nil when it can): it must be non-empty and free of the characters the
    /// specs use as separators (`,` `=` `:`), of `/`, of whitespace, and must not end in `.so` (shared libraries).
    public static func problem(name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.contains(where: { $0 == "," || $0 == "=" || $0 == ":" || $0 == "/" || $0.isWhitespace }) {
            return "names may not contain ',', '=', ':', '/' or whitespace (they are written in specs like matmul=NAME,threads=2)"
        }
        if name.hasSuffix(".so") { return "a name ending in .so means a shared library" }
        return nil
    }
}

/// A variant that cannot be registered: one line naming it and why.
public struct VariantRegistrationError: Error, CustomStringConvertible {
    public let kernel: String, name: String, problem: String
    public var description: String { "cannot register \(kernel) variant '\(name)': \(problem)" }
}

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

    /// The matmul registry: the built-in variants below, then the registered experiments.
    public static let registry = VariantRegistry<MatmulVariant>(kernel: "matmul", builtIn: [
        // 0
        MatmulVariant(name: "naive", summary: "reference loop order: one scalar dot product per output") { a, cols in
            matmulForwardNaive(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
        },
        // 1
        MatmulVariant(name: "simd", summary: "SIMD16 dot products, four independent accumulators, over the unpacked weight") { a, cols in
            matmulForwardSIMD(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC, columns: cols)
        },
        // 2
        MatmulVariant(name: "tiled", summary: "8x32 register tiles (one FMA chain per output) over weights packed once in 32-column panels; alone on one thread, in the engine split like threaded",
                      columnAlignment: matmulPanelWidth, prepare: preparePanels, kernel: tiledKernel),
        // 3
        threaded,  // MatmulSIMD.swift: over the row-major weights, no packed copy (dot order T<16, tiled's T>=16), split across the pool
        // 4
        MatmulVariant(name: "blas", summary: "OpenBLAS cblas_sgemm + bias, on OpenBLAS's own threads (not bit-reproducible across T)",
                      standaloneOnPool: true, bitReproducible: false,
                      ownThreads: { a, threads in
                          matmulForwardBLAS(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC,
                                            columns: 0..<a.OC, threads: threads)
                      }) { a, cols in
            matmulForwardBLAS(a.out, a.inp, weight: a.weight.data, bias: a.bias, T: a.T, C: a.C, OC: a.OC,
                              columns: cols, threads: 1)
        },
    ] + formatVariants)  // 5, 6, 7: bf16, q8, q4 (MatmulQuant.swift)

    /// All matmul variants, in order (the first is the reference; registered experiments last).
    public static var all: [MatmulVariant] { registry.all }
    /// The variant named `name`, or nil.
    public static func named(_ name: String) -> MatmulVariant? { registry.named(name) }
    public static var reference: MatmulVariant { registry.builtIn[0] }
    /// Adds a variant after the others (start-up only; see `VariantRegistry`).
    public static func register(_ v: MatmulVariant) throws { try registry.register(v) }
    /// What the engine uses when the user names none: the fastest variant proven equal to `naive` and
    /// bit-identical for every T, column split and thread count (see MatmulTiled.swift).
    public static let defaultName = "threaded"
}

public enum AttentionVariants {
    /// The attention registry: the built-in variants below, then the registered experiments.
    public static let registry = VariantRegistry<AttentionVariant>(kernel: "attention", builtIn: [
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
        AttentionVariant(name: "threaded", summary: "simd, its (position, head) items split across the worker pool", standaloneOnPool: true) { a, items, ith in
            attentionForwardSIMD(a.out, qkv: a.qkv, scratch: a.scratch + ith * a.scratchStride,
                                 pos0: a.pos0, T: a.T, C: a.C, NH: a.NH, items: items)
        },
        // 3
        AttentionVariant(name: "online", summary: "one pass, online softmax over tiles of 32 keys, blocks of 8 query rows (flash-style), SIMD16", standaloneOnPool: true) { a, items, ith in
            attentionForwardOnline(a.out, qkv: a.qkv, scratch: a.scratch + ith * a.scratchStride,
                                   pos0: a.pos0, T: a.T, C: a.C, NH: a.NH, items: items)
        },
    ])

    /// All attention variants, in order (the first is the reference; registered experiments last).
    public static var all: [AttentionVariant] { registry.all }
    public static func named(_ name: String) -> AttentionVariant? { registry.named(name) }
    public static var reference: AttentionVariant { registry.builtIn[0] }
    /// Adds a variant after the others (start-up only; see `VariantRegistry`).
    public static func register(_ v: AttentionVariant) throws { try registry.register(v) }
    /// What the engine uses when the user names none: the fastest variant proven close to `naive` and
    /// independent of pos0/T splits and workers.
    public static let defaultName = "online"
}

/// A variant name that no registry knows: one line naming it and the known names.
public struct UnknownVariantError: Error, CustomStringConvertible {
    public let kernel: String, name: String, known: [String]
    public var description: String {
        // "(known: a, b, c)" first: scripts and tests read the names from it
        "unknown \(kernel) variant '\(name)' (known: \(known.joined(separator: ", ")))\(kernel == "matmul" ? "; a shared library is named by a path, ./lib.so[:SYMBOL]" : "")"
    }
}

extension MatmulVariants {
    /// The variant a user's spec names (`--matmul SPEC`, `matmul=SPEC`, `matmul:SPEC`), or a one-line error:
    /// a registered name, or a shared library (a spec containing `/` or ending in `.so`, optionally followed
    /// by `:SYMBOL`) whose function with llm.c's `matmul_forward` signature is loaded now.
    public static func resolve(_ spec: String) throws -> MatmulVariant {
        if SharedLibraryMatmul.isLibrarySpec(spec) { return try SharedLibraryMatmul.load(spec) }
        guard let v = named(spec) else { throw UnknownVariantError(kernel: "matmul", name: spec, known: all.map(\.name)) }
        return v
    }
}

extension AttentionVariants {
    /// The variant a user's spec names (`--attention NAME`, `attention=NAME`), or a one-line error.
    public static func resolve(_ spec: String) throws -> AttentionVariant {
        guard let v = named(spec) else { throw UnknownVariantError(kernel: "attention", name: spec, known: all.map(\.name)) }
        return v
    }
}
