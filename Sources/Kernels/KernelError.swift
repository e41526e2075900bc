// The one correctness metric of the project: every variant (tests, compare, tune, the gate, kernels --time)
// is judged by how far its output is from the reference variant's on the same inputs.

/// How far an output x[n] is from the reference ref[n].
///   normalised = max |x - ref| / max |ref|   (ggml's normalised error; scale-free, so one tolerance fits
///                                            every shape; a NaN anywhere makes it +infinity)
///   maxAbs     = max |x - ref|
public struct KernelError: Codable, Equatable, Sendable {
    public var normalised: Double
    public var maxAbs: Double

    /// The tolerance of float32 variants on inputs in [-1, 1): sums of up to ~3000 products in another order
    /// differ by ~1e-6 relative; 1e-4 leaves room and still catches any real bug (a wrong element moves it to ~1).
    public static let fp32Tolerance = 1e-4

    public init(_ x: UnsafePointer<Float>, _ ref: UnsafePointer<Float>, count: Int) {
        var diff = 0.0, scale = 0.0
        for i in 0..<count {
            let d = abs(Double(x[i]) - Double(ref[i]))
            diff = d.isNaN ? .infinity : max(diff, d)
            scale = max(scale, abs(Double(ref[i])))
        }
        maxAbs = diff
        normalised = diff == 0 ? 0 : diff / max(scale, 1e-30)
    }

    public init(normalised: Double, maxAbs: Double) { self.normalised = normalised; self.maxAbs = maxAbs }

    /// Whether the error is within `tolerance` (false for NaN or infinity).
    public func passes(_ tolerance: Double) -> Bool { normalised <= tolerance }
}
