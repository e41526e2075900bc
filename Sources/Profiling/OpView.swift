// The op view: an instrumented timer's share of each op next to the share of the samples tagged with that op.
// The workload names its ops (plain strings: a profile knows nothing about GPT-2); samples carry the op's key
// as their `op` label.
import Foundation

/// One op as the workload's timers saw it.
public struct OpTimer: Codable, Sendable, Equatable {
    /// Short key ("fc"): the samples' op label.
    public var key: String
    /// Display name ("fc matmul").
    public var name: String
    public var ms: Double
    /// Share of the timed total (forward-pass time), in percent.
    public var percent: Double
    public init(key: String, name: String, ms: Double, percent: Double) {
        self.key = key; self.name = name; self.ms = ms; self.percent = percent
    }
}

public enum OpView {
    /// Every timed op's share next to its share of the tagged samples (`sampled[key]`; the nil key counts the
    /// untagged samples), in the timers' order; then ops sampled but not timed, in `names`' order (key, name).
    public static func rows(timers: [OpTimer], sampled: [String?: Int], names: [(key: String, name: String)]) -> [OpShareRow] {
        let tagged = sampled.filter { $0.key != nil }.values.reduce(0, +)
        func share(_ s: Int) -> (Double, Double) {
            let p = tagged > 0 ? Double(s) / Double(tagged) : 0
            return (100 * p, Reports.stdErrPercent(p, tagged))
        }
        var rows: [OpShareRow] = []
        var seen = Set<String>()
        for t in timers {
            let s = sampled[t.key] ?? 0, (pct, se) = share(s)
            rows.append(OpShareRow(key: t.key, name: t.name, timerMs: t.ms, timerPercent: t.percent, samples: s, sampledPercent: pct, sampledStdErr: se))
            seen.insert(t.key)
        }
        // Tags seen without a timer row (timers off for that op): still shown.
        for (key, name) in names where !seen.contains(key) {
            let s = sampled[key] ?? 0
            guard s > 0 else { continue }
            let (pct, se) = share(s)
            rows.append(OpShareRow(key: key, name: name, timerMs: nil, timerPercent: nil, samples: s, sampledPercent: pct, sampledStdErr: se))
        }
        return rows
    }

    /// The op table of sampled rows (see `Reports.opTable`), with the untagged count from `sampled[nil]`.
    public static func table(_ rows: [OpShareRow], sampled: [String?: Int], forwardMs: Double) -> String {
        let tagged = sampled.filter { $0.key != nil }.values.reduce(0, +)
        return Reports.opTable(rows, taggedSamples: tagged, untaggedSamples: sampled[nil] ?? 0,
                               timerTotalLabel: String(format: "%.1f ms of forward passes", forwardMs))
    }

    /// The op table of timer rows only (a backend whose samples carry no op: perf).
    public static func timerTable(_ rows: [OpShareRow], forwardMs: Double) -> String {
        Reports.opTable(rows, taggedSamples: nil, untaggedSamples: 0, timerTotalLabel: String(format: "%.1f ms of forward passes", forwardMs))
    }

    /// Timer rows only (a backend whose samples carry no op: perf).
    public static func timerRows(_ timers: [OpTimer]) -> [OpShareRow] {
        timers.map { OpShareRow(key: $0.key, name: $0.name, timerMs: $0.ms, timerPercent: $0.percent) }
    }
}
