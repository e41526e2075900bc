// The report of one `workbench profile` run, assembled from a SampleProfile and plain facts: the header lines,
// the text (call tree, flat top-N, op view; per thread on request), the files (folded, SVG, pprof, speedscope),
// the overhead measurement's text. The CLI parses, runs the workload, and prints what these return.
import Foundation

/// The files a run writes besides its text.
public struct ProfileOutputs: Sendable {
    public var folded: String?
    public var svg: String?
    public var pprof: String?
    public var speedscope: String?
    /// Title, size, --inverted, --min-width of the SVG (modules are filled in from the samples).
    public var flame = FlameGraph.Options()
    public init() {}

    /// Writes every file asked for. Throws `ProfilingError`.
    public func write(_ samples: SampleProfile, metadata meta: ProfileMetadata) throws {
        let stacks = samples.stacks
        let what = "workbench profile (\(meta.backend)\(meta.clock.map { ", \($0) clock" } ?? ""))"
        if let path = folded { try Folded.write(stacks, to: path) }
        if let path = svg {
            var o = flame
            if o.title == FlameGraph.Options().title { o.title = what + (o.inverted ? ", inverted: callers of the leaves" : "") }
            if o.subtitle.isEmpty { o.subtitle = "\(meta.samples) samples; \(meta.engine ?? meta.command.joined(separator: " "))" }
            o.modules = samples.modules
            try FlameGraph.write(stacks, to: path, o)
        }
        if let path = pprof {
            try Pprof.write(samples, to: path, comments: [what, meta.workload, meta.engine].compactMap { $0 })
        }
        if let path = speedscope {
            try Speedscope.write(samples, to: path, name: what + (meta.workload.map { ": \($0)" } ?? ""))
        }
    }
}

public enum ProfileText {
    /// The text report: `header`, the sampling error, the call tree and the flat top-N (one of each per thread
    /// with `perThread`), then `opTable` if any.
    public static func render(_ samples: SampleProfile, header: String, minPercent: Double, top: Int, opTable: String?,
                              perThread: Bool = false) -> String {
        let stacks = samples.stacks
        var out = header + samplingErrorLine(stacks)
        func views(_ p: StackProfile, _ suffix: String) {
            out += "\n== call tree\(suffix) (frames >= \(fmt(minPercent))% of samples; total% = in the frame or its callees, self% = in the frame) ==\n"
            out += Reports.tree(p, minPercent: minPercent)
            out += "\n== top \(top) frames by self samples\(suffix) ==\n"
            out += Reports.flatTable(Reports.flat(p, top: top))
        }
        if perThread {
            for t in samples.threads {
                views(samples.thread(t.name).stacks, String(format: ", thread %@: %d samples, %.1f%%", t.name as NSString, t.samples,
                                                              100 * Double(t.samples) / Double(max(1, samples.total))))
            }
        } else {
            views(stacks, "")
        }
        if let t = opTable { out += "\n== op view: per-op timers vs the op each sample was taken in ==\n" + t }
        return out
    }

    /// How precise the shares are, from the sample count.
    public static func samplingErrorLine(_ p: StackProfile) -> String {
        let N = p.total
        var s = String(format: "sampling error: a share p of N = %d samples is known to ±100·sqrt(p(1-p)/N) points: ±%.1f at 50%%, ±%.1f at 10%%",
                       N, Reports.stdErrPercent(0.5, N), Reports.stdErrPercent(0.1, N))
        if let r = Reports.flat(p, top: 1).first { s += String(format: "; top frame %.1f%% ± %.1f", r.flatPercent, r.flatStdErr) }
        return s + "\n"
    }

    /// "workbench-4242: 654, workbench-4243 (main): 552".
    public static func threadCounts(_ samples: SampleProfile, main: String? = nil) -> String {
        samples.threads.map { "\($0.name)\($0.name == main ? " (main)" : ""): \($0.samples)" }.joined(separator: ", ")
    }

    /// The signal backend's header lines.
    public static func signalHeader(_ meta: ProfileMetadata, samples: SampleProfile, stats: SamplerStats, unwinder: String,
                                    fallback: String?, mainThread: String?) -> String {
        let clock = meta.clock ?? "task"
        let clockName = ["cpu": "CPU-time timers", "wall": "wall-clock timers", "task": "task-clock perf events"][clock] ?? clock
        var h = "workbench profile: signal backend, \(clockName) on every thread, \(fmt(meta.requestedHz)) Hz requested per thread, \(unwinder) unwinder\(stats.userOnly ? " (user time only: kernel.perf_event_paranoid)" : "")\n"
        if let why = fallback { h += "note: no task clock (\(why)): CPU-time timers instead, tick-limited\n" }
        h += "workload: \(meta.workload ?? "?"); \(meta.engine ?? "?")\n"
        if let m = meta.model { h += "model: \(m)\n" }
        h += String(format: "samples: %d from %d threads (%@); achieved %.0f Hz per thread-%@-second (%d timer overruns)\n",
                    samples.total, samples.threads.count, threadCounts(samples, main: mainThread) as NSString, stats.achievedHz,
                    clock == "wall" ? "wall" : "CPU", stats.timerOverruns)
        h += String(format: "dropped: %d (buffer full %d, unwind failed %d); truncated stacks: %d; sampler cost: %.1f ms in the handler (%.1f µs per sample, %.2f%% of the CPU time; %d samples unwound with unw_step)\n",
                    stats.dropped, stats.droppedBufferFull, stats.droppedUnwindFailed, stats.truncated, 1000 * stats.handlerSeconds,
                    stats.signals > 0 ? 1e6 * stats.handlerSeconds / Double(stats.signals) : 0, stats.handlerPercent, stats.stepUnwinds)
        return h
    }

