// What the page shows, as plain Codable data: one struct per section, holding exactly the numbers its picture
// and table need. The page (Page.swift) and the charts (Charts.swift) read only these; where they come from
// (measured now, or saved JSON of the other verbs) is ReportInputs.swift's business.
//
//   ReportDocument
//     provenance       tool commit, swift version, date, command line
//     machine          ISA, cores, caches, measured FMA peak and read bandwidth
//     profiles[]       folded stacks -> flame graph, top frames
//     ops              per-op timers vs sampled shares, per phase (prefill, decode, a generation)
//     roofline         machine roofs + one point per variant x shape
//     distributions[]  samples of each side, speedups with intervals
//     scaling[]        wall times per thread count, Amdahl fit, usable cores
//     gate             the last gate verdict table
import Foundation

/// Where a section's numbers came from: the commands that reproduce them, the files they were read from.
public struct SectionSource: Codable, Equatable, Sendable {
    /// Commands that measure the same thing on their own (e.g. `workbench scale --t 64`).
    public var commands: [String]
    /// Files read (with --from).
    public var files: [String]
    /// One line on how it was measured (durations, runs, threads).
    public var detail: String
    public init(commands: [String] = [], files: [String] = [], detail: String = "") {
        self.commands = commands; self.files = files; self.detail = detail
    }
}

public struct ReportProvenance: Codable, Equatable, Sendable {
    /// `git rev-parse HEAD` of the checkout the report ran in (nil outside a repository).
    public var toolCommit: String?
    /// Whether the checkout had uncommitted changes.
    public var dirty: Bool?
    /// The compiler the tool was built with, and `swift --version`'s first line when swift is on PATH.
    public var compiler: String
    public var swiftVersion: String?
    /// ISO 8601 time the report was made.
    public var date: String
    public var command: [String]
    /// "measured" (this run measured everything) or "from DIR".
    public var mode: String
    public var build: String
    public init(toolCommit: String?, dirty: Bool?, compiler: String, swiftVersion: String?, date: String, command: [String],
                mode: String, build: String) {
        self.toolCommit = toolCommit; self.dirty = dirty; self.compiler = compiler; self.swiftVersion = swiftVersion
        self.date = date; self.command = command; self.mode = mode; self.build = build
    }
}

public struct MachineSection: Codable, Equatable, Sendable {
    public struct Cache: Codable, Equatable, Sendable {
        public var level: Int, type: String, bytes: Int, sharedBy: Int
        public init(level: Int, type: String, bytes: Int, sharedBy: Int) { self.level = level; self.type = type; self.bytes = bytes; self.sharedBy = sharedBy }
    }
    public var cpuModel: String
    public var architecture: String
    public var logicalCores: Int
    public var usableCores: Int
    public var simdFlags: [String]
    public var caches: [Cache]
    /// FP32 FMA peak of one core, GFLOP/s.
    public var fmaPeakGFLOPS: Double
    /// Read bandwidth of one thread and of `bandwidthThreads` threads, GB/s.
    public var readBandwidthGBs: Double
    public var readBandwidthAllGBs: Double
    public var bandwidthThreads: Int
    public var measuredAt: String
    public var build: String
    public var warnings: [String]
    public var source: SectionSource

    /// The FMA peak of `threads` threads (one core each, at most the usable cores).
    public func peakGFLOPS(threads: Int) -> Double { fmaPeakGFLOPS * Double(min(max(1, threads), max(1, usableCores))) }
    public func bandwidthGBs(threads: Int) -> Double { threads <= 1 ? readBandwidthGBs : readBandwidthAllGBs }
}

/// One profile: its stacks (folded), drawn as a flame graph, with the hottest frames beside it.
public struct ProfileSection: Codable, Equatable, Sendable {
    public struct Stack: Codable, Equatable, Sendable {
        public var frames: [String]
        public var count: Int
        public init(frames: [String], count: Int) { self.frames = frames; self.count = count }
    }
    public struct Frame: Codable, Equatable, Sendable {
        public var name: String
        /// Share of all samples with the frame as the leaf, and anywhere in the stack (percent).
        public var selfPercent: Double
        public var totalPercent: Double
        /// Binomial standard error of selfPercent (percentage points).
        public var stdErr: Double
        public init(name: String, selfPercent: Double, totalPercent: Double, stdErr: Double) {
            self.name = name; self.selfPercent = selfPercent; self.totalPercent = totalPercent; self.stdErr = stdErr
        }
    }
    public var title: String
    /// Backend, clock, rate, engine.
    public var subtitle: String
    public var samples: Int
    public var seconds: Double?
    public var stacks: [Stack]
    public var top: [Frame]
    public var source: SectionSource
}

