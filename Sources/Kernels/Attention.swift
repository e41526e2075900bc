// Attention variants, side by side and numbered. Every variant computes causal multi-head attention
// for query positions pos0..<pos0+T over keys 0...t, from the KV cache `qkv` ([pos0+T, 3C], rows q|k|v),
// into out [T, C], for a sub-range of work items (item = i * NH + h), so any variant can be split across
// the pool without changing the result of any item.

/// The arguments of one attention call (see the file comment for shapes).
public struct AttentionArgs {
    public var out: UnsafeMutablePointer<Float>
    public var qkv: UnsafePointer<Float>
    public var pos0: Int
    public var T: Int
    public var C: Int
    public var NH: Int
    /// Per-worker scratch: worker ith may use scratch + ith * scratchStride, scratchStride >= pos0 + T.
    public var scratch: UnsafeMutablePointer<Float>
    public var scratchStride: Int

    public init(out: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>, pos0: Int, T: Int, C: Int, NH: Int,
                scratch: UnsafeMutablePointer<Float>, scratchStride: Int) {
        self.out = out; self.qkv = qkv; self.pos0 = pos0; self.T = T; self.C = C; self.NH = NH
        self.scratch = scratch; self.scratchStride = scratchStride
    }

    /// Work items: one per (query position, head).
    public var items: Int { T * NH }
    /// Keys attended by the first n items (item i * NH + h attends pos0 + i + 1 keys).
    @inlinable
    public func keysBefore(item n: Int) -> Int {
        let rows = n / NH, partial = n % NH
        return NH * (rows * pos0 + rows * (rows + 1) / 2) + partial * (pos0 + rows + 1)
    }

    /// Contiguous range `ith` of `nth` that cut the items into about equal work (keys attended). With the
    /// causal mask later rows cost more, so equal item counts would leave the first workers idle
    /// (at pos0 = 0 the first half of the rows is only a quarter of the work).
    public func balancedItems(ith: Int, nth: Int) -> Range<Int> {
        let total = keysBefore(item: items)
        // the first item n whose prefix holds at least k/nth of the work
        func cut(_ k: Int) -> Int {
            if k <= 0 { return 0 }
            if k >= nth { return items }
            let target = (total * k + nth - 1) / nth
            var lo = 0, hi = items
            while lo < hi {
                let mid = (lo + hi) / 2
                if keysBefore(item: mid) >= target { hi = mid } else { lo = mid + 1 }
            }
            return lo
        }
        return cut(ith)..<cut(ith + 1)
    }

    /// Floating-point operations (q·k and att·v, 2 flops per multiply-add) of the whole call.
    public var flops: Double {
        // sum over query rows of (t + 1) keys, each 2·hs for the scores and 2·hs for the values, per head
        let keys = Double(T) * Double(pos0) + Double(T) * Double(T + 1) / 2
        return 4 * keys * Double(C)
    }
}

/// One attention variant: a name, a one-line description, the kernel over a range of work items.
public struct AttentionVariant: KernelVariant {
    public let name: String
    public let summary: String
    /// Whether `runStandalone` (compare, tune, the gate) spreads the call across the pool; inside the engine
    /// every variant is split across the pool (`run(_:on:)`).
    public let standaloneOnPool: Bool
    /// Whether each item's result has the same bits whatever pos0, T, the item split and the worker (so the
    /// KV cache on or off gives the same tokens).
    public let bitReproducible: Bool
    /// The largest normalised error against the reference allowed on random inputs (`KernelError`).
    public let tolerance: Double
    /// Does items `items`, using the scratch row of worker `ith`.
    public let kernel: @Sendable (AttentionArgs, Range<Int>, _ ith: Int) -> Void

    public init(name: String, summary: String, standaloneOnPool: Bool = false, bitReproducible: Bool = true,
                tolerance: Double = KernelError.fp32Tolerance,
                kernel: @escaping @Sendable (AttentionArgs, Range<Int>, Int) -> Void) {
        self.name = name; self.summary = summary; self.standaloneOnPool = standaloneOnPool
        self.bitReproducible = bitReproducible; self.tolerance = tolerance
        self.kernel = kernel
    }

    /// Runs the variant on its own, as compare, tune and the gate time it (across `pool` when `standaloneOnPool`).
    public func runStandalone(_ a: AttentionArgs, pool: WorkerPool?) {
        if standaloneOnPool, let pool { run(a, on: pool) } else { kernel(a, 0..<a.items, 0) }
    }

    /// Runs the variant with its items split across every worker of `pool` (the engine's way), in
    /// contiguous ranges of about equal work (`AttentionArgs.balancedItems`).
    public func run(_ a: AttentionArgs, on pool: WorkerPool) {
        if pool.count == 1 || a.items < 2 { kernel(a, 0..<a.items, 0); return }
        pool.run { ith, nth in
            let r = a.balancedItems(ith: ith, nth: nth)
            if !r.isEmpty { kernel(a, r, ith) }
        }
    }
}
