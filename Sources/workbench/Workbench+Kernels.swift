import ArgumentParser
import Bench
import Foundation
import Lab

extension Workbench {
    /// `workbench kernels`: the matmul and attention registries (Lab's `KernelListing`), and with `--time` the
    /// llm.c-style harness (Lab's `KernelTiming`): check every variant against the reference, then time it.
    struct KernelsCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kernels",
            abstract: "List the matmul and attention variants; with --time, check each against the reference and time it.",
            discussion: """
            The reference (variant 0) is what every other variant is checked against; the engine default is what
            `run` and the other commands use when no --matmul / --attention is given; experiments are users'
            variants registered from Sources/Experiments.
            --time is a quick napkin-math harness (median of repeated calls, GFLOP/s and weight GB/s against the
            measured limits); use `workbench compare` for statistics. Weights cycle through copies larger than the
            last-level cache (>= 256 MB) so T=1 calls stream them from memory, as a forward pass does.

            Examples:
              workbench kernels   # the registries, numbered, with their traits
              # every variant checked, then timed the engine's way
              workbench kernels --time --threads 2 --split
              workbench kernels --time --mm 1,768,3072 --variants naive,threaded --budget 1
            """)

        @Flag(help: "Print the registries (or, with --time, the measurements) as JSON.")
        var json = false
        @Flag(help: "Check every variant against the reference, then time it.")
        var time = false
        @Option(name: .customLong("mm"), help: "With --time: a matmul shape T,C,OC (repeatable; default 64,768,3072 and 1,768,3072).")
        var matmulShapes: [String] = []
        @Option(name: .customLong("attn"), help: "With --time: an attention shape T,C,NH[,pos0] (repeatable; default 256,768,12).")
        var attentionShapes: [String] = []
        @Option(help: "With --time: workers (variants that do not use the pool still run on one thread unless --split).")
        var threads = 1
        @Flag(help: "With --time: split every variant across the pool, as the engine does.")
        var split = false
        @Option(help: "With --time: only these variants (comma-separated names).")
        var variants: String?
        @Option(help: "With --time: seconds of timed calls per variant and shape.")
        var budget = 0.3

        func run() throws {
            guard time else {
                if !matmulShapes.isEmpty || !attentionShapes.isEmpty || variants != nil { throw WorkbenchError("--mm, --attn and --variants need --time") }
                let listing = KernelListing.current()
                print(json ? try LabJSON.string(listing) : listing.text, terminator: json ? "\n" : "")
                return
            }
            let settings = try KernelTimingSettings(matmul: matmulShapes, attention: attentionShapes, threads: threads,
                                                    split: split, seconds: budget, only: variants)
            let report = KernelTiming.run(settings, machine: Bench.Machine.current(log: note)) { table in
                if !json { print(table.text); fflush(stdout) }
            }
            if json { print(try LabJSON.string(report)) }
        }
    }
}
