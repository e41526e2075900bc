import Foundation

/// The ops of a forward pass, in execution order, as the per-op timers name them.
public enum Op: Int, CaseIterable, Codable, Sendable {
    case encoder, ln1, qkv, attention, attproj, residual1, ln2, fc, gelu, fcproj, residual2, lnf, lmhead, softmax

    public var name: String {
        switch self {
        case .encoder: "encoder"; case .ln1: "ln1"; case .qkv: "qkv matmul"; case .attention: "attention"
        case .attproj: "attproj matmul"; case .residual1: "residual1"; case .ln2: "ln2"; case .fc: "fc matmul"
        case .gelu: "gelu"; case .fcproj: "fcproj matmul"; case .residual2: "residual2"; case .lnf: "lnf"
        case .lmhead: "lm-head matmul"; case .softmax: "softmax"
        }
    }
    /// Short key used in JSON and by the profiler's op view.
    public var key: String {
        switch self {
        case .encoder: "encoder"; case .ln1: "ln1"; case .qkv: "qkv"; case .attention: "attention"
        case .attproj: "attproj"; case .residual1: "residual1"; case .ln2: "ln2"; case .fc: "fc"
        case .gelu: "gelu"; case .fcproj: "fcproj"; case .residual2: "residual2"; case .lnf: "lnf"
        case .lmhead: "lmhead"; case .softmax: "softmax"
        }
    }
    public var isMatmul: Bool { [.qkv, .attproj, .fc, .fcproj, .lmhead].contains(self) }
    /// Whether the op runs once per layer (else once per forward pass).
    public var perLayer: Bool { ![.encoder, .lnf, .lmhead, .softmax].contains(self) }
}

/// Per-op, per-layer accumulators: calls, nanoseconds and flops. Slot `layer` in 0..<L for per-layer ops,
/// slot L for the model-level ops (encoder, lnf, lm-head, softmax). Preallocated; recording is two clock
/// reads and three adds.
public struct OpTimers: Sendable {
    public let layers: Int
    public private(set) var nanos: [UInt64]
    public private(set) var calls: [Int]
    public private(set) var flops: [Double]
    /// Wall time of whole forward passes, and their count.
    public internal(set) var forwardNanos: UInt64 = 0
    public internal(set) var forwards: Int = 0
    /// Time to load: open and map the checkpoint, set up the engine (`Checkpoint.loadNanos` +
    /// `GPT2Model.setupNanos`). Not part of any forward pass; kept by `reset()`. The weights are paged in
    /// by the first forward pass that reads them (the mapping is not populated up front).
    public internal(set) var loadNanos: UInt64 = 0

    public init(layers: Int) {
        self.layers = layers
        let n = (layers + 1) * Op.allCases.count
        nanos = [UInt64](repeating: 0, count: n)
        calls = [Int](repeating: 0, count: n)
        flops = [Double](repeating: 0, count: n)
    }

    @inline(__always) func slot(_ op: Op, _ layer: Int) -> Int { (layer < 0 ? layers : layer) * Op.allCases.count + op.rawValue }

    @inline(__always)
    public mutating func record(_ op: Op, layer: Int, since start: UInt64, flops f: Double = 0) {
        let s = slot(op, layer)
        nanos[s] &+= monotonicNanos() &- start
        calls[s] += 1
        flops[s] += f
    }

    /// Zeroes the op and forward counters (the load time stays: it happened once).
    public mutating func reset() {
        let load = loadNanos
        self = OpTimers(layers: layers)
        loadNanos = load
    }

    /// Totals over all layers for `op`.
    public func total(_ op: Op) -> (calls: Int, nanos: UInt64, flops: Double) {
        var c = 0, n: UInt64 = 0, f = 0.0
        for l in 0...layers { let s = l * Op.allCases.count + op.rawValue; c += calls[s]; n += nanos[s]; f += flops[s] }
        return (c, n, f)
    }
    /// Totals for `op` in one layer (layer -1: the model-level slot).
    public func at(_ op: Op, layer: Int) -> (calls: Int, nanos: UInt64, flops: Double) {
        let s = slot(op, layer); return (calls[s], nanos[s], flops[s])
    }
    /// Sum of all op times.
    public var opNanos: UInt64 { nanos.reduce(0, +) }

