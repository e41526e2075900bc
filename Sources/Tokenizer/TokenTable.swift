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

    /// The first indexed byte string seen twice, as (earlier id, later id); the later one is not indexed.
    private(set) var firstDuplicate: (Int, Int)?

    /// `tokens[t]` are the bytes of token t. `indexed` says how many leading tokens go into the lookup table
    /// (the mergeable ones; a special token like `<|endoftext|>` is stored for decoding only).
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
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        var duplicate: (Int, Int)?
        bytes.withUnsafeBufferPointer { b in
            let base = b.baseAddress!
            for id in 0..<indexed {
                let lo = Int(offsets[id]), n = Int(offsets[id + 1]) - lo
                var i = Int(truncatingIfNeeded: TokenTable.hash(base + lo, n)) & mask
                var seen = false
                while slots[i] >= 0 {
                    let other = Int(slots[i]), olo = Int(offsets[other])
                    if Int(offsets[other + 1]) - olo == n && memcmp(base + olo, base + lo, n) == 0 {
                        if duplicate == nil { duplicate = (other, id) }
                        seen = true
                        break
                    }
                    i = (i + 1) & mask
                }
                if !seen { slots[i] = Int32(id) }
            }
        }
        self.slots = slots
        self.mask = mask
        self.firstDuplicate = duplicate
    }

    /// Adds a token that decodes but is not looked up (a special token), with the next id.
    mutating func appendUnindexed(_ token: [UInt8]) {
        bytes += token
        offsets.append(Int32(bytes.count))
    }

    /// The bytes of token `id` (0 <= id < count).
    @inline(__always)
    func tokenBytes(_ id: Int) -> ArraySlice<UInt8> { bytes[Int(offsets[id])..<Int(offsets[id + 1])] }

    /// The rank of `token`'s bytes, or -1 (for loaders and tests; the encoder uses `withLookup`).
    func rank(of token: [UInt8]) -> Int32 {
        guard !token.isEmpty else { return -1 }
        return token.withUnsafeBufferPointer { p in withLookup { $0.rank(p.baseAddress!, p.count) } }
    }

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
                if Int(offsets[Int(id) + 1]) - lo == n && TokenTable.equal(bytes + lo, p, n) { return id }
                i = (i + 1) & mask
            }
        }
    }

    /// a[0 ..< n] == b[0 ..< n], eight bytes at a time (pieces are short: a libc call costs more than the compare).
    @inline(__always)
    static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= n {
            if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
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
