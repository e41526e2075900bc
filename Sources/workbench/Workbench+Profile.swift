import ArgumentParser
import Foundation
import GPT2
import Kernels
import Profiling

extension Workbench {
    /// `workbench profile`: where does generation spend its time? Samples the default workload (or any command
    /// with perf) and prints the call tree, the flat top-N and the op view; writes folded stacks, SVG, JSON.
    struct Profile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "profile",
            abstract: "Sample where generation spends its time: call tree, flat top-N, op view; folded/SVG/JSON; --diff.",
            discussion: """
            The workload is generation (gpt.c's rule) of --prompt (default 31373 612) to --n tokens, repeated \
            until 1200 samples (at most 60 s) or for --duration seconds, after one warm-up generation.

            Backends. signal (default): an in-process SIGPROF sampler with libunwind stacks and one CPU-time clock \
            per thread: a perf task-clock event when perf_event_open is allowed (precise, any rate), else \
            timer_create CPU-time timers (--clock cpu: tick-limited to 250 Hz here, and biased against code that \
            yields); --clock wall samples wall time per thread (sleeping threads too). Every sample records the op \
            running, so the op view puts sampled shares next to the per-op timers. perf: `perf record -e cpu-clock \
            --call-graph dwarf` on a re-run of this workload, or on any command: workbench profile -- CMD ARGS...

            Output: call tree, flat top-N (with the binomial standard error of each share) and op view; \
            --folded (FlameGraph format), --svg, --json. Each run is saved as \
            Profiles/runs/<stamp>-<backend>.folded + .json. Compare two runs: workbench profile --diff A.folded B.folded.
            """)

        @OptionGroup var model: ModelOption
        @OptionGroup var engine: EngineFlags
        @Option(help: "signal (in-process SIGPROF sampler; default) or perf (perf record).")
        var backend: String?
        @Option(help: "Signal backend clock: task (each thread's CPU time from a perf task-clock event: precise; the default when perf_event_open is allowed), cpu (timer_create CPU-time timers: tick-limited; the fallback) or wall (CLOCK_MONOTONIC per thread).")
        var clock: String?
        @Option(help: "Signal backend unwinder: backtrace (libunwind's cached trace cut at the interrupted PC) or step (unw_step on the signal context: slower).")
        var unwind: String = "backtrace"
        @Option(help: "Samples per second per thread (default: 250 for the task and cpu clocks and perf, 997 for the wall clock).")
        var hz: Double?
        @Option(help: "Seconds of workload (default: until 1200 samples, at most 60 s; perf: 1300 / (hz x threads) s, at least 2).")
        var duration: Double?
        @Option(help: "Total tokens per generation, prompt included (default 10, within the model's maxT).")
        var n: Int?
        @Option(help: "Prompt token ids, separated by spaces.")
        var prompt: String?
        @Option(help: "Hide call-tree nodes below this percentage of the samples.")
        var minPercent = 1.0
        @Option(help: "Rows of the flat view (and of --diff).")
        var top = 20
        @Option(help: "Write the folded stacks (FlameGraph format: root;...;leaf count) to this file.")
        var folded: String?
        @Option(help: "Write an SVG flame graph to this file.")
        var svg: String?
        @Flag(help: "Print the report as JSON instead of text.")
        var json = false
        @Option(help: "Folder where the profile is saved (<stamp>-<backend>.folded + .json).")
        var saveDir = "Profiles/runs"
        @Flag(help: "Do not save the profile.")
        var noSave = false
        @Option(help: "The perf binary (default: perf on PATH).")
        var perf: String?
        @Option(help: "perf call graphs: dwarf (correct Swift stacks) or fp (frame pointers: lose the caller of Swift leaf functions).")
        var callGraph = "dwarf"
        @Flag(help: "perf: drop kernel frames (their samples count for the user-space frame under them, as the signal backend sees them).")
        var noKernel = false
        @Option(name: .customLong("diff"), parsing: .upToNextOption, help: "Compare two folded files: --diff A.folded B.folded.")
        var diffFiles: [String] = []
        @Flag(help: "Measure the sampler's cost: the workload timed with and without sampling, interleaved.")
        var measureOverhead = false
        @Option(help: "With --measure-overhead: rounds of (sampled, unsampled).")
        var rounds = 7
        @Flag(help: .hidden) var workloadChild = false
        @Option(help: .hidden) var childReport: String?
        @Option(help: .hidden) var perfControl: String?
        @Argument(parsing: .postTerminator, help: "Profile this command with perf instead of the workload: workbench profile -- CMD ARGS...")
        var command: [String] = []

        func run() throws {
            if !diffFiles.isEmpty { return try runDiff() }
            guard top >= 1 else { throw WorkbenchError("--top must be positive, got \(top)") }
            guard minPercent >= 0 && minPercent <= 100 else { throw WorkbenchError("--min-percent must be in 0...100, got \(minPercent)") }
            if let d = duration, !(d > 0 && d <= 3600) { throw WorkbenchError("--duration must be in (0, 3600] seconds, got \(d)") }
            if let h = hz, !(h >= 1 && h <= 10000) { throw WorkbenchError("--hz must be in 1...10000, got \(h)") }
            guard rounds >= 1 && rounds <= 100 else { throw WorkbenchError("--rounds must be in 1...100, got \(rounds)") }
            if workloadChild { return try runChild() }
            if !command.isEmpty {
                if let b = backend, b != "perf" { throw WorkbenchError("only the perf backend can profile another command (got --backend \(b))") }
                if measureOverhead { throw WorkbenchError("--measure-overhead applies to the built-in workload, not to a command") }
                return try runPerfCommand()
            }
            switch backend ?? "signal" {
            case "signal": return measureOverhead ? try runOverhead() : try runSignal()
            case "perf":
                if measureOverhead { throw WorkbenchError("--measure-overhead measures the signal backend; drop --backend perf") }
                return try runPerfWorkload()
            default: throw WorkbenchError("unknown backend '\(backend!)' (known: signal, perf)")
            }
        }

        // MARK: the workload

        /// The model and the generation it repeats.
        struct Workload {
            let gpt: GPT2Model
            let request: GenerationRequest
            let modelPath: String
            var prompt: [Int32] { request.prompt }
            var n: Int { request.n }
            func once() throws { gpt.generate(request) }
            func describe(_ generations: Int, seconds: Double) -> String {
                String(format: "%d generations of [%@] to n=%d (%d forward passes) in %.2f s",
                       generations, prompt.map(String.init).joined(separator: " ") as NSString, n, gpt.timers.forwards, seconds)
            }
        }

        func makeWorkload() throws -> Workload {
            let path = try DefaultModel.resolve(model.model, log: note)
            let ckpt = try Checkpoint(path: path)
            let request = try GenerationRequest(words: prompt.map { [$0] }, n: n, config: ckpt.config)
            let gpt = GPT2Model(checkpoint: ckpt, options: try engine.options(config: ckpt.config, timers: true))
            let w = Workload(gpt: gpt, request: request, modelPath: path)
            // Warm-up (first-touch costs, lazy initialisation) outside the measured interval.
            try w.once()
            gpt.timers.reset()
            return w
        }

        func parsedUnwinder() throws -> SignalSampler.Unwinder {
            guard let u = SignalSampler.Unwinder(rawValue: unwind) else { throw WorkbenchError("unknown --unwind '\(unwind)' (known: backtrace, step)") }
            return u
        }

        /// The clock asked for (nil: the default, task with a fallback to cpu).
        func parsedClock() throws -> SignalSampler.Clock? {
            guard let name = clock else { return nil }
            guard let c = SignalSampler.Clock(rawValue: name) else { throw WorkbenchError("unknown clock '\(name)' (known: task, cpu, wall)") }
            return c
        }

        /// Starts the sampler on `requested`, or on the task clock falling back to CPU-time timers when
        /// perf_event_open is not allowed. Returns the clock used and, after a fallback, why.
        func startSampler(_ requested: SignalSampler.Clock?, maxSamples: Int, unwinder: SignalSampler.Unwinder) throws -> (SignalSampler.Clock, String?) {
            if let c = requested {
                try SignalSampler.start(.init(clock: c, hz: hz ?? c.defaultHz, maxSamples: maxSamples, unwinder: unwinder))
                return (c, nil)
            }
            do {
                try SignalSampler.start(.init(clock: .task, hz: hz ?? SignalSampler.Clock.task.defaultHz, maxSamples: maxSamples, unwinder: unwinder))
                return (.task, nil)
            } catch {
                try SignalSampler.start(.init(clock: .cpu, hz: hz ?? SignalSampler.Clock.cpu.defaultHz, maxSamples: maxSamples, unwinder: unwinder))
                return (.cpu, "\(error)")
            }
        }

        // MARK: signal backend

        func runSignal() throws {
            let requested = try parsedClock()
            let unwinder = try parsedUnwinder()
            let w = try makeWorkload()
            let rate = hz ?? (requested ?? .task).defaultHz
            let threads = w.gpt.options.threads
            let target = 1200
            // Room for every sample of the run (threads of the pool + a few others), or for the target count.
            let expected = duration.map { rate * Double(threads + 2) * $0 * 1.3 } ?? Double(target * 4)
            let capacity = min(1 << 20, max(8192, Int(expected)))
            w.gpt.opTag = SignalSampler.opTag
            defer { w.gpt.opTag = nil }
            let (clock, fallback) = try startSampler(requested, maxSamples: capacity, unwinder: unwinder)
            let start = Date()
            var generations = 0
            do {
                repeat {
                    try w.once()
                    generations += 1
                    let elapsed = Date().timeIntervalSince(start)
                    if let d = duration { if elapsed >= d { break } } else if SignalSampler.samplesSoFar >= target || elapsed >= 60 { break }
                } while true
            } catch {
                _ = SignalSampler.stop()
                throw error
            }
            let (raw, stats) = SignalSampler.stop()
            let seconds = Date().timeIntervalSince(start)
            SignalSampler.opTag.pointee = 0
            let symbolizer = Symbolizer()
            let (profile, byTag, byThread) = symbolizer.profile(raw)

            var meta = ProfileMetadata(command: CommandLine.arguments, backend: "signal", requestedHz: rate, samples: profile.total,
                                       seconds: seconds, threads: Dictionary(uniqueKeysWithValues: byThread.map { ("\($0.key)", $0.value) }))
            meta.clock = clock.rawValue
            meta.achievedHz = stats.achievedHz
            meta.dropped = stats.dropped
            meta.truncated = stats.truncated
            meta.model = w.modelPath
            meta.engine = w.gpt.options.summary
            meta.workload = w.describe(generations, seconds: seconds)
            meta.sampler = stats
            let timings = w.gpt.timers.report()
            meta.ops = Profile.opRows(timings: timings, byTag: byTag)

            let clockName = ["cpu": "CPU-time timers", "wall": "wall-clock timers", "task": "task-clock perf events"][clock.rawValue]!
            var header = "workbench profile: signal backend, \(clockName) on every thread, \(fmt(rate)) Hz requested per thread, \(unwinder.rawValue) unwinder\(stats.userOnly ? " (user time only: kernel.perf_event_paranoid)" : "")\n"
            if let why = fallback { header += "note: no task clock (\(why)): CPU-time timers instead, tick-limited\n" }
            header += "workload: \(meta.workload!); \(meta.engine!)\n"
            header += "model: \(w.modelPath)\n"
            let mainTid = Int32(getpid())
            let perThread = byThread.sorted { $0.value > $1.value }.map { "\($0.key == mainTid ? "main thread" : "thread \($0.key)"): \($0.value)" }.joined(separator: ", ")
            header += String(format: "samples: %d from %d threads (%@); achieved %.0f Hz per thread-%@-second (%d timer overruns)\n",
                             profile.total, byThread.count, perThread as NSString, stats.achievedHz, clock == .wall ? "wall" : "CPU", stats.timerOverruns)
            header += String(format: "dropped: %d (buffer full %d, unwind failed %d); truncated stacks: %d; sampler cost: %.1f ms in the handler (%.1f µs per sample, %.2f%% of the CPU time; %d samples unwound with unw_step)\n",
                             stats.dropped, stats.droppedBufferFull, stats.droppedUnwindFailed, stats.truncated,
                             1000 * stats.handlerSeconds, stats.signals > 0 ? 1e6 * stats.handlerSeconds / Double(stats.signals) : 0, stats.handlerPercent,
                             stats.stepUnwinds)
            try emit(profile, meta: meta, header: header, opTable: Profile.opTable(meta.ops ?? [], byTag: byTag, timings: timings))
        }

        /// The op view's rows: every timed op's share of forward time next to its share of the tagged samples.
        static func opRows(timings: TimingsReport, byTag: [Int32: Int]) -> [OpShareRow] {
            let tagged = byTag.filter { $0.key != 0 }.values.reduce(0, +)
            var rows: [OpShareRow] = []
            var seen = Set<String>()
            for r in timings.ops {
                guard let op = Op.allCases.first(where: { $0.key == r.op }) else { continue }
                let s = byTag[Int32(op.rawValue + 1)] ?? 0
                let p = tagged > 0 ? Double(s) / Double(tagged) : 0
                rows.append(OpShareRow(key: op.key, name: op.name, timerMs: r.ms, timerPercent: r.percent, samples: s,
                                       sampledPercent: 100 * p, sampledStdErr: Reports.stdErrPercent(p, tagged)))
                seen.insert(op.key)
            }
            // Tags seen without a timer row (timers off for that op): still shown.
            for op in Op.allCases where !seen.contains(op.key) {
                let s = byTag[Int32(op.rawValue + 1)] ?? 0
                guard s > 0 else { continue }
                let p = Double(s) / Double(max(1, tagged))
                rows.append(OpShareRow(key: op.key, name: op.name, timerMs: nil, timerPercent: nil, samples: s,
                                       sampledPercent: 100 * p, sampledStdErr: Reports.stdErrPercent(p, tagged)))
            }
            return rows
        }

        static func opTable(_ rows: [OpShareRow], byTag: [Int32: Int], timings: TimingsReport) -> String {
            let tagged = byTag.filter { $0.key != 0 }.values.reduce(0, +)
            return Reports.opTable(rows, taggedSamples: tagged, untaggedSamples: byTag[0] ?? 0,
                                   timerTotalLabel: String(format: "%.1f ms of forward passes", timings.forwardMs))
        }

        // MARK: output

        /// Prints the text (or JSON) report, writes --folded/--svg, saves the run.
        func emit(_ profile: StackProfile, meta: ProfileMetadata, header: String, opTable: String?) throws {
            if profile.total == 0 {
                throw WorkbenchError("no samples were recorded (the workload ran \(String(format: "%.2f", meta.seconds)) s); try a longer --duration")
            }
            if let path = folded { try Folded.write(profile, to: path) }
            if let path = svg {
                try FlameGraph.write(profile, to: path, title: "workbench profile (\(meta.backend)\(meta.clock.map { ", \($0) clock" } ?? ""))",
                                     subtitle: "\(meta.samples) samples; \(meta.engine ?? meta.command.joined(separator: " "))")
            }
            if json {
                let data = try ProfileReport(metadata: meta, profile: profile, top: top).json()
                FileHandle.standardOutput.write(data)
                print("")
            } else {
                var out = header
                out += samplingErrorLine(profile)
                out += "\n== call tree (frames >= \(fmt(minPercent))% of samples; total% = in the frame or its callees, self% = in the frame) ==\n"
                out += Reports.tree(profile, minPercent: minPercent)
                out += "\n== top \(top) frames by self samples ==\n"
                out += Reports.flatTable(Reports.flat(profile, top: top))
                if let t = opTable {
                    out += "\n== op view: per-op timers vs the op each sample was taken in ==\n" + t
                }
                print(out, terminator: "")
            }
            if !noSave {
                do {
                    let paths = try ProfileStore.save(profile, metadata: meta, in: saveDir)
                    note("workbench: profile saved to \(paths.folded) (+ .json)")
                } catch {
                    note("workbench: warning: profile not saved: \(error)")
                }
            }
        }

        /// How precise the shares are, from the sample count.
        func samplingErrorLine(_ p: StackProfile) -> String {
            let N = p.total
            let rows = Reports.flat(p, top: 1)
            var s = String(format: "sampling error: a share p of N = %d samples is known to ±100·sqrt(p(1-p)/N) points: ±%.1f at 50%%, ±%.1f at 10%%",
                           N, Reports.stdErrPercent(0.5, N), Reports.stdErrPercent(0.1, N))
            if let r = rows.first {
                s += String(format: "; top frame %.1f%% ± %.1f", r.flatPercent, r.flatStdErr)
            }
            return s + "\n"
        }

        func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v) }

        // MARK: overhead

        func runOverhead() throws {
            let requested = try parsedClock()
            let unwinder = try parsedUnwinder()
            var clock = requested ?? .task
            let w = try makeWorkload()
            let rate = hz ?? clock.defaultHz
            // Blocks of ~1.5 s (at least one generation each).
            let t0 = Date()
            try w.once()
            let one = Date().timeIntervalSince(t0)
            let per = max(1, Int((duration ?? 1.5) / max(one, 1e-3)))
            var off: [Double] = [], on: [Double] = [], offCPU: [Double] = [], onCPU: [Double] = []
            var samples = 0, sampled = 0.0, handler = 0.0, signals = 0
            w.gpt.opTag = SignalSampler.opTag
            defer { w.gpt.opTag = nil }
            for r in 0..<rounds {
                for sampling in (r % 2 == 0 ? [false, true] : [true, false]) {
                    if sampling { clock = try startSampler(requested, maxSamples: 1 << 16, unwinder: unwinder).0 }
                    let s = Date(), c = Profile.processCPUSeconds()
                    for _ in 0..<per { try w.once() }
                    let dt = Date().timeIntervalSince(s) / Double(per)
                    let dc = (Profile.processCPUSeconds() - c) / Double(per)
                    if sampling {
                        let (raw, stats) = SignalSampler.stop()
                        samples += raw.count; sampled += stats.threadSeconds; handler += stats.handlerSeconds; signals += stats.signals
                        on.append(dt); onCPU.append(dc)
                    } else { off.append(dt); offCPU.append(dc) }
                }
            }
            func median(_ a: [Double]) -> Double { let s = a.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
            let mOff = median(off), mOn = median(on)
            let ratios = zip(on, off).map { $0 / $1 }.sorted()
            var out = "workbench profile --measure-overhead: signal backend, \(clock.rawValue) clock, \(fmt(rate)) Hz per thread, \(unwinder.rawValue) unwinder; \(w.gpt.options.summary)\n"
            out += "workload: generation of [\(w.prompt.map(String.init).joined(separator: " "))] to n=\(w.n), \(per) per block, \(rounds) rounds of (sampled, unsampled) interleaved\n"
            out += String(format: "unsampled: median %.2f ms per generation  (%@)\n", 1000 * mOff, off.map { String(format: "%.1f", 1000 * $0) }.joined(separator: " ") as NSString)
            out += String(format: "sampled:   median %.2f ms per generation  (%@)\n", 1000 * mOn, on.map { String(format: "%.1f", 1000 * $0) }.joined(separator: " ") as NSString)
            out += String(format: "wall-time overhead: %+.2f%% (median of per-round ratios %+.2f%%, range %+.2f%% ... %+.2f%%)\n",
                          100 * (mOn / mOff - 1), 100 * (median(ratios) - 1), 100 * (ratios.first! - 1), 100 * (ratios.last! - 1))
            let cOff = median(offCPU), cOn = median(onCPU)
            out += String(format: "CPU time per generation (all threads): unsampled %.2f ms, sampled %.2f ms: %+.2f%%\n", 1000 * cOff, 1000 * cOn, 100 * (cOn / cOff - 1))
            let sampledCPU = onCPU.reduce(0, +) * Double(per)
            out += String(format: "handler: %d signals, %.1f ms in the handler = %.1f µs per sample, %.3f%% of the sampled CPU time; %d samples, %.0f Hz per thread achieved\n",
                          signals, 1000 * handler, signals > 0 ? 1e6 * handler / Double(signals) : 0, sampledCPU > 0 ? 100 * handler / sampledCPU : 0,
                          samples, sampled > 0 ? Double(samples) / sampled : 0)
            print(out, terminator: "")
        }

        /// User + system CPU time of this process so far.
        static func processCPUSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }

        // MARK: perf backend

        /// What the re-executed workload reports back to the parent.
        struct ChildReport: Codable {
            var generations: Int
            var seconds: Double
            var engine: String
            var timings: TimingsReport
            var controlled: Bool
        }

        func runChild() throws {
            let w = try makeWorkload()
            let d = duration ?? 2
            var control: (ctl: Int32, ack: Int32)?
            if let spec = perfControl {
                let parts = spec.split(separator: ",").map(String.init)
                if parts.count == 2 {
                    let c = open(parts[0], O_WRONLY), a = open(parts[1], O_RDONLY)
                    if c >= 0 && a >= 0 { control = (c, a) } else { if c >= 0 { close(c) }; if a >= 0 { close(a) } }
                }
            }
            func command(_ s: String) -> Bool {
                guard let c = control else { return false }
                let bytes = Array((s + "\n").utf8)
                guard write(c.ctl, bytes, bytes.count) == bytes.count else { return false }
                var pfd = pollfd(fd: c.ack, events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 5000) == 1 else { return false }
                var buf = [UInt8](repeating: 0, count: 16)
                return read(c.ack, &buf, buf.count) > 0
            }
            // perf copies user stacks from interrupt context and cannot fault pages in: make the stack pages
            // every worker will use present now, or DWARF unwinding stops at the first untouched page.
            w.gpt.pool.run { _, _ in Perf.prefaultStack(bytes: 256 << 10) }
            let controlled = command("enable")
            let start = Date()
            var generations = 0
            repeat { try w.once(); generations += 1 } while Date().timeIntervalSince(start) < d
            let seconds = Date().timeIntervalSince(start)
            _ = command("disable")
            if let c = control { close(c.ctl); close(c.ack) }
            if let path = childReport {
                let r = ChildReport(generations: generations, seconds: seconds, engine: w.gpt.options.summary,
                                    timings: w.gpt.timers.report(), controlled: controlled)
                try JSONEncoder().encode(r).write(to: URL(fileURLWithPath: path))
            }
        }

        func parsedCallGraph() throws -> PerfCallGraph {
            guard let c = PerfCallGraph(rawValue: callGraph) else { throw WorkbenchError("unknown --call-graph '\(callGraph)' (known: dwarf, fp)") }
            return c
        }

        func runPerfWorkload() throws {
            let cg = try parsedCallGraph()
            let perfTool = try Perf.locate(explicit: perf)
            // Check the request here, where errors are one line, before perf starts a child.
            let modelPath = try DefaultModel.resolve(model.model, log: note)
            let ckpt = try Checkpoint(path: modelPath)
            let request = try GenerationRequest(words: prompt.map { [$0] }, n: n, config: ckpt.config)
            let options = try engine.options(config: ckpt.config)
            let rate = hz ?? 250
            let d = duration ?? min(60, max(2, 1300 / (rate * Double(options.threads))))
            let tmp = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            let ctl = tmp + "/ctl", ack = tmp + "/ack"
            guard mkfifo(ctl, 0o600) == 0, mkfifo(ack, 0o600) == 0 else { throw WorkbenchError("cannot create FIFOs in \(tmp)") }
            let exe = try executablePath()
            let child = [exe, "profile", "--workload-child", "--model", modelPath] + engine.arguments +
                        ["--threads", "\(options.threads)", "--n", "\(request.n)", "--prompt", request.prompt.map(String.init).joined(separator: " "),
                         "--duration", "\(d)", "--child-report", tmp + "/child.json", "--perf-control", "\(ctl),\(ack)"]
            let data = tmp + "/perf.data"
            let rec = try perfTool.record(output: data, hz: rate, callGraph: cg, control: .init(controlFIFO: ctl, ackFIFO: ack), command: child)
            guard rec.status == 0, let reportData = FileManager.default.contents(atPath: tmp + "/child.json"),
                  let report = try? JSONDecoder().decode(ChildReport.self, from: reportData) else {
                let last = rec.stderr.split(separator: "\n").last(where: { $0.hasPrefix("workbench:") }) ?? rec.stderr.split(separator: "\n").last ?? ""
                throw WorkbenchError("the profiled workload failed (status \(rec.status)): \(last)")
            }
            let samples = try perfTool.script(input: data)
            let (profile, byThread) = PerfScript.profile(samples, kernelFrames: !noKernel)
            var meta = ProfileMetadata(command: CommandLine.arguments, backend: "perf", requestedHz: rate, samples: profile.total,
                                       seconds: report.seconds, threads: Dictionary(uniqueKeysWithValues: byThread.map { ("\($0.key)", $0.value) }))
            meta.callGraph = cg.rawValue
            meta.perfVersion = perfTool.version
            meta.model = modelPath
            meta.engine = report.engine
            meta.workload = String(format: "%d generations of [%@] to n=%d (%d forward passes) in %.2f s", report.generations,
                                   request.prompt.map(String.init).joined(separator: " ") as NSString, request.n, report.timings.forwards, report.seconds)
            meta.achievedHz = Profile.perfAchievedHz(samples: profile.total, report: report, threads: options.threads)
            meta.ops = report.timings.ops.map { OpShareRow(key: $0.op, name: $0.name, timerMs: $0.ms, timerPercent: $0.percent) }
            var header = "workbench profile: perf backend (\(perfTool.version)), perf record -e cpu-clock -c \(Int(1e9 / rate)) --call-graph \(cg.recordArgument)\n"
            header += "workload: \(meta.workload!); \(report.engine)\(report.controlled ? "" : " (perf --control unavailable: model loading is in the profile)")\n"
            header += "model: \(modelPath)\n"
            header += String(format: "samples: %d from %d threads (%@)\n", profile.total, byThread.count,
                             byThread.sorted { $0.value > $1.value }.map { "thread \($0.key): \($0.value)" }.joined(separator: ", ") as NSString)
            let ops = Reports.opTable(meta.ops ?? [], taggedSamples: nil, untaggedSamples: 0,
                                      timerTotalLabel: String(format: "%.1f ms of forward passes", report.timings.forwardMs))
            try emit(profile, meta: meta, header: header, opTable: ops)
        }

        static func perfAchievedHz(samples: Int, report: ChildReport, threads: Int) -> Double? {
            report.seconds > 0 ? Double(samples) / (report.seconds * Double(threads)) : nil
        }

        func runPerfCommand() throws {
            let cg = try parsedCallGraph()
            let perfTool = try Perf.locate(explicit: perf)
            let rate = hz ?? 250
            let tmp = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            let data = tmp + "/perf.data"
            let start = Date()
            let rec = try perfTool.record(output: data, hz: rate, callGraph: cg, control: nil, command: command)
            let seconds = Date().timeIntervalSince(start)
            if !rec.stderr.isEmpty { FileHandle.standardError.write(Data(rec.stderr.utf8)) }
            if rec.status != 0 { note("workbench: note: the profiled command exited with status \(rec.status)") }
            let samples = try perfTool.script(input: data)
            let (profile, byThread) = PerfScript.profile(samples, kernelFrames: !noKernel)
            var meta = ProfileMetadata(command: CommandLine.arguments, backend: "perf", requestedHz: rate, samples: profile.total,
                                       seconds: seconds, threads: Dictionary(uniqueKeysWithValues: byThread.map { ("\($0.key)", $0.value) }))
            meta.callGraph = cg.rawValue
            meta.perfVersion = perfTool.version
            meta.workload = command.joined(separator: " ")
            var header = "workbench profile: perf backend (\(perfTool.version)), perf record -e cpu-clock -c \(Int(1e9 / rate)) --call-graph \(cg.recordArgument)\n"
            header += String(format: "command: %@ (exit status %d, %.2f s)\n", meta.workload! as NSString, rec.status, seconds)
            header += String(format: "samples: %d from %d threads\n", profile.total, byThread.count)
            try emit(profile, meta: meta, header: header, opTable: nil)
        }

        func temporaryDirectory() throws -> String {
            let p = FileManager.default.temporaryDirectory.path + "/workbench-profile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            do { try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true) }
            catch { throw WorkbenchError("cannot create a temporary folder \(p): \(error.localizedDescription)") }
            return p
        }

        /// This binary's real path (perf runs it again as the workload).
        func executablePath() throws -> String {
            guard let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
                throw WorkbenchError("cannot find this executable (/proc/self/exe)")
            }
            return p
        }

        // MARK: diff

        func runDiff() throws {
            guard diffFiles.count == 2 else {
                throw WorkbenchError("--diff takes two folded files (A B), got \(diffFiles.count)")
            }
            let a = try Folded.read(path: diffFiles[0]), b = try Folded.read(path: diffFiles[1])
            if a.total == 0 { throw WorkbenchError("\(diffFiles[0]): no samples") }
            if b.total == 0 { throw WorkbenchError("\(diffFiles[1]): no samples") }
            let rows = Reports.diff(a, b)
            if json {
                struct DiffJSON: Codable { var a: String; var b: String; var samplesA: Int; var samplesB: Int; var frames: [DiffRow] }
                let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
                FileHandle.standardOutput.write(try e.encode(DiffJSON(a: diffFiles[0], b: diffFiles[1], samplesA: a.total, samplesB: b.total,
                                                                      frames: Array(rows.prefix(top)))))
                print("")
                return
            }
            print("workbench profile --diff: A = \(diffFiles[0]) (\(a.total) samples), B = \(diffFiles[1]) (\(b.total) samples)")
            print("frames whose share changed most (self = samples in the frame itself, total = in it or its callees):")
            print(Reports.diffTable(rows, nA: a.total, nB: b.total, top: top), terminator: "")
        }
    }
}
