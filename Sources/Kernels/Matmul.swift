// Matmul variants, side by side and numbered like llm.c's dev/cuda kernels. Every variant computes
//   out[T, OC] = inp[T, C] · weight[OC, C]ᵀ + bias[OC]
// for a sub-range of output columns, so any variant can be split across the worker pool without
// changing what each output element adds up (each out[t, o] is one variant-defined sum, whatever the split).
// Each variant is checked against `naive` (tests, and `workbench compare`) before it is timed.

import Foundation

/// A weight matrix [rows = OC, cols = C] in llm.c's layout, plus any re-packed copies a variant asked for
/// (made once by `MatmulVariant.prepare`, before the first timed call).
/// A matrix may also arrive in a weight format only (a converted model file, `init(rows:cols:format:...)`):
/// its bytes are then the cache entry of that format, and `data` is made from them on first use.
public final class WeightMatrix: @unchecked Sendable {
    /// Row-major [OC, C] data (usually a view into the memory-mapped checkpoint). For a matrix that arrived in
    /// a weight format only, the exact fp32 values of that format, unpacked once on first use (thread-safe).
    public var data: UnsafePointer<Float> {
        if let source { return source }
        return unpackedData()
    }
    public let rows: Int
    public let cols: Int
    private let source: UnsafePointer<Float>?
    private var packed: [String: UnsafeMutablePointer<Float>] = [:]
    private var owned: UnsafeMutablePointer<Float>?
    /// Byte layouts of the weight formats (MatmulQuant.swift), 64-byte aligned; `external` ones are not freed.
    private var formatBytes: [String: (pointer: UnsafeRawPointer, count: Int, external: Bool)] = [:]
    /// What keeps external bytes alive (the mapped model file), and how to unpack them into fp32.
    private let owner: AnyObject?
    private let unpack: ((UnsafeMutablePointer<Float>) -> Void)?
    private var unpacked: UnsafeMutablePointer<Float>?
    private let unpackLock = NSLock()

    public init(data: UnsafePointer<Float>, rows: Int, cols: Int) {
        self.source = data; self.rows = rows; self.cols = cols; owner = nil; unpack = nil
    }

    /// A matrix that arrives as `count` bytes in a weight format's layout (e.g. a view into a mapped model file,
    /// kept alive by `owner`): served as the cache entry `key` without a copy; `data` is made by `unpack` only
    /// if a variant reads fp32.
    public init(rows: Int, cols: Int, key: String, bytes: UnsafeRawPointer, count: Int, owner: AnyObject?,
                unpack: @escaping (UnsafeMutablePointer<Float>) -> Void) {
        self.rows = rows; self.cols = cols; source = nil; self.owner = owner; self.unpack = unpack
        formatBytes[key] = (bytes, count, true)
    }

    private func unpackedData() -> UnsafePointer<Float> {
        unpackLock.lock()
        defer { unpackLock.unlock() }
        if let unpacked { return UnsafePointer(unpacked) }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows * cols))
        unpack!(p)
        unpacked = p
        return UnsafePointer(p)
    }

    /// A matrix that owns a copy of `values` (tests and benchmarks).
    public convenience init(copying values: [Float], rows: Int, cols: Int) {
        precondition(values.count == rows * cols)
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, values.count))
        p.initialize(from: values, count: values.count)
        self.init(data: p, rows: rows, cols: cols)
        owned = p
    }

    deinit {
        for (_, p) in packed { p.deallocate() }
        for (_, b) in formatBytes where !b.external { UnsafeMutableRawPointer(mutating: b.pointer).deallocate() }
        owned?.deallocate()
        unpacked?.deallocate()
    }

    /// The re-packed copy named `key`, made by `make(capacity)` the first time it is asked for.
    /// Call from one thread (variants pack in `prepare`, which the engine calls before running).
    public func packed(_ key: String, count: Int, make: (UnsafeMutablePointer<Float>) -> Void) -> UnsafePointer<Float> {
        if let p = packed[key] { return UnsafePointer(p) }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        make(p)
        packed[key] = p
        return UnsafePointer(p)
    }

    /// A previously packed copy, if any.
    public func existingPacked(_ key: String) -> UnsafePointer<Float>? { packed[key].map { UnsafePointer($0) } }

    /// The weight-format bytes named `key` (64-byte aligned), made by `make(pointer)` the first time.
    /// Call from one thread, like `packed` (format variants pack in `prepare`).
    public func formatBytes(_ key: String, count: Int, make: (UnsafeMutableRawPointer) -> Void) -> UnsafeRawPointer {
        if let b = formatBytes[key] { return b.pointer }
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, count), alignment: 64)
        make(p)
        formatBytes[key] = (UnsafeRawPointer(p), count, false)
        return UnsafeRawPointer(p)
    }

    /// Previously made (or arrived) weight-format bytes, if any.
    public func existingFormatBytes(_ key: String) -> UnsafeRawPointer? { formatBytes[key]?.pointer }

    /// Whether the matrix arrived in a format only (no fp32 source; `data` is unpacked on demand).
    public var arrivedPacked: Bool { source == nil }
}

