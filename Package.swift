// swift-tools-version:5.9
// workbench: a profiler-guided optimization workbench for GPT-2 inference on the CPU.
//
// Arrows only point one way (Notes/architecture.md gives the reason for each target):
//   workbench -> Lab -> {GPT2, Kernels, Bench}
//   workbench -> GPT2 -> {Kernels, Basics};  Kernels -> CBLAS, CQuant
//   workbench -> Profiling -> {CSampler, CZlib, Basics}
//   workbench -> Experiments -> Kernels
//   Bench -> Basics (the clock, the seeded generator, the cache folder, the JSON writer); Basics imports nothing.
//   Bench knows nothing about kernels or GPT-2; Profiling knows nothing about GPT-2.
//   workbench -> Tokenizer (imports nothing of ours)
import PackageDescription

/// Kernel code is compiled for the build machine's CPU in every configuration: without a target CPU,
/// swiftc lowers SIMD fused multiply-adds to a libm call per lane (~50x slower). `-Ounchecked` drops
/// the bounds checks the kernels do not need (they work on raw pointers whose sizes the caller checks).
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "native", "-Xllvm", "-align-all-functions=6"])]  // 64-byte function starts: a kernel performs the same wherever the code before it ends (Notes/gates.md)
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
        // The few helpers every layer shares: the monotonic clock, the seeded generator, the cache folder.
        .target(name: "Basics", swiftSettings: engineFlags),
        // OpenBLAS's cblas.h, the outside yardstick for the matmul variants.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        // bf16/q8/q4 weight formats: packing and AVX-512 (VNNI) matmul kernels, with a bit-identical scalar
        // fallback. -ffp-contract=off: the scalar code must fuse a*b+c only where the formats' rule says.
        .target(name: "CQuant", cSettings: [.unsafeFlags(["-O3", "-march=native", "-ffp-contract=off"])]),
        // The ops as free functions, numbered matmul/attention variants, the worker pool.
        .target(name: "Kernels", dependencies: ["CBLAS", "CQuant"], swiftSettings: kernelFlags),
        // Checkpoint loading (mmap), the model, forward pass, generation, per-op timers, synthetic weights.
        .target(name: "GPT2", dependencies: ["Kernels", "Basics"], swiftSettings: engineFlags),
        // Async-signal-safe SIGPROF sampler (libunwind) and libelf symbol tables.
        .target(
            name: "CSampler",
            cSettings: [.unsafeFlags(["-O2", "-march=native", "-fno-omit-frame-pointer"])],
            // libunwind.so also exports the `_Unwind_*` ABI: gcc_s is linked before it so that libgcc_s (the
            // Swift runtime's and libstdc++'s unwinder) comes first in the symbol search order and keeps
            // C++ exception unwinding; libunwind serves only the sampler's `unw_*` calls.
            linkerSettings: [.linkedLibrary("gcc_s"), .linkedLibrary("unwind"), .linkedLibrary("elf")]
        ),
        // zlib's deflate for gzip-compressed pprof files (Foundation on Linux has no compression API).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Samples -> symbolized stacks -> folded stacks -> reports.
        .target(name: "Profiling", dependencies: ["CSampler", "CZlib", "Basics"]),
        // Runner, statistics, machine facts, baselines and gate verdicts. Knows nothing about GPT-2.
        .target(name: "Bench", dependencies: ["Basics"], swiftSettings: engineFlags),
        // Where variants are checked, timed, tuned and gated (llm.c's dev/ room): the gate suite, compare, tune,
        // scale, the kernel timing harness, the kernel problems, the frozen yardsticks; Codable reports.
        .target(name: "Lab", dependencies: ["GPT2", "Kernels", "Bench"], swiftSettings: engineFlags),
        // Users' own variants, one file each, registered into the Kernels registries at start-up
        // (`.so` kernels with llm.c's C signature need no target: Kernels loads them at run time).
        .target(name: "Experiments", dependencies: ["Kernels"], swiftSettings: kernelFlags),
        // GPT-2's byte-level BPE: text <-> ids, as tiktoken gives them; .tiktoken / llm.c / Hugging Face files.
        .target(name: "Tokenizer", swiftSettings: engineFlags),
        // `workbench report` (only the CLI depends on it): one self-contained HTML page, charts by its own SVG writer.
        .target(name: "Report", dependencies: ["Lab", "Profiling", "GPT2", "Kernels", "Bench"]),
        // The CLI: one file per verb, thin.
        .executableTarget(
            name: "workbench",
            dependencies: [
                "Lab", "GPT2", "Kernels", "Profiling", "Bench", "Experiments", "Tokenizer", "Report", "Basics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: engineFlags
        ),
        // The file parsers as libFuzzer targets (Tools/fuzz.sh), and a replay tool for the inputs they found.
        .target(name: "FuzzTargets", dependencies: ["GPT2", "Profiling", "Bench"]),
        .target(name: "CFuzz"),
        .executableTarget(name: "workbench-fuzz", dependencies: ["FuzzTargets", "CFuzz"]),
                // The generic variant tests iterate the registries with the experiments registered.
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "Experiments", "Basics"]),
        .testTarget(name: "GPT2Tests", dependencies: ["GPT2", "Kernels"]),
        .testTarget(name: "ProfilingTests", dependencies: ["Profiling", "CSampler"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "LabTests", dependencies: ["Lab", "GPT2", "Kernels", "Bench", "Experiments"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "workbench"], exclude: ["Fixtures"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"], exclude: ["Fixtures"]),
        // Runs the built `workbench` binary: exit codes, messages, end-to-end checks against Tools/.
        .testTarget(name: "WorkbenchTests", dependencies: ["workbench"]),
    ]
)
