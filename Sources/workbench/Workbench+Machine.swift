import ArgumentParser

extension Workbench {
    struct Machine: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "machine", abstract: "(being built)")
        func run() throws { throw WorkbenchError("'machine' is being built") }
    }
}
