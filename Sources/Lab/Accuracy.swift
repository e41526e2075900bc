// What a lossy engine costs in accuracy: GPT2's paired run of two models (teacher-forced logits over one
// sequence, greedy streams from one prompt) turned into Bench's metrics. Used by `compare --engine` and
// `convert --check`.
import Bench
import GPT2
import Kernels

public enum ModelAccuracyRun {
    /// `candidate` against `reference`: logits over the teacher-forced `sequence` (max |dlogit|, relative RMS,
    /// top-1 agreement, KL of the next-token distributions) and `greedy` greedy tokens from `greedyPrompt`.
    public static func measure(reference: GPT2Model, candidate: GPT2Model, sequence: [Int32], greedyPrompt: [Int32],
                               greedy: Int) throws -> ModelAccuracy {
        let run = try compareModels(reference: reference, candidate: candidate, sequence: sequence, greedyPrompt: greedyPrompt, greedy: greedy)
        let logits = LogitAccuracy(reference: run.referenceLogits, candidate: run.candidateLogits, vocabulary: run.vocabulary)
        return ModelAccuracy(logits: logits, greedyAgreement: Accuracy.agreementPrefix(run.referenceGreedy, run.candidateGreedy),
                             greedyCompared: greedy)
    }
}

extension EngineOptions {
    /// The weight format each matmul site reads (f32, or a lossy bf16, q8, q4).
    public var weightFormats: [MatmulSite: WeightFormat] { matmul.mapValues(\.weightFormat) }
}
