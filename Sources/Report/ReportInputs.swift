// Adapters: the project's own result types and the JSON files the other verbs write -> the report's sections
// (ReportDocument.swift). The only file of this target that knows those types and formats, so that when they
// change only this file changes.
//
//   kind         written by                                  detected by keys            section(s)
//   machine      workbench machine --json                    fingerprint, fmaPeakGFLOPS  machine, roofline roofs
//   compare      workbench compare ... --json (Lab's          schema, kind, a, b          compare, roofline points
//                CompareReport)
//   kernels      workbench kernels --time --json (Lab's       schema, tables, machine     roofline points
//                KernelTimingReport)
//   scale        workbench scale --json (Lab's ScaleReport)  points, usableCores         scaling
//   profile      workbench profile --json                    metadata, stacks            flame graph, op breakdown
//   profile run  Profiles/runs/<stamp>-<backend>.json+.folded backend, requestedHz        flame graph, op breakdown
//   folded       --folded FILE, *.folded                     (file name)                 flame graph
//   timings      workbench run --timings-json FILE           forwards, forwardMs, ops    op breakdown
//   gate         workbench gate --report-json FILE           suite, rows, baselinePath   gate (baseline or A/B mode)
//   skipped      gate baselines (metrics), tuning files (matmul, attention, fingerprint): recognised, not drawn
import Bench
import Foundation
import GPT2
import Lab
import Profiling

