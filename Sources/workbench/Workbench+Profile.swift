import ArgumentParser
import Foundation
import GPT2
import Kernels
import Profiling

extension Workbench {
    /// `workbench profile`: where does generation spend its time? Samples the default workload (or any command
    /// with perf) and prints the call tree, the flat top-N and the op view; writes folded, SVG, pprof, speedscope,
    /// JSON. The work is done by the Profiling library (ProfileOutput.swift, OpView.swift, ChildProcess.swift,
    /// PerfWorkload.swift); this file parses, runs the workload, and prints.
    struct Profile: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "profile",
            abstract: "Sample where generation spends its time: call tree, flat top-N, op view; folded/SVG/pprof/speedscope/JSON; --diff.",
            discussion: """
            The workload is generation (gpt.c's rule) of --prompt to --n tokens, repeated until 1200 samples (at \
            most 60 s) or for --duration seconds, after one warm-up generation. Backends: signal (default; an \
            in-process SIGPROF sampler, libunwind stacks, a per-thread CPU clock: perf task-clock events when \
            allowed, else tick-limited timers; --clock wall: wall time), whose samples carry the op running (the op \
            view: sampled share next to the per-op timers); perf (perf record --call-graph dwarf on a re-run of the \
            workload, or on any command: workbench profile -- CMD ARGS, CMD found on your PATH, its output and exit \
            status its own, 128+n for a signal death, 127 if not found; Ctrl-C stops recording and still reports).

            Output: call tree, flat top-N with standard errors, op view (--per-thread: per thread); --folded, --svg \
            (interactive: click to zoom, Search; --inverted, --min-width), --pprof (go tool pprof), --speedscope, \
            --json. Runs are saved as Profiles/runs/<stamp>-<backend>.folded + .json. workbench profile --diff \
            A.folded B.folded [--svg D.svg: B's shape, red grew, blue shrank].

            Examples:
              workbench profile --svg fg.svg --pprof p.pb.gz   # then: go tool pprof -top p.pb.gz
              workbench profile --text "hello there" --threads 2 --per-thread
              workbench profile -- python3 Tools/gpt2_ref.py   # any command, like perf record
              workbench profile --diff before.folded after.folded --svg diff.svg
            """)

        @OptionGroup var model: ModelOption
        @OptionGroup var engine: EngineFlags
        @Option(help: "signal (in-process SIGPROF sampler; default) or perf (perf record).") var backend: String?
        @Option(help: "Signal backend clock: task (each thread's CPU time from a perf task-clock event: precise; the default when perf_event_open is allowed), cpu (timer_create CPU-time timers: tick-limited; the fallback) or wall (CLOCK_MONOTONIC per thread).") var clock: String?
        @Option(help: "Signal backend unwinder: backtrace (libunwind's cached trace cut at the interrupted PC) or step (unw_step on the signal context: slower).") var unwind: String = "backtrace"
        @Option(help: "Samples per second per thread (default: 250 for the task and cpu clocks and perf, 997 for the wall clock).") var hz: Double?
        @Option(help: "Seconds of workload (default: until 1200 samples, at most 60 s; perf: 1300 / (hz x threads) s, at least 2).") var duration: Double?
        @OptionGroup var prompt: PromptOption
        @Option(help: "Hide call-tree nodes below this percentage of the samples.") var minPercent = 1.0
        @Option(help: "Rows of the flat view (and of --diff).") var top = 20
        @Option(help: "Write the folded stacks (FlameGraph format: root;...;leaf count) to this file.") var folded: String?
        @Option(help: "Write an interactive SVG flame graph to this file (click: zoom; Search: regex; --diff: differential).") var svg: String?
        @Option(help: "Write a gzip-compressed pprof profile.proto to this file (go tool pprof -top FILE).") var pprof: String?
        @Option(help: "Write a speedscope JSON profile to this file (one profile per thread).") var speedscope: String?
        @Flag(help: "SVG: an icicle of the callers of the hot leaves (stacks reversed, drawn top-down).") var inverted = false
        @Option(help: "SVG: hide frames narrower than this: pixels (0.1, the default) or a percentage of the samples (0.5%).") var minWidth: String?
        @Flag(help: "Split the call tree and the flat list by thread.") var perThread = false
        @Option(help: "perf backend: keep the perf.data recording in this file.") var keepPerfData: String?
        @Flag(help: "Print the report as JSON instead of text.") var json = false
        @Option(help: "Folder where the profile is saved (<stamp>-<backend>.folded + .json).") var saveDir = "Profiles/runs"
        @Flag(help: "Do not save the profile.") var noSave = false
        @Option(help: "The perf binary (default: perf on PATH).") var perf: String?
        @Option(help: "perf call graphs: dwarf (correct Swift stacks) or fp (frame pointers: lose the caller of Swift leaf functions).") var callGraph = "dwarf"
        @Flag(help: "perf: drop kernel frames (their samples count for the user-space frame under them, as the signal backend sees them).") var noKernel = false
        @Option(name: .customLong("diff"), parsing: .upToNextOption, help: "Compare two folded files: --diff A.folded B.folded.") var diffFiles: [String] = []
        @Flag(help: "Measure the sampler's cost: the workload timed with and without sampling, interleaved.") var measureOverhead = false
        @Option(help: "With --measure-overhead: rounds of (sampled, unsampled).") var rounds = 7
        @Flag(help: .hidden) var workloadChild = false
        @Option(help: .hidden) var childReport: String?
        @Option(help: .hidden) var perfControl: String?
        @Argument(parsing: .postTerminator, help: "Profile this command with perf instead of the workload: workbench profile -- CMD ARGS...") var command: [String] = []

        func run() throws {
            do { try dispatch() } catch let i as Interrupted {
                note("workbench: \(i); nothing reported")
                Signals.die(i.signal)
            } catch let f as CommandLookup.Failure {
                note("workbench: \(f)")
                throw ExitCode(f.exitCode)
            }
            // Ctrl-C: the report of what was sampled is out; end as interrupted.
            if let s = Signals.pending.first { Signals.die(s) }
        }

        func dispatch() throws {
            if !diffFiles.isEmpty { return try runDiff() }
            guard top >= 1 else { throw WorkbenchError("--top must be positive, got \(top)") }
            guard minPercent >= 0 && minPercent <= 100 else { throw WorkbenchError("--min-percent must be in 0...100, got \(minPercent)") }
            if let d = duration, !(d > 0 && d <= 3600) { throw WorkbenchError("--duration must be in (0, 3600] seconds, got \(d)") }
            if let h = hz, !(h >= 1 && h <= 10000) { throw WorkbenchError("--hz must be in 1...10000, got \(h)") }
            guard rounds >= 1 && rounds <= 100 else { throw WorkbenchError("--rounds must be in 1...100, got \(rounds)") }
            _ = try outputs()
            for (path, flag) in [(folded, "--folded"), (svg, "--svg"), (pprof, "--pprof"), (speedscope, "--speedscope"),
                                 (keepPerfData, "--keep-perf-data")] { try Paths.checkOutput(path, flag: flag) }
            if workloadChild { return try runChild() }
            let perfBackend = !command.isEmpty || backend == "perf"
            if keepPerfData != nil && !perfBackend { throw WorkbenchError("--keep-perf-data needs the perf backend (--backend perf, or -- CMD)") }
            Signals.watch()
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
            func once() throws { try gpt.generate(request) }
            func describe(_ generations: Int, seconds: Double) -> String {
                String(format: "%d generations of [%@] to n=%d (%d forward passes) in %.2f s",
                       generations, prompt.map(String.init).joined(separator: " ") as NSString, n, gpt.timers.forwards, seconds)
            }
        }

        func makeWorkload() throws -> Workload {
            let path = try DefaultModel.resolve(model.model, log: note)
            let weights = try loadModelFile(path)
            let request = try prompt.request(config: weights.config, modelPath: path).0
            let gpt = GPT2Model(weights: weights, options: try engine.options(for: weights, timers: true))
            let w = Workload(gpt: gpt, request: request, modelPath: path)
            // Warm-up (first-touch costs, lazy initialisation) outside the measured interval.
            try w.once()
            gpt.timers.reset()
            return w
        }

        /// The op timers as plain rows, and the op of each sampler tag (the Profiling library knows no GPT-2).
        static func timers(_ t: TimingsReport) -> [OpTimer] { t.ops.map { OpTimer(key: $0.op, name: $0.name, ms: $0.ms, percent: $0.percent) } }
        static let opTags = Dictionary(uniqueKeysWithValues: Op.allCases.map { (Int32($0.rawValue + 1), $0.key) })

        // MARK: signal backend

        func runSignal() throws {
            let (requested, unwinder) = (try SignalSampler.clock(named: clock), try SignalSampler.unwinder(named: unwind))
            let w = try makeWorkload()
            w.gpt.opTag = SignalSampler.opTag
            defer { w.gpt.opTag = nil }
            let run = try SignalRun.record(clock: requested, hz: hz, unwinder: unwinder, threads: w.gpt.options.threads, duration: duration) { try w.once() }
            SignalSampler.opTag.pointee = 0
            // Ctrl-C ends sampling and the report follows; SIGTERM and SIGHUP end the run.
            if let s = Signals.pending.first(where: { $0 != SIGINT }) { throw Interrupted(signal: s) }
            let threadNames = ThreadNames.current()
            let samples = run.samples(ops: Profile.opTags, threads: threadNames)
            var meta = run.metadata(samples)
            meta.model = w.modelPath
            meta.engine = w.gpt.options.summary
            meta.workload = w.describe(run.iterations, seconds: run.seconds)
            let timings = w.gpt.timers.report()
            meta.ops = OpView.rows(timers: Profile.timers(timings), sampled: samples.byOp, names: Op.allCases.map { ($0.key, $0.name) })
            let header = ProfileText.signalHeader(meta, samples: samples, stats: run.stats, unwinder: unwinder.rawValue, fallback: run.fallback,
                                                  mainThread: threadNames[getpid()])
            try emit(samples, meta: meta, header: header, opTable: OpView.table(meta.ops ?? [], sampled: samples.byOp, forwardMs: timings.forwardMs))
        }

        // MARK: output

        /// The files asked for (--folded, --svg, --pprof, --speedscope and the SVG's options).
        func outputs() throws -> ProfileOutputs {
            var o = ProfileOutputs()
            o.folded = folded; o.svg = svg; o.pprof = pprof; o.speedscope = speedscope
            o.flame.inverted = inverted
            if let m = minWidth { o.flame.minWidth = try FlameGraph.MinWidth(parsing: m) }
            return o
        }

        /// Writes the files, prints the text (or JSON) report, saves the run.
        func emit(_ samples: SampleProfile, meta: ProfileMetadata, header: String, opTable: String?, allowEmpty: Bool = false) throws {
            if samples.total == 0 && !allowEmpty {
                throw WorkbenchError("no samples were recorded (the workload ran \(String(format: "%.2f", meta.seconds)) s); try a longer --duration")
            }
            try outputs().write(samples, metadata: meta)
            if json {
                FileHandle.standardOutput.write(try ProfileReport(metadata: meta, samples: samples, top: top, perThread: perThread).json())
                print("")
            } else {
                print(ProfileText.render(samples, header: header, minPercent: minPercent, top: top, opTable: opTable, perThread: perThread), terminator: "")
            }
            if !noSave && samples.total > 0 { note(ProfileStore.saveSaying(samples.stacks, metadata: meta, in: saveDir)) }
        }

        // MARK: overhead

        func runOverhead() throws {
            let (requested, unwinder) = (try SignalSampler.clock(named: clock), try SignalSampler.unwinder(named: unwind))
            let w = try makeWorkload()
            let rate = hz ?? (requested ?? .task).defaultHz
            // Blocks of ~1.5 s (at least one generation each).
            let t0 = Date()
            try w.once()
            let per = max(1, Int((duration ?? 1.5) / max(Date().timeIntervalSince(t0), 1e-3)))
            w.gpt.opTag = SignalSampler.opTag
            defer { w.gpt.opTag = nil }
            let (m, used) = try SamplerOverhead.measure(rounds: rounds, perBlock: per, startSampler: {
                try SignalRun.start(clock: requested, hz: hz, maxSamples: 1 << 16, unwinder: unwinder).0
            }, work: { try w.once() })
            var header = "workbench profile --measure-overhead: signal backend, \((used ?? .task).rawValue) clock, \(ProfileText.fmt(rate)) Hz per thread, \(unwinder.rawValue) unwinder; \(w.gpt.options.summary)\n"
            header += "workload: generation of [\(w.prompt.map(String.init).joined(separator: " "))] to n=\(w.n), \(per) per block, \(rounds) rounds of (sampled, unsampled) interleaved\n"
            print(m.text(header: header), terminator: "")
        }

        // MARK: perf backend

        /// The workload re-run under perf (hidden): enables perf around the measured generations, reports back.
        func runChild() throws {
            let w = try makeWorkload()
            // Every pool thread's stack pages made present: perf cannot fault them in (see Perf.prefaultStack).
            let (runs, seconds, controlled) = try PerfControl.runControlled(spec: perfControl, duration: duration ?? 2,
                                                                           prepare: { w.gpt.pool.run { _, _ in Perf.prefaultStack(bytes: 256 << 10) } },
                                                                           work: { try w.once() })
            let t = w.gpt.timers.report()
            try childReport.map {
                try PerfWorkloadReport(generations: runs, seconds: seconds, engine: w.gpt.options.summary, controlled: controlled,
                                       forwards: t.forwards, forwardMs: t.forwardMs, ops: Profile.timers(t)).write(to: $0)
            }
        }

        func perfSession() throws -> PerfSession {
            try PerfSession(perfPath: perf, callGraph: callGraph, hz: hz, kernelFrames: !noKernel, keepData: keepPerfData)
        }

        func runPerfWorkload() throws {
            let session = try perfSession()
            // Check the request here, where errors are one line, before perf starts a child.
            let modelPath = try DefaultModel.resolve(model.model, log: note)
            let weights = try loadModelFile(modelPath)
            let request = try prompt.request(config: weights.config, modelPath: modelPath).0
            let options = try engine.options(for: weights)
            let d = duration ?? min(60, max(2, 1300 / (session.hz * Double(options.threads))))
            let exe = try PerfSession.executablePath()
            let r = try session.workload { control, reportPath in
                [exe, "profile", "--workload-child", "--model", modelPath] + engine.arguments +
                    ["--threads", "\(options.threads)", "--n", "\(request.n)", "--prompt", request.prompt.map(String.init).joined(separator: " "),
                     "--duration", "\(d)", "--child-report", reportPath, "--perf-control", control.spec]
            }
            let report = r.workload!
            var meta = session.metadata(r.samples, seconds: report.seconds)
            meta.model = modelPath
            meta.engine = report.engine
            meta.workload = report.describe(prompt: request.prompt.map(String.init).joined(separator: " "), n: request.n)
            meta.achievedHz = report.achievedHz(samples: r.samples.total, threads: options.threads)
            meta.ops = OpView.timerRows(report.ops)
            try emit(r.samples, meta: meta, header: ProfileText.perfHeader(meta, samples: r.samples, callGraph: session.callGraph, controlled: report.controlled),
                     opTable: OpView.timerTable(meta.ops ?? [], forwardMs: report.forwardMs))
        }

        /// `workbench profile -- CMD ARGS`: perf record of CMD as the user's shell would run it (CMD found on the
        /// user's PATH: exit 127 if missing, 126 if not executable; its exit status or 128 + its signal is ours).
        func runPerfCommand() throws {
            let session = try perfSession()
            let r = try session.command(try CommandLookup.absolute(command))
            var meta = session.metadata(r.samples, seconds: r.recording.outcome.seconds)
            meta.workload = command.joined(separator: " ")
            let header = ProfileText.perfHeader(meta, samples: r.samples, callGraph: session.callGraph, command: r.fate)
            try emit(r.samples, meta: meta, header: header, opTable: nil, allowEmpty: true)
            if let f = r.failure { note("workbench: \(f.message)"); throw ExitCode(f.exitCode) }
        }

        // MARK: diff

        /// Options a diff of two folded files can use; any other one given is refused (never silently ignored).
        static let diffOptions: Set<String> = ["diff", "svg", "json", "top", "inverted", "min-width"]

        func runDiff() throws {
            let given = CommandLine.arguments.dropFirst().prefix { $0 != "--" }.filter { $0.hasPrefix("--") }
                .map { String($0.dropFirst(2).split(separator: "=", maxSplits: 1).first ?? "") }
            if let bad = given.first(where: { !Profile.diffOptions.contains($0) }) {
                throw WorkbenchError("--\(bad) cannot be used with --diff (a diff reads two folded files; it takes --svg, --inverted, --min-width, --top, --json)")
            }
            if !command.isEmpty { throw WorkbenchError("--diff compares two folded files; it runs no command") }
            guard diffFiles.count == 2 else { throw WorkbenchError("--diff takes two folded files (A B), got \(diffFiles.count)") }
            guard top >= 1 else { throw WorkbenchError("--top must be positive, got \(top)") }
            print(try Reports.diffFiles(diffFiles[0], diffFiles[1], top: top, json: json, svg: svg, flame: try outputs().flame), terminator: "")
        }
    }
}
