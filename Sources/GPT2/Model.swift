import Foundation
import Kernels

/// The five matmuls of GPT-2, by the name users give them (`--shape qkv`, per-site variant choice).
public enum MatmulSite: String, CaseIterable, Codable, Sendable {
    case qkv, attproj, fc, fcproj, lmhead

    /// (OC, C) of the site's weight for a model shape (lm-head: OC = V).
    public func shape(_ c: GPT2Config) -> (OC: Int, C: Int) {
        switch self {
        case .qkv: (3 * c.C, c.C)
        case .attproj: (c.C, c.C)
        case .fc: (4 * c.C, c.C)
        case .fcproj: (c.C, 4 * c.C)
        case .lmhead: (c.V, c.C)
        }
    }
    var op: Op {
        switch self { case .qkv: .qkv; case .attproj: .attproj; case .fc: .fc; case .fcproj: .fcproj; case .lmhead: .lmhead }
    }
}

/// How the engine runs: which kernel variant for each matmul site and for attention, how many workers.
public struct EngineOptions: Sendable {
    public var matmul: [MatmulSite: MatmulVariant]
    public var attention: AttentionVariant
    /// Workers, the calling thread included.
    public var threads: Int
    public var pin: Bool
    /// Per-op timers on (the default) or off.
    public var timers: Bool

    public init(matmul: MatmulVariant = MatmulVariants.reference, attention: AttentionVariant = AttentionVariants.reference,
                threads: Int = 1, pin: Bool = false, timers: Bool = true) {
        self.matmul = Dictionary(uniqueKeysWithValues: MatmulSite.allCases.map { ($0, matmul) })
        self.attention = attention; self.threads = max(1, threads); self.pin = pin; self.timers = timers
    }
    /// One line naming the choices, for reports and metadata.
    public var summary: String {
        let names = Set(matmul.values.map(\.name))
        let m = names.count == 1 ? names.first! : MatmulSite.allCases.map { "\($0.rawValue)=\(matmul[$0]!.name)" }.joined(separator: ",")
        return "matmul=\(m) attention=\(attention.name) threads=\(threads)\(pin ? " pinned" : "")"
    }
}

/// Views of the 16 parameter tensors inside the mapped checkpoint (shapes beside each field).
public struct ParameterTensors {
    public var wte: UnsafePointer<Float>      // [Vp, C]
    public var wpe: UnsafePointer<Float>      // [maxT, C]
    public var ln1w: UnsafePointer<Float>     // [L, C]
    public var ln1b: UnsafePointer<Float>     // [L, C]
    public var qkvw: UnsafePointer<Float>     // [L, 3C, C]
    public var qkvb: UnsafePointer<Float>     // [L, 3C]
    public var attprojw: UnsafePointer<Float> // [L, C, C]
    public var attprojb: UnsafePointer<Float> // [L, C]
    public var ln2w: UnsafePointer<Float>     // [L, C]
    public var ln2b: UnsafePointer<Float>     // [L, C]
    public var fcw: UnsafePointer<Float>      // [L, 4C, C]
    public var fcb: UnsafePointer<Float>      // [L, 4C]
    public var fcprojw: UnsafePointer<Float>  // [L, C, 4C]
    public var fcprojb: UnsafePointer<Float>  // [L, C]
    public var lnfw: UnsafePointer<Float>     // [C]
    public var lnfb: UnsafePointer<Float>     // [C]

    init(base: UnsafePointer<Float>, config: GPT2Config) {
        var p = base
        var views: [UnsafePointer<Float>] = []
        for n in config.parameterSizes { views.append(p); p += n }
        (wte, wpe, ln1w, ln1b, qkvw, qkvb, attprojw, attprojb) = (views[0], views[1], views[2], views[3], views[4], views[5], views[6], views[7])
        (ln2w, ln2b, fcw, fcb, fcprojw, fcprojb, lnfw, lnfb) = (views[8], views[9], views[10], views[11], views[12], views[13], views[14], views[15])
    }
}

