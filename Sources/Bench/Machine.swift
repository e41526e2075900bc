// Machine facts: what the CPU is (from /proc/cpuinfo, /sys, the affinity mask) and its two measured limits
// (Peak.swift), cached as JSON so `workbench compare` and reports reuse them as the 100 % lines.
//
// Cache: machine.json in the cache folder (Basics' `CacheFolder`: $WORKBENCH_CACHE, else
// $XDG_CACHE_HOME/workbench, else ~/.cache/workbench). A cached file is reused only when its fingerprint (CPU
// model, logical cores, architecture) and schema match this machine; `workbench machine --refresh` re-measures.
import Basics
import Foundation

/// One CPU cache, as the kernel describes it in /sys/devices/system/cpu/cpu0/cache/index*.
public struct CacheInfo: Codable, Equatable, Sendable {
    public var level: Int
    /// "Data", "Instruction" or "Unified".
    public var type: String
    public var bytes: Int
    /// Logical CPUs sharing this cache.
    public var sharedBy: Int
}

/// What this machine is and how fast it can go.
public struct MachineInfo: Codable, Equatable, Sendable {
    /// Bumped when the measurements change meaning; a cache with another schema is re-measured.
    /// 2: the bandwidths are the best of 1, 4 and 8 read streams per thread (`Peak.readPatterns`; 1: one stream).
    public static let currentSchema = 2
    public var schema: Int
    public var fingerprint: String
    /// ISO 8601 time of the measurement.
    public var measuredAt: String
    /// "release" (optimised) or "debug" (-Onone): a debug build's measurements are rough and never cached.
    public var build: String
    public var cpuModel: String
    public var architecture: String
    /// Online logical CPUs.
    public var logicalCores: Int
    /// CPUs this process may run on (its affinity mask).
    public var usableCPUs: [Int]
    /// SIMD-related flags from /proc/cpuinfo (sse4_2, avx2, fma, avx512f, ...), in a fixed order.
    public var simdFlags: [String]
    public var caches: [CacheInfo]
    /// Best single-thread FP32 FMA rate, GFLOP/s (SIMD16 loop, 12 accumulators).
    public var fmaPeakGFLOPS: Double
    /// Best read bandwidth of one thread, GB/s (the best read pattern, `Peak.readBandwidthGBs`).
    public var readBandwidthGBs: Double
    /// Best read bandwidth of `bandwidthThreads` threads (one per usable CPU), GB/s.
    public var readBandwidthAllGBs: Double
    public var bandwidthThreads: Int
    /// Size of the buffer read by the bandwidth test.
    public var bandwidthBytes: Int
    public var warnings: [BenchWarning]

    public var usableCores: Int { max(1, usableCPUs.count) }

    /// Whether these facts may be cached: measured by optimised code compiled for this CPU.
    public var cacheable: Bool {
        build == "release" && !warnings.contains { $0.kind == .machine && $0.message.contains("-target-cpu native") }
    }

    /// The FMA peak of `threads` threads (one core each, at most the usable cores), GFLOP/s.
    public func peakGFLOPS(threads: Int) -> Double {
        fmaPeakGFLOPS * Double(min(max(1, threads), usableCores))
    }

    /// The read bandwidth available to `threads` threads: one thread's, or all cores' for more.
    public func bandwidthGBs(threads: Int) -> Double {
        threads <= 1 ? readBandwidthGBs : readBandwidthAllGBs
    }

    /// flop per byte at which a kernel on `threads` threads stops being memory-bound.
    public func balance(threads: Int) -> Double { peakGFLOPS(threads: threads) / bandwidthGBs(threads: threads) }

    /// The largest cache's size in bytes (the last-level cache), nil when /sys did not say.
    public var lastLevelCacheBytes: Int? { Machine.lastLevelCacheBytes(caches) }

    /// The human-readable facts, one per line (`workbench machine`).
    public var text: String {
        var s = ""
        func line(_ k: String, _ v: String) { s += k.padding(toLength: 16, withPad: " ", startingAt: 0) + v + "\n" }
        line("cpu", "\(cpuModel) (\(architecture))")
        line("cores", "\(logicalCores) logical, \(usableCores) usable (CPUs \(Machine.cpuList(usableCPUs)))")
        line("simd", simdFlags.isEmpty ? "(none listed)" : simdFlags.joined(separator: " "))
        if !caches.isEmpty {
            line("caches", caches.map { c in
                let name = "L\(c.level)" + (c.type == "Data" ? "d" : c.type == "Instruction" ? "i" : "")
                return "\(name) \(Machine.bytes(c.bytes))" + (c.sharedBy > 1 ? " (shared by \(c.sharedBy))" : "")
            }.joined(separator: ", "))
        }
        line("fp32 fma peak", String(format: "%.1f GFLOP/s on one core (SIMD16, %d accumulators, best run); %.1f on %d cores",
                                     fmaPeakGFLOPS, Peak.fmaAccumulators, peakGFLOPS(threads: usableCores), usableCores))
        line("read bandwidth", String(format: "%.1f GB/s one thread, %.1f GB/s %d threads (reading %@ as 1, 4 or 8 streams per thread, best pass)",
                                      readBandwidthGBs, readBandwidthAllGBs, bandwidthThreads, Machine.bytes(bandwidthBytes) as NSString))
        line("balance", String(format: "%.1f flop/byte on one core (above it a kernel is compute-bound)", balance(threads: 1)))
        line("measured", "\(measuredAt) by a \(build) build")
        for w in warnings { line("warning", w.message) }
        return s
    }
}

