// Profiling: samples -> symbolized stacks -> folded stacks -> reports.
//
//   SignalSampler (in-process SIGPROF, CSampler)  ─┐
//                                                  ├─> StackProfile (stack of frame names -> count) ─> reports
//   Perf (perf record / perf script parser)      ─┘          │
//                                                            └─> Folded text (FlameGraph's format): the contract
//
// Nothing here knows about GPT-2: a profile is addresses and names; the op view takes labelled rows.
import Foundation

/// A stack of frame names, outermost (root) first, innermost (leaf) last.
public typealias Stack = [String]

/// Samples aggregated by stack: the one model every report and output format consumes.
public struct StackProfile: Equatable, Sendable {
    public private(set) var counts: [Stack: Int] = [:]
    /// Sum of all counts.
    public private(set) var total = 0

    public init() {}
    public init(_ stacks: [(Stack, Int)]) { for (s, c) in stacks { add(s, count: c) } }

    /// Adds `count` samples of `stack` (ignored if the stack is empty or count <= 0).
    public mutating func add(_ stack: Stack, count: Int = 1) {
        guard !stack.isEmpty, count > 0 else { return }
        counts[stack, default: 0] += count
        total += count
    }

    /// Merges another profile into this one.
    public mutating func merge(_ other: StackProfile) { for (s, c) in other.counts { add(s, count: c) } }

    /// Stacks in a deterministic order: most samples first, then lexicographic.
    public var sorted: [(stack: Stack, count: Int)] {
        counts.map { ($0.key, $0.value) }.sorted { a, b in
            if a.1 != b.1 { return a.1 > b.1 }
            return a.0.lexicographicallyPrecedes(b.0)
        }
    }

    /// The profile with every stack passed through `transform` (nil drops the stack).
    public func mapStacks(_ transform: (Stack) -> Stack?) -> StackProfile {
        var p = StackProfile()
        for (s, c) in counts { if let t = transform(s) { p.add(t, count: c) } }
        return p
    }
}

/// A profiling failure: one line saying what is wrong (missing file, garbled line, perf not usable).
public struct ProfilingError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