/// A growable float buffer allocated once and reused (grows only when a longer sequence arrives).
final class Buffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int
    init(_ n: Int) { capacity = max(1, n); pointer = .allocate(capacity: capacity); pointer.initialize(repeating: 0, count: capacity) }
    deinit { pointer.deallocate() }
    /// Ensures room for n floats; keeps the first `keep` floats when it has to grow.
    func reserve(_ n: Int, keep: Int = 0) {
        guard n > capacity else { return }
        let c = max(n, capacity * 2)
        let p = UnsafeMutablePointer<Float>.allocate(capacity: c)
        p.initialize(repeating: 0, count: c)
        if keep > 0 { p.update(from: pointer, count: min(keep, capacity)) }
        pointer.deallocate()
        pointer = p; capacity = c
    }
}

/// A GPT-2 model over a mapped checkpoint: parameters, reusable activations (including the per-layer
/// KV cache), the worker pool, the chosen kernel variants, and the per-op timers.
public final class GPT2Model {
    /// Where the weights come from (an llm.c checkpoint or a converted model file: ModelFile.swift).
    public let weights: ModelWeights
    /// The llm.c checkpoint the weights come from (nil for a converted model file; implicitly unwrapped so
    /// callers written before converted files existed keep compiling).
    public var checkpoint: Checkpoint! { weights.checkpoint }
    public let config: GPT2Config
    public let params: ParameterTensors
    public private(set) var options: EngineOptions
    public private(set) var pool: WorkerPool
    /// Per-op timers, accumulated over every forward pass since the last `timers.reset()`.
    public var timers: OpTimers

    let qkvw: [WeightMatrix], attprojw: [WeightMatrix], fcw: [WeightMatrix], fcprojw: [WeightMatrix]
    let wte: WeightMatrix

    // Activations. Row buffers hold the T positions of one call; qkv holds every position so far (KV cache).
    let x = Buffer(0)         // [T, C] residual stream
    let ln = Buffer(0)        // [T, C] layernorm output
    let atty = Buffer(0)      // [T, C] attention output
    let proj = Buffer(0)      // [T, C] attproj / fcproj output
    let fch = Buffer(0)       // [T, 4C] fc output, gelu'd in place
    let qkv: [Buffer]         // per layer [positions, 3C]
    let logitsBuf = Buffer(0) // [rows, V]
    let probsBuf = Buffer(0)  // [V] probabilities of the last position
    let scratch = Buffer(0)   // [threads, positions] attention scratch
    /// If set, the forward pass writes `op.rawValue + 1` here when an op starts and 0 when the pass ends, so a
    /// sampling profiler can tag each sample with the op running at that moment (on any thread of the pool).
    public var opTag: UnsafeMutablePointer<Int32>?
    /// Positions held in the KV cache (valid rows of every qkv[l]).
    public private(set) var cachedPositions = 0

    public convenience init(checkpoint: Checkpoint, options: EngineOptions = EngineOptions()) {
        self.init(weights: ModelWeights(checkpoint: checkpoint), options: options)
    }

    public init(weights: ModelWeights, options: EngineOptions = EngineOptions()) {
        let setupStart = monotonicNanos()
        self.weights = weights
        let c = weights.config
        config = c
        params = weights.params
        self.options = options
        pool = WorkerPool(count: options.threads, pin: options.pin)
        timers = OpTimers(layers: c.L)
        (qkvw, attprojw, fcw, fcprojw, wte) = (weights.qkvw, weights.attprojw, weights.fcw, weights.fcprojw, weights.lmhead)
        qkv = (0..<c.L).map { _ in Buffer(0) }
        prepareWeights()
        setupNanos = monotonicNanos() &- setupStart
        timers.loadNanos = weights.loadNanos &+ setupNanos
    }

    /// Nanoseconds `init` took (pool, views, any packing the chosen variants' `prepare` does); with the
    /// checkpoint's own `loadNanos` it is the load time `timers` reports (`loadNanos`, the `load` line).
    public private(set) var setupNanos: UInt64 = 0

    /// Switches kernel variants / thread count (re-packing weights if a variant needs it).
    public func configure(_ o: EngineOptions) {
        let start = monotonicNanos()
        if o.threads != options.threads || o.pin != options.pin { pool = WorkerPool(count: o.threads, pin: o.pin) }
        options = o
        prepareWeights()
        setupNanos &+= monotonicNanos() &- start
        timers.loadNanos = weights.loadNanos &+ setupNanos
    }

    private func prepareWeights() {
        for l in 0..<config.L {
            options.matmul[.qkv]!.prepare(qkvw[l]); options.matmul[.attproj]!.prepare(attprojw[l])
            options.matmul[.fc]!.prepare(fcw[l]); options.matmul[.fcproj]!.prepare(fcprojw[l])
        }
        options.matmul[.lmhead]!.prepare(wte)
    }

