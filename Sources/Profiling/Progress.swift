// Progress of long steps on stderr: on a terminal one line rewritten in place (`\r`, erased at the end), else
// plain lines, fewer of them (logs keep every line). Quiet for the first seconds, so short runs print nothing.
import Foundation

public final class Progress {
    public let isTerminal: Bool
    let quietFor: Double, plainEvery: Double, ttyEvery: Double
    let write: (String) -> Void
    private var lastPrint: Double?
    private var drawn = false

    /// `isTerminal` nil: whether stderr is a terminal.
    public init(isTerminal: Bool? = nil, quietFor: Double = 2, plainEvery: Double = 10, ttyEvery: Double = 0.5,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.isTerminal = isTerminal ?? (isatty(2) != 0)
        self.quietFor = quietFor; self.plainEvery = plainEvery; self.ttyEvery = ttyEvery; self.write = write
    }

    /// Reports `text` at `elapsed` seconds into the step, if it is time to.
    public func update(_ elapsed: Double, _ text: @autoclosure () -> String) {
        guard elapsed >= quietFor else { return }
        if let l = lastPrint, elapsed - l < (isTerminal ? ttyEvery : plainEvery) { return }
        lastPrint = elapsed
        if isTerminal { write("\r\u{1b}[K" + "workbench: " + text()); drawn = true }
        else { write("workbench: " + text() + "\n") }
    }

    /// A one-off line (a new phase), said only when the step has been long enough to show progress.
    public func phase(_ elapsed: Double, _ text: String) {
        guard elapsed >= quietFor else { return }
        clear()
        write("workbench: " + text + "\n")
    }

    /// Erases the terminal line (nothing for plain lines).
    public func clear() {
        if drawn { write("\r\u{1b}[K"); drawn = false }
    }

    /// "12 s", "2 min 5 s".
    public static func duration(_ s: Double) -> String {
        s < 120 ? String(format: "%.0f s", s) : String(format: "%d min %d s", Int(s) / 60, Int(s) % 60)
    }

    /// "35.2 MB" of the file at `path` (or "0 MB").
    public static func size(ofFile path: String) -> String {
        let n = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
        return String(format: "%.1f MB", n / 1e6)
    }
}
