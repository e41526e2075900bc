import ArgumentParser

extension Workbench {
    struct Gate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gate", abstract: "(being built)")
        func run() throws { throw WorkbenchError("'gate' is being built") }
    }
}
