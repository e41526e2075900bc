// The one clock of the project: every timing (the runner, the machine's peaks, the per-op timers, the verbs'
// progress lines) reads CLOCK_MONOTONIC through this function; CPU time, where a report states it, through
// `processCPUSeconds`.
import Foundation

/// Monotonic nanoseconds (CLOCK_MONOTONIC through the vDSO: ~20 ns a read).
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Seconds elapsed since `start` (a `monotonicNanos()` reading).
@inline(__always)
public func secondsSince(_ start: UInt64) -> Double { Double(monotonicNanos() &- start) / 1e9 }

/// User + system CPU seconds of this process so far, all threads (CLOCK_PROCESS_CPUTIME_ID).
public func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