/// Reading the machine: static facts, measurement, and the JSON cache.
public enum Machine {
    /// Whether this module was compiled without optimisation (-Onone): its measurement loops are then far
    /// too slow to say anything about the machine.
    public static var isUnoptimizedBuild: Bool { _isDebugAssertConfiguration() }

    /// The cache file: machine.json in the cache folder (`CacheFolder`: $WORKBENCH_CACHE, else
    /// $XDG_CACHE_HOME/workbench, else ~/.cache/workbench).
    public static var cachePath: String { CacheFolder.file("machine.json") }

    /// The cached facts if they belong to this machine, else fresh measurements (saved unless they come from
    /// an unoptimised build or from loops not compiled for this CPU). `log` hears about measuring and about
    /// a cache that cannot be written.
    public static func current(refresh: Bool = false, path: String = Machine.cachePath,
                               log: (String) -> Void = { _ in }) -> MachineInfo {
        if !refresh, let cached = load(path: path) { return cached }
        log("measuring the machine's FMA peak and memory bandwidth (a few seconds)...")
        let info = measure()
        if info.cacheable {
            do { try save(info, path: path) } catch { log("cannot cache machine facts at \(path): \(error.localizedDescription)") }
        } else {
            log("not caching these machine facts: \(info.build == "release" ? "the FMA loop was not compiled for this CPU" : "measured by an unoptimised build")")
        }
        return info
    }

    /// The facts cached at `path`, or nil if absent, unreadable, of another schema or another machine.
    public static func load(path: String) -> MachineInfo? {
        guard let data = FileManager.default.contents(atPath: path),
              let info = try? JSONDecoder().decode(MachineInfo.self, from: data),
              info.schema == MachineInfo.currentSchema, info.fingerprint == fingerprint() else { return nil }
        return info
    }