/// Per-op shares of one phase (a prefill, decode steps, a whole generation): timers and samples side by side.
public struct OpPhase: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        public var key: String
        public var name: String
        public var timerMs: Double?
        /// The timer's share of the phase's forward-pass wall time (percent).
        public var timerPercent: Double?
        public var samples: Int?
        /// The op's share of the samples taken inside forward passes (percent), and its standard error.
        public var sampledPercent: Double?
        public var sampledStdErr: Double?
        public init(key: String, name: String, timerMs: Double?, timerPercent: Double?, samples: Int? = nil,
                    sampledPercent: Double? = nil, sampledStdErr: Double? = nil) {
            self.key = key; self.name = name; self.timerMs = timerMs; self.timerPercent = timerPercent
            self.samples = samples; self.sampledPercent = sampledPercent; self.sampledStdErr = sampledStdErr
        }
    }
    public var label: String
    public var forwards: Int?
    /// Wall time of the phase's forward passes, and the sum of the timed ops within them.
    public var forwardMs: Double?
    public var opsMs: Double?
    /// Samples inside forward passes (tagged with an op) and outside them.
    public var taggedSamples: Int?
    public var untaggedSamples: Int?
    public var rows: [Row]
}

public struct OpSection: Codable, Equatable, Sendable {
    public var phases: [OpPhase]
    public var source: SectionSource
}

/// The roofline: the machine's roofs and the measured points.
public struct RooflineSection: Codable, Equatable, Sendable {
    public struct Roof: Codable, Equatable, Sendable {
        public var label: String
        public var threads: Int
        public var peakGFLOPS: Double
        public var bandwidthGBs: Double
        public init(label: String, threads: Int, peakGFLOPS: Double, bandwidthGBs: Double) {
            self.label = label; self.threads = threads; self.peakGFLOPS = peakGFLOPS; self.bandwidthGBs = bandwidthGBs
        }
        /// min(peak, intensity x bandwidth), GFLOP/s.
        public func attainable(intensity: Double) -> Double { min(peakGFLOPS, intensity * bandwidthGBs) }
        /// Intensity where the bandwidth roof meets the peak (flop/byte).
        public var ridge: Double { bandwidthGBs > 0 ? peakGFLOPS / bandwidthGBs : .infinity }
    }
    public struct Point: Codable, Equatable, Sendable {
        public var variant: String
        /// "fc T=64", "lm-head T=1".
        public var shape: String
        public var threads: Int
        /// flop per byte (of the bytes named by `RooflineSection.bytesCounted`).
        public var intensity: Double
        public var gflops: Double
        public var medianNs: Double?
        /// What the measuring library (Lab's `Rates`) found wrong with the figure, if anything.
        public var problems: [String]
        public init(variant: String, shape: String, threads: Int, intensity: Double, gflops: Double, medianNs: Double? = nil,
                    problems: [String] = []) {
            self.variant = variant; self.shape = shape; self.threads = threads; self.intensity = intensity
            self.gflops = gflops; self.medianNs = medianNs; self.problems = problems
        }
        public var label: String { "\(variant) \(shape)" }
    }
    public var roofs: [Roof]
    public var points: [Point]
    /// What the intensity's bytes are ("weights": each weight read once, as `workbench compare` counts them).
    public var bytesCounted: String
    /// A point this far above its roof (relative) is flagged as a measurement problem.
    public var tolerance: Double
    public var source: SectionSource

    /// The roof that applies to a point: the one for its thread count, else the nearest below, else the first.
    public func roof(for p: Point) -> Roof? {
        roofs.first { $0.threads == p.threads } ?? roofs.filter { $0.threads <= p.threads }.max { $0.threads < $1.threads } ?? roofs.first
    }
    /// Whether a point is above the roof that applies to it: not a fast kernel but a measurement problem
    /// (weights cached between calls, a wrong flop count, machine facts from another machine or a busy hour).
    public func isAboveRoof(_ p: Point) -> Bool {
        guard let r = roof(for: p) else { return false }
        return p.gflops > r.attainable(intensity: p.intensity) * (1 + tolerance)
    }
    /// The measured share of the attainable rate (percent), nil without a roof.
    public func percentOfAttainable(_ p: Point) -> Double? {
        guard let r = roof(for: p) else { return nil }
        let a = r.attainable(intensity: p.intensity)
        return a > 0 ? 100 * p.gflops / a : nil
    }
}

