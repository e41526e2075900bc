// One sampling session of the signal backend around a repeated workload: the clock chosen (task clock, falling
// back to CPU-time timers), the stopping rule (a duration, or a sample count within a time limit, or a stop
// signal), progress on stderr, and the samples symbolized and labelled (threads, ops) afterwards.
import Basics
import Foundation

public struct SignalRun {
    public var raw: [RawSample]
    public var stats: SamplerStats
    public var clock: SignalSampler.Clock
    /// Why the task clock was not used (when it was the default and perf_event_open was refused).
    public var fallback: String?
    /// Requested samples per second per thread.
    public var hz: Double
    public var start: Date
    public var seconds: Double
    /// How many times the workload ran.
    public var iterations: Int

    /// Starts the sampler on `clock`, or (nil) on the task clock, falling back to CPU-time timers when
    /// perf_event_open is not allowed. Returns the clock used and, after a fallback, why.
    public static func start(clock: SignalSampler.Clock?, hz: Double?, maxSamples: Int, unwinder: SignalSampler.Unwinder) throws -> (SignalSampler.Clock, String?) {
        if let c = clock {
            try SignalSampler.start(.init(clock: c, hz: hz ?? c.defaultHz, maxSamples: maxSamples, unwinder: unwinder))
            return (c, nil)
        }
        do {
            try SignalSampler.start(.init(clock: .task, hz: hz, maxSamples: maxSamples, unwinder: unwinder))
            return (.task, nil)
        } catch {
            try SignalSampler.start(.init(clock: .cpu, hz: hz, maxSamples: maxSamples, unwinder: unwinder))
            return (.cpu, "\(error)")
        }
    }

    /// Samples every thread while `work` runs again and again: for `duration` seconds, else until
    /// `targetSamples` samples (at most `maxSeconds`); a stop signal (`Signals`) ends it early after the current
    /// run of `work`. `threads`: how many threads the workload uses (to size the buffer).
    public static func record(clock: SignalSampler.Clock?, hz: Double?, unwinder: SignalSampler.Unwinder, threads: Int,
                              duration: Double?, targetSamples: Int = 1200, maxSeconds: Double = 60,
                              progress: Progress? = Progress(), work: () throws -> Void) throws -> SignalRun {
        let rate = hz ?? (clock ?? .task).defaultHz
        // Room for every sample of the run (the workload's threads + a few others), or for the target count.
        let expected = duration.map { rate * Double(threads + 2) * $0 * 1.3 } ?? Double(targetSamples * 4)
        let (used, fallback) = try start(clock: clock, hz: hz, maxSamples: min(1 << 20, max(8192, Int(expected))), unwinder: unwinder)
        let start = Date()
        var iterations = 0
        do {
            repeat {
                try work()
                iterations += 1
                let t = Date().timeIntervalSince(start)
                progress?.update(t, "sampling: \(Progress.duration(t)), \(SignalSampler.samplesSoFar) samples\(duration == nil ? " of \(targetSamples)" : "")")
                if !Signals.pending.isEmpty { break }
                if let d = duration { if t >= d { break } } else if SignalSampler.samplesSoFar >= targetSamples || t >= maxSeconds { break }
            } while true
        } catch {
            _ = SignalSampler.stop()
            throw error
        }
        let (raw, stats) = SignalSampler.stop()
        progress?.clear()
        return SignalRun(raw: raw, stats: stats, clock: used, fallback: fallback, hz: hz ?? used.defaultHz,
                         start: start, seconds: Date().timeIntervalSince(start), iterations: iterations)
    }

    /// The samples symbolized, labelled with their thread and op (`ops[tag]`), with the period each one stands
    /// for (the sampled clock time over the samples: exact for the task clock, the true average for the
    /// tick-limited CPU-time timers).
    public func samples(ops: [Int32: String], threads: [Int32: String] = ThreadNames.current()) -> SampleProfile {
        var p = Symbolizer().samples(raw, ops: ops, threads: threads)
        p.clock = clock == .wall ? "wall" : "cpu"
        p.periodNanos = stats.samples > 0 && stats.threadSeconds > 0 ? Int64(stats.threadSeconds * 1e9 / Double(stats.samples)) : Int64(1e9 / hz)
        p.startNanos = Int64(start.timeIntervalSince1970 * 1e9)
        p.durationNanos = Int64(seconds * 1e9)
        return p
    }

    /// The run's metadata (the caller adds model, engine, workload, ops).
    public func metadata(_ samples: SampleProfile, command: [String] = CommandLine.arguments) -> ProfileMetadata {
        var m = ProfileMetadata(command: command, backend: "signal", requestedHz: hz, samples: samples.total, seconds: seconds,
                                threads: Dictionary(uniqueKeysWithValues: samples.threads.map { ($0.name, $0.samples) }))
        m.clock = clock.rawValue
        m.achievedHz = stats.achievedHz
        m.dropped = stats.dropped
        m.truncated = stats.truncated
        m.sampler = stats
        return m
    }
}

extension SamplerOverhead {
    /// Times `work` in `rounds` rounds of (unsampled, sampled) blocks of `perBlock` runs, the order alternating;
    /// `startSampler` starts a session (returning the clock used). Stops early at a stop signal (`Interrupted`).
    public static func measure(rounds: Int, perBlock: Int, startSampler: () throws -> SignalSampler.Clock,
                               work: () throws -> Void) throws -> (SamplerOverhead, SignalSampler.Clock?) {
        var m = SamplerOverhead()
        m.perBlock = perBlock
        var clock: SignalSampler.Clock?
        for r in 0..<rounds {
            for sampling in (r % 2 == 0 ? [false, true] : [true, false]) {
                if sampling { clock = try startSampler() }
                let s = Date(), c = processCPUSeconds()
                do { for _ in 0..<perBlock { try work() } } catch { if sampling { _ = SignalSampler.stop() }; throw error }
                let dt = Date().timeIntervalSince(s) / Double(perBlock), dc = (processCPUSeconds() - c) / Double(perBlock)
                if sampling {
                    let (raw, stats) = SignalSampler.stop()
                    m.add(sampled: true, wall: dt, cpu: dc, samples: raw.count, stats: stats)
                } else { m.add(sampled: false, wall: dt, cpu: dc) }
                if let sig = Signals.pending.first { throw Interrupted(signal: sig) }
            }
        }
        return (m, clock)
    }
}
