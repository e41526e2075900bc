import Foundation

/// Writes llm.c-format checkpoints with deterministic pseudo-random weights: layernorm weights near 1
/// (1 + N(0, 0.02)), every other tensor N(0, 0.02), the padded wte rows (V..<Vp) zero.
/// The same (config, version, seed) always gives the same bytes, on any machine.
public enum SyntheticCheckpoint {
    /// Writes the checkpoint to `path` (through a temporary file renamed into place, so a concurrent
    /// reader never sees half a file). Throws `CheckpointError` if the shape is invalid or writing fails.
    public static func write(to path: String, config: GPT2Config, version: Int = 3, seed: UInt64 = 1337) throws {
        guard CheckpointFormat.versions.contains(version) else {
            throw CheckpointError(path: path, "unsupported checkpoint version \(version) (supported: 1, 3)")
        }
        if version == 1 && config.Vp != config.V {
            throw CheckpointError(path: path, "version 1 checkpoints have no padded vocabulary: Vp must equal V (\(config.V))")
        }
        if let p = config.problem() { throw CheckpointError(path: path, p) }
        // Refuse what cannot fit instead of filling the disk (an absurd --layers can ask for terabytes).
        let bytes = CheckpointFormat.headerBytes + config.parameterCount * 4
        let dir = (path as NSString).deletingLastPathComponent
        var fs = statvfs()
        if statvfs(dir.isEmpty ? "." : dir, &fs) == 0 {
            let free = Int(fs.f_bavail) * Int(fs.f_frsize)
            if bytes > free {
                throw CheckpointError(path: path, String(format: "the checkpoint would take %.2f GB but only %.2f GB are free there", Double(bytes) / 1e9, Double(free) / 1e9))
            }
        }
        let tmp = path + ".tmp.\(getpid())"
        guard let f = fopen(tmp, "wb") else {
            throw CheckpointError(path: path, "cannot write: \(String(cString: strerror(errno)))")
        }
        var ok = true
        let header = CheckpointFormat.header(config, version: version)
        ok = header.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) == $0.count } && ok
        var rng = SplitMix64(seed: seed)
        let chunk = 1 << 16
        var buf = [Float](repeating: 0, count: chunk)
        for (index, (name, count)) in zip(GPT2Config.parameterNames, config.parameterSizes).enumerated() {
            let isLayernormWeight = ["ln1w", "ln2w", "lnfw"].contains(name)
            // wte's real rows are V*C values; its padding rows stay zero.
            let randomCount = index == 0 ? config.V * config.C : count
            var written = 0
            while written < count && ok {
                let n = min(chunk, count - written)
                buf.withUnsafeMutableBufferPointer { b in
                    for i in 0..<n {
                        let k = written + i
                        if k >= randomCount { b[i] = 0; continue }
                        let z = rng.nextNormal() * 0.02
                        b[i] = isLayernormWeight ? 1 + z : z
                    }
                }
                ok = buf.withUnsafeBytes { fwrite($0.baseAddress, 4, n, f) == n } && ok
                written += n
            }
        }
        ok = (fclose(f) == 0) && ok
        if !ok || rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw CheckpointError(path: path, "cannot write: \(reason)")
        }
    }
}
