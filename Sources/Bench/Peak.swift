// The machine's two limits, measured: the FP32 fused multiply-add peak of one core and the memory read
// bandwidth. Both loops need code compiled for the build machine's CPU (`-target-cpu native`): without it
// swiftc turns every SIMD fused multiply-add into a libm call per lane and the "peak" is ~1 GFLOP/s.
import Foundation

/// Microbenchmarks of the machine's limits.
public enum Peak {
    /// Accumulators of the FMA loop: independent dependency chains, enough to cover the FMA latency
    /// times the number of FMA pipes on current x86 and ARM cores (4 cycles x 2 pipes = 8).
    public static let fmaAccumulators = 12

    /// The best FP32 FMA rate of one thread, in GFLOP/s (an FMA counts as 2 flops): the fastest of `repeats`
    /// timed runs of about `seconds` each of a SIMD16 loop over 12 independent accumulators. Many short runs
    /// rather than one long one, so that on a busy machine some run gets the core to itself.
    public static func fmaGFLOPS(repeats: Int = 30, seconds: Double = 0.003) -> Double {
        let flopsPerIteration = Double(fmaAccumulators * 16 * 2)
        // Calibrate: how many iterations take `seconds`?
        var iterations = 1 << 12
        while true {
            let t0 = monotonicNanos()
            sink &+= Int(fmaLoop(iterations: iterations, multiplier: multiplier, addend: addend).sum().bitPattern & 1)
            let dt = Double(monotonicNanos() - t0) / 1e9
            if dt >= seconds / 4 || iterations >= 1 << 30 {
                iterations = max(1, Int(Double(iterations) * seconds / max(dt, 1e-9)))
                break
            }
            iterations *= 4
        }
        var best = 0.0
        for _ in 0..<max(1, repeats) {
            let t0 = monotonicNanos()
            let r = fmaLoop(iterations: iterations, multiplier: multiplier, addend: addend)
            let dt = Double(monotonicNanos() - t0) / 1e9
            sink &+= Int(r.sum().bitPattern & 1)
            best = max(best, flopsPerIteration * Double(iterations) / dt / 1e9)
        }
        return best
    }

