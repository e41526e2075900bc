// The in-process sampler (CSampler) seen from Swift: start, stop, raw samples, symbolization into stacks.
import CSampler
import Foundation

/// One recorded stack: `pcs[0]` is the interrupted instruction, the rest are return addresses (callers).
public struct RawSample: Sendable {
    public var pcs: [UInt64]
    public var tid: Int32
    /// The op tag at the moment of the sample (0: none).
    public var tag: Int32
    public var truncated: Bool
    public init(pcs: [UInt64], tid: Int32, tag: Int32, truncated: Bool = false) {
        self.pcs = pcs; self.tid = tid; self.tag = tag; self.truncated = truncated
    }
}

/// What a sampling session saw, besides the stacks.
public struct SamplerStats: Codable, Sendable, Equatable {
    public var samples: Int
    public var droppedBufferFull: Int
    public var droppedUnwindFailed: Int
    public var truncated: Int
    public var signals: Int
    public var timerOverruns: Int
    public var threadsSampled: Int
    public var timerFailures: Int
    public var wallSeconds: Double
    public var cpuSeconds: Double
    /// Time of the sampling clock summed over sampled threads (CPU seconds, or thread-wall seconds).
    public var threadSeconds: Double
    /// Time spent inside the signal handler (unwinding and recording), summed over threads: the sampler's
    /// direct cost.
    public var handlerSeconds: Double
    /// Samples unwound with unw_step (the step unwinder, or the backtrace unwinder's fallback).
    public var stepUnwinds: Int
    /// The task clock could sample user time only (kernel.perf_event_paranoid).
    public var userOnly: Bool
    /// Samples per second of the sampling clock, per thread (the achieved rate to compare with the requested one).
    public var achievedHz: Double { threadSeconds > 0 ? Double(samples) / threadSeconds : 0 }
    public var dropped: Int { droppedBufferFull + droppedUnwindFailed }
    /// The handler's time as a share of the process's CPU time while sampling (percent).
    public var handlerPercent: Double { cpuSeconds > 0 ? 100 * handlerSeconds / cpuSeconds : 0 }
}

/// The SIGPROF sampler of this process (one session at a time).
public enum SignalSampler {
    /// The clock that drives the timers.
    public enum Clock: String, CaseIterable, Codable, Sendable {
        /// Each thread's CPU time: a thread is sampled only while it runs; at most the kernel tick (250 Hz here).
        case cpu
        /// Wall time (CLOCK_MONOTONIC) per thread: sleeping threads are sampled too; up to ~1 kHz.
        case wall
        /// Each thread's CPU time from a perf task-clock event (hrtimer, not the tick): precise at any rate;
        /// needs perf_event_open (kernel.perf_event_paranoid <= 2).
        case task
        /// The rate used when none is asked for.
        public var defaultHz: Double { self == .wall ? 997 : 250 }
    }

    /// How the signal handler unwinds the interrupted thread.
    public enum Unwinder: String, CaseIterable, Codable, Sendable {
        /// libunwind's cached fast trace (unw_backtrace) cut at the interrupted PC; unw_step when that fails.
        case backtrace
        /// unw_init_local2 on the signal context + unw_step: DWARF for every frame, slower.
        case step
    }

    /// What to sample and how much room to reserve.
    public struct Config: Sendable {
        public var clock: Clock
        /// Requested samples per second per thread.
        public var hz: Double
        /// Sample slots; further samples are dropped (and counted).
        public var maxSamples: Int
        /// Frames per stack (deeper stacks keep their innermost frames and count as truncated).
        public var maxDepth: Int
        public var unwinder: Unwinder
        public init(clock: Clock = .cpu, hz: Double? = nil, maxSamples: Int = 65536, maxDepth: Int = 128, unwinder: Unwinder = .backtrace) {
            self.clock = clock; self.hz = hz ?? clock.defaultHz; self.maxSamples = maxSamples; self.maxDepth = maxDepth
            self.unwinder = unwinder
        }
    }

    /// The clock called `name` (nil: none asked for, the default). Throws `ProfilingError` for an unknown name.
    public static func clock(named name: String?) throws -> Clock? {
        guard let name else { return nil }
        guard let c = Clock(rawValue: name) else { throw ProfilingError("unknown clock '\(name)' (known: task, cpu, wall)") }
        return c
    }

    /// The unwinder called `name`. Throws `ProfilingError` for an unknown name.
    public static func unwinder(named name: String) throws -> Unwinder {
        guard let u = Unwinder(rawValue: name) else { throw ProfilingError("unknown --unwind '\(name)' (known: backtrace, step)") }
        return u
    }

