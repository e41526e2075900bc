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
}
