import ArgumentParser
import Experiments
import Foundation

/// The `workbench` command: a thin layer over the Lab, GPT2, Kernels, Profiling and Bench libraries, one file
/// per verb (`Workbench+Run.swift`, `Workbench+Profile.swift`, ...): parse, check flag combinations, call one
/// library function, print, exit.
@main
struct Workbench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workbench",
        abstract: "A profiler-guided optimization workbench for GPT-2 inference on the CPU.",
        discussion: """
        Every command that needs a model uses --model PATH, else $WORKBENCH_MODEL, else a 124M-shaped
        synthetic checkpoint created once in ~/.cache/workbench (override with $WORKBENCH_CACHE).
        Bad input gets one line on stderr and exit status 2.
        """,
        subcommands: [Run.self, Synth.self, KernelsCommand.self, Compare.self, MachineCommand.self, Profile.self,
                      Gate.self, Scale.self, Tune.self, Tokenize.self, Detokenize.self, ReportCommand.self, Convert.self]
    )

    /// Registers the experiments, parses, runs, and maps every failure to one line on stderr: exit 2 for bad
    /// input and usage errors, or the exit code a command chose (`ExitCode`, e.g. 1 for a WRONG variant).
    static func main() {
        Experiments.register()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as ExitCode {
            Foundation.exit(e.rawValue)
        } catch {
            // The libraries' errors (bad checkpoint, bad tokens, I/O) describe themselves in one line.
            if isDomainError(error) { fail(String(describing: error).split(separator: "\n").joined(separator: "; ")) }
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version
            // Usage errors: ArgumentParser's message on one line, with a pointer to --help, exit status 2.
            let msg = message(for: error).split(whereSeparator: \.isNewline).joined(separator: "; ")
            FileHandle.standardError.write(Data("workbench: \(msg) (see 'workbench help')\n".utf8))
            Foundation.exit(2)
        }
    }

    static func isDomainError(_ e: Error) -> Bool {
        !(String(reflecting: type(of: e)).hasPrefix("ArgumentParser."))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("workbench: \(message)\n".utf8))
        Foundation.exit(2)
    }
}

/// A user-facing failure: printed as one line `workbench: <message>`, exit status 2.
struct WorkbenchError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Writes a line to stderr (progress, notices).
func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }
