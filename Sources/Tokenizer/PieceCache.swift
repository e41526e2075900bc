import Foundation

// A cache of the merges of short pieces that are not tokens themselves, for one `encode` call.
//
// tiktoken has no cache: a piece that is a token (most English words with their leading space) is found in the
// vocabulary at once, and only the rest go through the merge loop. But the rest repeat: in 1 MiB of English
// prose 15% of the pieces miss the vocabulary and only 16% of those are distinct; in mixed-script text 77% miss
// and 0.1% are distinct. So the merges of a piece of at most 15 bytes are kept, keyed by its bytes, and reused.
// The cache lives inside one call (no shared state, no locks) and stops growing at `limit` entries.

struct PieceCache {
    /// A piece of 1...15 bytes packed into 16 bytes: the bytes little-endian, the length in the top byte.
    struct Key: Hashable {
        var lo: UInt64
        var hi: UInt64

        @inline(__always)
        init(_ p: UnsafePointer<UInt8>, _ n: Int) {
            var lo: UInt64 = 0, hi: UInt64 = UInt64(n) << 56
            for i in 0..<min(n, 8) { lo |= UInt64(p[i]) << (8 * UInt64(i)) }
            if n > 8 { for i in 8..<n { hi |= UInt64(p[i]) << (8 * UInt64(i - 8)) } }
            self.lo = lo; self.hi = hi
        }
    }

    static let maxPieceBytes = 15
    static let limit = 1 << 16

    /// piece -> (start in `ids`) << 32 | count
    private var entries: [Key: UInt64] = [:]
    private var ids: [Int32] = []

    /// Appends the cached tokens of the piece to `out`; false if it is not cached.
    @inline(__always)
    func append(_ key: Key, to out: inout [Int32]) -> Bool {
        guard let v = entries[key] else { return false }
        let start = Int(v >> 32), count = Int(v & 0xFFFF_FFFF)
        out.append(contentsOf: ids[start..<(start + count)])
        return true
    }

    /// Remembers that the piece's tokens are `tokens`.
    @inline(__always)
    mutating func insert(_ key: Key, _ tokens: ArraySlice<Int32>) {
        guard entries.count < PieceCache.limit else { return }
        entries[key] = UInt64(ids.count) << 32 | UInt64(tokens.count)
        ids.append(contentsOf: tokens)
    }
}
