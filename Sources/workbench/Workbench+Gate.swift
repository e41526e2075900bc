import ArgumentParser
import Bench
import Foundation
import Lab

// `workbench gate`: the regression gate. Thin: parse, check the flags' combinations, call `GateCommand.run`
// (Sources/Lab/GateCommand.swift: the suite, the A/B, the fallback, the calibration), print, exit.
// Exit status: 0 pass, 1 regression or wrong result, 2 bad input, 3 inconclusive (machine too noisy).

extension Workbench {
    struct Gate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Regression gate: this build against a git revision (A/B) or a committed baseline. Exit 0 pass, 1 regression, 2 bad input, 3 inconclusive.",
            discussion: """
            By default the gate builds the baseline's commit (or --against REV) in release in .build/gate-base/<sha>/ \
            (cached: a second run does not rebuild it) and measures both builds in one run, rounds interleaved, each \
            round a fresh `gate --measure` process of each binary, so load, host and cache state hit both alike. Per \
            metric it reports base, new, the median paired change, its interval and a Mann-Whitney p; a regression \
            needs p < 0.01/m (m metrics compared: Bonferroni), a change above the minimum effect (5 %; shares 4 \
            points) and the whole interval above 0; suspected or undecided metrics get more rounds, in which only their \
            cases are measured. \
            Without git history, or when the revision predates the child protocol, it compares with the committed \
            baseline's numbers instead; the header says which. Correctness (token streams, logits checksums, every \
            variant's error) is absolute and deterministic in both. A busy machine (other processes, steal) gets \
            longer measurements, never wider thresholds; when its rounds still scatter too much to rule out a \
            regression, the verdict is "inconclusive (machine too noisy: ...)", exit 3.
            Metrics: kernel time ratios to frozen yardsticks (one thread, CPU clock; memory-bound shapes on cold \
            weights), generation times, op shares, instruction counts where perf or callgrind count. Format and \
            files: Profiles/README.md; the measurements behind the design: Notes/gates.md.
            Exit status: 0 pass; 1 regression or wrong result; 2 bad input (missing, empty, corrupt or other-suite \
            baseline, unknown revision, a revision that does not build, bad option); 3 inconclusive (machine too noisy).
            CI: swift build -c release --product workbench && .build/release/workbench gate --markdown gate.md
            Child protocol (both builds of an A/B speak it): workbench gate --measure --suite S --round K --json-out F \
            [--threads N] [--no-instructions] [--cases KEY,...] [--calibration-slowdown PERCENT]
            
            Examples:
              workbench gate                                  # A/B against the baseline's commit (what CI runs)
              workbench gate --against HEAD~1 --quick
              workbench gate --calibrate                      # which injected slowdowns it catches here
            """)

        @Option(help: "Baseline file (default: Profiles/baseline.json; Profiles/baseline-quick.json for --quick).")
        var baseline: String?
        @Option(help: "A/B against this git revision (any commit-ish; default: the commit recorded in the baseline).")
        var against: String?
        @Flag(help: "Compare with the committed baseline's numbers only (no A/B).")
        var baselineOnly = false
        @Flag(help: "Measure the suite and write the baseline file instead of comparing.")
        var updateBaseline = false
        @Flag(help: "On this machine, now: inject 5/10/20/50 % slowdowns into the default matmul and report which the A/B catches.")
        var calibrate = false
        @Option(help: "full (124M shapes and models) or quick (tiny shapes, seconds; for tests).")
        var suite: String = "full"
        @Flag(help: "Same as --suite quick.")
        var quick = false
        @Option(help: "Also write a Markdown summary (for a pull-request comment) to this file.")
        var markdown: String?
        @Option(help: "Also write the whole report as JSON to this file.")
        var reportJson: String?
        @Option(help: "A/B: full rounds per side on a quiet machine (busy: +2; undecided metrics: up to 8x, at most 64).")
        var rounds: Int?
        @Option(help: "A/B and --calibrate: keep every child's measurement file (JSON) in this folder, for analysis.")
        var keepMeasurements: String?
        @Option(help: "Baseline comparison: re-measurements of a metric past its threshold before it fails.")
        var retries = 2
        @Option(help: "With --update-baseline: runs of the suite combined into the baseline (thresholds then cover the spread between runs).")
        var runs = 1
        @Option(help: "Workers for the generations (default 1: timed on the CPU clock). Kernels are always timed on one thread.")
        var threads: Int?
        @Flag(help: "Do not try to count instructions (perf, callgrind).")
        var noInstructions = false
        @Flag(help: "Child protocol: measure the suite once and write it to --json-out (used by the A/B and --calibrate).")
        var measure = false
        @Option(help: "Child protocol: the round being measured (0-based).")
        var round: Int?
        @Option(help: "Child protocol: where --measure writes its JSON.")
        var jsonOut: String?
        @Option(help: "Child protocol (used by --calibrate): measure the calibration part with the default matmul doing PERCENT % more of its own work.")
        var calibrationSlowdown: Double?
        @Option(help: "Child protocol (used by the A/B's extension rounds): measure only these cases, by key, comma-separated (matmul-T64, attention, gen-tiny, ...).")
        var cases: String?

        func run() throws {
            if quick && suite != "full" && suite != "quick" { throw WorkbenchError("--quick contradicts --suite \(suite)") }
            let actions = [updateBaseline, calibrate, measure].filter { $0 }.count
            if actions > 1 { throw WorkbenchError("--update-baseline, --calibrate and --measure are separate actions: pick one") }
            if measure != (jsonOut != nil) || measure != (round != nil) {
                throw WorkbenchError("--measure, --round and --json-out go together (the child protocol; see `workbench gate --help`)")
            }
            if let rounds, !(3...20).contains(rounds) { throw WorkbenchError("--rounds must be in 3...20, got \(rounds)") }
            if rounds != nil && (updateBaseline || measure || baselineOnly) {
                throw WorkbenchError("--rounds applies to the A/B and --calibrate only")
            }
            let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            var r = GateRequest(executable: exe)
            r.action = measure ? .measure(round: round!, jsonOut: jsonOut!) : updateBaseline ? .updateBaseline : calibrate ? .calibrate : .compare
            r.suite = quick ? "quick" : suite
            r.baselinePath = baseline
            r.against = against
            r.baselineOnly = baselineOnly
            r.runs = runs
            r.retries = retries
            r.threads = threads ?? 1
            r.instructions = !noInstructions
            r.calibrationSlowdown = calibrationSlowdown
            r.cases = cases.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            r.markdown = markdown
            r.json = reportJson
            r.keepMeasurements = keepMeasurements
            if let rounds {
                r.plan = GateABPlan(rounds: rounds)
            }
            let outcome = try GateCommand.run(r, log: note)
            print(outcome.output, terminator: "")
            if outcome.exitCode != .success { throw ExitCode(outcome.exitCode.rawValue) }
        }
    }
}
