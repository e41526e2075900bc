import ArgumentParser
import Bench
import Foundation
import Lab

extension Workbench {
    /// `workbench machine`: the CPU, its caches, and its measured FMA peak and memory bandwidth (cached).
    struct MachineCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "machine",
            abstract: "Print the machine's facts: CPU, cores, SIMD flags, caches, measured FMA peak and memory bandwidth.",
            discussion: """
            The measurements are cached in $WORKBENCH_CACHE/machine.json (default ~/.cache/workbench) with a \
            fingerprint of the CPU; `compare` uses them as the 100 % lines. --refresh measures again.

            Examples:
              workbench machine   # the cached facts (measured on first use)
              workbench machine --refresh --json             measure again, print JSON
            """)

        @Flag(help: "Measure again even if cached facts exist.")
        var refresh = false
        @Flag(help: "Print the facts as JSON.")
        var json = false

        func run() throws {
            let info = Bench.Machine.current(refresh: refresh, log: note)
            print(json ? try LabJSON.string(info) : info.text, terminator: json ? "\n" : "")
        }
    }
}
