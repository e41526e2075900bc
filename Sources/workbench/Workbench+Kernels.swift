import ArgumentParser

extension Workbench {
    struct Kernels: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "kernels", abstract: "(being built)")
        func run() throws { throw WorkbenchError("'kernels' is being built") }
    }
}
