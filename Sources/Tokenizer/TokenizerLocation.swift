import Foundation

/// Where commands find the tokenizer: `--tokenizer FILE`, else `$WORKBENCH_TOKENIZER`, else `gpt2.tiktoken` in
/// the cache folder, which `bash Tools/setup.sh` fills. The cache folder is the model cache's (GPT2's
/// `DefaultModel.cacheDirectory`, same rule, not imported): `$WORKBENCH_CACHE`, else `$XDG_CACHE_HOME/workbench`,
/// else `~/.cache/workbench`.
public enum TokenizerLocation {
    public static let fileName = "gpt2.tiktoken"
    /// SHA-256 of GPT-2's ranks (openai-whisper's `whisper/assets/gpt2.tiktoken` = tiktoken's r50k_base).
    public static let sha256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
    public static let environmentVariable = "WORKBENCH_TOKENIZER"

    public static var cacheDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["WORKBENCH_CACHE"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/workbench" }
        return (env["HOME"] ?? NSTemporaryDirectory()) + "/.cache/workbench"
    }

    /// `<cache>/gpt2.tiktoken`.
    public static var defaultPath: String { cacheDirectory + "/" + fileName }

    /// The tokenizer file to load; throws a one-line `TokenizerError` (kind `.notFound`) saying where it looked
    /// and how to get the file.
    public static func resolve(explicit: String?) throws -> String {
        if let p = explicit {
            guard exists(p) else { throw TokenizerError(.notFound, "tokenizer file \(p) (--tokenizer) does not exist") }
            return p
        }
        if let p = ProcessInfo.processInfo.environment[environmentVariable], !p.isEmpty {
            guard exists(p) else { throw TokenizerError(.notFound, "tokenizer file \(p) ($\(environmentVariable)) does not exist") }
            return p
        }
        let p = defaultPath
        guard exists(p) else {
            throw TokenizerError(.notFound, "no tokenizer: \(p) does not exist; `bash Tools/setup.sh` fetches GPT-2's \(fileName) there, or pass --tokenizer FILE or set \(environmentVariable)")
        }
        return p
    }

    private static func exists(_ p: String) -> Bool { FileManager.default.fileExists(atPath: p) }
}