    /// acc = addend + acc * multiplier on 12 SIMD16 accumulators (fixed point 1 for the values used, so
    /// nothing overflows or goes subnormal).
    @inline(never)
    static func fmaLoop(iterations: Int, multiplier m: Float, addend c: Float) -> SIMD16<Float> {
        let mv = SIMD16<Float>(repeating: m), cv = SIMD16<Float>(repeating: c)
        var a0 = SIMD16<Float>(repeating: 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0
        var a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0
        for _ in 0..<iterations {
            a0 = cv.addingProduct(a0, mv); a1 = cv.addingProduct(a1, mv); a2 = cv.addingProduct(a2, mv)
            a3 = cv.addingProduct(a3, mv); a4 = cv.addingProduct(a4, mv); a5 = cv.addingProduct(a5, mv)
            a6 = cv.addingProduct(a6, mv); a7 = cv.addingProduct(a7, mv); a8 = cv.addingProduct(a8, mv)
            a9 = cv.addingProduct(a9, mv); a10 = cv.addingProduct(a10, mv); a11 = cv.addingProduct(a11, mv)
        }
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11))
    }

    /// The read patterns the bandwidth test tries, each thread on its slice: one stream (`readSum`), and 4 or
    /// 8 streams side by side in blocks (`readSumStreams`: 4 x 96 KiB is the panel GEMV's pattern at C = 768).
    public static let readPatterns: [(streams: Int, span: Int)] = [(1, 0), (4, 24576), (8, 98304)]

    /// The best read bandwidth in GB/s (1e9 bytes/s) of `threads` threads summing disjoint slices of one
    /// `bytes`-byte buffer (touched beforehand), over `repeats` passes of each pattern of `readPatterns`,
    /// whichever is fastest. One stream alone is not the machine's limit: on a Sapphire Rapids VM a single
    /// stream read ~30 % slower than the T=1 matmul's four panel streams (Notes/kernels.md). With one thread
    /// each pass is timed in `chunks` consecutive pieces (each still far larger than the caches, as the buffer
    /// is walked in order) and the fastest piece counts, so a busy machine's interruptions spoil fewer
    /// measurements.
    public static func readBandwidthGBs(bytes: Int = 256 << 20, threads: Int = 1, repeats: Int = 4, chunks: Int = 4) -> Double {
        let count = max(1024, bytes / 4)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        defer { raw.deallocate() }
        let buffer = raw.bindMemory(to: Float.self, capacity: count)
        buffer.initialize(repeating: 1, count: count)
        return readPatterns.map { pattern in
            readBandwidthGBs(buffer, count: count, threads: threads, repeats: repeats, chunks: chunks) { p, n in
                pattern.streams == 1 ? readSum(p, n) : readSumStreams(p, n, streams: pattern.streams, span: pattern.span)
            }
        }.max()!
    }

    static func readBandwidthGBs(_ buffer: UnsafeMutablePointer<Float>, count: Int, threads: Int, repeats: Int, chunks: Int,
                                 read readSum: @escaping @Sendable (UnsafePointer<Float>, Int) -> Float) -> Double {
        let nth = max(1, threads)
        var best = 0.0
        if nth == 1 {
            let pieces = max(1, chunks)
            let per = (count / pieces + 15) / 16 * 16
            for _ in 0..<max(1, repeats) {
                for c in 0..<pieces {
                    let lo = min(count, c * per), hi = min(count, lo + per)
                    if hi <= lo { continue }
                    let t0 = monotonicNanos()
                    let s = readSum(buffer + lo, hi - lo)
                    let dt = Double(monotonicNanos() - t0) / 1e9
                    sink &+= Int(s.bitPattern & 1)
                    best = max(best, Double((hi - lo) * 4) / dt / 1e9)
                }
            }
            return best
        }
        let per = (count / nth + 15) / 16 * 16
        let slices = (0..<nth).map { i in min(count, i * per)..<min(count, (i + 1) * per) }
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: nth)
        sums.initialize(repeating: 0, count: nth)
        defer { sums.deallocate() }
        let shared = Shared(base: UnsafePointer(buffer), out: sums)
        for _ in 0..<max(1, repeats) {
            let start = DispatchSemaphore(value: 0)
            let done = DispatchGroup()
            for i in 1..<nth {
                done.enter()
                let slice = slices[i]
                let t = Thread {
                    start.wait()
                    shared.out[i] = readSum(shared.base + slice.lowerBound, slice.count)
                    done.leave()
                }
                t.start()
            }
            usleep(2000) // let the helper threads reach the semaphore
            let t0 = monotonicNanos()
            for _ in 1..<nth { start.signal() }
            sums[0] = readSum(buffer + slices[0].lowerBound, slices[0].count)
            done.wait()
            let dt = Double(monotonicNanos() - t0) / 1e9
            best = max(best, Double(count * 4) / dt / 1e9)
        }
        for i in 0..<nth { sink &+= Int(sums[i].bitPattern & 1) }
        return best
    }

    /// Sum of p[0..<n] with four SIMD16 accumulators (a read stream, little arithmetic). Also the gate's
    /// frozen yardstick for memory-bound shapes: change it and the gate baseline must be re-made.
    @inline(never)
    public static func readSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        let raw = UnsafeRawPointer(p)
        var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0
        var i = 0
        while i + 64 <= n {
            a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            a1 += raw.loadUnaligned(fromByteOffset: i * 4 + 64, as: SIMD16<Float>.self)
            a2 += raw.loadUnaligned(fromByteOffset: i * 4 + 128, as: SIMD16<Float>.self)
            a3 += raw.loadUnaligned(fromByteOffset: i * 4 + 192, as: SIMD16<Float>.self)
            i += 64
        }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { s += p[i]; i += 1 } // scalar tail
        return s
    }

    /// Sum of p[0..<n] read as `streams` streams side by side: the range is cut into blocks of `streams` spans of
    /// `span` floats (`streams` even, `span` a multiple of 32), and in each block the spans are read together, two SIMD16 loads from
    /// each per step (like the panel GEMV's four panels); the leftovers by `readSum`.
    @inline(never)
    public static func readSumStreams(_ p: UnsafePointer<Float>, _ n: Int, streams: Int, span: Int) -> Float {
        let raw = UnsafeRawPointer(p)
        var a0 = SIMD16<Float>(), a1 = a0, a2 = a0, a3 = a0
        let block = streams * span
        var b = 0
        while b + block <= n {
            var i = 0
            while i < span {
                var s = 0
                while s + 2 <= streams {
                    let o = (b + s * span + i) * 4, o2 = o + span * 4
                    a0 += raw.loadUnaligned(fromByteOffset: o, as: SIMD16<Float>.self)
                    a1 += raw.loadUnaligned(fromByteOffset: o + 64, as: SIMD16<Float>.self)
                    a2 += raw.loadUnaligned(fromByteOffset: o2, as: SIMD16<Float>.self)
                    a3 += raw.loadUnaligned(fromByteOffset: o2 + 64, as: SIMD16<Float>.self)
                    s += 2
                }
                i += 32
            }
            b += block
        }
        return ((a0 + a1) + (a2 + a3)).sum() + readSum(p + b, n - b)
    }

    /// The buffer and the per-thread results, handed to the helper threads (each writes only its own slot).
    private struct Shared: @unchecked Sendable {
        let base: UnsafePointer<Float>
        let out: UnsafeMutablePointer<Float>
    }

    // Kept in globals so the optimiser cannot fold the loops away.
    nonisolated(unsafe) static var multiplier: Float = 0.999_999
    nonisolated(unsafe) static var addend: Float = 0.000_001
    nonisolated(unsafe) static var sink = 0
}
