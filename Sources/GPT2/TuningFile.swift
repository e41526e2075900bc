import Basics
import Foundation
import Kernels

/// What `workbench tune` chose (Profiles/tune.json): the variant per matmul site and for attention, with the
/// measurements behind the choice, the machine and the model shape they were made on.
public struct TuningFile: Codable, Sendable {
    public static let defaultPath = "Profiles/tune.json"
    public struct Measurement: Codable, Sendable {
        public var kernel: String
        public var site: String?
        public var T: Int
        public var variant: String
        public var correct: Bool
        /// The variant's normalised error against the reference (`KernelError`).
        public var maxRelError: Double
        /// nil for variants not timed (wrong, or dropped by the screening).
        public var medianNs: Double?
        public init(kernel: String, site: String?, T: Int, variant: String, correct: Bool, maxRelError: Double, medianNs: Double? = nil) {
            self.kernel = kernel; self.site = site; self.T = T; self.variant = variant; self.correct = correct
            self.maxRelError = maxRelError; self.medianNs = medianNs
        }
    }
    public var schema: Int?
    public var fingerprint: String
    public var date: String
    public var threads: Int
    public var tokenCounts: [Int]
    public var model: String
    /// The model shape the choice was measured for (nil in files written before it was recorded).
    public var config: GPT2Config?
    /// Site name (qkv, attproj, fc, fcproj, lmhead) to variant name.
    public var matmul: [String: String]
    public var attention: String?
    public var measurements: [Measurement]

    public static let currentSchema = 2

    public init(fingerprint: String, date: String, threads: Int, tokenCounts: [Int], model: String, config: GPT2Config,
                matmul: [String: String] = [:], attention: String? = nil, measurements: [Measurement] = []) {
        schema = TuningFile.currentSchema
        self.fingerprint = fingerprint; self.date = date; self.threads = threads; self.tokenCounts = tokenCounts
        self.model = model; self.config = config; self.matmul = matmul; self.attention = attention; self.measurements = measurements
    }

    public mutating func record(kernel: String, site: String?, T: Int, medians: [String: Double]) {
        for i in measurements.indices where measurements[i].kernel == kernel && measurements[i].site == site && measurements[i].T == T {
            measurements[i].medianNs = medians[measurements[i].variant]
        }
    }

    /// Why the file does not apply to this machine and model (nil when it does).
    public func mismatch(config c: GPT2Config, fingerprint fp: String) -> String? {
        if fingerprint != fp { return "tuned on '\(fingerprint)', this machine is '\(fp)'" }
        guard let mine = config else { return "it does not record the model shape it was tuned for; re-run `workbench tune`" }
        if mine != c { return "tuned for C=\(mine.C) L=\(mine.L) V=\(mine.V), this model has C=\(c.C) L=\(c.L) V=\(c.V)" }
        if matmul.isEmpty && attention == nil { return "it chooses no variant" }
        return nil
    }

    public func save(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try ToolJSON.data(self).write(to: url)
        } catch { throw EngineSpecError("cannot write \(path): \(error.localizedDescription)") }
    }

    /// Reads and checks a tuning file: one-line errors for a missing, corrupt or inconsistent file.
    public static func load(_ path: String) throws -> TuningFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EngineSpecError("no tuning at \(path): run `workbench tune` first (or name a file with --tune-file)")
        }
        let f: TuningFile
        do { f = try JSONDecoder().decode(TuningFile.self, from: data) }
        catch { throw EngineSpecError("\(path) is not a valid tuning file (\(error.localizedDescription)): re-run `workbench tune`") }
        for (site, name) in f.matmul {
            guard MatmulSite(rawValue: site) != nil else { throw EngineSpecError("\(path): unknown matmul site '\(site)'") }
            // resolve, not named: a tuned choice may be a shared library (loaded here, once)
            do { _ = try MatmulVariants.resolve(name) }
            catch let e as SharedLibraryError { throw EngineSpecError("\(path): the choice for \(site) is unusable: \(e)") }
            catch { throw EngineSpecError("\(path): unknown matmul variant '\(name)' for \(site)") }
        }
        if let a = f.attention, AttentionVariants.named(a) == nil { throw EngineSpecError("\(path): unknown attention variant '\(a)'") }
        return f
    }

    public func text() -> String {
        var s = "tuned on \(fingerprint), \(threads) thread(s), token counts \(tokenCounts.map(String.init).joined(separator: ",")), model \(model)\n\n"
        func rows(_ kernel: String, _ site: String?) -> String {
            var r = ""
            for T in tokenCounts {
                let ms = measurements.filter { $0.kernel == kernel && $0.site == site && $0.T == T }
                let best = ms.compactMap(\.medianNs).min() ?? .nan
                r += "  T=\(T):"
                for m in ms {
                    if !m.correct { r += "  \(m.variant) WRONG"; continue }
                    guard let v = m.medianNs else { r += "  \(m.variant) (screened out)"; continue }
                    r += String(format: "  %@ %.3f ms (%.2fx)", m.variant as NSString, v / 1e6, v / best)
                }
                r += "\n"
            }
            return r
        }
        for site in MatmulSite.allCases.map(\.rawValue) {
            s += "matmul \(site): \(matmul[site] ?? "none correct")\n" + rows("matmul", site)
        }
        s += "attention: \(attention ?? "none correct")\n" + rows("attention", nil)
        return s
    }
}
