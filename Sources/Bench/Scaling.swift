// Scaling analysis for `workbench scale`: Amdahl's law fitted to measured speedups, and a usable-core
// estimate from a CPU-bound probe (for machines where `nproc` is not to be trusted).

/// One thread count's measurements.
public struct ScalingPoint: Codable, Sendable, Equatable {
    public var threads: Int
    /// Wall times of the workload, in seconds.
    public var seconds: [Double]
    public init(threads: Int, seconds: [Double]) { self.threads = threads; self.seconds = seconds }
    /// Median wall time (NaN without measurements).
    public var median: Double { Stats.median(seconds) ?? .nan }
}

public enum Scaling {
    /// The serial fraction f of Amdahl's law S(k) = 1 / (f + (1 - f) / k), least-squares fitted in the
    /// linearised form 1/S - 1/k = f (1 - 1/k) over the points with k >= 2 (the k = 1 point defines S = 1).
    /// Returns nil with fewer than one usable point. Clamped to [0, 1].
    public static func amdahlSerialFraction(speedups: [(threads: Int, speedup: Double)]) -> Double? {
        var num = 0.0, den = 0.0
        for p in speedups where p.threads >= 2 && p.speedup > 0 {
            let k = Double(p.threads)
            let a = 1 - 1 / k, b = 1 / p.speedup - 1 / k
            num += a * b; den += a * a
        }
        guard den > 0 else { return nil }
        return min(1, max(0, num / den))
    }

    /// Speedup predicted by Amdahl's law for serial fraction f on k threads.
    public static func amdahlSpeedup(serialFraction f: Double, threads k: Int) -> Double {
        1 / (f + (1 - f) / Double(k))
    }

    /// Usable cores from a probe where each of `threads` workers did the same CPU-bound work that took
    /// `singleSeconds` on one thread: all of it finished in `parallelSeconds`, so the machine ran
    /// threads * single / parallel workers' worth of work at once.
    public static func usableCores(threads: Int, singleSeconds: Double, parallelSeconds: Double) -> Double {
        guard parallelSeconds > 0 else { return .nan }
        return Double(threads) * singleSeconds / parallelSeconds
    }

    /// A CPU-bound loop with no memory traffic (an xorshift chain); returns a value so it is not optimised away.
    @inline(never)
    public static func cpuBoundWork(iterations: Int, seed: UInt64 = 0x9E3779B97F4A7C15) -> UInt64 {
        var x = seed | 1
        for _ in 0..<iterations {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
        }
        return x
    }
}
