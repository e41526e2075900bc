// `workbench report`'s one library call: check the request, gather the sections (measured now, or read
// from saved results), render the page.
//
//   ReportBuilder.build(request, log:)  ->  checkOutput(--out) -> [ReportMeasurements.measure | ReportInputs.load + document]
//                                        ->  ReportPage.html(document)
import Bench
import Foundation

/// What to report on and where the page goes.
public struct ReportRequest: Sendable {
    public enum Source: Sendable, Equatable {
        /// Measure now, on `model` (nil: $WORKBENCH_MODEL, else the synthetic default); `quick`: about a minute.
        case measure(model: String?, quick: Bool)
        /// Read the JSON and folded files the other verbs wrote into this folder.
        case saved(directory: String)
    }
    public var source: Source
    /// The HTML file to write.
    public var output: String
    /// The command line, for the provenance section.
    public var command: [String]
    /// Where a measuring run looks for the gate's last verdict (`workbench gate --report-json Profiles/FILE.json`).
    public var profilesDirectory: String

    public init(source: Source, output: String, command: [String], profilesDirectory: String = "Profiles") {
        self.source = source; self.output = output; self.command = command; self.profilesDirectory = profilesDirectory
    }
}

public enum ReportBuilder {
    /// Throws `ReportError` unless `path` can be written: its folder exists and is writable, and the path is
    /// not a folder or a read-only file. Nothing is created.
    public static func checkOutput(_ path: String) throws {
        guard !path.isEmpty else { throw ReportError("--out: empty path") }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw ReportError("cannot write \(path): it is a folder (give a file name, e.g. \(path)/report.html)") }
            if access(path, W_OK) != 0 { throw ReportError("cannot write \(path): \(String(cString: strerror(errno)))") }
            return
        }
        let dir = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            throw ReportError("cannot write \(path): folder \(dir) does not exist")
        }
        guard isDir.boolValue else { throw ReportError("cannot write \(path): \(dir) is not a folder") }
        if access(dir, W_OK) != 0 { throw ReportError("cannot write \(path): folder \(dir): \(String(cString: strerror(errno)))") }
    }

    /// The page's data for `request`: inputs are checked first (output path, --from folder and every file in
    /// it, the model), then measured or read. `log` gets progress lines. Throws `ReportError` (bad input)
    /// or the libraries' own one-line errors (e.g. a corrupt checkpoint).
    public static func document(_ request: ReportRequest, log: @escaping (String) -> Void) throws -> ReportDocument {
        try checkOutput(request.output)
        switch request.source {
        case .saved(let dir):
            let saved = try ReportInputs.load(directory: dir)
            return ReportInputs.document(saved, provenance: provenance(command: request.command, mode: "from \(dir)"))
        case .measure(let model, let quick):
            let prov = provenance(command: request.command, mode: quick ? "measured now (--quick)" : "measured now")
            return try ReportMeasurements.measure(model: model, quick: quick, command: request.command,
                                                  profilesDirectory: request.profilesDirectory, provenance: prov, log: log)
        }
    }

    /// The HTML page for `request` (see `document`).
    public static func build(_ request: ReportRequest, log: @escaping (String) -> Void) throws -> String {
        ReportPage.html(try document(request, log: log))
    }

    // MARK: provenance

    public static func provenance(command: [String], mode: String, date: Date = Date()) -> ReportProvenance {
        let commit = Provenance.gitHead()
        let dirty = commit == nil ? nil : run(["git", "status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty }
        let swift = run(["swift", "--version"])?.split(separator: "\n").first.map(String.init)
        return ReportProvenance(toolCommit: commit, dirty: dirty, compiler: compilerVersion, swiftVersion: swift,
                                date: Provenance.isoDate(date), command: command, mode: mode,
                                build: isDebugBuild ? "debug" : "release")
    }

    /// Whether this module was built without optimisation (`swift build` without `-c release`). Bench's own
    /// flag cannot say: Bench is always compiled with -O.
    public static var isDebugBuild: Bool { _isDebugAssertConfiguration() }

    /// The Swift compiler this module was built with.
    public static var compilerVersion: String {
        #if compiler(>=7.0)
        return "Swift 7.0 or later"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #elseif compiler(>=6.1)
        return "Swift 6.1"
        #elseif compiler(>=6.0)
        return "Swift 6.0"
        #else
        return "Swift 5"
        #endif
    }

    /// stdout of `/usr/bin/env args` (trimmed), nil if it cannot run or fails.
    static func run(_ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
