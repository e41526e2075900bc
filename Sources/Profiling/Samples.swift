// Samples with their details: each frame's name, module and address, each sample's thread and op.
//
//   SignalSampler (RawSample pcs + tid + tag) ─┐
//                                              ├─> SampleProfile ─┬─> .stacks: StackProfile (names) ─> folded,
//   perf script (PerfSample frames + tid)     ─┘                  │     text tree, flat, op view, SVG, diff
//                                                                 ├─> pprof (addresses, modules, labels)
//                                                                 └─> speedscope, --per-thread (threads)
//
// A `SampleProfile` is the one stack type every output format consumes; its `stacks` projection (frame names
// only, labels dropped) is exactly what a folded file holds, and a folded file read back becomes a
// `SampleProfile` with names only (`init(_: StackProfile)`), so every format can be written from either.
import Foundation

/// One frame of a sample: what it is called, which object it lies in, and where.
public struct Frame: Hashable, Sendable, Codable {
    /// The report name (demangled and simplified; `module+0xoffset` when unsymbolised; `_[k]` for kernel code).
    public var name: String
    /// The raw linker symbol when it differs from `name` (a mangled Swift name); pprof's `system_name`.
    public var symbol: String?
    /// The object's path ("/usr/lib/x86_64-linux-gnu/libc.so.6", "[kernel.kallsyms]", "[vdso]"), if known.
    public var module: String?
    /// The instruction's address within `module`: the ELF virtual address `addr2line -e MODULE` takes (the
    /// runtime address minus the module's load bias); absolute for kernel frames. nil when unknown (folded input).
    public var address: UInt64?

    public init(_ name: String, symbol: String? = nil, module: String? = nil, address: UInt64? = nil) {
        self.name = name; self.symbol = symbol; self.module = module; self.address = address
    }
}

/// One distinct sample: its stack (root first) and its labels.
public struct Sample: Hashable, Sendable {
    public var frames: [Frame]
    /// The thread it was taken on ("comm-tid", as FlameGraph's stackcollapse-perf --tid names threads).
    public var thread: String?
    /// The op the workload was running (the signal backend's op tag), if any.
    public var op: String?
    public init(frames: [Frame], thread: String? = nil, op: String? = nil) {
        self.frames = frames; self.thread = thread; self.op = op
    }
    /// The frame names, root first.
    public var stack: Stack { frames.map(\.name) }
}

/// Where a module was loaded (the signal backend knows; perf's addresses are module-relative already).
public struct ModuleMapping: Hashable, Sendable, Codable {
    /// Runtime address range of the module's loaded segments.
    public var start: UInt64
    public var limit: UInt64
    /// Runtime address minus ELF virtual address.
    public var bias: UInt64
    public init(start: UInt64, limit: UInt64, bias: UInt64) { self.start = start; self.limit = limit; self.bias = bias }
}

/// Samples aggregated by (stack, labels), with what one sample weighs.
public struct SampleProfile: Sendable {
    public private(set) var counts: [Sample: Int] = [:]
    /// Sum of all counts.
    public private(set) var total = 0
    /// Nanoseconds of the sampling clock one sample stands for (1e9 / Hz); nil when unknown (folded input).
    public var periodNanos: Int64?
    /// What the period measures: "cpu" (CPU time: task clock, CPU-time timers, perf cpu-clock) or "wall".
    public var clock = "cpu"
    /// When sampling started (nanoseconds since the Unix epoch) and how long it lasted.
    public var startNanos: Int64?
    public var durationNanos: Int64?
    /// Load addresses of the modules, by module path, where known.
    public var mappings: [String: ModuleMapping] = [:]

    public init() {}

    /// A profile of names only (a folded file): each frame's module is guessed from unsymbolised names
    /// (`libfoo.so+0x1a2f0`, `[unknown] (libfoo.so)`) and kernel frames (`_[k]`).
    public init(_ stacks: StackProfile) {
        for (s, c) in stacks.counts { add(Sample(frames: s.map { Frame($0, module: FrameName.module(ofName: $0)) }), count: c) }
    }

    /// Adds `count` of `sample` (ignored if its stack is empty or count <= 0).
    public mutating func add(_ sample: Sample, count: Int = 1) {
        guard !sample.frames.isEmpty, count > 0 else { return }
        counts[sample, default: 0] += count
        total += count
    }

    /// The names-only view: what the folded format holds and the text reports read.
    public var stacks: StackProfile {
        var p = StackProfile()
        for (s, c) in counts { p.add(s.stack, count: c) }
        return p
    }

    /// The threads seen, most samples first (then by name); samples without a thread label are "all".
    public var threads: [(name: String, samples: Int)] {
        var by: [String: Int] = [:]
        for (s, c) in counts { by[s.thread ?? "all", default: 0] += c }
        return by.map { ($0.key, $0.value) }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
    }

    /// The samples of one thread (as named in `threads`).
    public func thread(_ name: String) -> SampleProfile {
        var p = self
        p.counts = [:]; p.total = 0
        for (s, c) in counts where (s.thread ?? "all") == name { p.add(s, count: c) }
        return p
    }

    /// Samples per op label (nil key: untagged).
    public var byOp: [String?: Int] {
        var by: [String?: Int] = [:]
        for (s, c) in counts { by[s.op, default: 0] += c }
        return by
    }

    /// The module of each frame name (basename), where known: for tooltips.
    public var modules: [String: String] {
        var m: [String: String] = [:]
        for s in counts.keys { for f in s.frames where m[f.name] == nil { if let mod = f.module { m[f.name] = FrameName.basename(mod) } } }
        return m
    }

    /// Samples in a deterministic order (most first, then by stack, thread, op): stable output for golden files.
    public var sorted: [(sample: Sample, count: Int)] {
        counts.map { ($0.key, $0.value) }.sorted { a, b in
            if a.1 != b.1 { return a.1 > b.1 }
            let sa = a.0.stack, sb = b.0.stack
            if sa != sb { return sa.lexicographicallyPrecedes(sb) }
            if a.0.thread != b.0.thread { return (a.0.thread ?? "") < (b.0.thread ?? "") }
            if a.0.op != b.0.op { return (a.0.op ?? "") < (b.0.op ?? "") }
            return a.0.frames.map { $0.address ?? 0 }.lexicographicallyPrecedes(b.0.frames.map { $0.address ?? 0 })
        }
    }
}

/// Thread names of this process: "comm-tid" from /proc/self/task/<tid>/comm ("thread-tid" if unreadable).
public enum ThreadNames {
    public static func label(tid: Int32, comm: String?) -> String { "\(comm ?? "thread")-\(tid)" }

    /// The labels of the threads alive now, by tid.
    public static func current() -> [Int32: String] {
        var out: [Int32: String] = [:]
        let dir = "/proc/self/task"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard let tid = Int32(entry) else { continue }
            let comm = (try? String(contentsOfFile: "\(dir)/\(entry)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            out[tid] = label(tid: tid, comm: comm)
        }
        return out
    }
}
