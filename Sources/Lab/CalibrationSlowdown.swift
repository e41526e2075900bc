// A slowdown made of real work: the kernel runs an extra fraction of itself.
//
// `workbench gate --calibrate` injects 5, 10, 20 and 50 % into the engine's default matmul and reports which
// the gate catches; the tests inject 20 % to prove it fails. The extra work is the same kernel on the first
// `fraction` of the columns (matmul) or items (attention) it was just given, written again into the same
// output with the same values (every variant's element is one fixed sum whatever the split), so the output
// stays correct and the extra time has the kernel's own character (same instructions, same cache behaviour,
// same response to a busy neighbour), unlike a spin loop. Fractions are kept exact on average: each call adds
// `fraction x its columns` to a credit and runs as many whole panels of it as the credit holds, so 5 % of an
// 768-column matmul alternates between one and two 32-column panels (38.4 columns on average).
// At T=1 the extra columns were just read, so they come from the last-level cache: the injected time there is
// somewhat less than the nominal fraction (memory-bound shapes), the full fraction at T=64 (compute-bound).
import Foundation
import Kernels

/// "Make this variant do `fraction` more of its own work."
public struct Slowdown: Codable, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable { case matmul, attention }
    public var kind: Kind
    /// The registry name of the slowed variant.
    public var variant: String
    /// Extra work as a fraction of the kernel's own (0.2: 20 % more), 0...10.
    public var fraction: Double

    public init(kind: Kind, variant: String, fraction: Double) {
        precondition(fraction >= 0 && fraction <= 10, "a slowdown's fraction must be in 0...10")
        self.kind = kind; self.variant = variant; self.fraction = fraction
    }

    /// The engine's default matmul (the hottest kernel) made `percent` % slower.
    public static func defaultMatmul(percent: Double) -> Slowdown {
        Slowdown(kind: .matmul, variant: MatmulVariants.defaultName, fraction: percent / 100)
    }

    public var percentText: String { String(format: "%g%%", fraction * 100) }
    public var description: String { "\(kind.rawValue) variant '\(variant)' +\(percentText) of its own work" }

    /// `v` slowed when this slowdown names it, else `v` unchanged.
    public func apply(to v: MatmulVariant) -> MatmulVariant {
        guard kind == .matmul, v.name == variant, fraction > 0 else { return v }
        let credit = SlowdownCredit(fraction: fraction)
        let kernel = v.kernel, align = max(1, v.columnAlignment)
        let own: (@Sendable (MatmulArgs, Int) -> Void)? = v.ownThreads.map { own in
            { @Sendable a, threads in
                own(a, threads)
                // A variant on its own threads runs whole calls: the extra columns go to a scratch output
                // (OC' columns of the same weight), never into the real one.
                for n in credit.take(a.OC, align: align) {
                    let scratch = credit.scratch(a.T * n)
                    own(MatmulArgs(out: scratch, inp: a.inp, weight: a.weight, bias: a.bias, T: a.T, OC: n), threads)
                }
            }
        }
        return MatmulVariant(name: v.name, summary: v.summary + " [+\(percentText) of its own work: a calibration slowdown]",
                             columnAlignment: v.columnAlignment, standaloneOnPool: v.standaloneOnPool,
                             bitReproducible: v.bitReproducible, tolerance: v.tolerance, prepare: v.prepare, ownThreads: own,
                             kernel: { a, cols in
                                 kernel(a, cols)
                                 for n in credit.take(cols.count, align: align) {
                                     kernel(a, cols.lowerBound..<(cols.lowerBound + n))
                                 }
                             })
    }

    /// `v` slowed when this slowdown names it, else `v` unchanged.
    public func apply(to v: AttentionVariant) -> AttentionVariant {
        guard kind == .attention, v.name == variant, fraction > 0 else { return v }
        let credit = SlowdownCredit(fraction: fraction)
        let kernel = v.kernel
        return AttentionVariant(name: v.name, summary: v.summary + " [+\(percentText) of its own work: a calibration slowdown]",
                                standaloneOnPool: v.standaloneOnPool, tolerance: v.tolerance) { a, items, ith in
            kernel(a, items, ith)
            for n in credit.take(items.count, align: 1) {
                kernel(a, items.lowerBound..<(items.lowerBound + n), ith)
            }
        }
    }

    /// Applies every slowdown of `list` that names `v`.
    public static func apply(_ list: [Slowdown], to v: MatmulVariant) -> MatmulVariant { list.reduce(v) { $1.apply(to: $0) } }
    public static func apply(_ list: [Slowdown], to v: AttentionVariant) -> AttentionVariant { list.reduce(v) { $1.apply(to: $0) } }
}

/// The running balance of extra work owed, shared by the workers that call one slowed kernel.
final class SlowdownCredit: @unchecked Sendable {
    let fraction: Double
    private var owed = 0.0
    private var scratchBuffer: UnsafeMutablePointer<Float>?
    private var scratchCount = 0
    private let lock = NSLock()

    init(fraction: Double) { self.fraction = fraction }
    deinit { scratchBuffer?.deallocate() }

    /// The extra runs a call over `count` columns owes: whole repeats of `count`, then one run of whole
    /// `align`-column groups (or of all `count` columns when fewer are left), as far as the balance allows.
    func take(_ count: Int, align: Int) -> [Int] {
        guard count > 0 else { return [] }
        lock.lock(); defer { lock.unlock() }
        owed += fraction * Double(count)
        var runs: [Int] = []
        while owed >= Double(count) { runs.append(count); owed -= Double(count) }
        var n = Int(owed / Double(align)) * align
        if n == 0 && count < align && owed >= Double(count) / 2 { n = count }
        if n > 0 { runs.append(min(n, count)); owed -= Double(min(n, count)) }
        return runs
    }

    /// A scratch output of at least `count` floats (for variants that run whole calls on their own threads).
    func scratch(_ count: Int) -> UnsafeMutablePointer<Float> {
        lock.lock(); defer { lock.unlock() }
        if scratchCount < count {
            scratchBuffer?.deallocate()
            scratchBuffer = .allocate(capacity: max(1, count))
            scratchCount = count
        }
        return scratchBuffer!
    }
}
