// A recorded profile on disk: `<dir>/<stamp>-<backend>.folded` (the stacks) beside `<stamp>-<backend>.json`
// (what was run and how it was sampled).
//
//   Profiles/
//     runs/
//       20261125-041203-signal.folded
//       20261125-041203-signal.json
import Basics
import Foundation

/// What a profile was taken of and how (saved as JSON beside the folded stacks).
public struct ProfileMetadata: Codable, Sendable, RecordsItsCommand {
    /// When the profile was taken (ISO 8601, UTC).
    public var date: String
    /// The command line that produced it.
    public var command: [String]
    /// "signal" (in-process SIGPROF sampler) or "perf".
    public var backend: String
    /// Signal backend: "cpu" or "wall".
    public var clock: String?
    /// Perf backend: "dwarf" or "fp".
    public var callGraph: String?
    public var perfVersion: String?
    /// Samples per second per thread asked for, and achieved (per second of the sampling clock per thread).
    public var requestedHz: Double
    public var achievedHz: Double?
    public var samples: Int
    /// Samples lost (buffer full, unwind failure) and stacks cut at the maximum depth.
    public var dropped: Int?
    public var truncated: Int?
    /// Wall time of the sampled interval.
    public var seconds: Double
    /// Samples per thread (by thread label, "comm-tid").
    public var threads: [String: Int]
    /// What ran: model file, engine choices (kernel variants, threads), workload description.
    public var model: String?
    public var engine: String?
    public var workload: String?
    /// The sampler's counters (signal backend).
    public var sampler: SamplerStats?
    /// The op view (when the workload tags its ops).
    public var ops: [OpShareRow]?

    public init(date: Date = Date(), command: [String], backend: String, requestedHz: Double, samples: Int, seconds: Double,
                threads: [String: Int] = [:]) {
        self.date = ProfileMetadata.iso8601(date)
        self.command = command; self.backend = backend; self.requestedHz = requestedHz
        self.samples = samples; self.seconds = seconds; self.threads = threads
    }

    public static func iso8601(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }
}

/// The JSON document of `workbench profile --json`.
public struct ProfileReport: Codable, Sendable {
    public static let currentSchema = 1
    public struct FoldedLine: Codable, Sendable { public var stack: [String]; public var count: Int }
    /// Nil in files written before it was added.
    public var schema: Int? = ProfileReport.currentSchema
    public var metadata: ProfileMetadata
    public var flat: [FlatRow]
    public var ops: [OpShareRow]?
    public var stacks: [FoldedLine]
    /// With --per-thread: the flat top-N of each thread.
    public struct ThreadFlat: Codable, Sendable { public var thread: String; public var samples: Int; public var flat: [FlatRow] }
    public var threads: [ThreadFlat]?

    public init(metadata: ProfileMetadata, profile: StackProfile, top: Int) {
        self.metadata = metadata
        flat = Reports.flat(profile, top: top)
        ops = metadata.ops
        stacks = profile.sorted.map { FoldedLine(stack: $0.stack, count: $0.count) }
    }

    public init(metadata: ProfileMetadata, samples: SampleProfile, top: Int, perThread: Bool) {
        self.init(metadata: metadata, profile: samples.stacks, top: top)
        if perThread {
            threads = samples.threads.map { ThreadFlat(thread: $0.name, samples: $0.samples, flat: Reports.flat(samples.thread($0.name).stacks, top: top)) }
        }
    }

    public func json() throws -> Data { try ToolJSON.data(self) }
}

public enum ProfileStore {
    /// Writes `<dir>/<stamp>-<backend>.folded` and `.json` (creating `dir`); returns both paths.
    /// Throws `ProfilingError`.
    @discardableResult
    public static func save(_ profile: StackProfile, metadata: ProfileMetadata, in dir: String, date: Date = Date()) throws -> (folded: String, json: String) {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        catch { throw ProfilingError("cannot create \(dir): \(error.localizedDescription)") }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        var base = "\(dir)/\(f.string(from: date))-\(metadata.backend)"
        var k = 2
        while FileManager.default.fileExists(atPath: base + ".folded") { base = "\(dir)/\(f.string(from: date))-\(metadata.backend)-\(k)"; k += 1 }
        try Folded.write(profile, to: base + ".folded")
        do { try ToolJSON.data(metadata).write(to: URL(fileURLWithPath: base + ".json")) }
        catch { throw ProfilingError("cannot write \(base).json: \(error.localizedDescription)") }
        return (base + ".folded", base + ".json")
    }

    /// `save`, said in one line: where it went, or why it did not (a warning: the report is out already).
    public static func saveSaying(_ profile: StackProfile, metadata: ProfileMetadata, in dir: String) -> String {
        do { return "workbench: profile saved to \(try save(profile, metadata: metadata, in: dir).folded) (+ .json)" }
        catch { return "workbench: warning: profile not saved: \(error)" }
    }
}