    /// The weight matrix of `site` in `layer` (lm-head: wte, whatever the layer).
    public func weight(_ site: MatmulSite, layer: Int) -> WeightMatrix {
        switch site { case .qkv: qkvw[layer]; case .attproj: attprojw[layer]; case .fc: fcw[layer]; case .fcproj: fcprojw[layer]; case .lmhead: wte }
    }

    /// Forgets the KV cache (the next forward must start at position 0).
    public func resetCache() { cachedPositions = 0 }

    /// Runs the forward pass for `tokens` at positions pos0..<pos0+T, attending over the cached positions
    /// 0..<pos0 (pos0 must be <= cachedPositions; pos0 = 0 recomputes everything). Token ids must be in
    /// 0..<V and pos0 + T <= maxT (the caller checks; `Generation` does).
    /// Returns the logits [rows, V] of the last position (rows = 1), or of all T positions with `allLogits`.
    /// The probabilities of the last position are in `probabilities` afterwards.
    @discardableResult
    public func forward(_ tokens: [Int32], pos0: Int = 0, allLogits: Bool = false) -> UnsafeBufferPointer<Float> {
        let c = config, T = tokens.count, C = c.C, V = c.V
        precondition(T >= 1 && pos0 >= 0 && pos0 <= cachedPositions && pos0 + T <= c.maxT, "forward: bad positions")
        let positions = pos0 + T
        let timing = options.timers
        let fwdStart = monotonicNanos()
        x.reserve(T * C); ln.reserve(T * C); atty.reserve(T * C); proj.reserve(T * C); fch.reserve(T * 4 * C)
        for b in qkv { b.reserve(positions * 3 * C, keep: pos0 * 3 * C) }
        scratch.reserve(pool.count * positions)
        let outRows = allLogits ? T : 1
        logitsBuf.reserve(outRows * V); probsBuf.reserve(V)
        let pool = self.pool, p = params
        let attention = options.attention
        var t0: UInt64 = 0
        let tag = opTag

        @inline(__always) func begin(_ op: Op) {
            tag?.pointee = Int32(op.rawValue + 1)
            if timing { t0 = monotonicNanos() }
        }
        @inline(__always) func end(_ op: Op, _ layer: Int, _ flops: Double = 0) {
            if timing { timers.record(op, layer: layer, since: t0, flops: flops) }
        }
        func matmul(_ site: MatmulSite, _ layer: Int, out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, rows: Int) {
            let w = weight(site, layer: layer)
            let a = MatmulArgs(out: out, inp: inp, weight: w, bias: bias, T: rows, OC: site == .lmhead ? V : w.rows)
            begin(site.op)
            options.matmul[site]!.run(a, on: pool)
            end(site.op, site == .lmhead ? -1 : layer, a.flops)
        }
        func layernorm(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                       _ b: UnsafePointer<Float>, rows: Range<Int>) {
            pool.parallelFor(rows.count, minPerWorker: 4) { r in
                layernormForward(out, inp, weight: w, bias: b, rows: (rows.lowerBound + r.lowerBound)..<(rows.lowerBound + r.upperBound), C: C)
            }
        }
        func elementwise(_ n: Int, _ body: (Range<Int>) -> Void) {
            pool.parallelFor(n, align: 16, minPerWorker: 16384, body)
        }

        // encoder: x = wte[tokens] + wpe[positions]
        begin(.encoder)
        tokens.withUnsafeBufferPointer { tk in
            encoderForward(x.pointer, tokens: tk.baseAddress!, wte: p.wte, wpe: p.wpe, pos0: pos0, T: T, C: C)
        }
        end(.encoder, -1)

        for l in 0..<c.L {
            let qkvL = qkv[l].pointer
            begin(.ln1); layernorm(ln.pointer, x.pointer, p.ln1w + l * C, p.ln1b + l * C, rows: 0..<T); end(.ln1, l)
            matmul(.qkv, l, out: qkvL + pos0 * 3 * C, inp: ln.pointer, bias: p.qkvb + l * 3 * C, rows: T)
            let aa = AttentionArgs(out: atty.pointer, qkv: qkvL, pos0: pos0, T: T, C: C, NH: c.NH,
                                   scratch: scratch.pointer, scratchStride: positions)
            begin(.attention); attend(attention, aa); end(.attention, l, aa.flops)
            matmul(.attproj, l, out: proj.pointer, inp: atty.pointer, bias: p.attprojb + l * C, rows: T)
            begin(.residual1); elementwise(T * C) { residualForward(x.pointer, x.pointer, proj.pointer, range: $0) }; end(.residual1, l)
            begin(.ln2); layernorm(ln.pointer, x.pointer, p.ln2w + l * C, p.ln2b + l * C, rows: 0..<T); end(.ln2, l)
            matmul(.fc, l, out: fch.pointer, inp: ln.pointer, bias: p.fcb + l * 4 * C, rows: T)
            begin(.gelu); elementwise(T * 4 * C) { geluForwardSIMD(fch.pointer, fch.pointer, range: $0) }; end(.gelu, l)
            matmul(.fcproj, l, out: proj.pointer, inp: fch.pointer, bias: p.fcprojb + l * C, rows: T)
            begin(.residual2); elementwise(T * C) { residualForward(x.pointer, x.pointer, proj.pointer, range: $0) }; end(.residual2, l)
        }
        cachedPositions = positions

        // final layernorm, only over the rows whose logits are wanted
        let first = T - outRows
        begin(.lnf); layernorm(ln.pointer, x.pointer, p.lnfw, p.lnfb, rows: first..<T); end(.lnf, -1)
        matmul(.lmhead, -1, out: logitsBuf.pointer, inp: ln.pointer + first * C, bias: nil, rows: outRows)
        begin(.softmax); softmaxLastRow(logitsBuf.pointer + (outRows - 1) * V); end(.softmax, -1)
        tag?.pointee = 0
        timers.forwardNanos &+= monotonicNanos() &- fwdStart
        timers.forwards += 1
        return UnsafeBufferPointer(start: logitsBuf.pointer, count: outRows * V)
    }