    /// The perf backend's header lines (the workload, or `command` with how it ended).
    /// `command`: how the command ended ("exit status 0", "killed by SIGSEGV", "interrupted by SIGINT").
    public static func perfHeader(_ meta: ProfileMetadata, samples: SampleProfile, callGraph: PerfCallGraph, controlled: Bool = true,
                                  command: String? = nil) -> String {
        var h = "workbench profile: perf backend (\(meta.perfVersion ?? "?")), perf record -e cpu-clock -c \(Int(1e9 / meta.requestedHz)) --call-graph \(callGraph.recordArgument)\n"
        if let t = command {
            h += String(format: "command: %@ (%@, %.2f s)\n", (meta.workload ?? "") as NSString, t as NSString, meta.seconds)
        } else {
            h += "workload: \(meta.workload ?? "?"); \(meta.engine ?? "?")\(controlled ? "" : " (perf --control unavailable: model loading is in the profile)")\n"
            if let m = meta.model { h += "model: \(m)\n" }
        }
        h += String(format: "samples: %d from %d threads (%@)\n", samples.total, samples.threads.count, threadCounts(samples) as NSString)
        return h
    }

    /// "250", "997.5".
    public static func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }
}

/// The sampler's cost measured on the workload: generations timed with and without sampling, interleaved.
public struct SamplerOverhead: Sendable {
    public var off: [Double] = [], on: [Double] = [], offCPU: [Double] = [], onCPU: [Double] = []
    public var samples = 0, signals = 0
    public var sampledSeconds = 0.0, handlerSeconds = 0.0
    /// Generations per block.
    public var perBlock = 1
    public init() {}

    /// Adds one block's per-generation wall and CPU seconds (and, sampled, the session's counters).
    public mutating func add(sampled: Bool, wall: Double, cpu: Double, samples n: Int = 0, stats: SamplerStats? = nil) {
        if sampled {
            on.append(wall); onCPU.append(cpu); samples += n
            if let s = stats { sampledSeconds += s.threadSeconds; handlerSeconds += s.handlerSeconds; signals += s.signals }
        } else { off.append(wall); offCPU.append(cpu) }
    }

    static func median(_ a: [Double]) -> Double {
        let s = a.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// The report lines after `header`.
    public func text(header: String) -> String {
        let mOff = Self.median(off), mOn = Self.median(on)
        let ratios = zip(on, off).map { $0 / $1 }.sorted()
        func list(_ a: [Double]) -> String { a.map { String(format: "%.1f", 1000 * $0) }.joined(separator: " ") }
        var out = header
        out += String(format: "unsampled: median %.2f ms per generation  (%@)\n", 1000 * mOff, list(off) as NSString)
        out += String(format: "sampled:   median %.2f ms per generation  (%@)\n", 1000 * mOn, list(on) as NSString)
        if let lo = ratios.first, let hi = ratios.last {
            out += String(format: "wall-time overhead: %+.2f%% (median of per-round ratios %+.2f%%, range %+.2f%% ... %+.2f%%)\n",
                          100 * (mOn / mOff - 1), 100 * (Self.median(ratios) - 1), 100 * (lo - 1), 100 * (hi - 1))
        }
        let cOff = Self.median(offCPU), cOn = Self.median(onCPU)
        out += String(format: "CPU time per generation (all threads): unsampled %.2f ms, sampled %.2f ms: %+.2f%%\n", 1000 * cOff, 1000 * cOn, 100 * (cOn / cOff - 1))
        let sampledCPU = onCPU.reduce(0, +) * Double(perBlock)
        out += String(format: "handler: %d signals, %.1f ms in the handler = %.1f µs per sample, %.3f%% of the sampled CPU time; %d samples, %.0f Hz per thread achieved\n",
                      signals, 1000 * handlerSeconds, signals > 0 ? 1e6 * handlerSeconds / Double(signals) : 0,
                      sampledCPU > 0 ? 100 * handlerSeconds / sampledCPU : 0, samples, sampledSeconds > 0 ? Double(samples) / sampledSeconds : 0)
        return out
    }

}
