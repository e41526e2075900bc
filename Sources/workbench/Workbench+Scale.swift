import ArgumentParser

extension Workbench {
    struct Scale: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "scale", abstract: "(being built)")
        func run() throws { throw WorkbenchError("'scale' is being built") }
    }
}