/// Distributions of timed samples: several sides (variants or configurations) and speedups between them.
public struct DistributionSection: Codable, Equatable, Sendable {
    public struct Side: Codable, Equatable, Sendable {
        public var name: String
        /// Nanoseconds per call of each sample.
        public var nanoseconds: [Double]
        public var threads: Int?
        /// Excluded from timing (e.g. WRONG against the reference): drawn as a note, not a box.
        public var problem: String?
        public init(name: String, nanoseconds: [Double], threads: Int? = nil, problem: String? = nil) {
            self.name = name; self.nanoseconds = nanoseconds; self.threads = threads; self.problem = problem
        }
    }
    public struct Speedup: Codable, Equatable, Sendable {
        /// "tiled vs naive": `b` relative to `a`; speedup = median(a) / median(b).
        public var a: String
        public var b: String
        public var speedup: Double
        public var low: Double?
        public var high: Double?
        public var confidence: Double
        public var p: Double?
        public var verdict: String
        public init(a: String, b: String, speedup: Double, low: Double?, high: Double?, confidence: Double, p: Double?, verdict: String) {
            self.a = a; self.b = b; self.speedup = speedup; self.low = low; self.high = high
            self.confidence = confidence; self.p = p; self.verdict = verdict
        }
    }
    public var title: String
    public var sides: [Side]
    public var speedups: [Speedup]
    public var notes: [String]
    public var source: SectionSource
}

public struct ScalingSection: Codable, Equatable, Sendable {
    public struct Point: Codable, Equatable, Sendable {
        public var threads: Int
        public var seconds: [Double]
        public init(threads: Int, seconds: [Double]) { self.threads = threads; self.seconds = seconds }
    }
    public var workload: String
    public var engine: String
    public var points: [Point]
    /// Amdahl's serial fraction fitted over the thread counts up to the usable CPUs.
    public var serialFraction: Double?
    /// Usable cores from the CPU-bound probe, and what the OS reports.
    public var usableCores: Double?
    public var cpusReported: Int?
    public var warnings: [String]
    public var source: SectionSource
}

public struct GateSection: Codable, Equatable, Sendable {
    public struct Row: Codable, Equatable, Sendable {
        public var name: String
        public var baseline: String
        public var now: String
        public var change: String
        public var threshold: String
        /// The verdict as the gate prints it ("ok", "REGRESSION (3 runs)").
        public var verdict: String
        /// The verdict's kind: pass, regression, incorrect, improvement, new, dropped, skipped.
        public var status: String
        /// Whether the verdict fails the gate.
        public var fails: Bool
        public var detail: String?
        /// The metric's kind (ratio, time, share, instructions, checksum, bound, exact).
        public var kind: String
        /// How much of its threshold the change used: 1 = at the threshold, above 1 = past it, below 0 = better
        /// than the baseline (nil where there is no numeric comparison: exact text, new, dropped, skipped).
        public var used: Double?
        /// A/B: the change's confidence interval on the same scale as `used`.
        public var usedLow: Double?
        public var usedHigh: Double?
        public init(name: String, baseline: String, now: String, change: String, threshold: String, verdict: String,
                    status: String, fails: Bool, detail: String?, kind: String = "", used: Double? = nil,
                    usedLow: Double? = nil, usedHigh: Double? = nil) {
            self.name = name; self.baseline = baseline; self.now = now; self.change = change; self.threshold = threshold
            self.verdict = verdict; self.status = status; self.fails = fails; self.detail = detail; self.kind = kind; self.used = used
            self.usedLow = usedLow; self.usedHigh = usedHigh
        }
        /// The row of the gate chart: the metric family and kind ("matmul · ratio").
        public var family: String { "\(name.split(separator: "/").first.map(String.init) ?? name) · \(kind)" }
    }
    public var summary: String
    public var passed: Bool
    /// "baseline" (against the committed numbers: the scale is each metric's threshold) or "ab" (this build
    /// against another measured in the same run: the scale is the minimum effect a verdict needs).
    public var mode: String
    public var header: [String]
    public var rows: [Row]
    public var source: SectionSource
}

/// The whole page's data.
public struct ReportDocument: Codable, Equatable, Sendable {
    public var title: String
    public var provenance: ReportProvenance
    public var machine: MachineSection?
    public var profiles: [ProfileSection]
    public var ops: OpSection?
    public var roofline: RooflineSection?
    public var distributions: [DistributionSection]
    public var scaling: [ScalingSection]
    public var gate: GateSection?
    /// Page-level remarks (sections that are missing and how to get them, inputs that were skipped).
    public var notes: [String]

    public init(title: String, provenance: ReportProvenance, machine: MachineSection? = nil, profiles: [ProfileSection] = [],
                ops: OpSection? = nil, roofline: RooflineSection? = nil, distributions: [DistributionSection] = [],
                scaling: [ScalingSection] = [], gate: GateSection? = nil, notes: [String] = []) {
        self.title = title; self.provenance = provenance; self.machine = machine; self.profiles = profiles; self.ops = ops
        self.roofline = roofline; self.distributions = distributions; self.scaling = scaling; self.gate = gate; self.notes = notes
    }
}
