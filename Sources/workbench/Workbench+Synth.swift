import ArgumentParser
import Foundation
import GPT2

extension Workbench {
    /// `workbench synth`: write a checkpoint with deterministic random weights.
    struct Synth: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a synthetic llm.c checkpoint with deterministic random weights.",
            discussion: """
            Examples:
              # the 124M shape (the default model), version 3
              workbench synth gpt2_124M.bin
              workbench synth tiny.bin --preset tiny   # L=2 C=64 V=512 maxT=64, for tests
              workbench synth m.bin --layers 4 --channels 256 --heads 8 --vocab 1000 --max-t 128
            """)

        @Argument(help: "Output file.") var out: String
        @Option(help: "124M (L=12 NH=12 C=768 V=50257 Vp=50304 maxT=1024) or tiny (L=2 NH=4 C=64 V=512 Vp=576 maxT=64).")
        var preset: String = "124M"
        @Option(help: "Layers (overrides the preset).") var layers: Int?
        @Option(help: "Heads.") var heads: Int?
        @Option(help: "Channels.") var channels: Int?
        @Option(help: "Vocabulary size.") var vocab: Int?
        @Option(help: "Padded vocabulary size (version 3; default: the vocabulary rounded up to 64, or the preset's).")
        var paddedVocab: Int?
        @Option(help: "Maximum sequence length.") var maxT: Int?
        @Option(help: "Checkpoint version: 1 (no padding) or 3.") var version = 3
        @Option(help: "Random seed.") var seed: UInt64 = DefaultModel.seed

        func run() throws {
            var c: GPT2Config
            switch preset.lowercased() {
            case "124m": c = .gpt2_124M
            case "tiny": c = .tiny
            default: throw WorkbenchError("unknown preset '\(preset)' (known: 124M, tiny)")
            }
            if let v = layers { c.L = v }
            if let v = heads { c.NH = v }
            if let v = channels { c.C = v }
            if let v = maxT { c.maxT = v }
            if let v = vocab { c.V = v; c.Vp = (v + 63) / 64 * 64 }
            if let v = paddedVocab { c.Vp = v }
            if version == 1 {
                if paddedVocab != nil && paddedVocab != c.V { throw WorkbenchError("version 1 checkpoints have no padded vocabulary: drop --padded-vocab") }
                c.Vp = c.V
            }
            let start = monotonicNanos()
            try SyntheticCheckpoint.write(to: out, config: c, version: version, seed: seed)
            note(String(format: "wrote %@: version %d, L=%d NH=%d C=%d V=%d Vp=%d maxT=%d, %d parameters, seed %llu (%.1f s)",
                        out as NSString, version, c.L, c.NH, c.C, c.V, c.Vp, c.maxT, c.parameterCount, seed,
                        Double(monotonicNanos() - start) / 1e9))
        }
    }
}
