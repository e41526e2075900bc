// Views of one StackProfile: the call tree (flame-style text), the flat top-N (pprof's columns), the op view
// (sampled shares next to an instrumented timer), and the differential report of two profiles.
import Basics
import Foundation

/// The call tree of a profile: every node counts the samples whose stack passes through it (total) and
/// ends in it (self). Children are ordered hottest first.
public final class CallTreeNode {
    public let name: String
    public fileprivate(set) var total = 0
    public fileprivate(set) var selfCount = 0
    fileprivate var childIndex: [String: CallTreeNode] = [:]
    public private(set) lazy var children: [CallTreeNode] = childIndex.values.sorted {
        $0.total != $1.total ? $0.total > $1.total : $0.name < $1.name
    }
    init(_ name: String) { self.name = name }

    /// The child called `name`, if any.
    public func child(named name: String) -> CallTreeNode? { childIndex[name] }

    fileprivate func child(_ name: String) -> CallTreeNode {
        if let c = childIndex[name] { return c }
        let c = CallTreeNode(name); childIndex[name] = c; return c
    }

    /// Builds the tree of `profile` under a root named `rootName`.
    public static func build(_ profile: StackProfile, rootName: String = "all") -> CallTreeNode {
        let root = CallTreeNode(rootName)
        for (stack, count) in profile.counts {
            root.total += count
            var node = root
            for frame in stack { node = node.child(frame); node.total += count }
            node.selfCount += count
        }
        return root
    }
}

/// One row of the flat view (pprof's columns).
public struct FlatRow: Codable, Sendable, Equatable {
    public var frame: String
    /// Samples with this frame as the leaf.
    public var flat: Int
    public var flatPercent: Double
    /// Running sum of flatPercent down the table.
    public var sumPercent: Double
    /// Samples with this frame anywhere in the stack (counted once per sample).
    public var cum: Int
    public var cumPercent: Double
    /// Binomial standard error of flatPercent, in percentage points: 100·sqrt(p(1-p)/N).
    public var flatStdErr: Double
}

/// One row of the op view: an instrumented timer's share next to the sampled share of the same op.
public struct OpShareRow: Codable, Sendable, Equatable {
    public var key: String
    public var name: String
    public var timerMs: Double?
    /// The timer's share of the measured total (e.g. forward-pass wall time), in percent.
    public var timerPercent: Double?
    /// Samples tagged with the op (nil when the backend cannot tag samples, e.g. perf).
    public var samples: Int?
    /// The op's share of the tagged samples, in percent.
    public var sampledPercent: Double?
    /// Binomial standard error of sampledPercent, in percentage points.
    public var sampledStdErr: Double?
    public init(key: String, name: String, timerMs: Double?, timerPercent: Double?, samples: Int? = nil,
                sampledPercent: Double? = nil, sampledStdErr: Double? = nil) {
        self.key = key; self.name = name; self.timerMs = timerMs; self.timerPercent = timerPercent
        self.samples = samples; self.sampledPercent = sampledPercent; self.sampledStdErr = sampledStdErr
    }
}

/// One frame of a differential report: shares in A and B (fractions of each profile's samples).
public struct DiffRow: Codable, Sendable, Equatable {
    public var frame: String
    public var selfA: Double, selfB: Double
    public var totalA: Double, totalB: Double
    public var selfDelta: Double { selfB - selfA }
    public var totalDelta: Double { totalB - totalA }
}

public enum Reports {
    /// Binomial standard error of a share p estimated from n samples, in percentage points.
    public static func stdErrPercent(_ p: Double, _ n: Int) -> Double {
        n > 0 ? 100 * (max(0, p * (1 - p)) / Double(n)).squareRoot() : 0
    }

    // MARK: tree

    /// The flame-style text tree: `total%  self%  bar  name`, indented by depth, hottest child first,
    /// nodes below `minPercent` of all samples pruned. Chains of frames that only pass through (no self
    /// samples, one child with the same total) are joined on one line with " > ".
    public static func tree(_ profile: StackProfile, minPercent: Double = 1, barWidth: Int = 24, maxIndent: Int = 40) -> String {
        let root = CallTreeNode.build(profile)
        guard root.total > 0 else { return "(no samples)\n" }
        let n = Double(root.total)
        var out = "  total    self  " + pad("", barWidth) + "  frame\n"
        var pruned = 0
        func line(_ node: CallTreeNode, names: [String], depth: Int) {
            let t = 100 * Double(node.total) / n, s = 100 * Double(node.selfCount) / n
            let indent = String(repeating: " ", count: min(depth, maxIndent)) + (depth > maxIndent ? "+\(depth - maxIndent) " : "")
            out += String(format: "%6.1f%% %6.1f%%  ", t, s) + bar(t / 100, width: barWidth) + "  " + indent + names.joined(separator: " > ") + "\n"
        }
        func visit(_ node: CallTreeNode, depth: Int) {
            // Follow a pass-through chain.
            var names = [node.name], last = node
            while last.selfCount == 0, last.children.count == 1, last.children[0].total == last.total {
                last = last.children[0]; names.append(last.name)
            }
            line(last, names: names, depth: depth)
            // The chain's self count is the last node's (the others have none).
            for c in last.children {
                if 100 * Double(c.total) / n >= minPercent { visit(c, depth: depth + 1) } else { pruned += 1 }
            }
        }
        for c in root.children {
            if 100 * Double(c.total) / n >= minPercent { visit(c, depth: 0) } else { pruned += 1 }
        }
        if pruned > 0 { out += String(format: "(%d subtrees below %.1f%% not shown)\n", pruned, minPercent) }
        return out
    }

