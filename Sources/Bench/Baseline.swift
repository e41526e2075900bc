// Baselines of the regression gate: plain Codable data, one JSON file per suite.
//
//   Profiles/
//     baseline.json         the `full` suite's baseline, made on the project's machine kind (release build)
//     baseline-quick.json   (optional) the `quick` suite's, for local use; tests write theirs to a temp dir
//     README.md             this format, field by field
//
// A baseline is what `workbench gate --update-baseline` measured: for every metric its value (the median of
// the samples), its spread (their MAD), the threshold derived from that spread, and whether it may only be
// compared on the same machine. `workbench gate` measures the same metrics again and compares (GateCompare.swift).
import Basics
import Foundation

/// What a metric measures. The kind decides the direction, how the threshold is applied and whether the
/// metric depends on the machine (and so is only compared when the fingerprint matches).
public enum MetricKind: String, Codable, CaseIterable, Sendable {
    /// Time relative to a reference timed in the same rounds (unit "x"). Lower is better; relative threshold.
    case ratio
    /// Wall time (unit "ms"). Lower is better; relative threshold; machine-dependent.
    case time
    /// Share of a whole (unit "%", e.g. an op's share of the forward pass). Lower is better; threshold in
    /// percentage points.
    case share
    /// Instructions counted by perf or callgrind. Lower is better; relative threshold; machine-dependent
    /// (the compiler's instruction selection follows the CPU).
    case instructions
    /// A number that must stay within ± the threshold's `absolute` of the baseline (a logits checksum).
    case checksum
    /// Text that must match the baseline exactly (a token stream).
    case exact
    /// An error that must stay at or below the threshold's `absolute`, whatever the baseline (e.g. the
    /// largest normalised difference of a kernel variant from the reference).
    case bound

    /// Lower-is-better timing-like kinds: re-measured before they fail, compared with a relative or
    /// percentage-point threshold.
    public var isPerformance: Bool { self == .ratio || self == .time || self == .share || self == .instructions }
    /// Correctness kinds: a failure is reported as `incorrect`, never re-measured (they are deterministic).
    public var isCorrectness: Bool { !isPerformance }
    /// Whether values measured on another machine (or thread count) mean something different.
    public var isMachineDependent: Bool { self == .time || self == .instructions }
}

/// How far a metric may move before it fails. Which field applies depends on the kind:
/// `relative` for ratio/time/instructions (0.1 = may grow by 10 %), `absolute` for share (percentage
/// points), checksum (± tolerance) and bound (the largest allowed value).
public struct Threshold: Codable, Equatable, Sendable {
    public var relative: Double?
    public var absolute: Double?
    public init(relative: Double? = nil, absolute: Double? = nil) { self.relative = relative; self.absolute = absolute }
}

/// One metric of a baseline.
public struct BaselineMetric: Codable, Equatable, Sendable {
    /// Stable name, '/'-separated: "matmul/tiled/qkv/T64", "gen/124M/decode", "share/124M/fc".
    public var name: String
    public var kind: MetricKind
    /// "x", "ms", "%", "instructions", "tokens", "" ...
    public var unit: String
    /// The median of the samples (0 for `exact`).
    public var value: Double
    /// The MAD of the samples, in `unit` (0 with a single sample).
    public var spread: Double
    /// How many samples `value` and `spread` summarise (over all runs of the update).
    public var samples: Int
    public var threshold: Threshold
    /// True for kinds compared only on the same machine (see `MetricKind.isMachineDependent`).
    public var machineDependent: Bool
    /// The expected text of an `exact` metric.
    public var text: String?
    /// What the metric is, in a few words (shown by `workbench gate` under the table when it fails).
    public var note: String?

    public init(name: String, kind: MetricKind, unit: String, value: Double, spread: Double, samples: Int,
                threshold: Threshold, text: String? = nil, note: String? = nil) {
        self.name = name; self.kind = kind; self.unit = unit; self.value = value; self.spread = spread
        self.samples = samples; self.threshold = threshold; self.machineDependent = kind.isMachineDependent
        self.text = text; self.note = note
    }
}

/// Where and how a baseline was made: the fingerprint decides whether machine-dependent metrics are compared.
public struct BaselineEnvironment: Codable, Equatable, Sendable {
    /// The machine fingerprint (CPU model, cores, ISA features ...): equal strings mean "the same machine kind".
    public var fingerprint: String
    /// Worker threads the suite ran with.
    public var threads: Int
    /// "release" or "debug".
    public var build: String
    public init(fingerprint: String, threads: Int, build: String) {
        self.fingerprint = fingerprint; self.threads = threads; self.build = build
    }

    /// Why machine-dependent metrics cannot be compared between `self` (the baseline's) and `now`, or nil
    /// when they can.
    public func mismatch(_ now: BaselineEnvironment) -> String? {
        var why: [String] = []
        if fingerprint != now.fingerprint { why.append("machine fingerprint differs (baseline: \(fingerprint); now: \(now.fingerprint))") }
        if threads != now.threads { why.append("threads differ (baseline: \(threads); now: \(now.threads))") }
        if build != now.build { why.append("build differs (baseline: \(build); now: \(now.build))") }
        return why.isEmpty ? nil : why.joined(separator: "; ")
    }
}

/// A gate baseline: `Profiles/baseline.json`.
public struct Baseline: Codable, Equatable, Sendable {
    /// The version of this format; files with another version are rejected with a clear message.
    /// 2: the `schema` field; the T=1 matmuls timed on cold weights and the A/B child protocol (a format-1
    /// baseline's numbers do not mean the same).
    public static let formatVersion = 2
    /// What this JSON is.
    public static let schemaName = "workbench.gate.baseline"

