import Foundation
import XCTest

/// The command-line language of README's "Conventions", checked on every verb's options as ArgumentParser
/// describes them (`workbench --experimental-dump-help`).
final class ConventionsTests: XCTestCase {
    struct Verb { let name: String; let options: [String: String]; let discussion: String }  // option name -> kind

    func verbs() throws -> [Verb] {
        let r = try Subprocess.workbench(["--experimental-dump-help"])
        XCTAssertEqual(r.status, 0, r.summary)
        let root = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let command = root["command"] as! [String: Any]
        return (command["subcommands"] as! [[String: Any]]).compactMap { c in
            let name = c["commandName"] as! String
            if name == "help" { return nil }
            var options: [String: String] = [:]
            for a in c["arguments"] as? [[String: Any]] ?? [] where (a["shouldDisplay"] as? Bool) ?? true {
                guard let n = (a["names"] as? [[String: Any]])?.first?["name"] as? String else { continue }
                options[n] = a["kind"] as? String
            }
            return Verb(name: name, options: options, discussion: c["discussion"] as? String ?? "")
        }
    }

    func testOneLanguageAcrossVerbs() throws {
        let all = try verbs()
        XCTAssertGreaterThanOrEqual(all.count, 10)
        for v in all {
            // --json prints the report as JSON on stdout: a flag everywhere (files have their own names).
            if let k = v.options["json"] { XCTAssertEqual(k, "flag", "\(v.name): --json must be a flag") }
            // One name per idea.
            for bad in ["seconds", "no-pin", "prompt-ids", "ids", "workers", "jobs", "repeats", "mm-shape"] {
                XCTAssertNil(v.options[bad], "\(v.name): --\(bad) (see README's conventions for the name to use)")
            }
            // The prompt is given the same way wherever a generation is asked for.
            if v.options["n"] != nil {
                XCTAssertNotNil(v.options["prompt"], "\(v.name) takes --n but not --prompt")
                XCTAssertNotNil(v.options["text"], "\(v.name) takes --n but not --text")
            }
            // --help ends with real examples.
            let examples = v.discussion.components(separatedBy: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("workbench ") }
            XCTAssertGreaterThanOrEqual(examples.count, 2, "\(v.name): --help needs two or three examples")
        }
    }
    /// Every JSON the tool writes carries `schema`, `tool` and `command`, and no timing key without its unit.
    func testEveryJSONCarriesSchemaToolCommandAndUnits() throws {
        let model = try Fixtures.shared.checkpoint(.tiny)
        let timings = Fixtures.shared.path("conventions-timings.json")
        let runs: [(String, [String], String?)] = [
            ("kernels", ["kernels", "--json"], nil),
            ("kernels --time", ["kernels", "--time", "--budget", "0.01", "--mm", "2,64,64", "--variants", "naive,simd", "--json"], nil),
            ("compare", ["compare", "matmul:naive", "matmul:simd", "--shape", "2,32,32", "--runs", "3", "--json"], nil),
            ("compare --engine", ["compare", "--model", model, "--engine", "threads=1", "--engine", "threads=2", "--runs", "2", "--n", "4", "--json"], nil),
            ("scale", ["scale", "--model", model, "--t", "4", "--max-threads", "1", "--runs", "1", "--no-pin-comparison", "--json"], nil),
            ("profile", ["profile", "--model", model, "--duration", "0.3", "--json"], nil),
            ("run --timings-json", ["run", "--model", model, "--timings-json", timings, "1", "2"], timings),
        ]
        let unitless: Set<String> = ["median", "min", "max", "mean", "p90", "mad", "time", "duration", "elapsed", "seconds_"]
        func walk(_ o: Any, _ path: String, _ label: String) {
            if let d = o as? [String: Any] {
                for (k, v) in d {
                    XCTAssertFalse(unitless.contains(k), "\(label): \(path)\(k) has no unit in its name")
                    walk(v, path + k + ".", label)
                }
            } else if let a = o as? [Any] { for v in a { walk(v, path + "[].", label) } }
        }
        for (label, args, file) in runs {
            let r = try Subprocess.workbench(args)
            XCTAssertEqual(r.status, 0, r.summary)
            let text = try file.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? r.stdout
            guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { XCTFail("\(label): not an object"); continue }
            XCTAssertNotNil(o["schema"], "\(label): no schema")
            XCTAssertEqual(o["tool"] as? String, "workbench", label)
            XCTAssertEqual(o["command"] as? String, (["workbench"] + args).joined(separator: " "), label)
            walk(o, "", label)
        }
    }
}
