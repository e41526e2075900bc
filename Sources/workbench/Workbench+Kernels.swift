import ArgumentParser
import Foundation
import GPT2
import Kernels

extension Workbench {
    /// `workbench kernels`: the matmul and attention registries (reference and engine default marked), and
    /// with `--time` a quick llm.c-style harness: check every variant against the reference, then time it.
    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the matmul and attention variants; with --time, check each against the reference and time it.",
            discussion: """
            The reference (variant 0) is what every other variant is checked against; the engine default is what
            `run` and the other commands use when no --matmul / --attention is given.
            --time is a quick napkin-math harness (median of repeated calls, GFLOP/s and weight GB/s); use
            `workbench compare` for statistics. Weights are cycled over copies totalling >= 256 MB (8x the L3) so T=1 calls
            stream them from memory, as a forward pass does.
            """)

        @Flag(help: "Print the registries as JSON.")
        var json = false
        @Flag(help: "Check every variant against the reference, then time it.")
        var time = false
        @Option(name: .customLong("mm"), help: "With --time: a matmul shape T,C,OC (repeatable; default 64,768,3072 and 1,768,3072).")
        var matmulShapes: [String] = []
        @Option(name: .customLong("attn"), help: "With --time: an attention shape T,C,NH[,pos0] (repeatable; default 256,768,12).")
        var attentionShapes: [String] = []
        @Option(help: "With --time: workers (variants that do not use the pool still run on one thread unless --split).")
        var threads = 1
        @Flag(help: "With --time: split every variant across the pool, as the engine does.")
        var split = false
        @Option(help: "With --time: only these variants (comma-separated names).")
        var variants: String?
        @Option(help: "With --time: seconds of timed calls per variant and shape.")
        var seconds = 0.3

        func run() throws {
            if !time {
                if !matmulShapes.isEmpty || !attentionShapes.isEmpty || variants != nil {
                    throw WorkbenchError("--mm, --attn and --variants need --time")
                }
                if json { try printJSON() } else { printTable() }
                return
            }
            if json { throw WorkbenchError("--json lists the registries; it does not combine with --time") }
            guard threads >= 1 && threads <= 256 else { throw WorkbenchError("--threads must be in 1...256, got \(threads)") }
            guard seconds > 0 && seconds <= 60 else { throw WorkbenchError("--seconds must be in (0, 60], got \(seconds)") }
            let wanted = variants.map { Set($0.split(separator: ",").map(String.init)) }
            if let wanted {
                let known = Set(MatmulVariants.all.map(\.name) + AttentionVariants.all.map(\.name))
                if let bad = wanted.subtracting(known).sorted().first { throw WorkbenchError("unknown variant '\(bad)' (see `workbench kernels`)") }
            }
            let mm = try (matmulShapes.isEmpty && attentionShapes.isEmpty ? ["64,768,3072", "1,768,3072"] : matmulShapes)
                .map { try parseShape($0, "--mm", names: ["T", "C", "OC"], count: 3...3) }
            let at = try (matmulShapes.isEmpty && attentionShapes.isEmpty ? ["256,768,12"] : attentionShapes)
                .map { try parseShape($0, "--attn", names: ["T", "C", "NH", "pos0"], count: 3...4) }
            for s in at where s[1] % s[2] != 0 { throw WorkbenchError("--attn: C (\(s[1])) must be a multiple of NH (\(s[2]))") }
            let pool = WorkerPool(count: threads)
            let harness = KernelHarness(pool: pool, split: split, seconds: seconds)
            for s in mm { harness.matmul(T: s[0], C: s[1], OC: s[2], only: wanted) }
            for s in at { harness.attention(T: s[0], C: s[1], NH: s[2], pos0: s.count > 3 ? s[3] : 0, only: wanted) }
        }

        private func parseShape(_ text: String, _ flag: String, names: [String], count: ClosedRange<Int>) throws -> [Int] {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard count.contains(parts.count), parts.allSatisfy({ $0 != nil }) else {
                throw WorkbenchError("\(flag) '\(text)': expected \(names.prefix(count.upperBound).joined(separator: ","))\(count.lowerBound < count.upperBound ? " (last optional)" : "") as integers")
            }
            let v = parts.map { $0! }
            for (i, x) in v.enumerated() {
                let minimum = names[i] == "pos0" ? 0 : 1
                guard x >= minimum && x <= 1 << 16 else { throw WorkbenchError("\(flag) '\(text)': \(names[i]) must be in \(minimum)...65536, got \(x)") }
            }
            return v
        }

        private func printTable() {
            func marks(_ i: Int, _ name: String, _ def: String) -> String {
                [i == 0 ? "reference" : nil, name == def ? "default" : nil].compactMap { $0 }.joined(separator: ", ")
            }
            print("matmul variants (--matmul NAME):")
            for (i, v) in MatmulVariants.all.enumerated() {
                let m = marks(i, v.name, MatmulVariants.defaultName)
                print("  \(i)  \(pad(v.name, 9)) \(pad(m.isEmpty ? "" : "[\(m)]", 22)) \(v.summary)")
            }
            print("attention variants (--attention NAME):")
            for (i, v) in AttentionVariants.all.enumerated() {
                let m = marks(i, v.name, AttentionVariants.defaultName)
                print("  \(i)  \(pad(v.name, 9)) \(pad(m.isEmpty ? "" : "[\(m)]", 22)) \(v.summary)")
            }
        }

        private func printJSON() throws {
            struct Entry: Codable {
                let index: Int, name: String, summary: String, reference: Bool, isDefault: Bool, usesPool: Bool
                let columnAlignment: Int?
                enum CodingKeys: String, CodingKey { case index, name, summary, reference, isDefault = "default", usesPool, columnAlignment }
            }
            struct Listing: Codable { let matmul: [Entry]; let attention: [Entry] }
            let listing = Listing(
                matmul: MatmulVariants.all.enumerated().map { i, v in
                    Entry(index: i, name: v.name, summary: v.summary, reference: i == 0, isDefault: v.name == MatmulVariants.defaultName,
                          usesPool: v.usesPool, columnAlignment: v.columnAlignment)
                },
                attention: AttentionVariants.all.enumerated().map { i, v in
                    Entry(index: i, name: v.name, summary: v.summary, reference: i == 0, isDefault: v.name == AttentionVariants.defaultName,
                          usesPool: v.usesPool, columnAlignment: nil)
                })
            let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(listing), as: UTF8.self))
        }
    }
}

