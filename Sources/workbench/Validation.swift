import Foundation

/// Checks of file arguments made before any work starts, so that a typo costs nothing: each failure is one
/// line naming the flag, the path and what is wrong (exit 2).
enum Paths {
    /// An output file the command will write later: its folder must exist and be writable, and the path must
    /// not be a folder. `flag` names the option in the message (e.g. "--svg").
    static func checkOutput(_ path: String?, flag: String) throws {
        guard let path else { return }
        if path.isEmpty { throw WorkbenchError("\(flag): empty path") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw WorkbenchError("\(flag) \(path): is a folder, not a file") }
            if access(path, W_OK) != 0 { throw WorkbenchError("\(flag) \(path): not writable") }
            return
        }
        let dir = (path as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw WorkbenchError("\(flag) \(path): folder \(folder) does not exist")
        }
        if access(folder, W_OK) != 0 { throw WorkbenchError("\(flag) \(path): folder \(folder) is not writable") }
    }

    /// An input file that must exist and be a readable regular file.
    static func checkInput(_ path: String?, flag: String) throws {
        guard let path else { return }
        if path.isEmpty { throw WorkbenchError("\(flag): empty path") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw WorkbenchError("\(flag) \(path): no such file")
        }
        if isDir.boolValue { throw WorkbenchError("\(flag) \(path): is a folder, not a file") }
        if access(path, R_OK) != 0 { throw WorkbenchError("\(flag) \(path): not readable") }
    }
}