    /// Writes `info` to `path` (creating the folder; through a temporary file renamed into place).
    public static func save(_ info: MachineInfo, path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = URL(fileURLWithPath: path + ".tmp.\(getpid())")
        try ToolJSON.data(info).write(to: tmp)
        if rename(tmp.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: tmp)
            throw CocoaError(.fileWriteUnknown)
        }
    }

    /// Identifies the hardware a cache belongs to: CPU model, logical cores, architecture.
    public static func fingerprint() -> String {
        "\(cpuModel()) | \(logicalCores()) logical cores | \(architecture())"
    }

    /// Static facts plus the two measured limits. A debug build measures less (and says so).
    public static func measure() -> MachineInfo {
        let debug = isUnoptimizedBuild
        let usable = usableCPUs()
        let nth = max(1, usable.count)
        // the buffer read: at least 256 MiB and 4x the last-level cache, so every pass comes from memory
        let bytes = debug ? 32 << 20 : max(256 << 20, 4 * (lastLevelCacheBytes() ?? 0))
        let load = loadAverage()
        let fma = debug ? Peak.fmaGFLOPS(repeats: 2) : Peak.fmaGFLOPS()
        let bw1 = Peak.readBandwidthGBs(bytes: bytes, threads: 1, repeats: debug ? 1 : 4)
        let bwAll = nth == 1 ? bw1 : Peak.readBandwidthGBs(bytes: bytes, threads: nth, repeats: debug ? 1 : 6)
        let flags = simdFlags()
        var warnings: [BenchWarning] = []
        if debug {
            warnings.append(BenchWarning(.machine, "measured by a debug build: the FMA peak and bandwidth are far below the machine's (not cached)"))
        } else if fma < 8 && flags.contains("fma") {
            warnings.append(BenchWarning(.machine, String(format: "FMA peak %.1f GFLOP/s is implausibly low for a CPU with FMA: the Bench target was not compiled with -target-cpu native (not cached)", fma)))
        }
        if let load, load > 0.5 * Double(logicalCores()) {
            warnings.append(BenchWarning(.machine, String(format: "the machine was busy while measuring (load average %.1f on %d CPUs): the limits may be underestimated; run `workbench machine --refresh` when it is idle", load, logicalCores())))
        }
        let iso = ISO8601DateFormatter()
        return MachineInfo(
            schema: MachineInfo.currentSchema, fingerprint: fingerprint(), measuredAt: iso.string(from: Date()),
            build: debug ? "debug" : "release", cpuModel: cpuModel(), architecture: architecture(),
            logicalCores: logicalCores(), usableCPUs: usable, simdFlags: flags, caches: caches(),
            fmaPeakGFLOPS: fma, readBandwidthGBs: bw1, readBandwidthAllGBs: bwAll, bandwidthThreads: nth,
            bandwidthBytes: bytes, warnings: warnings)
    }

    // MARK: static facts

    /// The 1-minute load average (/proc/loadavg), if known.
    public static func loadAverage() -> Double? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.flatMap { Double($0) }
    }

    /// The first processor's fields of /proc/cpuinfo ("model name", "flags", ...).
    public static func cpuinfo(_ text: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> [String: String] {
        var fields: [String: String] = [:]
        for line in (text ?? "").split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { if !fields.isEmpty { break } else { continue } }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        return fields
    }

    public static func cpuModel() -> String {
        let f = cpuinfo()
        return f["model name"] ?? f["Model"] ?? f["Hardware"] ?? "unknown CPU"
    }

    public static func architecture() -> String {
        #if arch(x86_64)
        return "x86_64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "other"
        #endif
    }

    public static func logicalCores() -> Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// The flags worth knowing for SIMD code, in this order, when /proc/cpuinfo lists them.
    public static let interestingFlags = [
        "sse2", "ssse3", "sse4_1", "sse4_2", "avx", "f16c", "fma", "avx2",
        "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
        "amx_tile", "amx_bf16", "neon", "asimd", "asimddp", "sve",
    ]

    /// SIMD flags of this CPU (x86 "flags" or ARM "Features" of /proc/cpuinfo).
    public static func simdFlags(cpuinfo fields: [String: String] = cpuinfo()) -> [String] {
        let have = Set((fields["flags"] ?? fields["Features"] ?? "").split(separator: " ").map(String.init))
        return interestingFlags.filter { have.contains($0) }
    }

    /// CPUs this process may run on: Cpus_allowed_list of /proc/self/status, else all online CPUs.
    public static func usableCPUs() -> [Int] {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
           let list = parseCPUList(String(line.dropFirst("Cpus_allowed_list:".count))), !list.isEmpty {
            return list
        }
        return Array(0..<logicalCores())
    }

    /// The largest data or unified cache of `caches` (default: this machine's), nil when none is known.
    public static func lastLevelCacheBytes(_ caches: [CacheInfo] = Machine.caches()) -> Int? {
        caches.filter { $0.type != "Instruction" }.map(\.bytes).max()
    }

    /// "32 MiB" for 32 << 20 (exact binary units, else bytes).
    public static func bytes(_ n: Int) -> String {
        if n >= 1 << 30 && n % (1 << 30) == 0 { return "\(n >> 30) GiB" }
        if n >= 1 << 20 && n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1 << 10 && n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
        return "\(n) B"
    }

    /// "0-3,8" for [0, 1, 2, 3, 8] (the inverse of `parseCPUList`).
    public static func cpuList(_ cpus: [Int]) -> String {
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

    /// Parses a kernel CPU list like "0-3,8,10-11"; nil when malformed.
    public static func parseCPUList(_ s: String) -> [Int]? {
        var out: [Int] = []
        for part in s.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            if ends.count == 1, let v = Int(ends[0]) { out.append(v) }
            else if ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), a <= b { out += Array(a...b) }
            else { return nil }
        }
        return out
    }

    /// Parses a /sys cache size like "32K", "1024K", "32M"; nil when malformed.
    public static func parseSize(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let last = t.last else { return nil }
        let mult: Int
        switch last {
        case "K", "k": mult = 1 << 10
        case "M", "m": mult = 1 << 20
        case "G", "g": mult = 1 << 30
        default: return Int(t)
        }
        return Int(t.dropLast()).map { $0 * mult }
    }

    /// The caches of CPU 0, by level then type.
    public static func caches(root: String = "/sys/devices/system/cpu/cpu0/cache") -> [CacheInfo] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        func read(_ dir: String, _ file: String) -> String? {
            (try? String(contentsOfFile: "\(root)/\(dir)/\(file)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var out: [CacheInfo] = []
        for dir in names.sorted() where dir.hasPrefix("index") {
            guard let level = read(dir, "level").flatMap({ Int($0) }), let type = read(dir, "type"),
                  let bytes = read(dir, "size").flatMap(parseSize) else { continue }
            let shared = read(dir, "shared_cpu_list").flatMap(parseCPUList)?.count ?? 1
            out.append(CacheInfo(level: level, type: type, bytes: bytes, sharedBy: shared))
        }
        return out.sorted { ($0.level, $0.type) < ($1.level, $1.type) }
    }
}
