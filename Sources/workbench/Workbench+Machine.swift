import ArgumentParser
import Bench
import Foundation

extension Workbench {
    /// `workbench machine`: the CPU, its caches, and its measured FMA peak and memory bandwidth (cached).
    struct Machine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the machine's facts: CPU, cores, SIMD flags, caches, measured FMA peak and memory bandwidth.",
            discussion: """
            The measurements are cached in $WORKBENCH_CACHE/machine.json (default ~/.cache/workbench) with a \
            fingerprint of the CPU; `compare` uses them as the 100 % lines. --refresh measures again.
            """)

        @Flag(help: "Measure again even if cached facts exist.")
        var refresh = false
        @Flag(help: "Print the facts as JSON.")
        var json = false

        func run() throws {
            let info = Bench.Machine.current(refresh: refresh, log: note)
            if json {
                let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try enc.encode(info), as: UTF8.self))
            } else {
                print(Workbench.Machine.describe(info), terminator: "")
            }
        }

        /// The human-readable facts, one per line.
        static func describe(_ m: MachineInfo) -> String {
            var s = ""
            func line(_ k: String, _ v: String) { s += k.padding(toLength: 16, withPad: " ", startingAt: 0) + v + "\n" }
            line("cpu", "\(m.cpuModel) (\(m.architecture))")
            line("cores", "\(m.logicalCores) logical, \(m.usableCores) usable (CPUs \(cpuList(m.usableCPUs)))")
            line("simd", m.simdFlags.isEmpty ? "(none listed)" : m.simdFlags.joined(separator: " "))
            if !m.caches.isEmpty {
                line("caches", m.caches.map { c in
                    let name = "L\(c.level)" + (c.type == "Data" ? "d" : c.type == "Instruction" ? "i" : "")
                    return "\(name) \(bytes(c.bytes))" + (c.sharedBy > 1 ? " (shared by \(c.sharedBy))" : "")
                }.joined(separator: ", "))
            }
            line("fp32 fma peak", String(format: "%.1f GFLOP/s on one core (SIMD16, %d accumulators, best run); %.1f on %d cores",
                                         m.fmaPeakGFLOPS, Peak.fmaAccumulators, m.peakGFLOPS(threads: m.usableCores), m.usableCores))
            line("read bandwidth", String(format: "%.1f GB/s one thread, %.1f GB/s %d threads (reading %@, best pass)",
                                          m.readBandwidthGBs, m.readBandwidthAllGBs, m.bandwidthThreads, bytes(m.bandwidthBytes) as NSString))
            line("balance", String(format: "%.1f flop/byte on one core (above it a kernel is compute-bound)", m.balance(threads: 1)))
            line("measured", "\(m.measuredAt) by a \(m.build) build")
            for w in m.warnings { line("warning", w.message) }
            return s
        }

        static func bytes(_ n: Int) -> String {
            if n >= 1 << 30 && n % (1 << 30) == 0 { return "\(n >> 30) GiB" }
            if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
            if n >= 1 << 10 && n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
            return "\(n) B"
        }

        /// "0-3,8" for [0, 1, 2, 3, 8].
        static func cpuList(_ cpus: [Int]) -> String {
            var parts: [String] = []
            var i = 0
            while i < cpus.count {
                var j = i
                while j + 1 < cpus.count && cpus[j + 1] == cpus[j] + 1 { j += 1 }
                parts.append(j > i ? "\(cpus[i])-\(cpus[j])" : "\(cpus[i])")
                i = j + 1
            }
            return parts.joined(separator: ",")
        }
    }
}
