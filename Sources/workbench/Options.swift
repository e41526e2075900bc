import ArgumentParser
import Foundation
import GPT2
import Kernels

/// `--model PATH` (else $WORKBENCH_MODEL, else the synthetic 124M default).
struct ModelOption: ParsableArguments {
    @Option(name: .long, help: "Checkpoint in llm.c's format (default: $WORKBENCH_MODEL, else the synthetic 124M model).")
    var model: String?

    /// Resolves and loads the checkpoint (creating the synthetic default if needed).
    func load() throws -> Checkpoint {
        let path = try DefaultModel.resolve(model, log: note)
        return try Checkpoint(path: path)
    }

    /// Resolves and loads the model: an llm.c checkpoint or a converted model file, by its magic.
    func loadWeights() throws -> ModelWeights {
        try loadModelFile(try DefaultModel.resolve(model, log: note))
    }
}

/// Kernel variants and threads of the engine.
struct EngineFlags: ParsableArguments {
    @Option(help: "Matmul variant for every matmul (see `workbench kernels`).")
    var matmul: String = EngineDefaults.matmul
    @Option(help: "Attention variant (see `workbench kernels`).")
    var attention: String = EngineDefaults.attention
    @Option(help: "Workers, the main thread included (default: the usable cores).")
    var threads: Int?
    @Flag(help: "Pin worker threads to CPUs.")
    var pin = false
    @Option(help: "'auto': the per-site choice of `workbench tune` (overrides --matmul/--attention).")
    var kernels: String?
    @Option(help: "The tuning file --kernels auto reads.")
    var tuneFile: String = TuningFile.defaultPath

    func options(timers: Bool = true) throws -> EngineOptions {
        guard let m = MatmulVariants.named(matmul) else {
            throw WorkbenchError("unknown matmul variant '\(matmul)' (known: \(MatmulVariants.all.map(\.name).joined(separator: ", ")))")
        }
        guard let a = AttentionVariants.named(attention) else {
            throw WorkbenchError("unknown attention variant '\(attention)' (known: \(AttentionVariants.all.map(\.name).joined(separator: ", ")))")
        }
        let t = threads ?? EngineDefaults.threads
        guard t >= 1 && t <= 256 else { throw WorkbenchError("--threads must be in 1...256, got \(t)") }
        var o = EngineOptions(matmul: m, attention: a, threads: t, pin: pin, timers: timers)
        switch kernels {
        case nil: break
        case "auto":
            let tuned = try TuningFile.load(tuneFile)
            for (site, name) in tuned.matmul { o.matmul[MatmulSite(rawValue: site)!] = MatmulVariants.named(name)! }
            if let name = tuned.attention { o.attention = AttentionVariants.named(name)! }
        case let other?:
            throw WorkbenchError("unknown --kernels value '\(other)' (known: auto)")
        }
        return o
    }
}

/// The engine's defaults when no flag is given.
enum EngineDefaults {
    static let matmul = MatmulVariants.defaultName
    static let attention = AttentionVariants.defaultName
    /// The CPUs this process may run on (sched_getaffinity), at least 1.
    static var threads: Int {
        let n = CPUAffinity.current().count
        return n > 0 ? n : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}
