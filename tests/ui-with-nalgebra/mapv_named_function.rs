// `tests/ui/tape/mapv_named_function.rs` as built with the `argmin` or `levenberg-marquardt`
// feature: nalgebra, whose root exports a `Dim` of its own, is then in the dependency graph, so
// rustc writes ndarray's `Dim` with its path in the message. The expected output differs only
// there.
include!("../ui/tape/mapv_named_function.rs");
