// `workbench kernels`: the matmul and attention registries (the reference, the engine default and the
// registered experiments marked), as text and as JSON.
import Kernels

public struct KernelListing: Codable, Sendable {
    public static let currentSchema = 2
    public struct Entry: Codable, Sendable {
        public var index: Int
        public var name: String
        public var summary: String
        public var reference: Bool
        public var isDefault: Bool
        /// Registered at start-up from the Experiments target (not part of the core library).
        public var experiment: Bool
        public var standaloneOnPool: Bool
        public var bitReproducible: Bool
        public var tolerance: Double
        public var columnAlignment: Int?
        /// The weight format a matmul variant reads ("f32", or a lossy "bf16", "q8", "q4"); nil for attention.
        public var weightFormat: String?
        enum CodingKeys: String, CodingKey {
            case index, name, summary, reference, isDefault = "default", experiment, standaloneOnPool, bitReproducible, tolerance, columnAlignment, weightFormat
        }
    }
    public var schema = KernelListing.currentSchema
    public var matmul: [Entry]
    public var attention: [Entry]

    /// The registries as they are now (call after `Experiments.register()`).
    public static func current() -> KernelListing {
        func entries<V: KernelVariant>(_ r: VariantRegistry<V>, defaultName: String, alignment: (V) -> Int?, format: (V) -> String?) -> [Entry] {
            r.all.enumerated().map { i, v in
                Entry(index: i, name: v.name, summary: v.summary, reference: i == 0, isDefault: v.name == defaultName,
                      experiment: !r.isBuiltIn(v.name), standaloneOnPool: v.standaloneOnPool, bitReproducible: v.bitReproducible,
                      tolerance: v.tolerance, columnAlignment: alignment(v), weightFormat: format(v))
            }
        }
        return KernelListing(matmul: entries(MatmulVariants.registry, defaultName: MatmulVariants.defaultName, alignment: { $0.columnAlignment },
                                             format: { $0.weightFormat.rawValue }),
                             attention: entries(AttentionVariants.registry, defaultName: AttentionVariants.defaultName, alignment: { _ in nil },
                                                format: { _ in nil }))
    }

    public var text: String {
        func table(_ title: String, _ entries: [Entry]) -> String {
            var s = title + "\n"
            for e in entries {
                let marks = [e.reference ? "reference" : nil, e.isDefault ? "default" : nil, e.experiment ? "experiment" : nil]
                    .compactMap { $0 }.joined(separator: ", ")
                let name = e.name.count >= 9 ? e.name : e.name + String(repeating: " ", count: 9 - e.name.count)
                let mark = marks.isEmpty ? "" : "[\(marks)]"
                s += "  \(e.index)  \(name) \(mark.count >= 22 ? mark : mark + String(repeating: " ", count: 22 - mark.count)) \(e.summary)\n"
            }
            return s
        }
        return table("matmul variants (--matmul NAME, or a shared library ./libmine.so[:SYMBOL] with llm.c's matmul_forward):", matmul)
            + table("attention variants (--attention NAME):", attention)
    }
}
