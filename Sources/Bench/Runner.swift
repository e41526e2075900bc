// The runner: warm-up, then the benchmarks interleaved round by round (A B, B A, A B, ...: the first one
// rotates each round, so slow drifts of the machine, e.g. clock or thermal changes, hit every benchmark
// alike), each sample timed with the monotonic clock, until both the minimum number of runs and the time
// budget are reached (or the maximum number of runs).
// Bench's one import of ours is Basics (the monotonic clock, the seeded generator, the cache folder), re-exported
// so every file of Bench and every client reads the same clock.
@_exported import Basics
import Foundation

/// One thing to time: `body` is timed; `setUp`, if any, runs untimed before each sample.
public struct Benchmark {
    public var name: String
    public var setUp: (() -> Void)?
    public var body: () -> Void
    public init(name: String, setUp: (() -> Void)? = nil, body: @escaping () -> Void) {
        self.name = name; self.setUp = setUp; self.body = body
    }
}

/// How long and how often the runner measures.
public struct RunnerOptions: Codable, Equatable, Sendable {
    /// Untimed calls of each benchmark before measuring (at least this many).
    public var warmupCalls = 2
    /// Keep warming up (round-robin) until this much time has passed, up to `maximumWarmupCalls` each.
    public var warmupSeconds = 0.1
    public var maximumWarmupCalls = 1000
    /// Samples of each benchmark, at least.
    public var minimumRuns = 10
    /// Keep measuring until this much time has passed (after the minimum runs are done).
    public var budgetSeconds = 1.0
    /// Stop at this many samples of each benchmark, whatever the budget.
    public var maximumRuns = 1000
    /// A body faster than this (judged in warm-up) is called several times per sample so one sample lasts
    /// about this long; the sample then records the mean time per call. Never for benchmarks with `setUp`.
    public var minimumSampleSeconds = 20e-6
    public init() {}
}

/// Where the runner is, for progress reports.
public struct RunnerProgress: Sendable {
    public enum Phase: String, Sendable { case warmup, measuring }
    public var phase: Phase
    /// Completed rounds (warm-up or measuring); a measuring round adds one sample to every benchmark.
    public var rounds: Int
    /// Seconds since the phase started.
    public var elapsed: Double
    public var options: RunnerOptions
}

/// Runs benchmarks interleaved and returns their samples.
public struct Runner {
    public var options: RunnerOptions
    public init(options: RunnerOptions = RunnerOptions()) { self.options = options }

    /// Warms up, then measures every benchmark once per round, rotating which goes first.
    /// Returns one `Samples` per benchmark, in the order given.
    public func run(_ benchmarks: [Benchmark], progress: ((RunnerProgress) -> Void)? = nil) -> [Samples] {
        let n = benchmarks.count
        if n == 0 { return [] }
        let o = options

        // Warm-up: round-robin, each call timed to estimate the time per call.
        var fastest = [Double](repeating: .infinity, count: n)
        var warmups = [Int](repeating: 0, count: n)
        let warmStart = monotonicNanos()
        var round = 0
        while true {
            let seconds = Double(monotonicNanos() - warmStart) / 1e9
            let enough = warmups.allSatisfy { $0 >= o.warmupCalls } && seconds >= o.warmupSeconds
            if enough || warmups.allSatisfy({ $0 >= max(o.warmupCalls, o.maximumWarmupCalls) }) { break }
            for i in order(round: round, count: n) {
                benchmarks[i].setUp?()
                let t0 = monotonicNanos()
                benchmarks[i].body()
                fastest[i] = min(fastest[i], Double(monotonicNanos() - t0))
                warmups[i] += 1
            }
            round += 1
            progress?(RunnerProgress(phase: .warmup, rounds: round, elapsed: Double(monotonicNanos() - warmStart) / 1e9, options: o))
        }
        let iterations = (0..<n).map { i -> Int in
            if benchmarks[i].setUp != nil || !fastest[i].isFinite { return 1 }
            let target = o.minimumSampleSeconds * 1e9
            return fastest[i] >= target ? 1 : Int(min(1e6, (target / max(fastest[i], 1)).rounded(.up)))
        }

        // Measuring: one sample of each benchmark per round.
        var times = [[Double]](repeating: [], count: n)
        let start = monotonicNanos()
        round = 0
        while true {
            for i in order(round: round, count: n) {
                let b = benchmarks[i]
                b.setUp?()
                let k = iterations[i]
                let t0 = monotonicNanos()
                for _ in 0..<k { b.body() }
                let t1 = monotonicNanos()
                times[i].append(Double(t1 - t0) / Double(k))
            }
            round += 1
            let elapsed = Double(monotonicNanos() - start) / 1e9
            progress?(RunnerProgress(phase: .measuring, rounds: round, elapsed: elapsed, options: o))
            if round >= max(1, o.maximumRuns) { break }
            if round >= o.minimumRuns && elapsed >= o.budgetSeconds { break }
        }
        return (0..<n).map { i in
            Samples(name: benchmarks[i].name, nanoseconds: times[i], iterationsPerSample: iterations[i], warmupCalls: warmups[i])
        }
    }

    /// The order of round `round`: 0, 1, ..., n-1 rotated left by `round` (A B, B A, A B, ... for two).
    public func order(round: Int, count n: Int) -> [Int] {
        (0..<n).map { ($0 + round) % n }
    }
}
