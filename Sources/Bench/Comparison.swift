// Plain Codable results: Samples (what the runner measured) -> Summary (one benchmark) -> Comparison (A vs B).
// Times are nanoseconds per call throughout.
import Foundation

/// The raw measurements of one benchmark: one duration per sample, in nanoseconds per call.
public struct Samples: Codable, Equatable, Sendable {
    public var name: String
    /// Nanoseconds per call of each sample, in the order they were taken.
    public var nanoseconds: [Double]
    /// Calls timed together in one sample (1 unless the body is too short to time alone).
    public var iterationsPerSample: Int
    /// Untimed calls made before the first sample.
    public var warmupCalls: Int

    public init(name: String, nanoseconds: [Double], iterationsPerSample: Int = 1, warmupCalls: Int = 0) {
        self.name = name; self.nanoseconds = nanoseconds
        self.iterationsPerSample = iterationsPerSample; self.warmupCalls = warmupCalls
    }
}

/// A problem with a measurement that makes its numbers less trustworthy.
public struct BenchWarning: Codable, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        /// Fewer samples than `AnalysisOptions.minimumRuns`.
        case tooFewRuns
        /// MAD / median above `AnalysisOptions.highSpread`.
        case highSpread
        /// Samples beyond median ± 3·1.4826·MAD.
        case outliers
        /// A significant difference smaller than `AnalysisOptions.smallEffect`: likely systematic (memory
        /// placement, order), not a speedup worth having.
        case smallEffect
        /// Something about the machine facts (e.g. a peak measured without native code).
        case machine
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { message }
}

/// The thresholds and settings of the analysis (defaults: 10 runs, 5 % spread, α = 0.05, 95 % CI).
public struct AnalysisOptions: Codable, Equatable, Sendable {
    /// Fewer samples than this get a `tooFewRuns` warning.
    public var minimumRuns = 10
    /// MAD / median above this gets a `highSpread` warning.
    public var highSpread = 0.05
    /// Significance level of the Mann-Whitney test.
    public var alpha = 0.05
    /// Coverage of the bootstrap interval.
    public var confidence = 0.95
    /// A significant difference of the medians below this fraction gets a `smallEffect` warning.
    public var smallEffect = 0.01
    public var resamples = 2000
    public var seed: UInt64 = 0x5EED_B007
    public init() {}
}

/// Order statistics of one benchmark's samples (nanoseconds per call).
public struct Summary: Codable, Equatable, Sendable {
    public var name: String
    public var count: Int
    public var median: Double
    public var min: Double
    public var max: Double
    public var mean: Double
    /// 90th percentile (linear interpolation, numpy's default).
    public var p90: Double
    /// Median absolute deviation (unscaled).
    public var mad: Double
    public var outliersLow: Int
    public var outliersHigh: Int
    public var warnings: [BenchWarning]

    /// The JSON keys say the unit (nanoseconds per call).
    enum CodingKeys: String, CodingKey {
        case name, count, median = "medianNs", min = "minNs", max = "maxNs", mean = "meanNs", p90 = "p90Ns", mad = "madNs"
        case outliersLow, outliersHigh, warnings
    }

    /// MAD relative to the median (0 when the median is 0).
    public var relativeMAD: Double { median != 0 ? mad / median : 0 }

    /// Summarises `values`; nil when there are none.
    public init?(name: String, values: [Double], options: AnalysisOptions = AnalysisOptions()) {
        let s = values.sorted()
        guard let med = Stats.medianSorted(s), let p90 = Stats.percentileSorted(s, 0.9),
              let mean = Stats.mean(values), let mad = Stats.mad(values) else { return nil }
        self.name = name; count = values.count
        median = med; min = s.first!; max = s.last!; self.mean = mean; self.p90 = p90; self.mad = mad
        let o = Stats.outliers(values)
        outliersLow = o.low.count; outliersHigh = o.high.count
        warnings = []
        if count < options.minimumRuns {
            warnings.append(BenchWarning(.tooFewRuns, "\(name): only \(count) run\(count == 1 ? "" : "s") (at least \(options.minimumRuns) recommended)"))
        }
        if relativeMAD > options.highSpread {
            warnings.append(BenchWarning(.highSpread, "\(name): high spread, MAD is \(percent(relativeMAD)) of the median (limit \(percent(options.highSpread)))"))
        }
        if outliersLow + outliersHigh > 0 {
            warnings.append(BenchWarning(.outliers, "\(name): \(outliersLow + outliersHigh) of \(count) samples are outliers (\(outliersLow) low, \(outliersHigh) high; beyond median ± 3·1.4826·MAD)"))
        }
    }

    public init?(_ samples: Samples, options: AnalysisOptions = AnalysisOptions()) {
        self.init(name: samples.name, values: samples.nanoseconds, options: options)
    }
}

/// What the comparison concludes about B relative to A.
public enum Verdict: String, Codable, Sendable {
    /// B is significantly faster than A (p < α and median B < median A).
    case faster
    /// B is significantly slower than A.
    case slower
    /// No significant difference at α.
    case noDifference = "no significant difference"
}

/// B against A: the ratio of medians with its bootstrap interval, the Mann-Whitney test, the verdict.
public struct Comparison: Codable, Equatable, Sendable {
    public var a: Summary
    public var b: Summary
    /// median(B) / median(A): below 1 means B takes less time.
    public var ratio: Double
    /// Bootstrap interval of `ratio` (nil if it could not be computed).
    public var ratioLow: Double?
    public var ratioHigh: Double?
    public var confidence: Double
    public var resamples: Int
    public var seed: UInt64
    public var mannWhitney: Stats.MannWhitney
    public var alpha: Double
    public var verdict: Verdict
    /// The warnings of both summaries.
    public var warnings: [BenchWarning]

    /// How many times faster B is than A: median(A) / median(B).
    public var speedup: Double { 1 / ratio }
    /// The bootstrap interval of `speedup`.
    public var speedupLow: Double? { ratioHigh.map { 1 / $0 } }
    public var speedupHigh: Double? { ratioLow.map { 1 / $0 } }

    /// Compares B against A; nil when either has no samples or a median is not positive.
    public init?(a sa: Samples, b sb: Samples, options: AnalysisOptions = AnalysisOptions()) {
        guard let a = Summary(sa, options: options), let b = Summary(sb, options: options),
              a.median > 0, b.median > 0,
              let mw = Stats.mannWhitney(sa.nanoseconds, sb.nanoseconds) else { return nil }
        self.a = a; self.b = b
        ratio = b.median / a.median
        let ci = Stats.bootstrapRatioOfMedians(a: sa.nanoseconds, b: sb.nanoseconds, confidence: options.confidence,
                                               resamples: options.resamples, seed: options.seed)
        ratioLow = ci?.low; ratioHigh = ci?.high
        confidence = options.confidence; resamples = options.resamples; seed = options.seed
        mannWhitney = mw
        alpha = options.alpha
        if mw.p < options.alpha && b.median != a.median {
            verdict = b.median < a.median ? .faster : .slower
        } else {
            verdict = .noDifference
        }
        warnings = a.warnings + b.warnings
        if verdict != .noDifference && abs(ratio - 1) < options.smallEffect {
            warnings.append(BenchWarning(.smallEffect, "the difference is significant but only \(percent(abs(ratio - 1))) (below \(percent(options.smallEffect))): likely systematic (memory placement, order), not a real speedup"))
        }
    }
}

func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
