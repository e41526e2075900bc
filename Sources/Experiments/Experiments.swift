import Kernels

/// Users' own kernel variants: each lives in one file of this target (a kernel function and its
/// `MatmulVariant`/`AttentionVariant` value) and is listed once here. The workbench registers them at start-up,
/// so they show up in `workbench kernels`, the variant tests, compare, tune, the gate and profile.
public enum Experiments {
    /// Every experimental matmul variant (one line each).
    public static let matmul: [MatmulVariant] = []
    /// Every experimental attention variant (one line each).
    public static let attention: [AttentionVariant] = []
}
