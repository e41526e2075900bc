// Running perf (and what it runs) as `perf record` itself would be run from a shell: the command resolved on the
// user's PATH, its exit status or signal passed on, stop signals forwarded, nothing left behind.
//
//   Signals.watch()            SIGINT, SIGTERM, SIGHUP (unless ignored) and SIGCHLD -> a mask + a self-pipe (C)
//   ChildProcess.run(...)      fork/exec with PR_SET_PDEATHSIG, poll(pipe, tick) + waitpid(WNOHANG); a stop
//                              signal is forwarded to the child, which gets `grace` seconds before it and every
//                              descendant are killed
//   Termination                exit status N | killed by SIGxxx (exit code 128 + n, as shells report it)
import CSampler
import Foundation

/// How a child process ended.
public enum Termination: Equatable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// The status a shell reports: the exit status, or 128 + the signal number.
    public var exitCode: Int32 {
        switch self { case .exited(let c): return c; case .signaled(let s): return 128 + s }
    }
    public var description: String {
        switch self {
        case .exited(let c): return "exit status \(c)"
        case .signaled(let s): return "killed by \(Signals.name(s))"
        }
    }
}

/// This process was asked to stop (SIGINT, SIGTERM, SIGHUP) while a step could not finish.
public struct Interrupted: Error, CustomStringConvertible, Equatable {
    public let signal: Int32
    public init(signal: Int32) { self.signal = signal }
    public var description: String { "interrupted by \(Signals.name(signal))" }
}

/// The stop signals of this process, caught by CSampler's async-signal-safe handler.
public enum Signals {
    /// The signals that stop a recording.
    public static let stop: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    nonisolated(unsafe) private static var pipeFD: Int32 = -1

    /// Starts catching the stop signals (those not ignored by the caller's shell) and SIGCHLD.
    public static func watch() {
        let sigs = stop + [SIGCHLD]
        pipeFD = sigs.withUnsafeBufferPointer { ws_signals_watch($0.baseAddress, Int32($0.count)) }
    }
    /// Puts the previous dispositions back.
    public static func unwatch() { ws_signals_unwatch(); }
    /// The read end of the self-pipe (readable when a watched signal arrived), -1 if not watching.
    public static var fd: Int32 { pipeFD }

    /// The stop signals received so far, each once, in order of first arrival (they stay until `reset`).
    public static var pending: [Int32] {
        var seen: [Int32] = []
        for sig in arrivals(since: 0) where !seen.contains(sig) { seen.append(sig) }
        return seen
    }
    /// Every stop signal observed after the first `since` (a second Ctrl-C is a new arrival).
    public static func arrivals(since: Int) -> ArraySlice<Int32> {
        for sig in decode(ws_signals_take()) where stop.contains(sig) { received.append(sig) }
        return received.dropFirst(since)
    }
    /// How many stop signals have been observed so far.
    public static var arrivalCount: Int { arrivals(since: 0).count }
    /// Forgets the stop signals received (tests).
    public static func reset() { _ = arrivals(since: 0); received = [] }
    nonisolated(unsafe) private static var received: [Int32] = []
    private static func decode(_ mask: UInt64) -> [Int32] { (1..<64).filter { mask & (1 << UInt64($0)) != 0 }.map(Int32.init) }

    /// Ends this process by `signal` (default disposition), as a program interrupted by it should.
    public static func die(_ signal: Int32) -> Never {
        fflush(stdout); fflush(stderr)
        ws_signals_die(signal)
        exit(128 + signal)
    }

    /// "SIGSEGV" (or "signal 42").
    public static func name(_ s: Int32) -> String {
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
                                      SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
                                      SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
                                      SIGCHLD: "SIGCHLD", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS"]
        return names[s] ?? "signal \(s)"
    }
}

/// Where a command is, the way a shell finds it.
public enum CommandLookup {
    /// A command that cannot run: `workbench: command not found: NAME` (exit 127, as shells) or
    /// `workbench: permission denied: PATH` (126).
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let message: String
        public let exitCode: Int32
        public var description: String { message }
    }

    /// `argv` with argv[0] replaced by its absolute path (see `resolve`). Throws `Failure`.
    public static func absolute(_ argv: [String], path: String? = ProcessInfo.processInfo.environment["PATH"]) throws -> [String] {
        var a = argv
        switch resolve(argv.first ?? "", path: path) {
        case .found(let p): a[0] = p; return a
        case .notFound: throw Failure(message: "command not found: \(argv.first ?? "")", exitCode: 127)
        case .notExecutable(let p): throw Failure(message: "permission denied: \(p)", exitCode: 126)
        }
    }

    public enum Result: Equatable {
        case found(String)
        case notFound
        case notExecutable(String)
    }

    /// `name` resolved against `path` (the user's PATH; an empty entry is the current folder): a name with a
    /// '/' is taken as a path (made absolute); otherwise the first executable regular file of that name in a
    /// PATH folder. perf would search its own PATH (perf puts its exec folders first), so the command is
    /// resolved here and perf is given an absolute path.
    public static func resolve(_ name: String, path: String?, cwd: String = FileManager.default.currentDirectoryPath) -> Result {
        let fm = FileManager.default
        func absolute(_ p: String) -> String { p.hasPrefix("/") ? p : (cwd as NSString).appendingPathComponent(p) }
        func isFile(_ p: String) -> Bool {
            var dir: ObjCBool = false
            return fm.fileExists(atPath: p, isDirectory: &dir) && !dir.boolValue
        }
        if name.isEmpty { return .notFound }
        if name.contains("/") {
            let p = absolute(name)
            if !isFile(p) { return .notFound }
            return access(p, X_OK) == 0 ? .found(p) : .notExecutable(p)
        }
        var nonExecutable: String?
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let p = absolute((dir.isEmpty ? "." : String(dir)) + "/" + name)
            guard isFile(p) else { continue }
            if access(p, X_OK) == 0 { return .found((p as NSString).standardizingPath) }
            if nonExecutable == nil { nonExecutable = p }
        }
        return nonExecutable.map { .notExecutable($0) } ?? .notFound
    }
}