    /// Where the workload writes its op tag (recorded with every sample).
    public static var opTag: UnsafeMutablePointer<Int32> { ws_op_tag_pointer() }

    /// Whether a session is running.
    public static var isRunning: Bool { ws_sampler_running() != 0 }

    /// Samples recorded so far in the running session (slots claimed; a few may still be in flight).
    public static var samplesSoFar: Int { Int(ws_sampler_sample_count()) }

    /// Starts sampling every thread of the process. Throws `ProfilingError` with the reason.
    public static func start(_ config: Config) throws {
        var c = ws_sampler_default_config()
        switch config.clock {
        case .cpu: c.clock = Int32(WS_CLOCK_CPU)
        case .wall: c.clock = Int32(WS_CLOCK_WALL)
        case .task: c.clock = Int32(WS_CLOCK_TASK)
        }
        c.hz = config.hz
        c.unwinder = Int32(config.unwinder == .backtrace ? WS_UNWIND_BACKTRACE : WS_UNWIND_STEP)
        c.max_samples = max(1, config.maxSamples)
        c.max_depth = Int32(min(max(1, config.maxDepth), Int(WS_MAX_DEPTH)))
        // Room for every sample at its full depth would be wasteful: most stacks are far shallower.
        c.max_pcs = c.max_samples * Int(min(c.max_depth, 64))
        var err = [CChar](repeating: 0, count: 256)
        let rc = ws_sampler_start(&c, &err, err.count)
        if rc != 0 {
            throw ProfilingError("cannot start the sampler: " + String(cString: err))
        }
    }

    /// Stops the session and returns its samples and counters.
    public static func stop() -> (samples: [RawSample], stats: SamplerStats) {
        ws_sampler_stop()
        var s = ws_sampler_stats()
        ws_sampler_get_stats(&s)
        let n = ws_sampler_sample_count()
        var samples: [RawSample] = []
        samples.reserveCapacity(n)
        var one = ws_sample()
        for i in 0..<n where ws_sampler_sample(i, &one) != 0 {
            let pcs = Array(UnsafeBufferPointer(start: one.pcs, count: Int(one.depth)))
            samples.append(RawSample(pcs: pcs, tid: one.tid, tag: one.tag, truncated: one.truncated != 0))
        }
        ws_sampler_release()
        let stats = SamplerStats(
            samples: Int(s.samples), droppedBufferFull: Int(s.dropped_full), droppedUnwindFailed: Int(s.dropped_unwind),
            truncated: Int(s.truncated), signals: Int(s.signals), timerOverruns: Int(s.overruns),
            threadsSampled: Int(s.threads_sampled), timerFailures: Int(s.timer_failures),
            wallSeconds: s.wall_seconds, cpuSeconds: s.cpu_seconds, threadSeconds: s.thread_seconds,
            handlerSeconds: s.handler_seconds, stepUnwinds: Int(s.step_unwinds), userOnly: s.user_only != 0)
        return (samples, stats)
    }

    /// The calling thread's id and CPU time (for tests and workloads that run for a CPU-time budget).
    public static var currentThreadID: Int32 { ws_gettid() }
    public static var currentThreadCPUNanos: UInt64 { ws_thread_cpu_ns() }
}

/// Names the addresses of this process: libelf over each loaded object's symbol tables (load bias from
/// dl_iterate_phdr), Swift names demangled. Return addresses are looked up at address - 1 (the call
/// instruction), the interrupted PC of the leaf as is.
public final class Symbolizer {
    private let handle: OpaquePointer?
    private var cache: [UInt64: Frame] = [:]

    /// Snapshots the objects loaded now (create it after the workload, before they could be unloaded).
    public init() { handle = ws_symbolizer_create() }
    deinit { ws_symbolizer_destroy(handle) }

    /// What a lookup found: the raw symbol, its offset and the object it lies in.
    public struct Lookup: Equatable {
        public var symbol: String?
        public var offset: UInt64
        public var module: String?
    }

    /// The raw lookup of one address.
    public func lookup(_ address: UInt64) -> Lookup {
        var name: UnsafePointer<CChar>?
        var offset: UInt64 = 0
        var module: UnsafePointer<CChar>?
        let rc = ws_symbolize(handle, address, &name, &offset, &module)
        return Lookup(symbol: rc == 1 ? name.map { String(cString: $0) } : nil, offset: offset,
                      module: module.map { String(cString: $0) })
    }

