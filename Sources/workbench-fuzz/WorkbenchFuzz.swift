import CFuzz
import Foundation
import FuzzTargets

/// `workbench-fuzz TARGET FILE...` replays inputs through a parser target (how a crash is reproduced);
/// `workbench-fuzz --fuzz TARGET [libFuzzer options] [CORPUS...]` fuzzes it, in the build Tools/fuzz.sh makes
/// (instrumented, linked with libFuzzer).
@main
struct WorkbenchFuzz {
    nonisolated(unsafe) static var target: FuzzTarget = .folded

    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        let fuzz = args.first == "--fuzz"
        if fuzz { args.removeFirst() }
        guard let name = args.first, let t = FuzzTarget(rawValue: name) else {
            fputs("usage: workbench-fuzz [--fuzz] TARGET FILE... (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n", stderr)
            exit(2)
        }
        target = t
        if fuzz {
            var argv: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments[0]] + args.dropFirst()).map { strdup($0) } + [nil]
            var argc = CInt(argv.count - 1)
            let rc = argv.withUnsafeMutableBufferPointer { buf -> CInt in
                var p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buf.baseAddress
                return wb_fuzz_run(&argc, &p) { data, size in
                    WorkbenchFuzz.target.run(Data(bytes: data!, count: size))
                    return 0
                }
            }
            if rc == -1 { fputs("workbench-fuzz: this build has no libFuzzer; use Tools/fuzz.sh\n", stderr); exit(2) }
            exit(rc)
        }
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                fputs("workbench-fuzz: \(path): cannot read\n", stderr); exit(2)
            }
            t.run(data)
        }
        print("\(args.count - 1) input(s) ran through \(name) without a crash")
    }
}
