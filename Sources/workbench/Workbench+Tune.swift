import ArgumentParser

extension Workbench {
    struct Tune: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tune", abstract: "(being built)")
        func run() throws { throw WorkbenchError("'tune' is being built") }
    }
}
