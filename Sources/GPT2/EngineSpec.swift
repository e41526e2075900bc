import Foundation
import Kernels

/// A bad engine configuration: one line saying what is wrong.
public struct EngineSpecError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An engine configuration as users write it, the one parser that run, profile (and its perf child),
/// compare --engine and scale share:
///   matmul=NAME             every matmul site's variant
///   qkv|attproj|fc|fcproj|lmhead=NAME   one site's variant (wins over matmul=, whatever the order)
///   attention=NAME, threads=K (1...256), pin | pin=true|false, kernels=auto (the tuning file's choice)
/// e.g. `matmul=tiled,qkv=simd,threads=2,pin`. An empty spec or `default` means the engine's defaults. A matmul
/// NAME may be a shared library (`matmul=./libmine.so[:SYMBOL]`, see `MatmulVariants.resolve`).
public struct EngineSpec: Sendable {
    /// The spec as written ("default" for the defaults).
    public var text: String
    public var options: EngineOptions
    /// Whether `kernels=auto` asked for the tuning file's choice (applied by `applyTuning`).
    public var tuned: Bool

    /// The engine's defaults: the default variants on every usable core, no pinning, timers on.
    public static func defaults(threads: Int? = nil) -> EngineOptions {
        EngineOptions(matmul: try! MatmulVariants.resolve(MatmulVariants.defaultName),
                      attention: try! AttentionVariants.resolve(AttentionVariants.defaultName),
                      threads: threads ?? CPUAffinity.usableCores, pin: false, timers: true)
    }

    /// Parses `text` over `base` (the values of keys the spec does not name).
    public static func parse(_ text: String, base: EngineOptions = EngineSpec.defaults()) throws -> EngineSpec {
        var o = base
        var tuned = false
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed == "default" { return EngineSpec(text: "default", options: o, tuned: false) }
        var sites: [(MatmulSite, MatmulVariant)] = []
        func variant<V>(_ resolve: (String) throws -> V, _ v: String) throws -> V {
            do { return try resolve(v) }
            catch let e as SharedLibraryError { throw e }  // already one line naming the library
            catch { throw EngineSpecError("engine spec '\(text)': \(error)") }
        }
        for item in trimmed.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let key = kv[0], value = kv.count == 2 ? kv[1] : nil
            switch (key, value) {
            case ("matmul", let v?):
                let m = try variant(MatmulVariants.resolve, v)
                for s in MatmulSite.allCases { o.matmul[s] = m }
            case ("attention", let v?): o.attention = try variant(AttentionVariants.resolve, v)
            case ("threads", let v?):
                guard let t = Int(v), (1...256).contains(t) else {
                    throw EngineSpecError("engine spec '\(text)': threads must be an integer in 1...256, got '\(v)'")
                }
                o.threads = t
            case ("pin", nil), ("pin", "true"), ("pin", "1"): o.pin = true
            case ("pin", "false"), ("pin", "0"): o.pin = false
            case ("kernels", "auto"): tuned = true
            case (let k, let v?) where MatmulSite(rawValue: k) != nil:
                sites.append((MatmulSite(rawValue: k)!, try variant(MatmulVariants.resolve, v)))
            default:
                throw EngineSpecError("engine spec '\(text)': cannot read '\(item)' (use key=value with keys matmul, attention, \(MatmulSite.allCases.map(\.rawValue).joined(separator: ", ")), threads, pin, kernels=auto)")
            }
        }
        for (site, v) in sites { o.matmul[site] = v }
        return EngineSpec(text: trimmed, options: o, tuned: tuned)
    }

    /// With `kernels=auto`: the tuning file's per-site choice over the options, when it was made on this
    /// machine (`fingerprint`) for this model shape; otherwise `warn` says why it does not apply and the
    /// options stay as they are.
    public mutating func applyTuning(file path: String, config: GPT2Config, fingerprint: String, warn: (String) -> Void) throws {
        guard tuned else { return }
        let t = try TuningFile.load(path)
        if let why = t.mismatch(config: config, fingerprint: fingerprint) {
            warn("workbench: \(path) does not apply (\(why)); using the default kernels")
            return
        }
        for (site, name) in t.matmul { options.matmul[MatmulSite(rawValue: site)!] = try MatmulVariants.resolve(name) }
        if let a = t.attention { options.attention = try AttentionVariants.resolve(a) }
    }
}

extension CPUAffinity {
    /// The CPUs this process may run on (sched_getaffinity), at least 1.
    public static var usableCores: Int {
        let n = current().count
        return n > 0 ? n : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}
