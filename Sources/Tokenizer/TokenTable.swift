import Foundation

// The vocabulary as data: every token's bytes in one flat buffer, and an open-addressing hash table from a byte
// string to its rank that is probed with a pointer and a length, so the merge loop looks up slices of the text
// without building an array per lookup.
//
//   bytes    [UInt8]  all token bytes, token 0 first, then token 1, ...   (count = offsets[n])
//   offsets  [Int32]  n + 1 entries: token t is bytes[offsets[t] ..< offsets[t + 1]]
//   slots    [Int32]  power-of-two count >= 2n: a token id, or -1 for empty (linear probing)
//
// In GPT-2 (and in every tiktoken file) a token's id *is* its merge rank, so one table answers both
// "which id is this piece" and "how early is this pair merged".

/// Token id -> bytes, and (for the tokens that can be merged into) bytes -> rank.
struct TokenTable: Sendable {
    private(set) var bytes: [UInt8]
    private(set) var offsets: [Int32]
    private var slots: [Int32]
    private var mask: Int

    /// Number of tokens stored.
    var count: Int { offsets.count - 1 }

    /// `tokens[t]` are the bytes of token t. `indexed` says how many leading tokens go into the lookup table
    /// (the mergeable ones; a special token like `<|endoftext|>` is stored for decoding only). The caller
    /// guarantees the indexed byte strings are distinct and non-empty.
    init(tokens: [[UInt8]], indexed: Int) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.reduce(0) { $0 + $1.count })
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(tokens.count + 1)
        for t in tokens { bytes += t; offsets.append(Int32(bytes.count)) }
        self.bytes = bytes
        self.offsets = offsets
        var capacity = 16
        while capacity < 2 * max(indexed, 1) { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        bytes.withUnsafeBufferPointer { b in
            for id in 0..<indexed {
                let lo = Int(offsets[id]), n = Int(offsets[id + 1]) - lo
                var i = Int(truncatingIfNeeded: TokenTable.hash(b.baseAddress! + lo, n)) & mask
                while slots[i] >= 0 { i = (i + 1) & mask }
                slots[i] = Int32(id)
            }
        }
    }

    /// The bytes of token `id` (0 <= id < count).
    @inline(__always)
    func tokenBytes(_ id: Int) -> ArraySlice<UInt8> { bytes[Int(offsets[id])..<Int(offsets[id + 1])] }

    /// Calls `body` with the lookup (pointer, length) -> rank or -1, valid inside `body` only.
    @inline(__always)
    func withLookup<R>(_ body: (Lookup) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { b in
            try offsets.withUnsafeBufferPointer { o in
                try slots.withUnsafeBufferPointer { s in
                    try body(Lookup(bytes: b.baseAddress!, offsets: o.baseAddress!, slots: s.baseAddress!, mask: mask))
                }
            }
        }
    }

    /// The table's buffers, borrowed for the duration of a `withLookup` call.
    struct Lookup {
        let bytes: UnsafePointer<UInt8>
        let offsets: UnsafePointer<Int32>
        let slots: UnsafePointer<Int32>
        let mask: Int

        /// The rank (= id) of the byte string p[0 ..< n], or -1 if it is not a mergeable token.
        @inline(__always)
        func rank(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
            var i = Int(truncatingIfNeeded: TokenTable.hash(p, n)) & mask
            while true {
                let id = slots[i]
                if id < 0 { return -1 }
                let lo = Int(offsets[Int(id)])
                if Int(offsets[Int(id) + 1]) - lo == n && memcmp(bytes + lo, p, n) == 0 { return id }
                i = (i + 1) & mask
            }
        }
    }

    /// A 64-bit hash of p[0 ..< n]: 8-byte words folded with a multiply and a rotate (tails zero-padded),
    /// finished with a murmur-style mix so the low bits (the slot index) depend on every byte.
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(n &+ 1)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= n {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = ((h ^ w) &* 0xBF58_476D_1CE4_E5B9)
            h = (h << 31) | (h >> 33)
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n { w |= UInt64(p[i]) << shift; shift += 8; i += 1 }
            h = ((h ^ w) &* 0xBF58_476D_1CE4_E5B9)
        }
        h ^= h >> 33; h = h &* 0xFF51_AFD7_ED55_8CCD; h ^= h >> 33
        return h
    }
}
