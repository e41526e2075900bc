// Honest measurement of memory-bound kernels: a weight timed alone, call after call, stays in the caches
// (a 9 MiB fc weight fits the 32 MiB L3 here), so a T=1 matmul "streams" it at 3-4x the memory bandwidth and
// the figure says nothing about a forward pass, which reads each weight from memory once. `ColdWeights`
// makes copies of a weight, together far larger than the last-level cache, and hands them out in turn: every
// call reads a copy that has not been touched for (copies - 1) calls, i.e. from memory. compare, tune,
// `kernels --time` and the gate time matmuls through it.
//
//   let cold = ColdWeights(problem.weight, machine: machine)   // >= 256 MB and >= 8x the LLC of copies
//   cold.prepare(variant)                                     // packs every copy the variant re-packs
//   body: { var a = problem.args(); a.weight = cold.next(); variant.runStandalone(a, pool: pool) }
//
// Two variants timed against each other share one `ColdWeights` (one cursor): alternating calls then still
// each get a copy the other did not just bring into the cache.
import Bench
import Kernels

public final class ColdWeights {
    /// The smallest total of the copies: 256 MB (8x this machine's 32 MiB L3).
    public static let minimumTotalBytes = 256 << 20

    /// How many bytes of copies to cycle through on a machine whose last-level cache is `lastLevelCache`
    /// bytes: at least `minimumTotalBytes`, at least 8x the cache.
    public static func totalBytes(lastLevelCache: Int?) -> Int {
        max(minimumTotalBytes, 8 * (lastLevelCache ?? 0))
    }

    /// The copies, the source first (copy 0 is the matrix given, not a copy).
    public let copies: [WeightMatrix]
    /// Bytes of one copy (rows x cols floats).
    public let bytesPerCopy: Int
    private var owned: [UnsafeMutablePointer<Float>] = []
    private var cursor = 0

    /// At most this many copies: enough for any weight of 256 KB or more (the smallest GPT-2 124M weight is
    /// 2.25 MiB: 114 copies); the copies of a smaller weight (test shapes) total less than asked for.
    public static let maximumCopies = 1024

    /// Copies of `source` (its rows x cols floats, byte for byte) until they total at least `totalBytes`
    /// (a weight that alone is that large is its own cold copy: it streams through the caches), at most
    /// `maximumCopies`.
    public init(_ source: WeightMatrix, totalBytes: Int = ColdWeights.minimumTotalBytes) {
        let count = source.rows * source.cols
        bytesPerCopy = count * MemoryLayout<Float>.size
        let n = min(ColdWeights.maximumCopies, max(1, (totalBytes + max(1, bytesPerCopy) - 1) / max(1, bytesPerCopy)))
        var copies = [source]
        for _ in 1..<n {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            p.initialize(from: source.data, count: count)
            owned.append(p)
            copies.append(WeightMatrix(data: p, rows: source.rows, cols: source.cols))
        }
        self.copies = copies
    }

    /// Copies for this machine (`totalBytes(lastLevelCache:)` of its last-level cache).
    public convenience init(_ source: WeightMatrix, lastLevelCache: Int?) {
        self.init(source, totalBytes: ColdWeights.totalBytes(lastLevelCache: lastLevelCache))
    }

    deinit { for p in owned { p.deallocate() } }

    /// The next copy in turn (round robin over all copies).
    public func next() -> WeightMatrix {
        let w = copies[cursor]
        cursor = cursor + 1 == copies.count ? 0 : cursor + 1
        return w
    }

    /// Makes every copy's re-packed form `v` needs (packed copies are as large as the weight and cycle with it).
    public func prepare(_ v: MatmulVariant) { for w in copies { v.prepare(w) } }

    /// Bytes of all copies (re-packed forms not counted).
    public var totalBytes: Int { copies.count * bytesPerCopy }

    /// What the report says about the copies.
    public var streaming: WeightStreaming {
        WeightStreaming(copies: copies.count, bytesPerCopy: bytesPerCopy, totalBytes: totalBytes)
    }
}

/// How a timing kept its weights out of the caches (in the JSON reports).
public struct WeightStreaming: Codable, Equatable, Sendable {
    /// Weight copies cycled through, one per call.
    public var copies: Int
    public var bytesPerCopy: Int
    public var totalBytes: Int
    public init(copies: Int, bytesPerCopy: Int, totalBytes: Int) {
        self.copies = copies; self.bytesPerCopy = bytesPerCopy; self.totalBytes = totalBytes
    }
    /// "29 copies of 9.0 MiB (261 MB)".
    public var text: String {
        "\(copies) weight copies of \(mebibytes(Double(bytesPerCopy))) (\(Int((Double(totalBytes) / 1e6).rounded())) MB), one per call"
    }
}

/// "9.0 MiB".
func mebibytes(_ bytes: Double) -> String { String(format: "%.1f MiB", bytes / 1048576) }

extension ColdWeights {
    /// One read of the next copy at memory speed (Bench's `Peak.readSumStreams` with the panel GEMV's pattern,
    /// 4 streams of 96 KiB), split across every worker of `pool`: timed with the kernels, it is this run's
    /// 100 % line of a memory-bound timing (same copies, same moment), next to `workbench machine`'s, which a
    /// shared machine's load may have measured in a better or a worse minute.
    public func streamRead(on pool: WorkerPool) -> () -> Void {
        let count = bytesPerCopy / MemoryLayout<Float>.size
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: pool.count)
        sums.initialize(repeating: 0, count: pool.count)
        let box = StreamSums(sums)
        return { [self] in
            let w = next()
            pool.run { ith, nth in
                let r = WorkerPool.split(count, ith: ith, nth: nth, align: 32)
                if !r.isEmpty { box.sums[ith] += Peak.readSumStreams(w.data + r.lowerBound, r.count, streams: 4, span: 24576) }
            }
        }
    }
}

/// The per-worker sums of `streamRead` (kept so the reads are not optimised away; freed with the closure).
private final class StreamSums: @unchecked Sendable {
    let sums: UnsafeMutablePointer<Float>
    init(_ sums: UnsafeMutablePointer<Float>) { self.sums = sums }
    deinit { sums.deallocate() }
}