/// `s` padded with spaces to at least `n` characters.
private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

/// The `kernels --time` harness: deterministic pseudo-random inputs, a check against the reference,
/// then repeated timed calls (median).
private struct KernelHarness {
    let pool: WorkerPool
    let split: Bool
    let seconds: Double

    /// Uniform values in [-1, 1) from a fixed seed.
    static func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s >> 40) / Float(1 << 23) - 1
        }
    }

    /// Times `body` repeatedly for `seconds` (after one warm-up call); returns the median seconds per call.
    func median(_ body: (Int) -> Void) -> Double {
        body(0)
        var times: [Double] = []
        let budget = UInt64(seconds * 1e9)
        let start = monotonicNanos()
        var i = 1
        repeat {
            let t0 = monotonicNanos()
            body(i)
            times.append(Double(monotonicNanos() - t0) / 1e9)
            i += 1
        } while monotonicNanos() - start < budget || times.count < 3
        times.sort()
        return times[times.count / 2]
    }

    /// Weight matrices for a weight-format variant: the first prepared from `w`, the others copies of its
    /// bytes, totalling >= 256 MB in the format; returns them, their count and the bytes of one.
    static func formatCopies(_ v: MatmulVariant, of w: WeightMatrix) -> ([WeightMatrix], Int, Int) {
        let bytes = v.weightBytes(rows: w.rows, cols: w.cols)
        let copies = max(1, (256 << 20) / bytes + 1)
        let first = WeightMatrix(data: w.data, rows: w.rows, cols: w.cols)
        v.prepare(first)
        let packed = first.existingFormatBytes(v.weightFormat.cacheKey)!
        let rest = (1..<copies).map { _ in
            let m = WeightMatrix(data: w.data, rows: w.rows, cols: w.cols)
            _ = m.formatBytes(v.weightFormat.cacheKey, count: bytes) { $0.copyMemory(from: packed, byteCount: bytes) }
            return m
        }
        return ([first] + rest, copies, bytes)
    }

    func matmul(T: Int, C: Int, OC: Int, only: Set<String>?) {
        let bytes = OC * C * MemoryLayout<Float>.size
        let copies = max(1, (256 << 20) / bytes + 1)
        let weights = (0..<copies).map { WeightMatrix(copying: Self.randomFloats(OC * C, seed: UInt64(1 + $0)), rows: OC, cols: C) }
        let inp = Self.randomFloats(T * C, seed: 99), bias = Self.randomFloats(OC, seed: 98)
        var ref = [Float](repeating: 0, count: T * OC), out = ref
        let flops = 2.0 * Double(T) * Double(C) * Double(OC)
        print(String(format: "matmul T=%d C=%d OC=%d, %d weight copies (%.0f MB), %d thread(s)%@; check: max |out-ref| / (1+|ref|) vs naive",
                     T, C, OC, copies, Double(copies * bytes) / 1e6, pool.count, (split ? ", every variant split across the pool" : "") as NSString))
        print("  variant    error           time      GFLOP/s  weight GB/s")
        inp.withUnsafeBufferPointer { x in
            bias.withUnsafeBufferPointer { b in
                ref.withUnsafeMutableBufferPointer { r in
                    MatmulVariants.reference.kernel(MatmulArgs(out: r.baseAddress!, inp: x.baseAddress!, weight: weights[0], bias: b.baseAddress, T: T), 0..<OC)
                }
                for v in MatmulVariants.all where only?.contains(v.name) ?? true {
                    // Lossy weight formats: copies of the first weight's packed bytes totalling >= 256 MB in that
                    // format, GB/s of those bytes, and the normalised error (their tolerance's measure, marked n).
                    let (weights, copies, bytes) = v.isLossy ? Self.formatCopies(v, of: weights[0]) : (weights, copies, bytes)
                    for w in weights { v.prepare(w) }
                    let err: Float = out.withUnsafeMutableBufferPointer { o in
                        o.update(repeating: .nan)
                        let a = MatmulArgs(out: o.baseAddress!, inp: x.baseAddress!, weight: weights[0], bias: b.baseAddress, T: T)
                        if split { v.split(a, pool: pool) } else { v(a, pool: pool) }
                        if v.isLossy { return ref.withUnsafeBufferPointer { Float(normalisedError(o.baseAddress!, $0.baseAddress!, count: T * OC)) } }
                        return zip(o, ref).map { abs($0 - $1) / (1 + abs($1)) }.max() ?? 0
                    }
                    let secs = out.withUnsafeMutableBufferPointer { o in
                        median { i in
                            let a = MatmulArgs(out: o.baseAddress!, inp: x.baseAddress!, weight: weights[i % copies], bias: b.baseAddress, T: T)
                            if split { v.split(a, pool: pool) } else { v(a, pool: pool) }
                        }
                    }
                    print("  \(pad(v.name, 10)) \(pad(err.isNaN ? "NaN" : String(format: "%.1e", err) + (v.isLossy ? "n" : ""), 9))"
                          + String(format: " %10.1f us  %8.1f  %8.1f", secs * 1e6, flops / secs / 1e9, Double(bytes) / secs / 1e9))
                }
            }
        }
    }

    func attention(T: Int, C: Int, NH: Int, pos0: Int, only: Set<String>?) {
        let positions = pos0 + T
        let qkv = Self.randomFloats(positions * 3 * C, seed: 7)
        var scratch = [Float](repeating: 0, count: pool.count * positions)
        var ref = [Float](repeating: 0, count: T * C), out = ref
        print(String(format: "attention T=%d C=%d NH=%d pos0=%d, %d thread(s)%@; check: max |out-ref| vs naive",
                     T, C, NH, pos0, pool.count, (split ? ", every variant split across the pool" : "") as NSString))
        print("  variant    error           time      GFLOP/s  vs naive")
        var naiveSecs = 0.0
        // q.k and att.v over every (query, key) pair, 2 flops per multiply-add (AttentionArgs.flops)
        let flops = 4 * (Double(T) * Double(pos0) + Double(T) * Double(T + 1) / 2) * Double(C)
        qkv.withUnsafeBufferPointer { q in
            scratch.withUnsafeMutableBufferPointer { s in
                func args(_ o: UnsafeMutablePointer<Float>) -> AttentionArgs {
                    AttentionArgs(out: o, qkv: q.baseAddress!, pos0: pos0, T: T, C: C, NH: NH,
                                  scratch: s.baseAddress!, scratchStride: positions)
                }
                ref.withUnsafeMutableBufferPointer { r in
                    AttentionVariants.reference.kernel(args(r.baseAddress!), 0..<(T * NH), 0)
                }
                for v in AttentionVariants.all where only?.contains(v.name) ?? true {
                    let err: Float = out.withUnsafeMutableBufferPointer { o in
                        o.update(repeating: .nan)
                        if split { v.split(args(o.baseAddress!), pool: pool) } else { v(args(o.baseAddress!), pool: pool) }
                        return zip(o, ref).map { abs($0 - $1) }.max() ?? 0
                    }
                    let secs = out.withUnsafeMutableBufferPointer { o in
                        median { _ in if split { v.split(args(o.baseAddress!), pool: pool) } else { v(args(o.baseAddress!), pool: pool) } }
                    }
                    if v.name == AttentionVariants.reference.name { naiveSecs = secs }
                    print("  \(pad(v.name, 10)) \(pad(err.isNaN ? "NaN" : String(format: "%.1e", err), 9))"
                          + String(format: " %10.1f us  %8.2f  ", secs * 1e6, flops / secs / 1e9)
                          + (naiveSecs > 0 ? String(format: "%.1fx", naiveSecs / secs) : "-"))
                }
            }
        }
    }
}
