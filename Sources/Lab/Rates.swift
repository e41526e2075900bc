// Napkin math for a timed kernel: achieved GFLOP/s and weight GB/s against the machine's measured 100 % lines
// (`workbench machine`), the roofline, and the sanity check that keeps an impossible figure from being printed
// as a result: above 100 % + `noiseMargin` of a measured limit, the figure says the measurement is wrong
// (weights read from the cache instead of memory, a wrong flop count, limits measured on a busy machine).
import Bench
import Foundation

public enum MeasurementLimits {
    /// How far above a measured 100 % line a figure may lie and still count as a result: 15 %. The limits are
    /// best passes of simple loops, and real kernels beat them a little: the panel GEMV reads four streams at
    /// once and reached 113-117 % of the single-stream read bandwidth with one thread (Notes/kernels.md); two
    /// measurements of the bandwidth on one host differ by up to ~10 %. Cache-resident weights give 300 %+.
    public static let noiseMargin = 0.15

    /// The problem with a figure that is `percent` % of a limit, or nil when it is plausible.
    static func problem(_ what: String, percent: Double, margin: Double = noiseMargin, hint: String) -> String? {
        guard percent.isFinite, percent > 100 * (1 + margin) else { return nil }
        return String(format: "%@ is %.0f%% of the measured limit, above 100%% + %.0f%% noise: a measurement problem, not a result (%@)",
                      what, percent, margin * 100, hint)
    }
}

/// Where the roofline puts a shape and how close a kernel gets.
public struct Roofline: Codable, Equatable, Sendable {
    /// flop per byte of weights read.
    public var intensity: Double
    /// flop per byte at which the machine stops being memory-bound (peak / bandwidth, for these threads).
    public var balance: Double
    /// "compute" or "memory".
    public var bound: String
    /// min(peak, intensity x bandwidth), GFLOP/s.
    public var attainableGFLOPS: Double
    public var percentOfAttainable: Double?
}

/// The rates of one timed kernel (median nanoseconds per call), and what is wrong with them if anything.
public struct Rates: Codable, Equatable, Sendable {
    public var gflops: Double
    public var percentOfPeak: Double
    /// Weight bytes per second (nil when the kernel reads no weights, e.g. attention).
    public var gbs: Double?
    public var percentOfBandwidth: Double?
    public var roofline: Roofline?
    /// The 100 % line of `percentOfBandwidth`, GB/s: the larger of `workbench machine`'s read bandwidth and
    /// this run's stream read of the same weights (`streamGBs`), for these threads.
    public var bandwidthLimitGBs: Double?
    /// Measurement problems: a figure above its 100 % line plus the noise margin (empty when none).
    public var problems: [String]

    /// Rates of `flops` and `bytes` (nil: no weights) done in `medianNs` by `threads` threads; `streamGBs` is
    /// the rate at which the same run read the same weights with as many threads, when it measured one.
    public init(medianNs med: Double, flops: Double, bytes: Double?, threads: Int, machine: MachineInfo, streamGBs: Double? = nil) {
        let peak = machine.peakGFLOPS(threads: threads)
        gflops = flops / med
        percentOfPeak = 100 * gflops / peak
        problems = []
        if let p = MeasurementLimits.problem(String(format: "%.1f GFLOP/s", gflops), percent: percentOfPeak,
                                             hint: String(format: "FMA peak %.1f GFLOP/s on %d thread%@; a wrong flop or thread count, or a peak measured on a busy machine: `workbench machine --refresh`",
                                                          peak, threads, threads == 1 ? "" : "s")) {
            problems.append(p)
        }
        guard let bytes else { return }
        let bw = max(machine.bandwidthGBs(threads: threads), streamGBs ?? 0)
        bandwidthLimitGBs = bw
        gbs = bytes / med
        percentOfBandwidth = 100 * bytes / med / bw
        let intensity = flops / bytes, balance = peak / bw
        let attainable = min(peak, intensity * bw)
        roofline = Roofline(intensity: intensity, balance: balance, bound: intensity >= balance ? "compute" : "memory",
                            attainableGFLOPS: attainable, percentOfAttainable: 100 * gflops / attainable)
        if let p = MeasurementLimits.problem(String(format: "%.1f GB/s of weights", bytes / med), percent: percentOfBandwidth!,
                                             hint: String(format: "read bandwidth %.1f GB/s on %d thread%@ (the larger of `workbench machine`'s and this run's stream of the same weights); weights read from the cache rather than memory?",
                                                          bw, threads, threads == 1 ? "" : "s")) {
            problems.append(p)
        }
    }
}
