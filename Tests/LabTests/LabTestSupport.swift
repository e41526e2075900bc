import Experiments
import Foundation
@testable import Bench
import Kernels

/// Machine facts with round numbers (100 GFLOP/s per core, 20 GB/s one thread, 25 GB/s two; L3 32 MiB), so
/// the Lab's rates can be checked by hand and nothing is measured.
func testMachine(peak: Double = 100, bandwidth: Double = 20, bandwidthAll: Double = 25) -> MachineInfo {
    MachineInfo(schema: MachineInfo.currentSchema, fingerprint: "test", measuredAt: "2026-12-01T00:00:00Z", build: "release",
                cpuModel: "test CPU", architecture: "x86_64", logicalCores: 2, usableCPUs: [0, 1], simdFlags: [],
                caches: [CacheInfo(level: 3, type: "Unified", bytes: 32 << 20, sharedBy: 2)],
                fmaPeakGFLOPS: peak, readBandwidthGBs: bandwidth, readBandwidthAllGBs: bandwidthAll, bandwidthThreads: 2,
                bandwidthBytes: 1 << 28, warnings: [])
}

/// A few runs, no time budget: fast comparisons.
func quickRunner(runs: Int = 3) -> RunnerOptions {
    var o = RunnerOptions()
    o.minimumRuns = runs; o.maximumRuns = runs; o.budgetSeconds = 0; o.warmupCalls = 1; o.warmupSeconds = 0
    return o
}

/// naive, plus `error` added to out[0, 0]: a variant that is wrong by exactly `error` (how the tests exercise
/// the WRONG path through the library, with no hidden CLI flag).
func perturbedMatmul(_ error: Float) -> MatmulVariant {
    MatmulVariant(name: "perturbed", summary: "naive + \(error) on out[0, 0]") { a, cols in
        MatmulVariants.reference.kernel(a, cols)
        if cols.contains(0) { a.out[0] += error }
    }
}

func perturbedAttention(_ error: Float) -> AttentionVariant {
    AttentionVariant(name: "perturbed", summary: "naive + \(error) on out[0]") { a, items, ith in
        AttentionVariants.reference.kernel(a, items, ith)
        if items.contains(0) { a.out[0] += error }
    }
}

/// Registers the experiments once for the whole test bundle (as workbench's main does).
let experimentsRegistered: Void = Experiments.register()