    /// Attention across the pool: the items cut into 2 pieces per worker of about equal work
    /// (`AttentionArgs.balancedItems`), taken by whichever workers are running; each piece uses the
    /// scratch row of the worker that runs it. An item's result does not depend on the piece or the worker
    /// (Attention.swift), so this gives the same bits as `AttentionVariant.split` and as one call.
    private func attend(_ attention: AttentionVariant, _ a: AttentionArgs) {
        if pool.count == 1 || a.items < 2 { attention.kernel(a, 0..<a.items, 0); return }
        let pieces = min(a.items, 2 * pool.count)
        pool.forEachChunk(pieces) { piece, worker in
            let r = a.balancedItems(ith: piece, nth: pieces)
            if !r.isEmpty { attention.kernel(a, r, worker) }
        }
    }

    /// probs[V] = softmax(logits[V]) across the pool, bit-identical to `softmaxForward` (llm.c's serial loop)
    /// for every worker count and schedule: the max (exact in any grouping) and the exponentials are
    /// per-element (split freely), the sum stays one serial float32 chain in index order, the division is
    /// per-element again.
    private func softmaxLastRow(_ logits: UnsafePointer<Float>) {
        let V = config.V, probs = probsBuf.pointer
        if pool.count == 1 || V < 8192 {
            softmaxForward(probs, logits, rows: 0..<1, V: V, Vp: V)
            return
        }
        let size = WorkerPool.chunkSize(V, workers: pool.count, align: 16, minimum: 2048, perWorker: 4)
        let chunks = (V + size - 1) / size
        var maxes = [Float](repeating: -10000, count: chunks)
        maxes.withUnsafeMutableBufferPointer { m in
            let mp = m.baseAddress!
            pool.forEachChunk(chunks) { c, _ in
                var mx: Float = -10000
                for i in (c * size)..<min(V, (c + 1) * size) where logits[i] > mx { mx = logits[i] }
                mp[c] = mx
            }
        }
        let maxval = maxes.max()!
        pool.parallelFor(V, align: 16, minPerWorker: 2048) { r in
            for i in r { probs[i] = expf(logits[i] - maxval) }
        }
        var sum: Float = 0
        for i in 0..<V { sum += probs[i] }
        pool.parallelFor(V, align: 16, minPerWorker: 2048) { r in
            for i in r { probs[i] /= sum }
        }
    }

    /// Probabilities [V] of the last position of the latest forward pass.
    public var probabilities: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: probsBuf.pointer, count: config.V) }
}
