// Users' own kernel variants, outside the core library. Each lives in one file of this target: the kernel
// function and its `MatmulVariant` / `AttentionVariant` value (see MatmulExampleUnrolled.swift). Swift has no
// load-time initialisers, so each experiment is also named once in the lists below: one line per experiment.
// `Experiments.register()` (called first thing by workbench's main and by the variant tests) adds them to the
// Kernels registries, after the built-in variants; from then on they show up in `workbench kernels`, the
// generic variant tests, compare, tune, the gate and profile like any variant.
import Kernels

public enum Experiments {
    /// Every experimental matmul variant (one line each).
    public static let matmul: [MatmulVariant] = [
        matmulExampleUnrolled,
    ]
    /// Every experimental attention variant (one line each).
    public static let attention: [AttentionVariant] = []

    /// Registers every experiment into the Kernels registries, once per process (later calls do nothing;
    /// thread-safe: a `static let` is initialised exactly once). Traps on a name that is taken or invalid: that
    /// is a mistake in this target, found the first time anything runs.
    public static func register() { _ = registration }

    private static let registration: Void = {
        do {
            for v in matmul { try MatmulVariants.register(v) }
            for v in attention { try AttentionVariants.register(v) }
        } catch {
            fatalError("Experiments: \(error)")
        }
    }()
}
