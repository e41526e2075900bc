// Cold weights for the gate's memory-bound timings.
//
// At T=1 every weight is used once per call, so a matmul's time is the time to bring its weight in. The 124M
// layer weights are 2.25-9 MiB: timed over and over on one copy, they stay in the 32 MiB L3 and the gate
// measured cache bandwidth, not the memory traffic a decode step pays (the 124M model's 498 MB cannot stay in
// any cache). So every memory-bound timing cycles through copies of its weight whose total exceeds twice the
// last-level cache, and every call (of every variant and of the stream yardstick alike) takes the next copy:
// a copy is used again only after more than 2 x LLC of other weights were read.
// (The lab helper's ColdWeights, cycling copies for `compare`, was not on main when this was written: the gate
// keeps its own small helper, which also packs every copy for the variants that re-pack weights.)
import Bench
import Foundation
import Kernels

/// Copies of one weight matrix, taken in turn.
final class GateColdWeights {
    let copies: [WeightMatrix]
    private var index = 0

    /// Bytes the copies must exceed together: twice the largest cache (the LLC), at least 64 MiB.
    static let minimumBytes: Int = max(2 * (Bench.Machine.caches().map(\.bytes).max() ?? 32 << 20), 64 << 20)

    /// `weight` itself plus enough copies (4 KiB-aligned, in `buffers`) that they total more than `bytes`
    /// (at most `limit` copies).
    init(_ weight: WeightMatrix, buffers: GateBuffers, bytes: Int = GateColdWeights.minimumBytes, limit: Int = 4096) {
        let count = weight.rows * weight.cols
        let size = max(1, count * MemoryLayout<Float>.size)
        let n = min(limit, bytes / size + 1)
        var copies = [weight]
        for _ in 1..<max(1, n) {
            copies.append(WeightMatrix(data: buffers.copy(weight.data, count: count), rows: weight.rows, cols: weight.cols))
        }
        self.copies = copies
    }

    /// Total bytes of the raw copies.
    var bytes: Int { copies.count * copies[0].rows * copies[0].cols * MemoryLayout<Float>.size }

    /// The next copy (round robin).
    func next() -> WeightMatrix {
        let w = copies[index]
        index = index + 1 == copies.count ? 0 : index + 1
        return w
    }
}
