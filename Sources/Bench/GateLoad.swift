// How busy the machine is while the gate measures: the gate says so, measures longer when it is busy, and
// answers "inconclusive (machine too noisy: ...)" rather than a regression it cannot tell from noise.
//
//   /proc/loadavg     1-minute load average (runnable + uninterruptible tasks; a rough, lagging figure)
//   /proc/stat "cpu"  jiffies since boot: user nice system idle iowait irq softirq steal ...; between two
//                     snapshots, busy = all but idle and iowait; steal = time the hypervisor ran someone else
//                     while this VM wanted the CPU
//   /proc/self/stat   this process's utime + stime + cutime + cstime (its threads, and its children once
//                     waited for): our own share of "busy"
// Others' CPU = busy - ours, in cores (jiffies / USER_HZ / seconds). The machine is "busy" when others keep at
// least `busyOtherCores` cores (default 0.5) busy on average, or steal is at least `busySteal` of the time.
import Foundation

/// One reading of the machine's counters.
public struct LoadSnapshot: Codable, Equatable, Sendable {
    /// Monotonic time of the reading, nanoseconds.
    public var nanos: UInt64
    public var loadAverage: Double?
    /// Jiffies of the "cpu" line: busy (all but idle and iowait), steal, and the total.
    public var busyJiffies: Double?
    public var stealJiffies: Double?
    public var totalJiffies: Double?
    /// This process's CPU jiffies, its waited-for children included.
    public var ownJiffies: Double?

    public init(nanos: UInt64, loadAverage: Double?, busyJiffies: Double?, stealJiffies: Double?, totalJiffies: Double?,
                ownJiffies: Double?) {
        self.nanos = nanos; self.loadAverage = loadAverage; self.busyJiffies = busyJiffies; self.stealJiffies = stealJiffies
        self.totalJiffies = totalJiffies; self.ownJiffies = ownJiffies
    }
}

/// The load between two snapshots.
public struct LoadSummary: Codable, Equatable, Sendable {
    public var seconds: Double
    public var cores: Int
    /// The 1-minute load average at the end.
    public var loadAverage: Double?
    /// Cores kept busy by other processes on average (nil where /proc is missing).
    public var otherCores: Double?
    /// Cores this process (and its children) used on average.
    public var ownCores: Double?
    /// Steal time as a fraction of all CPU time.
    public var steal: Double?
    public var busy: Bool

    public init(seconds: Double, cores: Int, loadAverage: Double?, otherCores: Double?, ownCores: Double?, steal: Double?, busy: Bool) {
        self.seconds = seconds; self.cores = cores; self.loadAverage = loadAverage; self.otherCores = otherCores
        self.ownCores = ownCores; self.steal = steal; self.busy = busy
    }

    /// "other processes kept 1.3 of 2 cores busy, steal 0.2%, load average 4.1".
    public var text: String {
        var parts: [String] = []
        if let o = otherCores { parts.append(String(format: "other processes kept %.2f of %d cores busy", o, cores)) }
        if let s = steal, s > 0 { parts.append(String(format: "steal %.1f%%", s * 100)) }
        if let l = loadAverage { parts.append(String(format: "load average %.2f", l)) }
        if parts.isEmpty { return "load unknown (no /proc)" }
        return parts.joined(separator: ", ") + String(format: " over %.0f s", seconds)
    }
}

public enum MachineLoad {
    /// Others' cores at or above which the machine counts as busy.
    public static let busyOtherCores = 0.5
    /// Steal at or above which the machine counts as busy.
    public static let busySteal = 0.05