/// One child process run to its end under `Signals`.
public enum ChildProcess {
    public enum Stream: Equatable {
        case inherit
        case null
        /// This process's stderr (for stdout).
        case stderr
        /// Written to (created or truncated) this file.
        case file(String)
    }

    public struct Outcome: Equatable {
        public var termination: Termination
        /// The first stop signal this process received while the child ran (it was forwarded to the child).
        public var interrupted: Int32?
        public var seconds: Double
    }

    /// Runs `path args` to its end. A stop signal received meanwhile is forwarded to the child (SIGINT as
    /// SIGINT, ...); if the child has not ended `grace` seconds later, it and all its descendants get SIGKILL.
    /// `onTick(elapsed)` runs every `tick` seconds. The child gets SIGTERM if this process dies first
    /// (PR_SET_PDEATHSIG). Throws `ProfilingError` when it cannot start.
    public static func run(_ path: String, _ args: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                           stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit,
                           grace: Double = 10, tick: Double = 1, onTick: (Double) -> Void = { _ in }) throws -> Outcome {
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        func fd(_ s: Stream, forStdin: Bool) throws -> Int32 {
            switch s {
            case .inherit: return -1
            case .stderr: return 2
            case .null:
                let f = open("/dev/null", (forStdin ? O_RDONLY : O_WRONLY) | O_CLOEXEC); opened.append(f); return f
            case .file(let p):
                let f = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard f >= 0 else { throw ProfilingError("cannot create \(p): \(String(cString: strerror(errno)))") }
                opened.append(f); return f
            }
        }
        let inFD = try fd(stdin, forStdin: true), outFD = try fd(stdout, forStdin: false), errFD = try fd(stderr, forStdin: false)
        let argv = [path] + args
        let env = environment.map { "\($0.key)=\($0.value)" }
        var cArgs = argv.map { strdup($0) } + [nil], cEnv = env.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) }; for p in cEnv { free(p) } }
        var execErrno: Int32 = 0
        if !subreaper { subreaper = ws_set_child_subreaper() == 0 }
        let start = Date()
        let pid = ws_spawn(path, &cArgs, &cEnv, inFD, outFD, errFD, SIGTERM, &execErrno)
        guard pid > 0 else { throw ProfilingError("cannot run \(path): \(String(cString: strerror(execErrno)))") }

        var interrupted: Int32?
        var seen = Signals.arrivalCount  // signals from before this child are not its business
        var killAt: Date?
        var lastTick = start
        var status: Int32 = 0
        while ws_wait(pid, 1, &status) != 1 {
            for sig in Signals.arrivals(since: seen) {
                seen += 1
                if interrupted == nil { interrupted = sig; killAt = Date().addingTimeInterval(grace) }
                kill(pid, sig)
            }
            if let k = killAt, Date() >= k { killTree(pid); killAt = nil }
            if Signals.fd >= 0 {
                var p = pollfd(fd: Signals.fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, 100)  // woken by SIGCHLD or a stop signal; `pending` drains the pipe
            } else {
                usleep(50_000)
            }
            let now = Date()
            if now.timeIntervalSince(lastTick) >= tick { lastTick = now; onTick(now.timeIntervalSince(start)) }
        }
        // What the child left running when it was stopped (a shell's own children, re-parented to us) ends too.
        if interrupted != nil { endOrphans(grace: 2) }
        let term: Termination = ws_wait_exited(status) != 0 ? .exited(ws_wait_code(status)) : .signaled(ws_wait_code(status))
        return Outcome(termination: term, interrupted: interrupted, seconds: Date().timeIntervalSince(start))
    }

    nonisolated(unsafe) private static var subreaper = false

    /// `signal` to `pid` and every descendant (found through /proc/PID/task/TID/children), deepest first.
    public static func killTree(_ pid: pid_t, signal: Int32 = SIGKILL) {
        for p in tree(pid).reversed() { kill(p, signal) }
    }

    static func tree(_ pid: pid_t) -> [pid_t] {
        var all: [pid_t] = []
        func collect(_ p: pid_t) {
            all.append(p)
            for c in children(of: p) where !all.contains(c) { collect(c) }
        }
        collect(pid)
        return all
    }

    /// The children of `pid` (every thread's).
    static func children(of pid: pid_t) -> [pid_t] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { t -> [pid_t] in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(t)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    /// This process's remaining children and their descendants: SIGTERM, then SIGKILL after `grace` seconds;
    /// reaped. (As the child subreaper, orphaned grandchildren of a stopped command are among them.)
    public static func endOrphans(grace: Double) {
        let mine = children(of: getpid())
        guard !mine.isEmpty else { return }
        for c in mine { killTree(c, signal: SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        var left = Set(mine)
        var status: Int32 = 0
        while !left.isEmpty {
            for c in left where ws_wait(c, 1, &status) != 0 { left.remove(c) }
            if left.isEmpty { break }
            if Date() >= deadline { for c in left { killTree(c) }; for c in left { _ = ws_wait(c, 0, &status) }; break }
            usleep(20_000)
        }
        // Anything re-parented to us meanwhile.
        for c in children(of: getpid()) { killTree(c); _ = ws_wait(c, 0, &status) }
    }
}
