// swift-tools-version:5.9
// workbench: a profiler-guided optimization workbench for GPT-2 inference on the CPU.
//
// Arrows only point one way:
//   workbench -> GPT2 -> Kernels -> CBLAS, CQuant
//   workbench -> Profiling -> CSampler
//   workbench -> Bench
import PackageDescription

/// Kernel code is compiled for the build machine's CPU in every configuration: without a target CPU,
/// swiftc lowers SIMD fused multiply-adds to a libm call per lane (~50x slower). `-Ounchecked` drops
/// the bounds checks the kernels do not need (they work on raw pointers whose sizes the caller checks).
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "native"])]
let engineFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "native"])]

let package = Package(
    name: "workbench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "workbench", targets: ["workbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS's cblas.h, the outside yardstick for the matmul variants.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        // bf16/q8/q4 weight formats: packing and AVX-512 (VNNI) matmul kernels, with a bit-identical scalar
        // fallback. -ffp-contract=off: the scalar code must fuse a*b+c only where the formats' rule says.
        .target(name: "CQuant", cSettings: [.unsafeFlags(["-O3", "-march=native", "-ffp-contract=off"])]),
        // The ops as free functions, numbered matmul/attention variants, the worker pool.
        .target(name: "Kernels", dependencies: ["CBLAS", "CQuant"], swiftSettings: kernelFlags),
        // Checkpoint loading (mmap), the model, forward pass, generation, per-op timers, synthetic weights.
        .target(name: "GPT2", dependencies: ["Kernels"], swiftSettings: engineFlags),
        // Async-signal-safe SIGPROF sampler (libunwind) and libelf symbol tables.
        .target(
            name: "CSampler",
            cSettings: [.unsafeFlags(["-O2", "-march=native", "-fno-omit-frame-pointer"])],
            // libunwind.so also exports the `_Unwind_*` ABI: gcc_s is linked before it so that libgcc_s (the
            // Swift runtime's and libstdc++'s unwinder) comes first in the symbol search order and keeps
            // C++ exception unwinding; libunwind serves only the sampler's `unw_*` calls.
            linkerSettings: [.linkedLibrary("gcc_s"), .linkedLibrary("unwind"), .linkedLibrary("elf")]
        ),
        // Samples -> symbolized stacks -> folded stacks -> reports.
        .target(name: "Profiling", dependencies: ["CSampler"]),
        // Runner, statistics, machine facts, baselines and gate verdicts. Knows nothing about GPT-2.
        .target(name: "Bench", swiftSettings: engineFlags),
        // The CLI: one file per verb, thin.
        .executableTarget(
            name: "workbench",
            dependencies: [
                "GPT2", "Kernels", "Profiling", "Bench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: engineFlags
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "GPT2Tests", dependencies: ["GPT2", "Kernels"]),
        .testTarget(name: "ProfilingTests", dependencies: ["Profiling", "CSampler"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench"]),
        // Runs the built `workbench` binary: exit codes, messages, end-to-end checks against Tools/.
        .testTarget(name: "WorkbenchTests", dependencies: ["workbench"]),
    ]
)