    /// A horizontal bar of `fraction` (0...1) in `width` cells, with eighth-cell precision.
    public static func bar(_ fraction: Double, width: Int) -> String {
        let eighths = Int((max(0, min(1, fraction)) * Double(width) * 8).rounded())
        let full = eighths / 8, part = eighths % 8
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][part]
        let used = full + (part > 0 ? 1 : 0)
        return String(repeating: "█", count: full) + partial + String(repeating: " ", count: max(0, width - used))
    }

    // MARK: flat

    /// Frames by self samples (flat), with cumulative counts; the top `top` rows (all if top <= 0).
    public static func flat(_ profile: StackProfile, top: Int = 20) -> [FlatRow] {
        var flat: [String: Int] = [:], cum: [String: Int] = [:]
        for (stack, count) in profile.counts {
            if let leaf = stack.last { flat[leaf, default: 0] += count }
            for f in Set(stack) { cum[f, default: 0] += count }
        }
        let n = profile.total
        let order = cum.keys.sorted { a, b in
            let fa = flat[a] ?? 0, fb = flat[b] ?? 0
            if fa != fb { return fa > fb }
            if cum[a]! != cum[b]! { return cum[a]! > cum[b]! }
            return a < b
        }
        var rows: [FlatRow] = []
        var sum = 0.0
        for f in order.prefix(top > 0 ? top : order.count) {
            let fl = flat[f] ?? 0, c = cum[f]!
            let p = n > 0 ? Double(fl) / Double(n) : 0
            sum += 100 * p
            rows.append(FlatRow(frame: f, flat: fl, flatPercent: 100 * p, sumPercent: sum, cum: c,
                                cumPercent: n > 0 ? 100 * Double(c) / Double(n) : 0, flatStdErr: stdErrPercent(p, n)))
        }
        return rows
    }

    /// The flat rows as pprof's table: flat, flat% (± standard error), sum%, cum, cum%, frame.
    public static func flatTable(_ rows: [FlatRow]) -> String {
        var out = "    flat   flat%  ±se     sum%      cum    cum%  frame\n"
        for r in rows {
            out += String(format: "%8d  %5.1f%% %4.1f  %6.1f%% %8d  %5.1f%%  ", r.flat, r.flatPercent, r.flatStdErr, r.sumPercent, r.cum, r.cumPercent)
                + r.frame + "\n"
        }
        return out
    }

    // MARK: op view

    /// The op view table: timer ms and share, sampled count, share and its standard error, and the difference.
    /// `taggedSamples` nil: the samples carry no op (only the timers are shown).
    public static func opTable(_ rows: [OpShareRow], taggedSamples: Int?, untaggedSamples: Int, timerTotalLabel: String) -> String {
        var out = "op               timer ms  timer%   samples  sampled%   ±se   sampled-timer\n"
        for r in rows {
            let tm = r.timerMs.map { String(format: "%9.1f", $0) } ?? "        -"
            let tp = r.timerPercent.map { String(format: "%6.1f%%", $0) } ?? "      -"
            var line = pad(r.name, 15) + " " + tm + " " + tp
            if let n = r.samples, let sp = r.sampledPercent {
                line += String(format: "  %8d   %6.1f%%  %4.1f   ", n, sp, r.sampledStdErr ?? 0)
                if let t = r.timerPercent { line += String(format: "%+7.1f pts", sp - t) }
            } else {
                line += "         -         -     -"
            }
            out += line + "\n"
        }
        if let tagged = taggedSamples {
            let total = tagged + untaggedSamples
            out += String(format: "(timer%% = share of %@; sampled%% = share of the %d samples taken inside forward passes on any thread; %d samples (%.1f%%) were outside them)\n",
                          timerTotalLabel, tagged, untaggedSamples, total > 0 ? 100 * Double(untaggedSamples) / Double(total) : 0)
        } else {
            out += "(timer% = share of \(timerTotalLabel); these samples carry no op tag: the signal backend puts sampled shares next to the timers)\n"
        }
        return out
    }

    // MARK: diff

    /// Per-frame self and total shares in A and B, largest |self change| first (then |total change|).
    public static func diff(_ a: StackProfile, _ b: StackProfile) -> [DiffRow] {
        func shares(_ p: StackProfile) -> (leaf: [String: Double], total: [String: Double]) {
            var s: [String: Double] = [:], t: [String: Double] = [:]
            let n = Double(max(1, p.total))
            for (stack, count) in p.counts {
                if let leaf = stack.last { s[leaf, default: 0] += Double(count) / n }
                for f in Set(stack) { t[f, default: 0] += Double(count) / n }
            }
            return (s, t)
        }
        let sa = shares(a), sb = shares(b)
        let frames = Set(sa.total.keys).union(sb.total.keys)
        return frames.map { f in
            DiffRow(frame: f, selfA: sa.leaf[f] ?? 0, selfB: sb.leaf[f] ?? 0, totalA: sa.total[f] ?? 0, totalB: sb.total[f] ?? 0)
        }.sorted { x, y in
            if abs(x.selfDelta) != abs(y.selfDelta) { return abs(x.selfDelta) > abs(y.selfDelta) }
            if abs(x.totalDelta) != abs(y.totalDelta) { return abs(x.totalDelta) > abs(y.totalDelta) }
            return x.frame < y.frame
        }
    }

    /// The differential table: the `top` frames that changed most, with shares in percent of each profile's
    /// samples. `*` marks a self change larger than twice its standard error.
    public static func diffTable(_ rows: [DiffRow], nA: Int, nB: Int, top: Int = 20) -> String {
        var out = "  self A  self B   Δself      total A  total B  Δtotal   frame\n"
        for r in rows.prefix(top) {
            let se = (r.selfA * (1 - r.selfA) / Double(max(1, nA)) + r.selfB * (1 - r.selfB) / Double(max(1, nB))).squareRoot()
            let mark = abs(r.selfDelta) > 2 * se && r.selfDelta != 0 ? "*" : " "
            out += String(format: "%7.1f%% %6.1f%% %+6.1f%@    %7.1f%% %7.1f%% %+6.1f    ", 100 * r.selfA, 100 * r.selfB, 100 * r.selfDelta,
                          mark, 100 * r.totalA, 100 * r.totalB, 100 * r.totalDelta) + r.frame + "\n"
        }
        let grew = rows.filter { $0.selfDelta > 0 }.map(\.selfDelta).reduce(0, +)
        out += String(format: "(A: %d samples, B: %d samples; shares in %% of each profile; Δ in percentage points; self shares moved: %.1f pts; * = |Δself| > 2 standard errors)\n",
                      nA, nB, 100 * grew)
        return out
    }

    /// `workbench profile --diff A B`: reads both folded files (each must have samples), writes the differential
    /// flame graph to `svg` if asked, and returns what to print (the text report, or its JSON). Throws `ProfilingError`.
    public static func diffFiles(_ pathA: String, _ pathB: String, top: Int, json: Bool, svg: String? = nil,
                                 flame: FlameGraph.Options = FlameGraph.Options()) throws -> String {
        let a = try Folded.read(path: pathA), b = try Folded.read(path: pathB)
        for (p, path) in [(a, pathA), (b, pathB)] where p.total == 0 { throw ProfilingError("\(path): no samples") }
        if let out = svg {
            var o = flame
            o.title = "workbench profile --diff: \(FrameName.basename(pathA)) (\(a.total)) -> \(FrameName.basename(pathB)) (\(b.total))"
            try FlameGraph.write(FlameGraph.diffSVG(before: a, after: b, o), to: out)
        }
        if json { return String(decoding: try diffJSON(a, b, nameA: pathA, nameB: pathB, top: top), as: UTF8.self) + "\n" }
        return diffReport(a, b, nameA: pathA, nameB: pathB, top: top)
    }

    /// The whole text of `workbench profile --diff`: what A and B are, then `diffTable`.
    public static func diffReport(_ a: StackProfile, _ b: StackProfile, nameA: String, nameB: String, top: Int) -> String {
        "workbench profile --diff: A = \(nameA) (\(a.total) samples), B = \(nameB) (\(b.total) samples)\n"
            + "frames whose share changed most (self = samples in the frame itself, total = in it or its callees):\n"
            + diffTable(diff(a, b), nA: a.total, nB: b.total, top: top)
    }

    /// The JSON of `workbench profile --diff --json`: both names and sample counts, the `top` rows of `diff`.
    public static func diffJSON(_ a: StackProfile, _ b: StackProfile, nameA: String, nameB: String, top: Int) throws -> Data {
        struct DiffJSON: Codable { var schema = 1; var a: String; var b: String; var samplesA: Int; var samplesB: Int; var frames: [DiffRow] }
        return try ToolJSON.data(DiffJSON(a: nameA, b: nameB, samplesA: a.total, samplesB: b.total, frames: Array(diff(a, b).prefix(top))))
    }

    /// `s` padded with spaces to `w` characters.
    public static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
}
