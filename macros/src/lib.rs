//! The `#[differentiable]` attribute of [symgrad](https://docs.rs/symgrad): compile-time
//! symbolic differentiation of plain Rust functions. Use it through the `symgrad` crate, which
//! re-exports it with the runtime its generated code calls; [`differentiable`] describes what it
//! accepts and generates.
//!
//! For contributors: the macro is a pipeline of passes, one private module each (`cargo doc
//! --document-private-items` shows them): `attr` (arguments) → `signature` (checks) → `lower`
//! (syn → `graph`) → `diff` (reverse accumulation, rules simplified by `simplify` as nodes are
//! built; `unswitch` takes a gradient's loops under the conditions they run in) → `emit`
//! (graph → statements) → `companion` (the generated items, with `callees`: the check that
//! every function called for its derivative is differentiable), orchestrated by `expand`;
//! `vector` emits a vector-valued function's companions (`vecout`: a `Vec`-valued
//! one's, through two scalar functions the pipeline expands), `second_order` the
//! Hessian-vector product and the dense Hessian built from it (`hvp`: reverse over forward),
//! `fallback` is what is emitted on error, and `tape` rewrites array code for the runtime's
//! tape. `graph`, `diff`, `unswitch`, `tangent` (forward accumulation), `jacobian`, `hvp`,
//! `simplify`, `eval` and `formula` are the math: they use neither `syn` nor `quote`.
#![deny(missing_docs)]

mod attr;
mod callees;
mod companion;
mod ctxt;
mod diff;
mod emit;
mod eval;
mod expand;
#[cfg(test)]
mod expansions;
mod fallback;
mod formula;
mod graph;
mod hvp;
mod jacobian;
mod lower;
mod nalgebra;
mod plan;
mod printer;
#[cfg(test)]
mod proptests;
mod schedule;
mod second_order;
mod signature;
mod simplify;
mod stretches;
mod tangent;
mod tape;
#[cfg(test)]
mod testing;
mod tuples;
mod unswitch;
mod vecout;
mod vector;
mod vjp_rows;

use proc_macro::TokenStream;

