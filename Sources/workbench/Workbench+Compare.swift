import ArgumentParser

extension Workbench {
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "compare", abstract: "(being built)")
        func run() throws { throw WorkbenchError("'compare' is being built") }
    }
}
