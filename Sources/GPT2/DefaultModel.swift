import Foundation

/// Where commands find their model when none is given: `--model`, else `$WORKBENCH_MODEL`, else a
/// 124M-shaped synthetic checkpoint created once in the cache folder.
public enum DefaultModel {
    public static let seed: UInt64 = 1337
    /// The cache folder (`CacheFolder.path`: `$WORKBENCH_CACHE`, else `$XDG_CACHE_HOME/workbench`, else
    /// `~/.cache/workbench`).
    public static var cacheDirectory: String { CacheFolder.path }
    public static var syntheticPath: String { cacheDirectory + "/gpt2_124M_synthetic_v3_seed\(seed).bin" }

    /// Resolves the model path; creates the synthetic default if needed, saying so through `log`.
    public static func resolve(_ explicit: String?, log: (String) -> Void) throws -> String {
        if let p = explicit {
            if p.isEmpty { throw CheckpointError(path: "--model", "empty path") }
            return p
        }
        if let p = ProcessInfo.processInfo.environment["WORKBENCH_MODEL"], !p.isEmpty { return p }
        let path = syntheticPath
        let expected = CheckpointFormat.headerBytes + GPT2Config.gpt2_124M.parameterCount * 4
        var st = stat()
        if stat(path, &st) == 0 && Int(st.st_size) == expected { return path }
        do { try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true) }
        catch { throw CheckpointError(path: cacheDirectory, "cannot create the cache folder (set $WORKBENCH_CACHE to a writable folder, or pass --model)") }
        log("workbench: creating the default model (124M-shaped synthetic checkpoint, seed \(seed)) at \(path)")
        try SyntheticCheckpoint.write(to: path, config: .gpt2_124M, version: 3, seed: seed)
        return path
    }
}
