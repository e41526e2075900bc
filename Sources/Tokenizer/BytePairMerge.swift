import Foundation

// Byte-pair merges over one piece, exactly as tiktoken's `_byte_pair_merge`:
//   start with one part per byte; the rank of a pair of neighbouring parts is the rank of their concatenated
//   bytes (absent = never merged); repeatedly merge the pair with the lowest rank, the leftmost one on a tie,
//   until no pair has a rank. The parts left are the tokens (a part's bytes are always a token: single bytes
//   are, and a merge only makes a part whose bytes have a rank).
//
// Two implementations, with the same result (the tests compare them):
//   - `mergeScan`: tiktoken's loop. Parts in an array of (start, pair rank); each round scans for the minimum.
//     O(n·m) for n bytes and m merges, but n is small for nearly every piece and the arrays stay in L1.
//   - `mergeHeap`: parts in a doubly linked list, pair ranks in a min-heap keyed (rank, start), stale entries
//     skipped when popped. O(n log n); used for long pieces (a 10k run of one letter is one piece).
// Ranks are distinct per byte string, so a heap entry (rank, start) names one exact pair and is valid iff the
// pair now starting at `start` still has that rank.

enum BytePairMerge {
    /// Pieces longer than this (in bytes) go to the heap version.
    static let heapThreshold = 128
    static let noRank = Int32.max

    /// Appends the tokens of p[0 ..< n] (n >= 2) to `out`.
    @inline(__always)
    static func merge(_ p: UnsafePointer<UInt8>, _ n: Int, _ t: TokenTable.Lookup, into out: inout [Int32]) {
        if n > heapThreshold { mergeHeap(p, n, t, into: &out) } else { mergeScan(p, n, t, into: &out) }
    }

    /// tiktoken's loop. `start[k]` is where part k begins, `rank[k]` the rank of part k + part k+1
    /// (noRank for the last real part and for the end sentinel).
    static func mergeScan(_ p: UnsafePointer<UInt8>, _ n: Int, _ t: TokenTable.Lookup, into out: inout [Int32]) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * (n + 1)) { buf in
            let start = buf.baseAddress!, rank = buf.baseAddress! + (n + 1)
            @inline(__always) func lookup(_ a: Int, _ b: Int) -> Int32 {
                let r = t.rank(p + a, b - a)
                return r < 0 ? noRank : r
            }
            var parts = n + 1                       // n byte parts + the end sentinel
            var minRank = noRank, minAt = -1
            for i in 0..<(n - 1) {
                start[i] = Int32(i)
                let r = lookup(i, i + 2)
                rank[i] = r
                if r < minRank { minRank = r; minAt = i }
            }
            start[n - 1] = Int32(n - 1); rank[n - 1] = noRank
            start[n] = Int32(n); rank[n] = noRank
            // The rank of part k merged with part k+1 and then paired with part k+2 (before k+1 is removed).
            @inline(__always) func rankAfterMerge(_ k: Int) -> Int32 {
                k + 3 < parts ? lookup(Int(start[k]), Int(start[k + 3])) : noRank
            }
            while minRank != noRank {
                let i = minAt
                if i > 0 { rank[i - 1] = rankAfterMerge(i - 1) }
                rank[i] = rankAfterMerge(i)
                // remove part i+1
                var k = i + 1
                while k + 1 < parts { start[k] = start[k + 1]; rank[k] = rank[k + 1]; k += 1 }
                parts -= 1
                minRank = noRank; minAt = -1
                for k in 0..<(parts - 1) where rank[k] < minRank { minRank = rank[k]; minAt = k }
            }
            for k in 0..<(parts - 1) {
                out.append(t.rank(p + Int(start[k]), Int(start[k + 1] - start[k])))
            }
        }
    }

    /// The same merges with a linked list and a heap.
    static func mergeHeap(_ p: UnsafePointer<UInt8>, _ n: Int, _ t: TokenTable.Lookup, into out: inout [Int32]) {
        // next[i] / prev[i]: neighbours of the part starting at byte i (n = end sentinel); rank[i]: rank of the
        // pair starting at i, or noRank; dead parts have rank -1.
        var next = [Int32](repeating: 0, count: n + 1)
        var prev = [Int32](repeating: 0, count: n + 1)
        var rank = [Int32](repeating: noRank, count: n + 1)
        var heap = MinHeap()
        @inline(__always) func lookup(_ a: Int, _ b: Int) -> Int32 {
            let r = t.rank(p + a, b - a)
            return r < 0 ? noRank : r
        }
        for i in 0...n { next[i] = Int32(i + 1); prev[i] = Int32(i - 1) }
        for i in 0..<(n - 1) {
            rank[i] = lookup(i, i + 2)
            if rank[i] != noRank { heap.push(rank[i], Int32(i)) }
        }
        // The rank of the pair starting at part i (needs a part after it).
        @inline(__always) func pairRank(_ i: Int) -> Int32 {
            let j = Int(next[i])
            return j < n ? lookup(i, Int(next[j])) : noRank
        }
        while let (r, s) = heap.pop() {
            let i = Int(s)
            guard rank[i] == r else { continue }           // stale: merged away or re-ranked since pushed
            let j = Int(next[i])                           // the part i absorbs
            let after = Int(next[j])
            next[i] = Int32(after)
            if after <= n { prev[after] = Int32(i) }
            rank[j] = -1
            rank[i] = pairRank(i)
            if rank[i] != noRank { heap.push(rank[i], Int32(i)) }
            if i > 0 {
                let h = Int(prev[i])
                rank[h] = pairRank(h)
                if rank[h] != noRank { heap.push(rank[h], Int32(h)) }
            }
        }
        var i = 0
        while i < n {
            let j = Int(next[i])
            out.append(t.rank(p + i, j - i))
            i = j
        }
    }
}

/// A binary min-heap of (rank, start) packed in one UInt64 (rank in the high half), so ties go to the
/// smaller start: the leftmost pair.
struct MinHeap {
    private var a: [UInt64] = []

    mutating func push(_ rank: Int32, _ start: Int32) {
        a.append(UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: start)))
        var i = a.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if a[parent] <= a[i] { break }
            a.swapAt(parent, i); i = parent
        }
    }

    mutating func pop() -> (Int32, Int32)? {
        guard let top = a.first else { return nil }
        let last = a.removeLast()
        if !a.isEmpty {
            a[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < a.count && a[l] < a[m] { m = l }
                if r < a.count && a[r] < a[m] { m = r }
                if m == i { break }
                a.swapAt(i, m); i = m
            }
        }
        return (Int32(bitPattern: UInt32(top >> 32)), Int32(bitPattern: UInt32(top & 0xFFFF_FFFF)))
    }
}
