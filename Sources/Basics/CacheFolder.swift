// The one cache-folder policy: the default model (GPT2's DefaultModel) and the machine facts (Bench's
// machine.json) live in the same folder, chosen here.
import Foundation

public enum CacheFolder {
    /// `$WORKBENCH_CACHE`, else `$XDG_CACHE_HOME/workbench`, else `~/.cache/workbench`.
    public static var path: String { path(environment: ProcessInfo.processInfo.environment) }

    /// The policy over an explicit environment (tests).
    public static func path(environment env: [String: String]) -> String {
        if let d = env["WORKBENCH_CACHE"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/workbench" }
        return (env["HOME"] ?? NSTemporaryDirectory()) + "/.cache/workbench"
    }

    /// `name` inside the cache folder.
    public static func file(_ name: String) -> String { path + "/" + name }
}
