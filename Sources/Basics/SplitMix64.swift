// The one seeded generator of the project: synthetic checkpoints, the kernel problems' random inputs, the
// bootstrap's resamples and the gate's inputs all draw from it, so a seed means the same numbers everywhere.
import Foundation

/// SplitMix64 (Vigna's splitmix64.c): a tiny, fast, well-mixed generator; deterministic on every platform.
public struct SplitMix64: Sendable {
    private var state: UInt64
    private var spare: Float?
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    public mutating func nextUniform() -> Double { (Double(next() >> 11) + 0.5) / 9007199254740992.0 }

    /// Uniform integer in 0..<n (Lemire's multiply-high; the bias is below 2^-50 for the n used here).
    public mutating func below(_ n: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Standard normal (Box-Muller, two values per pair of uniforms).
    public mutating func nextNormal() -> Float {
        if let s = spare { spare = nil; return s }
        let u1 = nextUniform(), u2 = nextUniform()
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let a = 2 * Double.pi * u2
        spare = Float(r * Foundation.sin(a))
        return Float(r * Foundation.cos(a))
    }
}
