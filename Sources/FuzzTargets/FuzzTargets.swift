import Bench
import Foundation
import GPT2
import Profiling

/// The parsers that read files users hand the workbench, as libFuzzer targets: each takes arbitrary bytes and
/// must return (an error is fine) without trapping, hanging or leaking. `Tools/fuzz.sh` runs them under
/// libFuzzer (`workbench-fuzz` built with -sanitize=fuzzer); `FuzzRegressionTests` replays the kept corpus and
/// every crash ever found (Tests/Fuzz/<target>/) through the same functions on every `swift test`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// llm.c checkpoint header (256 int32) against a claimed file size.
    case checkpointHeader = "checkpoint-header"
    /// FlameGraph folded stacks, then written and parsed again (the written text is a fixed point: frames
    /// that the writer had to escape, e.g. a lone carriage return, read back as their escaped form).
    case folded
    /// `perf script` text.
    case perfScript = "perf-script"
    /// A gate baseline (JSON).
    case baseline
    /// A tuning file (JSON), as `--kernels auto` reads it.
    case tuning

    /// Feeds `data` to the target's parser.
    public func run(_ data: Data) {
        switch self {
        case .checkpointHeader:
            var header = [Int32](repeating: 0, count: 256)
            let n = min(data.count, 1024)
            header.withUnsafeMutableBytes { dst in data.prefix(n).withUnsafeBytes { src in dst.copyMemory(from: src) } }
            // the file size: the bytes after the header, or a size the header's own shape implies
            let size = 1024 + max(0, data.count - 1024) * 997
            _ = try? CheckpointFormat.parse(header: header, fileSize: size, path: "fuzz")
        case .folded:
            guard let p = try? Folded.parse(String(decoding: data, as: UTF8.self), source: "fuzz") else { return }
            let text = Folded.write(p)
            let again = try? Folded.parse(text, source: "fuzz round trip")
            precondition(again.map(Folded.write) == text, "folded: writing what was read back changed the text")
        case .perfScript:
            if let samples = try? PerfScript.parse(String(decoding: data, as: UTF8.self)) {
                _ = PerfScript.profile(samples)
            }
        case .baseline:
            if let b = try? Baseline.decode(data, path: "fuzz") { _ = b.problem() }
        case .tuning:
            let path = NSTemporaryDirectory() + "workbench-fuzz-tune-\(getpid()).json"
            guard FileManager.default.createFile(atPath: path, contents: data) else { return }
            defer { unlink(path) }
            _ = try? TuningFile.load(path)
        }
    }
}
