import ArgumentParser

extension Workbench {
    struct Profile: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "profile", abstract: "(being built)")
        func run() throws { throw WorkbenchError("'profile' is being built") }
    }
}
