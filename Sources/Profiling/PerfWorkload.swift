// The perf backend's protocol with the workload it re-runs (this binary again, as a hidden child):
//
//   parent                                        child
//   PerfControl.create(in: tmp) -> two FIFOs
//   perf record --control fifo:ctl,ack -D -1 --   PerfControl.Client(spec: "ctl,ack")
//     workbench ... --perf-control ctl,ack        load, warm up, prefault stacks; client.send("enable")
//     --child-report tmp/child.json               ... the measured workload ...; client.send("disable")
//   PerfWorkloadReport.read(tmp/child.json)   <-  PerfWorkloadReport(...).write(to: tmp/child.json)
//
// perf starts with its events disabled (-D -1) and records only between enable and disable, so model loading
// and warm-up are not in the profile. Each command is a line on the control FIFO, acknowledged by perf with a
// line on the ack FIFO (5 s timeout: no ack means no control, and the report says so).
import Foundation

public enum PerfControl {
    /// Creates the control and ack FIFOs in `dir`. Throws `ProfilingError`.
    public static func create(in dir: String) throws -> Perf.Control {
        let ctl = dir + "/ctl", ack = dir + "/ack"
        guard mkfifo(ctl, 0o600) == 0, mkfifo(ack, 0o600) == 0 else { throw ProfilingError("cannot create FIFOs in \(dir)") }
        return Perf.Control(controlFIFO: ctl, ackFIFO: ack)
    }

    /// The workload's end of the FIFOs.
    public final class Client {
        private let ctl: Int32, ack: Int32

        /// Opens "ctl,ack" (the `Perf.Control.spec` the parent passed); nil if it cannot.
        public init?(spec: String) {
            let parts = spec.split(separator: ",").map(String.init)
            guard parts.count == 2 else { return nil }
            let c = open(parts[0], O_WRONLY), a = open(parts[1], O_RDONLY)
            guard c >= 0 && a >= 0 else { if c >= 0 { close(c) }; if a >= 0 { close(a) }; return nil }
            ctl = c; ack = a
        }
        deinit { close(ctl); close(ack) }

        /// Sends "enable" / "disable"; true when perf acknowledged it within `timeoutMs`.
        public func send(_ command: String, timeoutMs: Int32 = 5000) -> Bool {
            let bytes = Array((command + "\n").utf8)
            guard write(ctl, bytes, bytes.count) == bytes.count else { return false }
            var pfd = pollfd(fd: ack, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, timeoutMs) == 1 else { return false }
            var buf = [UInt8](repeating: 0, count: 16)
            return read(ack, &buf, buf.count) > 0
        }
    }
}

extension PerfControl {
    /// The child's side of the protocol: `prepare`, enable perf (through `spec`, the --perf-control value; nil:
    /// no control), run `work` again and again for `duration` seconds, disable. Returns the runs, the seconds
    /// and whether perf acknowledged the enable.
    public static func runControlled(spec: String?, duration: Double, prepare: () -> Void, work: () throws -> Void) throws -> (runs: Int, seconds: Double, controlled: Bool) {
        let client = spec.flatMap(Client.init(spec:))
        prepare()
        let controlled = client?.send("enable") ?? false
        let start = Date()
        var runs = 0
        repeat { try work(); runs += 1 } while Date().timeIntervalSince(start) < duration
        let seconds = Date().timeIntervalSince(start)
        _ = client?.send("disable")
        return (runs, seconds, controlled)
    }
}

extension Perf.Control {
    /// "ctl,ack": how the child is told where the FIFOs are.
    public var spec: String { "\(controlFIFO),\(ackFIFO)" }
}

/// What the re-run workload reports back to the parent: how much it ran and its op timers (plain names).
public struct PerfWorkloadReport: Codable, Sendable, Equatable {
    public var generations: Int
    public var seconds: Double
    /// The engine's one-line summary.
    public var engine: String
    /// Whether perf acknowledged the enable command (else the whole child run is in the profile).
    public var controlled: Bool
    public var forwards: Int
    public var forwardMs: Double
    public var ops: [OpTimer]

    public init(generations: Int, seconds: Double, engine: String, controlled: Bool, forwards: Int, forwardMs: Double, ops: [OpTimer]) {
        self.generations = generations; self.seconds = seconds; self.engine = engine; self.controlled = controlled
        self.forwards = forwards; self.forwardMs = forwardMs; self.ops = ops
    }

    public func write(to path: String) throws {
        do { try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path)) }
        catch { throw ProfilingError("cannot write \(path): \(error.localizedDescription)") }
    }

    /// The report at `path`, or nil (the child failed before writing it).
    public static func read(_ path: String) -> PerfWorkloadReport? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(PerfWorkloadReport.self, from: $0) }
    }

    /// "12 generations of [31373 612] to n=10 (96 forward passes) in 2.01 s".
    public func describe(prompt: String, n: Int) -> String {
        String(format: "%d generations of [%@] to n=%d (%d forward passes) in %.2f s", generations, prompt as NSString, n, forwards, seconds)
    }

    /// Samples per second per thread of the workload.
    public func achievedHz(samples: Int, threads: Int) -> Double? {
        seconds > 0 && threads > 0 ? Double(samples) / (seconds * Double(threads)) : nil
    }
}
