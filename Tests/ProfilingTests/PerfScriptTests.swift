// The perf backend without perf: the `perf script` parser on recorded text, the conversion to report frames,
// and perf missing or unusable (simulated with an empty PATH and with fake perf binaries).
//
// Fixtures/perf-script.txt: nine samples recorded on this machine with
//   perf record -e cpu-clock -c 4000000 --call-graph dwarf,16384 -- workbench profile --workload-child
//   perf script -F comm,tid,time,period,event,ip,sym,dso --no-inline
// (kernel frames, a C++ name with spaces, a versioned libc name, [unknown] frames of a known object, an unwind
// that stopped at 0xffffffffffffffff), then one hand-written sample with the odd cases perf can produce on other
// programs: a comm with spaces, pid/tid and [cpu] fields, a name with a semicolon, a frame in no known object.
import Foundation
@testable import Profiling
import XCTest

final class PerfScriptTests: XCTestCase {
    func samples() throws -> [PerfSample] {
        try PerfScript.parse(try ProfilingFixtures.text("perf-script.txt"), source: "perf-script.txt")
    }

    func testParsesEverySampleAndFrame() throws {
        let s = try samples()
        XCTAssertEqual(s.count, 10)
        // Model loading (C++ runtime frames), OpenBLAS thread in sched_yield, page fault in the kernel, a worker
        // unwind that stopped, the worker loop, the main thread in the matmul kernel, a futex wait, the worker in
        // the kernel, a layernorm closure, the hand-written sample.
        XCTAssertEqual(s.map(\.frames.count), [21, 8, 24, 2, 4, 17, 6, 10, 13, 4], "\(s.map(\.frames.count))")
        let first = s[0]
        XCTAssertEqual(first.comm, "workbench")
        XCTAssertEqual(first.tid, 7095)
        XCTAssertEqual(first.period, 4_000_000)
        XCTAssertEqual(first.event, "cpu-clock")
        XCTAssertEqual(first.frames[0].address, 0x4baebf)
        // A C++ name with spaces, parentheses and braces, before the object in parentheses.
        XCTAssertTrue(first.frames[0].symbol.hasPrefix("swift_conformsToProtocolMaybeInstantiateSuperclasses(swift::TargetMetadata<swift::InProcess> const*, "), first.frames[0].symbol)
        XCTAssertTrue(first.frames[0].symbol.hasSuffix("{lambda(swift::TargetProtocolConformanceDescriptor<swift::InProcess> const&)#1}::operator()"), first.frames[0].symbol)
        XCTAssertEqual(first.frames[0].dso, "/opt/swift/usr/lib/swift/linux/libswiftCore.so")
        XCTAssertEqual(first.frames.last?.symbol, "_start")
        // The hand-written odd sample.
        let odd = s[9]
        XCTAssertEqual(odd.comm, "Pool Worker 1")
        XCTAssertEqual(odd.tid, 4250)
        XCTAssertEqual(odd.event, "cpu-clock:u")
        XCTAssertEqual(odd.frames.map(\.symbol), ["operator;weird(int)", "std::vector<int, std::allocator<int> >::push_back(int const&)", "[unknown]", "[unknown]"])
        XCTAssertEqual(odd.frames.map(\.dso), ["/opt/app/lib/libodd.so", "/opt/app/lib/libodd.so", "/opt/app/lib/libodd.so", "[unknown]"])
    }

    func testStacksUseTheSameFrameNamesAsTheSignalBackend() throws {
        let s = try samples()
        // Main thread: root first, Swift demangled, versioned libc name cleaned.
        let main = s[5].stack
        // This one's unwind ended (0xffffffffffffffff) after __libc_start_call_main, a thread entry: nothing is
        // missing but _start, and no "[unknown]" root is invented.
        XCTAssertEqual(Array(main.prefix(2)), ["__libc_start_call_main", "workbench_main"])
        XCTAssertEqual(Array(s[0].stack.prefix(4)), ["_start", "__libc_start_main", "__libc_start_call_main", "workbench_main"])
        XCTAssertEqual(main.last, "Kernels.microkernel(_:_:_:_:_:_:_:_:)")
        XCTAssertTrue(main.contains("GPT2.GPT2Model.forward(_:pos0:allLogits:)"))
        // Kernel frames are marked; [unknown] frames name their object.
        let yield = s[1].stack
        XCTAssertEqual(yield.last, "do_sched_yield_[k]")
        XCTAssertTrue(yield.contains("libopenblasp-r0.3.21.so+0x374869"), "\(yield)")
        XCTAssertEqual(yield.first, "clone3")
        // Without kernel frames the syscall's time stays with the user-space frame that made it.
        XCTAssertEqual(s[1].stack(kernelFrames: false).last, "__sched_yield")
        XCTAssertEqual(s[1].stack(kernelFrames: false).count, yield.count - 4)
        XCTAssertEqual(PerfScript.profile(try samples(), kernelFrames: false).stacks.total, 10)
        // An unwind that stopped inside a function (not at a thread entry): the root says so.
        let stopped = s[3].stack
        XCTAssertEqual(stopped, ["[unknown]", "Kernels.microkernel(_:_:_:_:_:_:_:_:)"])
        // Odd names: the semicolon replaced, spaces kept, unknown frames with and without an object.
        let odd = s[9].stack
        XCTAssertEqual(odd, ["[unknown]+0xaa0000", "libodd.so+0x9a0f", "std::vector<int, std::allocator<int> >::push_back(int const&)", "operator:weird(int)"])
    }