/// A problem with the report's input or output: one line (`workbench: ...`, exit status 2).
public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum ReportInputs {
    // MARK: machine

    public static func machine(_ m: MachineInfo, source: SectionSource) -> MachineSection {
        MachineSection(cpuModel: m.cpuModel, architecture: m.architecture, logicalCores: m.logicalCores, usableCores: m.usableCores,
                       simdFlags: m.simdFlags,
                       caches: m.caches.map { .init(level: $0.level, type: $0.type, bytes: $0.bytes, sharedBy: $0.sharedBy) },
                       fmaPeakGFLOPS: m.fmaPeakGFLOPS, readBandwidthGBs: m.readBandwidthGBs, readBandwidthAllGBs: m.readBandwidthAllGBs,
                       bandwidthThreads: m.bandwidthThreads, measuredAt: m.measuredAt, build: m.build,
                       warnings: m.warnings.map(\.message), source: source)
    }

    /// The roofs of a roofline: one thread, and all usable cores when there are more. A roof's bandwidth is the
    /// larger of the machine's and a stream read of the same weights timed with the kernels (`streams`, by
    /// threads), as Lab's `Rates` takes it.
    public static func roofs(_ m: MachineSection, streams: [Int: Double] = [:]) -> [RooflineSection.Roof] {
        let n = max(1, m.usableCores)
        func bw(_ k: Int) -> Double { max(m.bandwidthGBs(threads: k), streams[k] ?? 0) }
        var r = [RooflineSection.Roof]()
        if n > 1 {
            r.append(.init(label: "\(n) threads", threads: n, peakGFLOPS: m.peakGFLOPS(threads: n), bandwidthGBs: bw(n)))
        }
        r.append(.init(label: "1 thread", threads: 1, peakGFLOPS: m.peakGFLOPS(threads: 1), bandwidthGBs: bw(1)))
        return r
    }

    // MARK: profiles

    /// A profile section from a StackProfile: its stacks and the hottest frames by self samples.
    public static func profile(_ p: StackProfile, title: String, subtitle: String, seconds: Double?, top: Int = 15,
                               source: SectionSource) -> ProfileSection {
        let flat = Reports.flat(p, top: top)
        return ProfileSection(title: title, subtitle: subtitle, samples: p.total, seconds: seconds,
                              stacks: p.sorted.map { .init(frames: $0.stack, count: $0.count) },
                              top: flat.map { .init(name: $0.frame, selfPercent: $0.flatPercent, totalPercent: $0.cumPercent, stdErr: $0.flatStdErr) },
                              source: source)
    }

    static func stackProfile(_ p: ProfileSection) -> StackProfile {
        StackProfile(p.stacks.map { ($0.frames, $0.count) })
    }

    /// The flame graph of a profile as an element to inline in the page: the profiling library's interactive
    /// SVG (click to zoom, search), without an XML declaration, its ids and style scoped by `fg<index>`.
    public static func flameGraphElement(_ p: ProfileSection, index: Int) -> String {
        FlameGraph.svg(stackProfile(p), FlameGraph.Options(title: p.title, subtitle: p.subtitle, width: 1320,
                                                           standalone: false, idPrefix: "fg\(index)"))
    }

    // MARK: op breakdown

    /// One phase from per-op timers and, when the samples were tagged with the op running, the sample counts
    /// by tag (tag = Op.rawValue + 1; 0 = outside a forward pass), through the profiling library's op view.
    public static func opPhase(label: String, timings t: TimingsReport, byTag: [Int32: Int]?) -> OpPhase {
        let timers = t.ops.map { OpTimer(key: $0.op, name: $0.name, ms: $0.ms, percent: $0.percent) }
        guard let byTag else {
            return OpPhase(label: label, forwards: t.forwards, forwardMs: t.forwardMs, opsMs: t.opsMs, taggedSamples: nil,
                           untaggedSamples: nil, rows: rows(OpView.timerRows(timers)))
        }
        var sampled: [String?: Int] = [:]
        for (tag, n) in byTag {
            let key: String? = tag == 0 ? nil : (Op(rawValue: Int(tag) - 1)?.key ?? "tag \(tag)")
            sampled[key, default: 0] += n
        }
        let r = OpView.rows(timers: timers, sampled: sampled, names: Op.allCases.map { ($0.key, $0.name) })
        return OpPhase(label: label, forwards: t.forwards, forwardMs: t.forwardMs, opsMs: t.opsMs,
                       taggedSamples: sampled.filter { $0.key != nil }.values.reduce(0, +), untaggedSamples: sampled[nil] ?? 0, rows: rows(r))
    }

    static func rows(_ r: [OpShareRow]) -> [OpPhase.Row] {
        r.map { OpPhase.Row(key: $0.key, name: $0.name, timerMs: $0.timerMs, timerPercent: $0.timerPercent, samples: $0.samples,
                            sampledPercent: $0.sampledPercent, sampledStdErr: $0.sampledStdErr) }
    }

    /// One phase from the op view of a saved profile (`ProfileMetadata.ops`).
    public static func opPhase(label: String, rows: [OpShareRow], samples: Int?) -> OpPhase {
        let r = self.rows(rows)
        let tagged = rows.compactMap(\.samples).reduce(0, +)
        return OpPhase(label: label, forwards: nil, forwardMs: nil, opsMs: nil,
                       taggedSamples: rows.contains { $0.samples != nil } ? tagged : nil,
                       untaggedSamples: samples.map { max(0, $0 - tagged) }, rows: r)
    }

    // MARK: gate

    public static func gate(_ g: GateReport, source: SectionSource) -> GateSection {
        GateSection(summary: g.summaryLine, passed: g.exitCode == .success, mode: g.mode.rawValue, header: g.headerLines,
                    rows: g.rows.map { r in
                        let u = used(r, policy: g.abPolicy)
                        return GateSection.Row(name: r.name, baseline: r.baselineText, now: r.nowText, change: r.changeText, threshold: r.thresholdText,
                                               verdict: r.verdictText, status: r.verdict.rawValue, fails: r.verdict.fails, detail: r.detail,
                                               kind: r.kind.rawValue, used: u?.value, usedLow: u?.low, usedHigh: u?.high)
                    },
                    source: source)
    }

    /// The share of its yardstick a gate row's change used (see `GateSection.Row.used`), and its interval (A/B):
    /// the row's threshold when it has one (baseline mode), else the A/B policy's minimum effect.
    static func used(_ r: GateRow, policy: GateABPolicy?) -> (value: Double, low: Double?, high: Double?)? {
        guard r.verdict != .new, r.verdict != .dropped, r.verdict != .skipped else { return nil }
        let scale: Double?
        switch r.kind {
        case .ratio, .time, .instructions: scale = r.threshold?.relative ?? policy?.minimumEffect
        case .share: scale = r.threshold?.absolute ?? policy?.minimumSharePoints
        case .checksum:
            guard let c = r.change, let a = r.threshold?.absolute, a > 0 else { return nil }
            return (abs(c) / a, nil, nil)
        case .bound:
            guard let n = r.now, let a = r.threshold?.absolute, a > 0 else { return nil }
            return (n / a, nil, nil)
        case .exact: return nil
        }
        guard let c = r.change, c.isFinite, let k = scale, k > 0 else { return nil }
        return (c / k, r.low.map { $0 / k }, r.high.map { $0 / k })
    }

    // MARK: compare --json, kernels --time --json, scale --json (Lab's reports)

    /// The scaling section of `workbench scale --json` (Lab's `ScaleReport`).
    public static func scaling(_ s: ScaleReport, source: SectionSource) -> ScalingSection {
        var warnings = s.warnings
        if !s.pinnedSeconds.isEmpty, let a = Stats.median(s.unpinnedSeconds), let b = Stats.median(s.pinnedSeconds) {
            warnings.append(String(format: "pinning: unpinned median %.2f ms, pinned %.2f ms (ratio %.3f)", a * 1e3, b * 1e3, b / a))
        }
        return ScalingSection(workload: s.workload, engine: s.engine.replacingOccurrences(of: " threads=1", with: ""),
                              points: s.points.map { .init(threads: $0.threads, seconds: $0.seconds) },
                              serialFraction: s.serialFraction, usableCores: s.usableCores, cpusReported: s.cpusReported,
                              warnings: warnings, source: source)
    }

    /// A shape's short name: "fc T=64" for a site, else "T=64 C=768 OC=3072".
    static func shapeName(kind: String, shape: [String: Int], site: String?) -> String {
        let t = shape["T"].map { "T=\($0)" } ?? ""
        if kind == "matmul" {
            if let site { return "\(site == "lmhead" ? "lm-head" : site) \(t)" }
            return "\(t) C=\(shape["C"] ?? 0) OC=\(shape["OC"] ?? 0)"
        }
        return shape.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    /// The command that measures the same comparison again.
    static func compareCommand(_ c: CompareReport) -> String {
        switch c.kind {
        case "matmul":
            return "workbench compare \(c.a.spec) \(c.b.spec) --shape \(c.shape["T"] ?? 0),\(c.shape["C"] ?? 0),\(c.shape["OC"] ?? 0) --threads \(c.threads) --json"
        case "attention":
            return "workbench compare \(c.a.spec) \(c.b.spec) --t \(c.shape["T"] ?? 0) --c \(c.shape["C"] ?? 0) --nh \(c.shape["NH"] ?? 0) --pos0 \(c.shape["pos0"] ?? 0) --threads \(c.threads) --json"
        default:
            return "workbench compare --engine '\(c.a.spec)' --engine '\(c.b.spec)' --json"
        }
    }

    /// The compare section of one `compare --json`: both sides' samples and the speedup with its interval.
    public static func distribution(_ c: CompareReport, file: String) -> DistributionSection {
        func side(_ s: CompareReport.Side, _ tag: String) -> DistributionSection.Side {
            .init(name: "\(tag) \(s.spec)", nanoseconds: s.samples?.nanoseconds ?? [], threads: s.threads,
                  problem: s.correct ? (s.samples == nil ? "not timed" : nil) : "WRONG against the reference (normalised error \(s.maxRelError.map { Fmt.sig($0, 2) } ?? "?")): not timed")
        }
        var speedups: [DistributionSection.Speedup] = []
        if let cmp = c.comparison {
            speedups.append(.init(a: "A \(c.a.spec)", b: "B \(c.b.spec)", speedup: cmp.speedup, low: cmp.speedupLow, high: cmp.speedupHigh,
                                  confidence: cmp.confidence, p: cmp.mannWhitney.p, verdict: cmp.verdict.rawValue))
        }
        var notes = (c.comparison?.warnings.map(\.message) ?? []) + c.problems
        if let w = c.weights { notes.append(w.text) }
        return DistributionSection(title: "\(c.kind) \(shapeName(kind: c.kind, shape: c.shape, site: c.site))",
                                   sides: [side(c.a, "A"), side(c.b, "B")], speedups: speedups, notes: notes,
                                   source: SectionSource(commands: [compareCommand(c)], files: [file]))
    }

    /// Roofline points of a matmul comparison's sides (their rates and intensity).
    static func rooflinePoints(_ c: CompareReport) -> [RooflineSection.Point] {
        guard c.kind == "matmul" else { return [] }
        return [c.a, c.b].compactMap { s in
            guard let g = s.gflops, let r = s.roofline else { return nil }
            return RooflineSection.Point(variant: s.spec.replacingOccurrences(of: "matmul:", with: ""),
                                         shape: shapeName(kind: c.kind, shape: c.shape, site: c.site), threads: s.threads,
                                         intensity: r.intensity, gflops: g, medianNs: s.samples.flatMap { Stats.median($0.nanoseconds) },
                                         problems: s.measurementProblems ?? [])
        }
    }

    /// Roofline points of `kernels --time --json`: every timed matmul variant of every table.
    static func rooflinePoints(_ k: KernelTimingReport) -> [RooflineSection.Point] {
        k.tables.filter { $0.work.kind == "matmul" }.flatMap { t in
            t.rows.compactMap { r -> RooflineSection.Point? in
                guard let rt = r.rates, let roof = rt.roofline else { return nil }
                return RooflineSection.Point(variant: r.variant, shape: shapeName(kind: "matmul", shape: t.work.shape, site: t.work.site),
                                             threads: r.threads, intensity: roof.intensity, gflops: rt.gflops, medianNs: r.medianNs,
                                             problems: rt.problems)
            }
        }
    }

    /// Stream-read rates by threads found in saved reports (the larger when several).
    static func streams(_ s: [CompareReport.StreamRate]) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for r in s { out[r.threads] = max(out[r.threads] ?? 0, r.gbs) }
        return out
    }

    // MARK: saved results (--from DIR)

    /// What a folder of saved results holds, by kind.
    public struct Saved {
        public var machine: [(file: String, info: MachineInfo)] = []
        public var profiles: [(file: String, section: ProfileSection, ops: [OpShareRow]?, date: String)] = []
        public var timings: [(file: String, report: TimingsReport)] = []
        public var gates: [(file: String, report: GateReport)] = []
        public var skipped: [String] = []
        var compareData: [(String, CompareReport)] = []
        var scaleData: [(String, ScaleReport)] = []
        var kernelData: [(String, KernelTimingReport)] = []
        /// Files read, by kind (for messages and tests).
        public var compareFiles: [String] { compareData.map(\.0) }
        public var scaleFiles: [String] { scaleData.map(\.0) }
        public var kernelFiles: [String] { kernelData.map(\.0) }
        public var isEmpty: Bool {
            machine.isEmpty && compareData.isEmpty && scaleData.isEmpty && kernelData.isEmpty && profiles.isEmpty && timings.isEmpty && gates.isEmpty
        }
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    /// The kinds the report reads, for error messages.
    public static let knownKinds = "machine --json, compare --json, kernels --time --json, scale --json, profile --json or a saved profile (.folded + .json), run --timings-json, gate --report-json"

    /// Reads every *.json and *.folded file in `dir` and its subfolders (two levels), by kind. Throws
    /// `ReportError` for a missing folder, an unreadable or garbled file, a JSON of a kind the report does not
    /// read, or a folder with nothing the report can use.
    public static func load(directory dir: String) throws -> Saved {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else { throw ReportError("--from \(dir): no such folder") }
        guard isDir.boolValue else { throw ReportError("--from \(dir): not a folder (give the folder that holds the saved JSON files)") }
        var files: [String] = []
        func scan(_ d: String, depth: Int) {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: d) else { return }
            for n in names.sorted() where !n.hasPrefix(".") {
                let p = d == "." ? n : "\(d)/\(n)"
                var sub: ObjCBool = false
                guard FileManager.default.fileExists(atPath: p, isDirectory: &sub) else { continue }
                if sub.boolValue { if depth < 2 { scan(p, depth: depth + 1) } }
                else if n.hasSuffix(".json") || n.hasSuffix(".folded") { files.append(p) }
            }
        }
        scan(dir, depth: 0)
        var saved = Saved()
        let jsonFiles = Set(files.filter { $0.hasSuffix(".json") })
        for f in files {
            if f.hasSuffix(".folded") {
                // Saved runs pair <stem>.folded with <stem>.json (read with the JSON).
                if jsonFiles.contains(String(f.dropLast(".folded".count)) + ".json") { continue }
                let p: StackProfile
                do { p = try Folded.read(path: f) } catch { throw ReportError("\(error)") }
                let name = (f as NSString).lastPathComponent
                saved.profiles.append((f, profile(p, title: "Flame graph of \(name)", subtitle: "\(p.total) samples (folded stacks, no metadata)",
                                                  seconds: nil, source: SectionSource(files: [f])), nil, modificationDate(f)))
                continue
            }
            try read(json: f, into: &saved)
        }
        if saved.isEmpty {
            throw ReportError("--from \(dir): none of the files the report reads (\(knownKinds))" + (saved.skipped.isEmpty ? "" : "; only \(saved.skipped.joined(separator: ", "))"))
        }
        return saved
    }

    static func modificationDate(_ path: String) -> String {
        let d = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date ?? Date(timeIntervalSince1970: 0)
        return ProfileMetadata.iso8601(d)
    }

    /// Reads one JSON file into `saved` by its kind (see the table at the top of this file).
    static func read(json f: String, into saved: inout Saved) throws {
        guard let data = FileManager.default.contents(atPath: f) else { throw ReportError("\(f): cannot read") }
        guard let any = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw ReportError("\(f): not valid JSON")
        }
        guard let obj = any as? [String: Any] else {
            throw ReportError("\(f): a JSON \(any is [Any] ? "array" : "value"), not one of the reports the report reads (\(knownKinds))")
        }
        let keys = Set(obj.keys)
        func decode<T: Decodable>(_ type: T.Type, _ kind: String) throws -> T {
            do { return try decoder().decode(T.self, from: data) } catch {
                throw ReportError("\(f): looks like \(kind) but does not decode: \(describe(error))")
            }
        }
        if keys.isSuperset(of: ["fingerprint", "fmaPeakGFLOPS"]) {
            saved.machine.append((f, try decode(MachineInfo.self, "`workbench machine --json`")))
        } else if keys.isSuperset(of: ["kind", "a", "b", "machine"]) {
            guard keys.contains("schema") else {
                throw ReportError("\(f): `workbench compare --json` of an older workbench (no schema): run the comparison again")
            }
            saved.compareData.append((f, try decode(CompareReport.self, "`workbench compare --json`")))
        } else if keys.isSuperset(of: ["tables", "machine"]) {
            saved.kernelData.append((f, try decode(KernelTimingReport.self, "`workbench kernels --time --json`")))
        } else if keys.isSuperset(of: ["points", "usableCores"]) {
            guard keys.contains("schema") else {
                throw ReportError("\(f): `workbench scale --json` of an older workbench (no schema): run it again")
            }
            saved.scaleData.append((f, try decode(ScaleReport.self, "`workbench scale --json`")))
        } else if keys.isSuperset(of: ["metadata", "stacks"]) {
            let r = try decode(ProfileReport.self, "`workbench profile --json`")
            var p = StackProfile()
            for l in r.stacks { p.add(l.stack, count: l.count) }
            saved.profiles.append((f, profileSection(p, meta: r.metadata, files: [f]), r.ops ?? r.metadata.ops, r.metadata.date))
        } else if keys.isSuperset(of: ["backend", "requestedHz", "samples", "command"]) {
            let meta = try decode(ProfileMetadata.self, "a saved profile's metadata")
            let folded = String(f.dropLast(".json".count)) + ".folded"
            guard FileManager.default.fileExists(atPath: folded) else {
                throw ReportError("\(f): a saved profile's metadata without its stacks (\((folded as NSString).lastPathComponent) is missing)")
            }
            let p: StackProfile
            do { p = try Folded.read(path: folded) } catch { throw ReportError("\(error)") }
            saved.profiles.append((f, profileSection(p, meta: meta, files: [folded, f]), meta.ops, meta.date))
        } else if keys.isSuperset(of: ["forwards", "forwardMs", "ops"]) {
            saved.timings.append((f, try decode(TimingsReport.self, "`workbench run --timings-json`")))
        } else if keys.isSuperset(of: ["suite", "rows", "baselinePath"]) {
            guard keys.contains("schema") && keys.contains("mode") else {
                throw ReportError("\(f): a gate report of an older workbench (no schema/mode): run `workbench gate --report-json FILE` again")
            }
            saved.gates.append((f, try decode(GateReport.self, "`workbench gate --report-json`")))
        } else if keys.isSuperset(of: ["suite", "metrics", "environment"]) {
            saved.skipped.append("\(f) (a gate baseline, not a verdict: run `workbench gate --report-json FILE`)")
        } else if keys.contains("fingerprint") && keys.contains("matmul") {
            saved.skipped.append("\(f) (a tuning file)")
        } else {
            let schema = (obj["schema"] as? String).map { " with schema \"\($0)\"" } ?? ""
            throw ReportError("\(f): a JSON\(schema) the report does not read (keys: \(keys.sorted().prefix(6).joined(separator: ", "))); it reads \(knownKinds)")
        }
    }

    static func describe(_ e: Error) -> String {
        switch e {
        case DecodingError.keyNotFound(let k, let c): return "missing \"\((c.codingPath + [k]).map(\.stringValue).joined(separator: "."))\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c):
            return "bad value at \"\(c.codingPath.map(\.stringValue).joined(separator: "."))\""
        default: return "\(e)"
        }
    }

    static func profileSection(_ p: StackProfile, meta: ProfileMetadata, files: [String]) -> ProfileSection {
        var sub = "\(meta.backend) backend"
        if let c = meta.clock { sub += ", \(c) clock" }
        sub += ", \(Fmt.sig(meta.requestedHz)) Hz requested, \(meta.samples) samples in \(Fmt.sig(meta.seconds)) s"
        if let e = meta.engine { sub += "; \(e)" }
        if let w = meta.workload { sub += "; \(w)" }
        return profile(p, title: "workbench profile (\(meta.backend)), \(meta.date)", subtitle: sub, seconds: meta.seconds,
                       source: SectionSource(commands: [meta.command.joined(separator: " ")], files: files))
    }

    /// The report's sections from saved results: every compare, scale and timings file, the newest profiles
    /// (up to `maxProfiles`) and gate verdict, the newest machine facts (else a compare file's).
    public static func document(_ s: Saved, provenance: ReportProvenance, maxProfiles: Int = 3) -> ReportDocument {
        var doc = ReportDocument(title: "workbench report", provenance: provenance)
        let machineInfo = s.machine.max { $0.info.measuredAt < $1.info.measuredAt }
            ?? s.compareData.last.map { ($0.0, $0.1.machine) } ?? s.kernelData.last.map { ($0.0, $0.1.machine) }
        if let (file, info) = machineInfo {
            doc.machine = machine(info, source: SectionSource(commands: ["workbench machine --json"], files: [file]))
        }
        let profiles = s.profiles.sorted { $0.date > $1.date }
        doc.profiles = profiles.prefix(maxProfiles).map(\.section)
        if profiles.count > maxProfiles {
            doc.notes.append("\(profiles.count - maxProfiles) older profile(s) not drawn: " + profiles.dropFirst(maxProfiles).map(\.file).joined(separator: ", "))
        }
        var phases: [OpPhase] = []
        var opFiles: [String] = []
        for p in profiles.prefix(maxProfiles) where !(p.ops ?? []).isEmpty {
            phases.append(opPhase(label: "profile \(p.date)", rows: p.ops!, samples: p.section.samples))
            opFiles.append(p.file)
        }
        for t in s.timings {
            let stem = ((t.file as NSString).lastPathComponent as NSString).deletingPathExtension
            phases.append(opPhase(label: stem, timings: t.report, byTag: nil))
            opFiles.append(t.file)
        }
        if !phases.isEmpty {
            doc.ops = OpSection(phases: phases, source: SectionSource(commands: ["workbench run --timings-json FILE 31373 612", "workbench profile --json"], files: opFiles))
        }
        var points: [RooflineSection.Point] = []
        var roofFiles: [String] = []
        var streamRates: [CompareReport.StreamRate] = []
        var roofCommands = s.compareData.filter { $0.1.kind == "matmul" }.map { compareCommand($0.1) }
        for (f, c) in s.compareData {
            doc.distributions.append(distribution(c, file: f))
            let p = rooflinePoints(c)
            if !p.isEmpty { points += p; roofFiles.append(f); streamRates += c.streams ?? [] }
        }
        for (f, k) in s.kernelData {
            let p = rooflinePoints(k)
            if !p.isEmpty { points += p; roofFiles.append(f); streamRates += k.tables.flatMap { $0.streams ?? [] } }
            roofCommands.append("workbench kernels --time --json")
        }
        if let m = doc.machine, !points.isEmpty {
            doc.roofline = RooflineSection(roofs: roofs(m, streams: streams(streamRates)), points: points, bytesCounted: "weights",
                                           tolerance: MeasurementLimits.noiseMargin,
                                           source: SectionSource(commands: roofCommands, files: roofFiles + (machineInfo.map { [$0.0] } ?? [])))
        }
        for (f, sc) in s.scaleData {
            doc.scaling.append(scaling(sc, source: SectionSource(commands: ["workbench scale --json"], files: [f])))
        }
        if let g = s.gates.max(by: { modificationDate($0.file) < modificationDate($1.file) }) {
            doc.gate = gate(g.report, source: SectionSource(commands: ["workbench gate --report-json \(g.file)"], files: [g.file]))
        }
        for sk in s.skipped { doc.notes.append("not drawn: \(sk)") }
        if doc.machine == nil { doc.notes.append("no machine facts: add `workbench machine --json > DIR/machine.json`") }
        if doc.profiles.isEmpty { doc.notes.append("no profile: add `workbench profile --json > DIR/profile.json` (or a saved Profiles/runs pair)") }
        if doc.ops == nil { doc.notes.append("no op breakdown: add `workbench run --timings-json DIR/prefill.json ...` or a profile") }
        if doc.roofline == nil { doc.notes.append("no roofline: add `workbench kernels --time --json > DIR/kernels.json` or `workbench compare matmul:A matmul:B --shape fc --json > DIR/compare-fc.json`") }
        if doc.scaling.isEmpty { doc.notes.append("no scaling: add `workbench scale --json > DIR/scale.json`") }
        return doc
    }

    /// The newest gate verdict (`workbench gate --report-json FILE`) among the JSON files directly in `dir`, if any.
    public static func latestGate(in dir: String) -> (file: String, report: GateReport)? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return nil }
        var best: (String, GateReport, String)?
        for n in names where n.hasSuffix(".json") {
            let f = "\(dir)/\(n)"
            guard let data = FileManager.default.contents(atPath: f),
                  let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  Set(obj.keys).isSuperset(of: ["suite", "rows", "baselinePath"]),
                  let r = try? decoder().decode(GateReport.self, from: data) else { continue }
            let d = modificationDate(f)
            if best == nil || d > best!.2 { best = (f, r, d) }
        }
        return best.map { ($0.0, $0.1) }
    }
}
