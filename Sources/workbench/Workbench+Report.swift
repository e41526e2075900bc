import ArgumentParser
import Foundation
import Report

extension Workbench {
    /// `workbench report`: one self-contained HTML page with the pictures (machine, flame graph, op breakdown,
    /// roofline, compare distributions, scaling, gate verdict), measured now or read from saved results.
    struct ReportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Write one self-contained HTML page of pictures: machine, flame graph, op breakdown, roofline, compare, scaling, gate.",
            discussion: """
            Measures a short fixed set on the model (a profile of prefills and decode steps with the per-op timers, \
            a thread sweep, every matmul variant at a compute-bound and a memory-bound shape; the gate's last verdict \
            from Profiles/ if saved), or reads saved results with --from DIR: the JSON of machine --json, compare --json, \
            scale --json, profile --json (or Profiles/runs pairs, *.folded), run --timings-json, gate --report-json. \
            The page has inline SVG, CSS and script only: it opens from disk in any browser and prints cleanly.

            Examples:
              workbench report --quick --out report.html
              workbench report --from results/ --out saved.html
            """)

        @Option(help: "The HTML file to write.")
        var out = "report.html"
        @Flag(help: "Short measurements (about a minute).")
        var quick = false
        @Option(help: "Read saved results from this folder instead of measuring.")
        var from: String?
        @Option(help: "Checkpoint to measure (default: $WORKBENCH_MODEL, else the synthetic 124M model).")
        var model: String?

        func run() throws {
            let source: ReportRequest.Source
            if let from {
                if quick { throw WorkbenchError("--quick applies to measuring; --from \(from) reads saved results") }
                if model != nil { throw WorkbenchError("--model applies to measuring; --from \(from) reads saved results") }
                source = .saved(directory: from)
            } else {
                source = .measure(model: model, quick: quick)
            }
            let request = ReportRequest(source: source, output: out, command: ["workbench"] + CommandLine.arguments.dropFirst())
            let html = try ReportBuilder.build(request, log: Progress.line)
            Progress.finish()
            do { try Data(html.utf8).write(to: URL(fileURLWithPath: out)) } catch {
                throw WorkbenchError("cannot write \(out): \(error.localizedDescription)")
            }
            print(out)
        }
    }
}

/// Progress on stderr: one line overwritten in place on a terminal, plain lines otherwise.
private enum Progress {
    nonisolated(unsafe) static var open = false
    static let tty = isatty(2) != 0

    static func line(_ s: String) {
        if tty {
            FileHandle.standardError.write(Data(("\r" + s + "\u{1B}[K").utf8))
            open = true
        } else {
            note(s)
        }
    }

    static func finish() {
        if open { FileHandle.standardError.write(Data("\n".utf8)); open = false }
    }
}