    public static func snapshot() -> LoadSnapshot {
        let stat = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)).flatMap(parseStat)
        let own = (try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8)).flatMap(parseSelfStat)
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.flatMap { Double($0) }
        return LoadSnapshot(nanos: monotonicNanos(), loadAverage: load, busyJiffies: stat?.busy, stealJiffies: stat?.steal,
                            totalJiffies: stat?.total, ownJiffies: own)
    }

    /// The "cpu" line of /proc/stat: (busy, steal, total) jiffies; nil when malformed.
    public static func parseStat(_ text: String) -> (busy: Double, steal: Double, total: Double)? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard f.count >= 4 else { return nil }
        // user nice system idle iowait irq softirq steal guest guest_nice (guest time is already in user/nice).
        let fields = Array(f.prefix(8)) + [Double](repeating: 0, count: max(0, 8 - f.count))
        let total = fields.reduce(0, +)
        let idle = fields[3] + fields[4]
        let steal = fields[7]
        return (total - idle - steal, steal, total)
    }

    /// utime + stime + cutime + cstime of a /proc/PID/stat line (fields 14-17, after the parenthesised name).
    public static func parseSelfStat(_ text: String) -> Double? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let f = text[text.index(after: close)...].split(separator: " ")
        // After ")": state(3) ppid(4) ... utime is field 14, i.e. index 11 here.
        guard f.count > 14, let u = Double(f[11]), let s = Double(f[12]), let cu = Double(f[13]), let cs = Double(f[14]) else { return nil }
        return u + s + cu + cs
    }

    /// Jiffies per second (USER_HZ).
    public static let hz: Double = { let v = sysconf(Int32(_SC_CLK_TCK)); return v > 0 ? Double(v) : 100 }()

    /// The load between `a` and `b` on `cores` cores.
    public static func summary(from a: LoadSnapshot, to b: LoadSnapshot, cores: Int = Machine.logicalCores()) -> LoadSummary {
        let seconds = max(1e-3, Double(b.nanos &- a.nanos) / 1e9)
        var others: Double?, own: Double?, steal: Double?
        if let b0 = a.busyJiffies, let b1 = b.busyJiffies, let t0 = a.totalJiffies, let t1 = b.totalJiffies, t1 > t0 {
            let busyCores = (b1 - b0) / hz / seconds
            if let o0 = a.ownJiffies, let o1 = b.ownJiffies {
                own = max(0, (o1 - o0) / hz / seconds)
                others = max(0, busyCores - own!)
            } else {
                others = busyCores
            }
            if let s0 = a.stealJiffies, let s1 = b.stealJiffies { steal = max(0, (s1 - s0) / (t1 - t0)) }
        }
        let busy = (others ?? 0) >= busyOtherCores || (steal ?? 0) >= busySteal
        return LoadSummary(seconds: seconds, cores: cores, loadAverage: b.loadAverage, otherCores: others, ownCores: own,
                           steal: steal, busy: busy)
    }

    /// The load over the next `seconds` (sleeping meanwhile): the gate's "before" reading.
    public static func sample(seconds: Double = 1) -> LoadSummary {
        let a = snapshot()
        usleep(useconds_t(max(0, seconds) * 1e6))
        return summary(from: a, to: snapshot())
    }

    /// The average of several summaries, weighted by their durations (busy if the average is).
    public static func combine(_ parts: [LoadSummary]) -> LoadSummary? {
        guard let first = parts.first else { return nil }
        let total = parts.reduce(0) { $0 + $1.seconds }
        func avg(_ k: KeyPath<LoadSummary, Double?>) -> Double? {
            let known = parts.filter { $0[keyPath: k] != nil }
            guard !known.isEmpty else { return nil }
            let w = known.reduce(0) { $0 + $1.seconds }
            return known.reduce(0) { $0 + $1[keyPath: k]! * $1.seconds } / max(w, 1e-9)
        }
        let others = avg(\.otherCores), steal = avg(\.steal)
        return LoadSummary(seconds: total, cores: first.cores, loadAverage: parts.last!.loadAverage, otherCores: others,
                           ownCores: avg(\.ownCores), steal: steal,
                           busy: (others ?? 0) >= busyOtherCores || (steal ?? 0) >= busySteal)
    }
}
