// The gate's child protocol: how `workbench gate --against REV` (and `--calibrate`) has a workbench binary
// measure the suite once and hand the numbers back. Both binaries of an A/B speak it:
//
//   workbench gate --measure --suite S --round K --json-out FILE [--threads N] [--no-instructions]
//                  [--cases KEY,KEY...] [--calibration-slowdown PERCENT]
//
// measures the suite once (every case, in order; with --cases only the cases of those keys, which the A/B's
// extension rounds use to re-measure just the cases of undecided metrics; with --calibration-slowdown only the
// calibration part, with the engine's default matmul doing PERCENT % more of its own work: `--calibrate` uses it
// on its own binary), writes FILE (a `GateMeasurementFile`, JSON, `schema` "workbench.gate.measurements/2": the
// measurements, and per case its key, seconds and metric names) and exits 0; progress goes to stderr; any
// failure is one line on stderr and a non-zero exit.
//
// A base revision speaks the protocol when its tree has this file with the same `version`: the parent reads
// `git show REV:Sources/Lab/GateProtocol.swift` before building anything, and checks `schema` and `version` of
// every file a child writes. Older revisions (before the protocol) cannot be measured this way: the gate then
// falls back to the committed baseline's numbers and says so.
import Bench
import Foundation

public enum GateProtocol {
    /// The protocol's version. Bump it when the arguments or the file change incompatibly, or what a metric means
    /// (its shapes, yardsticks or statistics): an A/B of two builds that measure different things under the same
    /// names would report the difference as a regression. 1: the first A/B (2026-12-01, naive yardstick at T=64);
    /// 2: SIMD yardsticks at compute-bound shapes, ratios to the yardstick's lower quartile, cold copies 2x the LLC;
    /// 3: `--cases`, and the file says which case measured which metric.
    public static let version = 3
    /// Where this file lives in the repository (the parent looks for it at the base revision).
    public static let sourcePath = "Sources/Lab/GateProtocol.swift"
    /// The line of this file that states the version (parsed from a base revision's copy).
    static let versionMarker = "public static let version = "

    /// The arguments (after the executable) of one child measurement.
    public static func arguments(suite: String, round: Int, jsonOut: String, threads: Int, instructions: Bool,
                                 cases: [String]? = nil, calibrationSlowdown: Double? = nil) -> [String] {
        var a = ["gate", "--measure", "--suite", suite, "--round", "\(round)", "--json-out", jsonOut, "--threads", "\(threads)"]
        if !instructions { a.append("--no-instructions") }
        if let cases { a += ["--cases", cases.joined(separator: ",")] }
        if let p = calibrationSlowdown { a += ["--calibration-slowdown", String(format: "%g", p)] }
        return a
    }

    /// The protocol version stated by a copy of this file's text (a base revision's), or nil when it states none.
    public static func version(inSource text: String) -> Int? {
        guard let r = text.range(of: versionMarker) else { return nil }
        return Int(text[r.upperBound...].prefix { $0.isNumber })
    }
}

/// One case of a child's measurement: which metrics it measured and how long it took.
public struct GateCaseRecord: Codable, Equatable, Sendable {
    public var key: String
    public var seconds: Double
    public var metrics: [String]
    public init(key: String, seconds: Double, metrics: [String]) { self.key = key; self.seconds = seconds; self.metrics = metrics }
}

/// What a side hands back for one round: the measurements and, per case, what it measured.
public struct GateSideRound: Sendable {
    public var measurements: [GateMeasurement]
    public var cases: [GateCaseRecord]
    public init(measurements: [GateMeasurement], cases: [GateCaseRecord]) { self.measurements = measurements; self.cases = cases }
}

/// What a child writes: one measurement of the suite.
public struct GateMeasurementFile: Codable, Equatable, Sendable {
    public static let schemaName = "workbench.gate.measurements/2"
    public var schema: String
    public var protocolVersion: Int
    public var suite: String
    public var round: Int
    /// "release" or "debug": the build of the binary that measured.
    public var build: String
    public var fingerprint: String
    public var availability: [String]
    /// The calibration slowdown it measured with, in percent (nil for the plain suite).
    public var calibrationSlowdown: Double?
    /// Wall seconds the measurement took.
    public var seconds: Double
    public var measurements: [GateMeasurement]
    /// The cases measured, in order (all of the suite's, or those `--cases` named).
    public var cases: [GateCaseRecord]

    public init(suite: String, round: Int, build: String, fingerprint: String, availability: [String],
                calibrationSlowdown: Double?, seconds: Double, measurements: [GateMeasurement], cases: [GateCaseRecord]) {
        schema = GateMeasurementFile.schemaName; protocolVersion = GateProtocol.version
        self.suite = suite; self.round = round; self.build = build; self.fingerprint = fingerprint
        self.availability = availability; self.calibrationSlowdown = calibrationSlowdown; self.seconds = seconds
        self.measurements = measurements; self.cases = cases
    }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }

    /// Parses a child's file; throws a one-line `GateProtocolError` naming the problem.
    public static func decode(_ data: Data, path: String) throws -> GateMeasurementFile {
        struct Header: Decodable { var schema: String?; var protocolVersion: Int? }
        guard let h = try? JSONDecoder().decode(Header.self, from: data) else {
            throw GateProtocolError("\(path) is not JSON")
        }
        guard h.schema == schemaName, h.protocolVersion == GateProtocol.version else {
            throw GateProtocolError("\(path) has schema \(h.schema ?? "none"), protocol \(h.protocolVersion.map(String.init) ?? "none"); this build speaks \(schemaName), protocol \(GateProtocol.version)")
        }
        do { return try JSONDecoder().decode(GateMeasurementFile.self, from: data) } catch {
            throw GateProtocolError("\(path) is corrupt: \(error)")
        }
    }
}

/// A child that does not speak the protocol (too old, or broken): one line.
public struct GateProtocolError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
