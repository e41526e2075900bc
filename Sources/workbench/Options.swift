import ArgumentParser
import Bench
import Foundation
import GPT2
import Kernels

/// `--model PATH` (else $WORKBENCH_MODEL, else the synthetic 124M default).
struct ModelOption: ParsableArguments {
    @Option(name: .long, help: "An llm.c checkpoint or a `workbench convert` model file (default: $WORKBENCH_MODEL, else the synthetic 124M model).")
    var model: String?

    /// Resolves and loads the model (creating the synthetic default if needed): an llm.c checkpoint or a
    /// converted model file, by its magic.
    func loadWeights() throws -> ModelWeights {
        try loadModelFile(try DefaultModel.resolve(model, log: note))
    }
}

/// Kernel variants and threads of the engine, written as flags; they become one `EngineSpec`.
struct EngineFlags: ParsableArguments {
    @Option(help: "Matmul variant for every matmul (see `workbench kernels`), or a shared library ./libmine.so[:SYMBOL] with llm.c's matmul_forward.")
    var matmul: String?
    @Option(help: "Attention variant (see `workbench kernels`).")
    var attention: String?
    @Option(help: "Workers, the main thread included (default: the usable cores).")
    var threads: Int?
    @Flag(help: "Pin worker threads to CPUs.")
    var pin = false
    @Option(help: "'auto': the per-site choice of `workbench tune` (overrides --matmul/--attention).")
    var kernels: String?
    @Option(help: "The tuning file --kernels auto reads.")
    var tuneFile: String = TuningFile.defaultPath

    /// The engine spec these flags stand for (`matmul=...,attention=...,threads=K,pin,kernels=auto`).
    var specText: String {
        var items: [String] = []
        if let matmul { items.append("matmul=\(matmul)") }
        if let attention { items.append("attention=\(attention)") }
        if let threads { items.append("threads=\(threads)") }
        if pin { items.append("pin") }
        if let kernels { items.append("kernels=\(kernels)") }
        return items.joined(separator: ",")
    }

    /// The same flags as command-line arguments (for a child process that parses them again).
    var arguments: [String] {
        var a: [String] = []
        if let matmul { a += ["--matmul", matmul] }
        if let attention { a += ["--attention", attention] }
        if let threads { a += ["--threads", "\(threads)"] }
        if pin { a.append("--pin") }
        if let kernels { a += ["--kernels", kernels, "--tune-file", tuneFile] }
        return a
    }

    /// The engine options for a model of shape `config` (the tuning file applied with `--kernels auto`).
    func options(config: GPT2Config, timers: Bool = true) throws -> EngineOptions {
        if let k = kernels, k != "auto" { throw WorkbenchError("unknown --kernels value '\(k)' (known: auto)") }
        if let t = threads, !(1...256).contains(t) { throw WorkbenchError("--threads must be in 1...256, got \(t)") }
        var spec = try EngineSpec.parse(specText)
        try spec.applyTuning(file: tuneFile, config: config, fingerprint: Bench.Machine.fingerprint(), warn: note)
        spec.options.timers = timers
        return spec.options
    }

    /// The engine options for `weights`: as `options(config:timers:)`, and for a converted file (bf16/q8/q4)
    /// its format's variant at every site when no --matmul / --kernels chose one (ModelWeights.nativeOptions).
    func options(for weights: ModelWeights, timers: Bool = true) throws -> EngineOptions {
        let o = try options(config: weights.config, timers: timers)
        return matmul == nil && kernels == nil ? weights.nativeOptions(o) : o
    }
}

/// The runner's progress on stderr once a run takes more than a second: rewritten in place on a terminal,
/// a line every 5 s otherwise. `finish()` clears the line.
final class ProgressLine {
    private let label: String
    private let tty = isatty(2) != 0
    private let start = monotonicNanos()
    private var lastPrint = 0.0
    private var printed = false

    init(_ label: String) { self.label = label }

    func update(_ p: RunnerProgress) {
        let t = secondsSince(start)
        guard t > 1, t - lastPrint >= (tty ? 0.25 : 5) else { return }
        lastPrint = t
        let target = p.phase == .warmup ? "" : String(format: " of >= %d runs and >= %.0f s", p.options.minimumRuns, p.options.budgetSeconds)
        let line = String(format: "%@: %@ round %d%@, %.1f s", label, p.phase.rawValue, p.rounds, target, t)
        if tty { FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8)); printed = true } else { note(line) }
    }

    func finish() { if printed { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) } }

    /// A plain "label: what" update: rewritten in place on a terminal, a line (at most every 5 s) otherwise.
    func say(_ what: String) {
        let t = secondsSince(start)
        if tty { FileHandle.standardError.write(Data(("\r\(label): \(what)\u{1B}[K").utf8)); printed = true }
        else if t - lastPrint >= 5 { lastPrint = t; note("\(label): \(what)") }
    }
}