/// Differentiates a function at compile time: the function is kept unchanged, and beside it
/// come `<name>_grad`, returning the value and the exact gradient, the `<Name>Grad` struct, and
/// with `hessian`, `<name>_hessian` and the Hessian-vector product `<name>_hvp`; for a function returning `[T; M]`, `<name>_jacobian`,
/// `<name>_vjp` and `<name>_jvp`.
///
/// The generated code refers to `::symgrad`: use the attribute through the
/// [`symgrad`](https://docs.rs/symgrad) crate (`use symgrad::differentiable;`), whose
/// documentation of it has runnable examples (a procedural-macro crate cannot run its own).
///
/// # Arguments
///
/// - *(none)*: differentiate every float parameter: `f64`/`f32` scalars, arrays `[T; N]` and
///   `&[T; N]`, slices `&[T]` and `&Vec<T>`, and `ndarray` arrays. Integer, `bool` and other
///   parameters are always constants.
/// - `wrt(w, b)`: differentiate only these parameters; the other float parameters are data
///   (constants, like the inputs of a loss).
/// - `hessian`: also emit `<name>_hessian`, with the second derivatives, and `<name>_hvp`,
///   the Hessian-vector product `H·v` in one pass (a small constant times the gradient), for
///   scalar, slice and array parameters (not `ndarray` arrays); not through calls to other
///   functions, nor through loop recurrences (`p *= x[i]`), nor with `rule`.
/// - `rule = path`: do not look at the body; the user's function `path`, called with the same
///   arguments, returns `(value, [∂f/∂p₁, …, ∂f/∂p_K])` for the K float parameters in
///   declaration order (JAX's `custom_vjp`, TensorFlow's `custom_gradient`). Other differentiable functions
///   chain through it like through any other.
///
/// Arguments combine, as in `#[differentiable(wrt(w, b), hessian)]`.
///
/// # What is generated
///
/// For `fn cost(w: f64, x: f64, y: f64) -> f64` (`T` is the function's float type, `f64` here):
///
/// ```text
/// fn cost(w: f64, x: f64, y: f64) -> f64 { … }              // unchanged
///
/// /// The value of [`cost`] and its gradient, … with the formula of each partial derivative.
/// fn cost_grad(w: f64, x: f64, y: f64) -> (f64, CostGrad)
///
/// #[derive(Debug, Clone, Copy, PartialEq, Default)]       // `Copy` when every field is
/// struct CostGrad { pub w: f64, pub x: f64, pub y: f64 }  // one field per differentiated param
/// impl CostGrad { pub const FORMULAS: &[(&str, &str)] }   // ("w", "2.0 * x * (w * x - y)"), …
/// impl symgrad::Gradient<f64> for CostGrad                // the flat view optimizers use
///
/// fn cost_hessian(w: f64, x: f64, y: f64) -> (f64, CostGrad, [[f64; 3]; 3])  // with `hessian`
/// fn cost_hvp(w: f64, x: f64, y: f64, v: &CostGrad) -> (f64, CostGrad, CostGrad) // H·v, too
///
/// // With a slice or array differentiated, `fn loss(w: f64, x: &[f64])`, the Hessian is
/// // n × n, row-major, in the flat order of `Gradient::to_flat_vec` (w, then x[0], x[1], …):
/// fn loss_hessian(w: f64, x: &[f64]) -> (f64, LossGrad, Vec<f64>)
///
/// enum cost {}  // hidden, with `cost::__partials`: how other differentiable functions call it
/// ```
///
/// For a vector-valued function, `fn r(a: f64, b: f64) -> [f64; 2]`, the struct `RGrad` is a
/// row of the Jacobian, and instead of `_grad` and `_hessian`:
///
/// ```text
/// fn r_jacobian(a: f64, b: f64) -> ([f64; 2], [RGrad; 2])                 // jac[k].a = ∂r_k/∂a
/// fn r_jacobian_into(a: f64, b: f64, jac: &mut [RGrad; 2]) -> [f64; 2]
/// fn r_vjp(a: f64, b: f64, seed: &[f64; 2]) -> ([f64; 2], RGrad)           // Σ_k seed[k]·∇r_k
/// fn r_vjp_into(a: f64, b: f64, seed: &[f64; 2], grad: &mut RGrad) -> [f64; 2]
/// fn r_jvp(a: f64, b: f64, tangent: &RGrad) -> ([f64; 2], [f64; 2])       // J·tangent
/// enum r {}  // hidden, with `r::__jacobian`: the outputs and their partials, for callers
/// ```
///
/// A function returning `Vec<T>`, as many outputs as its data gives, builds them one per item
/// of a loop (`ITER.map(|item| …).collect()`, `vec![0.0; n]` written at the loop's index, or one
/// `push` per iteration), and gets:
///
/// ```text
/// fn r_jacobian(p: &[f64], x: &[f64]) -> (Vec<f64>, Vec<RGrad>)
/// fn r_jacobian_into(p: &[f64], x: &[f64], out: &mut Vec<f64>, jac: &mut Vec<RGrad>)
/// fn r_vjp(p: &[f64], x: &[f64], seed: &[f64]) -> (Vec<f64>, RGrad)
/// fn r_jvp(p: &[f64], x: &[f64], tangent: &RGrad) -> (Vec<f64>, Vec<f64>)
/// ```
///
/// - The items have the function's visibility; the struct is the function's name in
///   UpperCamelCase followed by `Grad`.
/// - A field has the parameter's type for scalars, `[T; N]` for `[T; N]` and `&[T; N]`, `Vec<T>`
///   for `&[T]` and `&Vec<T>`, and the owned `ndarray` array (same shape) for an `ndarray` array.
/// - The Hessian is `[[T; K]; K]` over the K differentiated parameters, in declaration order.
/// - A vector-valued function's body ends with its outputs (`[r0, r1]`, `[0.0; M]`,
///   `std::array::from_fn(|k| …)`, also after `return`); its Jacobian is computed in reverse
///   mode (one sweep per output) or forward mode (one tangent sweep per differentiated scalar),
///   whichever makes less code, and `_jvp` by one tangent sweep (from the reverse rows where a
///   loop recurrence has no tangent sweep).
/// - Scalar code is differentiated symbolically, loops stay loops (no tape, no unrolling); a
///   body with differentiated `ndarray` arrays runs on the reverse-mode tape of
///   `symgrad::tape`, and its `FORMULAS` say so.
///
/// # Errors
///
/// What cannot be differentiated is a compile error at the offending tokens, naming the
/// construct and saying what to do: every problem in the function is reported, not only the
/// first, and the original function and a `<name>_grad` stub of the right signature are still
/// emitted, so no "cannot find function" errors follow. The
/// [error gallery](https://github.com/symgrad/symgrad/blob/main/docs/errors.md) shows every
/// message.
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::differentiable(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