    public var schema: String
    public var format: Int
    /// The suite that made it ("full", "quick"): the gate refuses to compare another suite against it.
    public var suite: String
    /// When it was made (ISO 8601, UTC).
    public var date: String
    /// `git rev-parse HEAD` where it was made, if that worked.
    public var commit: String?
    /// The version of the gate's protocol (what each metric means: shapes, yardsticks, statistics) the numbers
    /// were measured with; nil in baselines made before it was recorded (protocol 1). The comparison with the
    /// numbers refuses another version; an A/B uses only the correctness values and the commit.
    public var protocolVersion: Int?
    public var environment: BaselineEnvironment
    /// Which metric families were measured, and why any were not ("instructions: unavailable (...)").
    public var availability: [String]
    public var metrics: [BaselineMetric]

    public init(suite: String, date: String, commit: String?, environment: BaselineEnvironment,
                availability: [String], metrics: [BaselineMetric]) {
        format = Baseline.formatVersion
        schema = Baseline.schemaName
        self.suite = suite; self.date = date; self.commit = commit; self.environment = environment
        self.availability = availability; self.metrics = metrics
    }

    /// The metric named `name`, if any.
    public func metric(_ name: String) -> BaselineMetric? { metrics.first { $0.name == name } }

    /// The JSON text (pretty, sorted keys, so diffs of Profiles/ are readable).
    public func encoded() throws -> Data {
        var d = try ToolJSON.data(self)
        d.append(0x0A)
        return d
    }

    /// Parses a baseline; throws `BaselineError` with one line naming `path` and the problem.
    public static func decode(_ data: Data, path: String) throws -> Baseline {
        // The format number first, so a future format gets a clear message rather than a decoding error.
        struct Header: Decodable { var format: Int? }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data) } catch {
            throw BaselineError(path: path, "is not a gate baseline: not a JSON object (\(describe(error)))")
        }
        guard let f = header.format else { throw BaselineError(path: path, "is not a gate baseline: no \"format\" field") }
        if f != formatVersion {
            throw BaselineError(path: path, "has baseline format \(f), this workbench reads format \(formatVersion): re-make it with `workbench gate --update-baseline --runs 5`")
        }
        let b: Baseline
        do { b = try JSONDecoder().decode(Baseline.self, from: data) } catch {
            throw BaselineError(path: path, "is corrupt: \(describe(error))")
        }
        if let p = b.problem() { throw BaselineError(path: path, "is corrupt: \(p)") }
        return b
    }

    /// Reads and parses `path`. A missing file gets its own message (make one with --update-baseline).
    public static func load(path: String) throws -> Baseline {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BaselineError(path: path, "not found: make one with `workbench gate --update-baseline --baseline \(path)`")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw BaselineError(path: path, "cannot be read: \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Writes the baseline to `path` (through a temporary file renamed into place).
    public func write(to path: String) throws {
        let data = try encoded()
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw BaselineError(path: path, "cannot be written: \(error.localizedDescription)")
        }
    }

    /// The first inconsistency a hand edit or a truncated file could leave (duplicate names, a non-finite
    /// value, an exact metric without text, a threshold missing its field), or nil.
    public func problem() -> String? {
        var seen = Set<String>()
        for m in metrics {
            if m.name.isEmpty { return "a metric has an empty name" }
            if !seen.insert(m.name).inserted { return "metric \(m.name) appears twice" }
            if !m.value.isFinite || !m.spread.isFinite || m.spread < 0 { return "metric \(m.name) has a non-finite value or spread" }
            if m.samples < 0 { return "metric \(m.name) has a negative sample count" }
            switch m.kind {
            case .exact:
                if m.text == nil { return "exact metric \(m.name) has no \"text\"" }
            case .ratio, .time, .instructions:
                guard let r = m.threshold.relative, r.isFinite, r >= 0 else { return "metric \(m.name) needs a non-negative threshold.relative" }
            case .share, .checksum, .bound:
                guard let a = m.threshold.absolute, a.isFinite, a >= 0 else { return "metric \(m.name) needs a non-negative threshold.absolute" }
            }
        }
        return nil
    }
}

/// A missing, unreadable or corrupt baseline: one line naming the file and the problem (exit status 2).
public struct BaselineError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) { self.path = path; self.message = message }
    public var description: String { "baseline \(path) \(message)" }
}

/// One line for a decoding error: what is wrong and where (the coding path).
func describe(_ error: Error) -> String {
    func at(_ path: [CodingKey]) -> String {
        let p = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return p.isEmpty ? "" : " at \(p.hasPrefix(".") ? String(p.dropFirst()) : p)"
    }
    guard let e = error as? DecodingError else { return String(describing: error) }
    switch e {
    case .keyNotFound(let k, let c): return "missing field \"\(k.stringValue)\"\(at(c.codingPath))"
    case .typeMismatch(_, let c): return "wrong type\(at(c.codingPath)): \(c.debugDescription)"
    case .valueNotFound(_, let c): return "missing value\(at(c.codingPath))"
    case .dataCorrupted(let c):
        let under = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
        return "\(c.debugDescription)\(at(c.codingPath))\(under.map { " (\($0))" } ?? "")"
    @unknown default: return String(describing: e)
    }
}

/// Facts about the checkout, for the baseline's `commit` field.
public enum Provenance {
    /// `git rev-parse HEAD` in `directory` (default: the current one), or nil when git or the repository is missing.
    public static func gitHead(directory: String? = nil) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "rev-parse", "HEAD"]
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        let s = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return s.count == 40 && s.allSatisfy(\.isHexDigit) ? s : nil
    }

    /// Now, as ISO 8601 UTC ("2026-11-25T10:00:00Z").
    public static func isoDate(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