    func testProfileAndFoldedOutputOfTheFixture() throws {
        let (p, byThread) = PerfScript.profile(try samples())
        XCTAssertEqual(p.total, 10)
        XCTAssertEqual(byThread[7095], 4)
        XCTAssertEqual(byThread[7098], 4)
        XCTAssertEqual(byThread[7097], 1)
        XCTAssertEqual(byThread[4250], 1)
        let folded = Folded.write(p)
        for line in folded.split(separator: "\n") {
            let frames = line[..<line.lastIndex(of: " ")!].split(separator: ";", omittingEmptySubsequences: false)
            XCTAssertFalse(frames.contains { $0.isEmpty }, String(line))
        }
        XCTAssertEqual(try Folded.parse(folded, source: "t"), p)
    }

    func testGarbledScriptOutputFailsWithTheLineNumber() {
        XCTAssertThrowsError(try PerfScript.parse("\t  1234 foo (/bin/x)\n", source: "s")) { e in
            XCTAssertTrue("\(e)".contains("line 1: a frame line before any sample header"), "\(e)")
        }
        XCTAssertThrowsError(try PerfScript.parse("workbench 12 1.0: 1 cpu-clock:\n\tzzzz foo (/bin/x)\n", source: "s")) { e in
            XCTAssertTrue("\(e)".contains("line 2 is not a perf frame"), "\(e)")
        }
        XCTAssertThrowsError(try PerfScript.parse("this is not perf output\n", source: "s")) { e in
            XCTAssertTrue("\(e)".contains("line 1 is not a perf sample header"), "\(e)")
        }
        XCTAssertEqual(try PerfScript.parse("", source: "s"), [])
    }

    func testHeaderVariants() {
        let h1 = PerfScript.parseHeader("perf  100/101 [003] 5.000001: 250000 cpu-clock:u:")
        XCTAssertEqual(h1?.comm, "perf"); XCTAssertEqual(h1?.tid, 101); XCTAssertEqual(h1?.period, 250000); XCTAssertEqual(h1?.event, "cpu-clock:u")
        let h2 = PerfScript.parseHeader("My Thread 7 42 5.000: cpu-clock:")  // no period
        XCTAssertEqual(h2?.comm, "My Thread 7"); XCTAssertEqual(h2?.tid, 42); XCTAssertEqual(h2?.period, 1)
        XCTAssertNil(PerfScript.parseHeader("cpu-clock:"))
        XCTAssertNil(PerfScript.parseHeader("name notanumber 1.0: 5 cpu-clock:"))
        let f = PerfScript.parseFrame("\t 7f00 memcpy+0x1c (/lib/libc.so.6)")
        XCTAssertEqual(f?.symbol, "memcpy"); XCTAssertEqual(f?.address, 0x7f00)
    }

    // MARK: perf missing or unusable

    func testPerfAbsentFromPATH() throws {
        let empty = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        XCTAssertThrowsError(try Perf.locate(environment: ["PATH": empty])) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("perf not found on PATH"), s)
            XCTAssertTrue(s.contains("apt-get install linux-perf"), s)
            XCTAssertFalse(s.contains("\n"))
        }
    }

    func testPerfAtABadPath() {
        XCTAssertThrowsError(try Perf.locate(explicit: "/nonexistent/perf")) { e in
            XCTAssertTrue("\(e)".contains("perf not found at /nonexistent/perf"), "\(e)")
        }
    }

    func testPerfThatDoesNotRun() throws {
        // Debian's /usr/bin/perf is a wrapper that fails when the kernel's perf package is missing; simulate it.
        let dir = try profilingTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fake = dir + "/perf"
        try "#!/bin/sh\necho 'E: linux-perf-6.18 is not installed.' >&2\nexit 1\n".write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        XCTAssertThrowsError(try Perf.locate(explicit: fake)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("does not run (E: linux-perf-6.18 is not installed.)"), s)
            XCTAssertTrue(s.contains("apt-get install linux-perf"), s)
        }
        // Found on PATH too.
        XCTAssertThrowsError(try Perf.locate(environment: ["PATH": dir])) { e in XCTAssertTrue("\(e)".contains("does not run"), "\(e)") }
    }

    func testRecordArguments() throws {
        let perf = Perf(path: "/usr/bin/perf", version: "6.1")
        let a = perf.recordArguments(output: "/tmp/p.data", hz: 250, callGraph: .dwarf,
                                     control: .init(controlFIFO: "/tmp/c", ackFIFO: "/tmp/a"), command: ["/bin/true", "x y"])
        XCTAssertEqual(a, ["record", "-e", "cpu-clock", "-c", "4000000", "--call-graph", "dwarf,16384", "-o", "/tmp/p.data", "-q",
                           "--control", "fifo:/tmp/c,/tmp/a", "-D", "-1", "--", "/bin/true", "x y"])
        XCTAssertEqual(perf.recordArguments(output: "o", hz: 1000, callGraph: .fp, control: nil, command: ["x"]),
                       ["record", "-e", "cpu-clock", "-c", "1000000", "--call-graph", "fp", "-o", "o", "-q", "--", "x"])
    }
}