    /// The frame name for an address (`isLeaf`: the interrupted PC, else a return address).
    public func frameName(_ pc: UInt64, isLeaf: Bool) -> String { frame(pc, isLeaf: isLeaf).name }

    /// The frame of an address (`isLeaf`: the interrupted PC, else a return address, looked up at pc - 1):
    /// its name, raw symbol, module, and address within the module.
    public func frame(_ pc: UInt64, isLeaf: Bool) -> Frame {
        let address = isLeaf || pc == 0 ? pc : pc - 1
        if let f = cache[address] { return f }
        let l = lookup(address)
        let bias = l.module.flatMap { mappings[$0]?.bias }
        let relative = bias.map { address &- $0 } ?? address
        var f: Frame
        if let sym = l.symbol {
            let name = FrameName.function(sym)
            f = Frame(name, symbol: name == sym ? nil : sym, module: l.module, address: relative)
        } else {
            f = Frame(FrameName.unsymbolised(module: l.module, address: relative), module: l.module, address: relative)
        }
        cache[address] = f
        return f
    }

    /// The objects of the snapshot (path, bias, address range).
    public var modules: [(path: String, bias: UInt64, range: Range<UInt64>)] {
        (0..<ws_symbolizer_module_count(handle)).compactMap { i in
            var p: UnsafePointer<CChar>?
            var b: UInt64 = 0, lo: UInt64 = 0, hi: UInt64 = 0
            guard ws_symbolizer_module(handle, i, &p, &b, &lo, &hi) != 0, let p else { return nil }
            return (String(cString: p), b, lo..<hi)
        }
    }

    /// Load addresses by module path (the first object of each path).
    public private(set) lazy var mappings: [String: ModuleMapping] = {
        var m: [String: ModuleMapping] = [:]
        for mod in modules where m[mod.path] == nil {
            m[mod.path] = ModuleMapping(start: mod.range.lowerBound, limit: mod.range.upperBound, bias: mod.bias)
        }
        return m
    }()

    /// Symbolized samples (stacks root first) labelled with their thread (`threads[tid]`, else "thread-tid")
    /// and op (`ops[tag]`; tag 0 and unknown tags: none).
    public func samples(_ raw: [RawSample], ops: [Int32: String] = [:], threads: [Int32: String] = [:]) -> SampleProfile {
        struct Key: Hashable { var pcs: [UInt64]; var tid: Int32; var tag: Int32 }
        var interned: [Key: Int] = [:]
        for s in raw { interned[Key(pcs: s.pcs, tid: s.tid, tag: s.tag), default: 0] += 1 }
        var p = SampleProfile()
        for (k, count) in interned {
            var frames: [Frame] = []
            frames.reserveCapacity(k.pcs.count)
            for (i, pc) in k.pcs.enumerated().reversed() { frames.append(frame(pc, isLeaf: i == 0)) }
            p.add(Sample(frames: frames, thread: threads[k.tid] ?? ThreadNames.label(tid: k.tid, comm: nil), op: ops[k.tag]), count: count)
        }
        let used = Set(p.counts.keys.flatMap { $0.frames.compactMap(\.module) })
        p.mappings = mappings.filter { used.contains($0.key) }
        return p
    }

    /// Symbolized stacks of `samples` (root first), plus the sample counts per op tag and per thread.
    public func profile(_ samples: [RawSample]) -> (stacks: StackProfile, byTag: [Int32: Int], byThread: [Int32: Int]) {
        var byTag: [Int32: Int] = [:], byThread: [Int32: Int] = [:]
        for s in samples {
            byTag[s.tag, default: 0] += 1
            byThread[s.tid, default: 0] += 1
        }
        return (self.samples(samples).stacks, byTag, byThread)
    }
}

/// Function symbols of an ELF file on disk (name, link-time address, size). Throws `ProfilingError`.
public func elfFunctionSymbols(path: String) throws -> [(name: String, value: UInt64, size: UInt64)] {
    final class Box { var items: [(String, UInt64, UInt64)] = [] }
    let box = Box()
    var err = [CChar](repeating: 0, count: 256)
    let n = withExtendedLifetime(box) {
        ws_elf_function_symbols(path, Unmanaged.passUnretained(box).toOpaque(), { ctx, name, value, size in
            let b = Unmanaged<Box>.fromOpaque(ctx!).takeUnretainedValue()
            b.items.append((String(cString: name!), value, size))
        }, &err, err.count)
    }
    if n < 0 { throw ProfilingError(String(cString: err)) }
    return box.items.map { (name: $0.0, value: $0.1, size: $0.2) }
}
