// The gate's clock: the calling thread's CPU time, not wall time.
//
// On a shared 2-core machine with more runnable processes than cores, a thread is descheduled for whole
// scheduler ticks (4 ms at CONFIG_HZ=250) at random moments; wall-clock samples then vary 2-3x from run to
// run, and a pool of two threads waits for whichever worker was descheduled. CPU time does not count the
// time a thread was not running, so a single-threaded measurement on the CPU clock moves only with the code
// (and with cache pollution by the neighbours, a few percent). The gate therefore times single-threaded,
// on this clock; Runner (wall clock) stays the tool for `workbench compare`, which measures what a user waits for.
//
// The CPU clock can stall in a KVM guest: the kernel subtracts the steal time the hypervisor reports from a
// task's run time, and steal reported in a lump is subtracted from the intervals after it. In quick-suite A/B runs
// beside 4-12 % steal, two children measured a 1 ms sample as 0 ns (their ratio's geometric mean became nan and
// the child could not write its file). So the repeat count comes from the wall clock (never under-counted), and a
// sample of 0 CPU ns is taken again (up to 3 times, then its wall time stands in).
import Basics
import Foundation

/// CPU nanoseconds consumed by the calling thread (CLOCK_THREAD_CPUTIME_ID).
@inline(__always)
public func threadCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

public enum GateTiming {
    /// Times `bodies` on the calling thread's CPU clock, interleaved: `warmup` untimed rounds, then `rounds`
    /// rounds in which every body gives one sample, the first body rotating each round (Runner's order).
    /// A body faster than `minimumSampleSeconds` is repeated within its sample (the count fixed from the
    /// fastest warm-up call). Returns the CPU nanoseconds per call, `result[body][round]`.
    public static func interleaved(_ bodies: [() -> Void], rounds: Int, minimumSampleSeconds: Double,
                                   warmup: Int = 2) -> [[Double]] {
        let n = bodies.count
        if n == 0 { return [] }
        var fastest = [Double](repeating: .infinity, count: n)
        let order = Runner().order(round:count:)
        for r in 0..<max(1, warmup) {
            for i in order(r, n) {
                let t0 = monotonicNanos()
                bodies[i]()
                fastest[i] = min(fastest[i], Double(monotonicNanos() &- t0))
            }
        }
        let target = minimumSampleSeconds * 1e9
        let repeats = fastest.map { f in f >= target ? 1 : Int(min(1e6, (target / max(f, 1)).rounded(.up))) }
        var samples = [[Double]](repeating: [], count: n)
        for r in 0..<max(1, rounds) {
            for i in order(r, n) {
                let k = repeats[i]
                var cpu: UInt64 = 0, wall: UInt64 = 0
                for _ in 0..<4 where cpu == 0 {
                    let (w0, t0) = (monotonicNanos(), threadCPUNanos())
                    for _ in 0..<k { bodies[i]() }
                    (cpu, wall) = (threadCPUNanos() &- t0, monotonicNanos() &- w0)
                }
                samples[i].append(Double(cpu > 0 ? cpu : wall) / Double(k))
            }
        }
        return samples
    }
}