/// The arguments of one matmul call. out: [T, OC], inp: [T, C], weight: [OC, C], bias: [OC] or nil.
public struct MatmulArgs {
    public var out: UnsafeMutablePointer<Float>
    public var inp: UnsafePointer<Float>
    public var weight: WeightMatrix
    public var bias: UnsafePointer<Float>?
    public var T: Int
    /// Output columns to compute: the first OC rows of `weight` (OC <= weight.rows, e.g. V of Vp for the lm-head).
    public var OC: Int
    public var C: Int { weight.cols }

    public init(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: WeightMatrix,
                bias: UnsafePointer<Float>?, T: Int, OC: Int? = nil) {
        self.out = out; self.inp = inp; self.weight = weight; self.bias = bias; self.T = T
        self.OC = OC ?? weight.rows
    }

    /// Floating-point operations of the call (2·T·C·OC).
    public var flops: Double { 2 * Double(T) * Double(C) * Double(OC) }
}

/// What the registries, the Lab and `workbench kernels` need of any variant, matmul or attention.
public protocol KernelVariant: Sendable {
    /// The name users give (`--matmul NAME`); unique in its registry.
    var name: String { get }
    /// One line: what the variant does.
    var summary: String { get }
    /// Whether `runStandalone` spreads the call across the pool.
    var standaloneOnPool: Bool { get }
    /// Whether each output element has the same bits whatever T, the split and the thread count.
    var bitReproducible: Bool { get }
    /// The largest normalised error against the reference allowed (`KernelError`).
    var tolerance: Double { get }
}

/// One matmul variant: a name, a one-line description, and the kernel over a range of output columns.
public struct MatmulVariant: KernelVariant {
    public let name: String
    public let summary: String
    /// Output-column split granularity when the work is divided across workers (keeps tiles whole).
    public let columnAlignment: Int
    /// Whether `runStandalone` (how compare, tune and the gate time a variant on its own) spreads the call
    /// across the pool (`threaded`, `blas`) or keeps it on the calling thread. Inside the engine every variant
    /// is split across the pool (`run(_:on:)`), so there `tiled` and `threaded` are the same.
    public let standaloneOnPool: Bool
    /// Whether each output element is the same sum whatever T, the column split and the thread count
    /// (so tokens are identical for every thread count); false for `blas` (OpenBLAS picks its own blocking).
    public let bitReproducible: Bool
    /// The largest normalised error (`KernelError.normalised`) against the reference the variant may have on
    /// inputs in [-1, 1): `KernelError.fp32Tolerance` for float32 arithmetic, larger for lossy weight formats.
    public let tolerance: Double
    /// Computes out[:, columns] (columns is a sub-range of 0..<OC).
    public let kernel: @Sendable (MatmulArgs, Range<Int>) -> Void
    /// Makes any re-packed weight copy the kernel needs; called once per weight before timing.
    public let prepare: @Sendable (WeightMatrix) -> Void
    /// For a variant with threads of its own (`blas`: OpenBLAS's): runs the whole call with that many
    /// threads. `run(_:on:)` then calls it with the pool's size instead of splitting columns across the pool.
    public let ownThreads: (@Sendable (MatmulArgs, _ threads: Int) -> Void)?

    public init(name: String, summary: String, columnAlignment: Int = 1, standaloneOnPool: Bool = false,
                bitReproducible: Bool = true, tolerance: Double = KernelError.fp32Tolerance,
                prepare: @escaping @Sendable (WeightMatrix) -> Void = { _ in },
                ownThreads: (@Sendable (MatmulArgs, Int) -> Void)? = nil,
                kernel: @escaping @Sendable (MatmulArgs, Range<Int>) -> Void) {
        self.name = name; self.summary = summary; self.columnAlignment = columnAlignment
        self.standaloneOnPool = standaloneOnPool; self.bitReproducible = bitReproducible; self.tolerance = tolerance
        self.prepare = prepare; self.ownThreads = ownThreads; self.kernel = kernel
    }

    /// Runs the variant on its own, as compare, tune and the gate time it: across `pool` when
    /// `standaloneOnPool`, else on the calling thread.
    public func runStandalone(_ a: MatmulArgs, pool: WorkerPool?) {
        if standaloneOnPool, let pool { run(a, on: pool) } else { kernel(a, 0..<a.OC) }
    }

    /// Runs the variant with its output columns split across every worker of `pool` (the engine's way).
    public func run(_ a: MatmulArgs, on pool: WorkerPool) {
        if let ownThreads { ownThreads(a, pool.count); return }
        pool.parallelFor(a.OC, align: columnAlignment, minPerWorker: max(columnAlignment, 32)) { cols in
            kernel(a, cols)
        }
    }
}
