// speedscope's file format (https://www.speedscope.app/file-format-schema.json): frames shared by every
// profile, one `sampled` profile per thread whose samples are stacks of frame indices (root first) with a
// weight each.
//
//   { "$schema": "https://www.speedscope.app/file-format-schema.json",
//     "shared": { "frames": [ { "name": "main", "file": "workbench" }, { "name": "Kernels.matmul(_:)" } ] },
//     "profiles": [ { "type": "sampled", "name": "workbench-4242", "unit": "nanoseconds",
//                     "startValue": 0, "endValue": 12000000, "samples": [[0, 1], [0]],
//                     "weights": [8000000, 4000000] } ],
//     "name": "workbench profile", "activeProfileIndex": 0, "exporter": "workbench profile" }
//
// Samples are aggregated (one entry per distinct stack, weight = count x period), so speedscope's "time order"
// view shows them grouped by stack, in the folded order; "left heavy" and "sandwich" are exact. The unit is
// nanoseconds of the sampling clock when the period is known, else "none" (weights are sample counts).
import Foundation

public enum Speedscope {
    public static let schema = "https://www.speedscope.app/file-format-schema.json"

    public struct File: Codable, Equatable {
        public var schema: String
        public var shared: Shared
        public var profiles: [SampledProfile]
        public var name: String
        public var activeProfileIndex: Int
        public var exporter: String
        enum CodingKeys: String, CodingKey {
            case schema = "$schema", shared, profiles, name, activeProfileIndex, exporter
        }
    }
    public struct Shared: Codable, Equatable { public var frames: [FrameEntry] }
    public struct FrameEntry: Codable, Equatable { public var name: String; public var file: String? }
    public struct SampledProfile: Codable, Equatable {
        public var type: String
        public var name: String
        public var unit: String
        public var startValue: Int64
        public var endValue: Int64
        public var samples: [[Int]]
        public var weights: [Int64]
    }

    /// The document of `profile`: one sampled profile per thread (most samples first).
    public static func file(_ profile: SampleProfile, name: String, exporter: String = "workbench profile") -> File {
        struct Key: Hashable { var name: String; var file: String? }
        var index: [Key: Int] = [:], frames: [FrameEntry] = []
        func id(_ f: Frame) -> Int {
            let k = Key(name: f.name, file: f.module.map(FrameName.basename))
            if let i = index[k] { return i }
            frames.append(FrameEntry(name: k.name, file: k.file)); index[k] = frames.count - 1
            return frames.count - 1
        }
        let unit = profile.periodNanos != nil ? "nanoseconds" : "none"
        let weight = profile.periodNanos ?? 1
        var profiles: [SampledProfile] = []
        for t in profile.threads {
            // One entry per distinct stack of this thread, in folded (lexicographic) order.
            var byStack: [[Int]: Int64] = [:]
            for (s, c) in profile.counts where (s.thread ?? "all") == t.name {
                byStack[s.frames.map(id), default: 0] += Int64(c) * weight
            }
            let names = byStack.keys.map { ($0, $0.map { frames[$0].name }) }.sorted { $0.1.lexicographicallyPrecedes($1.1) }
            let samples = names.map(\.0), weights = samples.map { byStack[$0]! }
            profiles.append(SampledProfile(type: "sampled", name: t.name, unit: unit, startValue: 0,
                                           endValue: weights.reduce(0, +), samples: samples, weights: weights))
        }
        return File(schema: schema, shared: Shared(frames: frames), profiles: profiles, name: name,
                    activeProfileIndex: 0, exporter: exporter)
    }

    public static func json(_ profile: SampleProfile, name: String, exporter: String = "workbench profile") throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(file(profile, name: name, exporter: exporter))
    }

    /// Writes the speedscope JSON of `profile` to `path`. Throws `ProfilingError`.
    public static func write(_ profile: SampleProfile, to path: String, name: String, exporter: String = "workbench profile") throws {
        do { try json(profile, name: name, exporter: exporter).write(to: URL(fileURLWithPath: path)) }
        catch { throw ProfilingError("cannot write \(path): \(error.localizedDescription)") }
    }
}