    /// A plain report for JSON output and for other tools (profile op view, gate op shares).
    public func report() -> TimingsReport {
        let total = Double(max(1, forwardNanos))
        var ops: [TimingsReport.OpRow] = []
        for op in Op.allCases {
            let t = self.total(op)
            guard t.calls > 0 else { continue }
            var layers: [TimingsReport.LayerRow] = []
            if op.perLayer {
                for l in 0..<self.layers {
                    let a = at(op, layer: l)
                    layers.append(.init(layer: l, calls: a.calls, ms: Double(a.nanos) / 1e6))
                }
            }
            ops.append(.init(op: op.key, name: op.name, calls: t.calls, ms: Double(t.nanos) / 1e6,
                             percent: 100 * Double(t.nanos) / total,
                             gflops: op.isMatmul && t.nanos > 0 ? t.flops / Double(t.nanos) : nil,
                             layers: layers))
        }
        ops.sort { $0.ms > $1.ms }
        return TimingsReport(forwards: forwards, forwardMs: Double(forwardNanos) / 1e6,
                             opsMs: Double(opNanos) / 1e6, ops: ops,
                             loadMs: loadNanos > 0 ? Double(loadNanos) / 1e6 : nil)
    }
}

/// The per-op timings of a run, as printed by `--timings` and written by `--timings-json`.
public struct TimingsReport: Codable, Sendable {
    public struct LayerRow: Codable, Sendable { public var layer: Int; public var calls: Int; public var ms: Double }
    public struct OpRow: Codable, Sendable {
        public var op: String
        public var name: String
        public var calls: Int
        public var ms: Double
        /// Share of the forward passes' wall time.
        public var percent: Double
        /// Achieved GFLOP/s (matmuls only).
        public var gflops: Double?
        public var layers: [LayerRow]
    }
    /// The format's version (every JSON the tool writes carries one).
    public var schema: Int? = 1
    public var forwards: Int
    /// Wall time of all forward passes.
    public var forwardMs: Double
    /// Sum of the timed ops (the rest of forwardMs is untimed glue).
    public var opsMs: Double
    public var ops: [OpRow]
    /// Load time (checkpoint open + map, engine set-up), outside the forward passes; nil when unknown.
    public var loadMs: Double?

    public init(forwards: Int, forwardMs: Double, opsMs: Double, ops: [OpRow], loadMs: Double? = nil) {
        self.forwards = forwards; self.forwardMs = forwardMs; self.opsMs = opsMs; self.ops = ops; self.loadMs = loadMs
    }

    /// The text table: ops by total time; with `perLayer`, each per-layer op's time in every layer.
    public func table(perLayer: Bool = false) -> String {
        func l(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        func r(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
        var s = l("op", 16) + r("calls", 8) + r("total ms", 12) + r("% fwd", 8) + r("GFLOP/s", 10) + "\n"
        for row in ops {
            s += l(row.name, 16) + r("\(row.calls)", 8) + r(String(format: "%.3f", row.ms), 12)
                + r(String(format: "%.1f%%", row.percent), 8) + r(row.gflops.map { String(format: "%.1f", $0) } ?? "-", 10) + "\n"
        }
        s += l("forward", 16) + r("\(forwards)", 8) + r(String(format: "%.3f", forwardMs), 12)
            + r(String(format: "%.1f%%", forwardMs > 0 ? 100 * opsMs / forwardMs : 0), 8)
            + String(format: "   (sum of timed ops; untimed glue %.3f ms)\n", max(0, forwardMs - opsMs))
        if let loadMs {
            s += l("load", 16) + r("1", 8) + r(String(format: "%.3f", loadMs), 12) + r("-", 8)
                + "   (open + map the checkpoint, set up the engine; not in forward)\n"
        }
        if perLayer {
            let perLayerOps = ops.filter { !$0.layers.isEmpty }
            let L = perLayerOps.first?.layers.count ?? 0
            if L > 0 {
                s += "\nper layer (ms):\n" + l("layer", 6)
                for row in perLayerOps { s += r(String(row.op.prefix(10)), 11) }
                s += "\n"
                for layer in 0..<L {
                    s += l("\(layer)", 6)
                    for row in perLayerOps { s += r(String(format: "%.3f", row.layers[layer].ms), 11) }
                    s += "\n"
                }
            }
        }
        return s
    }
}
