//! A reverse-mode tape on `ndarray` arrays: the fallback for matrix code, and a public API in its
//! own right, like `tf.GradientTape`.
//!
//! Watch the arrays you want gradients for, compute with the returned [`Var`] handles exactly as
//! you would with arrays (operators, `dot`, `t()`, `sum_axis`, `exp`, …), then ask the
//! [`Tape`] for the [`Gradients`] of a scalar result. Each gradient comes back as an owned array
//! of the watched array's type and shape: an `Array2` in, an `Array2` gradient out.
//!
//! # Seed 002: softmax + MSE
//!
//! ```python
//! with tf.GradientTape() as tape:
//!     tape.watch([w, b])
//!     prob = tf.nn.softmax(x@w + b, axis=1)
//!     loss = tf.reduce_mean(tf.losses.MSE(tf.one_hot(y, depth=3), prob))
//! grads = tape.gradient(&loss, [w, b])
//! ```
//!
//! ```
//! use ndarray::{array, Array1, Array2, Axis};
//! use symgrad::tape::{dot, Tape};
//!
//! let x = array![[0.3_f64, -1.2, 0.5, 2.0], [1.1, 0.4, -0.7, 0.2]];
//! let w0 = Array2::from_shape_fn((4, 3), |(i, j)| 0.1 * (i as f64) - 0.2 * (j as f64) + 0.05);
//! let b0 = Array1::<f64>::zeros(3);
//! let onehot = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]; // tf.one_hot([2, 0], depth=3)
//!
//! let tape = Tape::new();
//! let (w, b) = (tape.watch(&w0), tape.watch(&b0));
//! let prob = (dot(&x, &w) + &b).softmax(Axis(1));
//! let loss = prob.mse(&onehot); // = reduce_mean over rows of MSE over the last axis
//! let grads = tape.gradient(&loss);
//! let (dw, db): (Array2<f64>, Array1<f64>) = (grads.wrt(&w), grads.wrt(&b));
//! assert_eq!(dw.dim(), (4, 3));
//! // Rows of softmax sum to one, so the bias gradient sums to zero.
//! assert!(db.sum().abs() < 1e-15);
//! ```
//!
//! # Seed 002: cross-entropy from logits
//!
//! ```python
//! logits = x@w + b
//! loss = tf.reduce_mean(tf.losses.categorical_crossentropy(tf.one_hot(y, depth=3), logits, from_logits=True))
//! ```
//!
//! ```
//! use ndarray::{array, Array1, Array2, Axis};
//! use symgrad::tape::{dot, Tape};
//!
//! let x = array![[0.3_f64, -1.2, 0.5, 2.0], [1.1, 0.4, -0.7, 0.2]];
//! let w0 = Array2::from_shape_fn((4, 3), |(i, j)| 0.1 * (i as f64) - 0.2 * (j as f64) + 0.05);
//! let b0 = Array1::<f64>::zeros(3);
//! let onehot = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
//!
//! let tape = Tape::new();
//! let (w, b) = (tape.watch(&w0), tape.watch(&b0));
//! let logits = dot(&x, &w) + &b;
//! let loss = logits.cross_entropy_with_logits(&onehot);
//! let grads = tape.gradient(&loss);
//!
//! // The textbook gradient: dz = (softmax(z) − y) / n, pushed through x@w + b.
//! let p = logits.softmax(Axis(1)).value();
//! let dz = (p - &onehot) / 2.0;
//! assert!((grads.wrt(&w) - x.t().dot(&dz)).iter().all(|d| d.abs() < 1e-15));
//! assert!((grads.wrt(&b) - dz.sum_axis(Axis(0))).iter().all(|d| d.abs() < 1e-15));
//!
//! // The same loss spelled with plain array methods gives the same gradient.
//! let lse = logits.exp().sum_axis(Axis(1)).ln();
//! let picked = (&logits * &onehot).sum_axis(Axis(1));
//! let spelled_out = (lse - picked).sum() / x.nrows() as f64;
//! assert!((tape.gradient(&spelled_out).wrt(&w) - grads.wrt(&w)).iter().all(|d| d.abs() < 1e-15));
//! ```
//!
//! # Seed 000: collaborative filtering
//!
//! `J = ½ Σ ((X Wᵀ + b − Y) ∘ R)² + λ/2 (Σ X² + Σ W²)`, the cost `tape.gradient(&cost_value,
//! [X, W, b])` differentiates in the tutorial:
//!
//! ```
//! use ndarray::{array, Array2};
//! use symgrad::tape::Tape;
//!
//! let (x0, w0, b0) = (array![[1.0_f64, 0.5], [0.2, -1.0]], array![[0.3, 0.1]], array![[0.2]]);
//! let (y, r) = (array![[4.0], [0.0]], array![[1.0], [0.0]]); // 2 movies, 1 user, 2 features
//! let lambda = 1.0;
//!
//! let tape = Tape::new();
//! let (x, w, b) = (tape.watch(&x0), tape.watch(&w0), tape.watch(&b0));
//! let e = (x.dot(&w.t()) + &b - &y) * &r;
//! let j = e.powi(2).sum() * 0.5 + (x.powi(2).sum() + w.powi(2).sum()) * (lambda / 2.0);
//! let grads = tape.gradient(&j);
//!
//! let e0 = (x0.dot(&w0.t()) + &b0 - &y) * &r; // ∂J/∂X = E W + λX, ∂J/∂W = Eᵀ X + λW
//! assert_eq!(grads.wrt(&x), e0.dot(&w0) + &x0 * lambda);
//! assert_eq!(grads.wrt(&w), e0.t().dot(&x0) + &w0 * lambda);
//! assert_eq!(grads.wrt(&b), e0.sum_axis(ndarray::Axis(0)).insert_axis(ndarray::Axis(0)));
//! ```
//!
//! # Operations
//!
//! | family | on [`Var`] | backward rule |
//! |---|---|---|
//! | arithmetic | `+ - * /` with tape values, arrays and scalars on either side, unary `-`, `+= -= *= /=`; [`try_add`](Var::try_add) … | `arith.rs` |
//! | linear algebra | [`dot`](Var::dot) (matrix·matrix, matrix·vector, vector·matrix, vector·vector), free [`dot`], [`t`](Var::t) | `linalg.rs` |
//! | reductions | [`sum`](Var::sum), [`mean`](Var::mean), [`sum_axis`](Var::sum_axis), [`mean_axis`](Var::mean_axis), [`insert_axis`](Var::insert_axis), [`view`](Var::view) | `reduce.rs` |
//! | elementwise | [`exp`](Var::exp), [`ln`](Var::ln), [`powi`](Var::powi), [`powf`](Var::powf), [`sqrt`](Var::sqrt), [`abs`](Var::abs), [`sin`](Var::sin), [`cos`](Var::cos), [`tanh`](Var::tanh), [`sigmoid`](Var::sigmoid), [`relu`](Var::relu), [`mapv`](Var::mapv) (closure on a [`Dual`]), [`mapv_with`](Var::mapv_with) | `elementwise.rs` |
//! | neural nets | [`softmax`](Var::softmax), [`log_softmax`](Var::log_softmax), [`log_sum_exp`](Var::log_sum_exp) along an axis (stable), [`mse`](Var::mse), [`cross_entropy_with_logits`](Var::cross_entropy_with_logits) | `nn.rs` |
//! | constants | [`shape`](Var::shape), [`len`](Var::len), [`ndim`](Var::ndim), [`nrows`](Var::nrows), [`ncols`](Var::ncols), [`value`](Var::value), [`item`](Var::item) | — |
//!
//! Each op's backward rule sits next to its forward, in one exhaustive `match` per family with the
//! adjoint formula as a comment. Rules work on whole matrices (`general_mat_mul` for `dot`), and
//! adjoints are accumulated without copies: the first contribution moves in (often computed in
//! place in the incoming gradient's buffer), later ones are added with `+=`.
//! Elementwise ops whose backward rule reads only their input (`ln`, `powi`, `powf`, `abs`,
//! `sin`, `cos`, `relu`) compute their value when something first reads it; `sum` and `mean`
//! read it without storing it, so `e.powi(2).sum()` is one pass over `e`.
//!
//! # Shapes
//!
//! Broadcasting follows ndarray (and NumPy): trailing axes align, an axis of length 1 stretches.
//! The backward pass of a broadcast op sums the gradient over the broadcast axes. The tape accepts
//! exactly the shapes ndarray accepts; a mismatch is a [`ShapeError`] naming the operation and
//! both shapes (an axis out of range is an [`AxisError`]). The `try_*` methods return it; the
//! operators and the plain methods panic with its message, like ndarray.
//!
//! # Values, ownership and copies
//!
//! - [`Var`] follows ndarray's ownership conventions, so array code keeps compiling: methods
//!   take `&self`; operators take operands by reference (`&a + &b`: both kept) or by value
//!   (`a + &b`: `a` given up). A `Var` given up by value lets the op compute its result in that
//!   buffer, as `Array + &Array` does, whenever no backward rule reads it: in
//!   `(x.dot(&w) + &b - &y) * &r` only the product allocates. A `Var` is not `Clone` (one handle
//!   per recorded value is what makes that reuse safe); use `&v` to use it several times.
//! - [`Tape::watch`] and array operands accept `&Array`/`&ArrayView` (read in place, never
//!   copied; the array must outlive the tape's use), an owned `Array` (moved in, and reusable
//!   as an output buffer), an `ArrayView` or a `CowArray`. A reference to a temporary
//!   (`&v * &(a + b)`) does not live long enough: pass the temporary by value (`&v * (a + b)`).
//! - The tape is persistent: call [`Tape::gradient`] as often as you like, on any recorded value.
//!   Gradients are with respect to watched variables ([`Tape::watch`]); constants
//!   ([`Tape::constant`] or plain arrays) and unrelated variables get zeros.
//! - `f32` and `f64` both work ([`TapeFloat`]).
//! - Buffers are reused across tapes: when a tape is dropped, the buffers of its intermediate
//!   values go to a per-thread [`cache`] that the next tape on the thread draws from, so a training
//!   loop that records a fresh tape at every step (as the `_grad` companion of a
//!   `#[differentiable]` array function does) stops allocating its large arrays after the first
//!   step. The gradients you take are yours and never go back; [`cache::clear`] frees what the
//!   cache holds and [`cache::set_limit`] bounds it (512 MiB per thread by default).
//!
//! # What the `#[differentiable]` fallback can rely on
//!
//! A body written against `ndarray` runs on the tape after these rewrites, and nothing else:
//!
//! 1. Each differentiated array parameter `p` becomes a watched variable bound so that the
//!    body's ownership stays valid: for `&ArrayN<T>` (which the body may use any number of
//!    times) `let p_var = tape.watch(p); let p = &p_var;` (a `&Var<'_, T, IxN>`, `Copy` like the
//!    reference it replaces); for an owned `ArrayN<T>` or an `ArrayViewN<T>`,
//!    `let p = tape.watch(p);` (an owned `Var`, which the body may give up; its gradient is
//!    found by node id). A view is read as the body reads views: `&p`, method calls, and
//!    `p.view()` ([`Var::view`], another handle on the same value). Constant array parameters
//!    stay plain arrays.
//! 2. `a.dot(b)` / `a.dot(&b)` becomes `a.__tape_dot(b)` (or `&b`), the method form of
//!    [`dot`] (`symgrad::tape::dot(a, b)`): it accepts every mix of `Var`, `&Var`,
//!    `&ArrayBase`, `Array`, `ArrayView`, and returns a `Var` when either side is one (plain
//!    ndarray `dot` otherwise). When `a` is known to be a `Var`, the method form `a.dot(b)`
//!    works unchanged.
//! 3. Operators need no rewrite: `+ - * /` between `Var`/`&Var` and `Var`, `&Var`,
//!    `&ArrayBase<S, D>`, `Array`, `ArrayView` (either side), and with `f32`/`f64` scalars
//!    (either side); unary `-`; `+= -= *= /=` on a `Var` with any of those (the result keeps the
//!    left dimensionality). Broadcasting and its result type follow ndarray's `DimMax`.
//! 4. Methods with the same name and meaning as ndarray's: `t()`, `sum()`, `mean()` (a scalar
//!    `Var`, not an `Option`), `sum_axis(Axis)`, `mean_axis(Axis)` (a `Var`, not an `Option`),
//!    `insert_axis(Axis)`, `view()` (a `Var`), `len()`, `nrows()`, `ncols()`, `shape()` (a
//!    `Vec<usize>`, not a slice), `ndim()`; and the float methods as elementwise ops: `exp`, `ln`, `powi`, `powf`,
//!    `sqrt`, `abs`, `sin`, `cos`, `tanh`, plus `sigmoid`, `relu`, `softmax(Axis)`,
//!    `log_softmax(Axis)`, `log_sum_exp(Axis)`, `mse(target)`, `cross_entropy_with_logits(y)`.
//!    `mapv(|x| …)` takes a closure on [`Dual`] numbers: ordinary float code compiles unchanged
//!    when it uses `+ - * /` (with `Dual` or `f32`/`f64` on either side), unary `-`, and the
//!    methods `exp`, `exp2`, `exp_m1`, `ln`, `ln_1p`, `log2`, `log10`, `powi`, `powf`, `sqrt`,
//!    `cbrt`, `recip`, `abs`, `sin`, `cos`, `tan`, `asin`, `acos`, `atan`, `sinh`, `cosh`,
//!    `tanh`, `asinh`, `acosh`, `atanh`, `sigmoid`, `relu`, `softplus`, `max(c)`, `min(c)`
//!    (constant `c`). Comparisons must go through `x.re`. The macro rewrites the other ways to
//!    write a `mapv` argument so that they run on both plain arrays and tape values:
//!    `mapv(f64::exp)` (or `f32::`, and any of the methods above that `f64` also has) becomes
//!    `mapv(|v| v.exp())`; a closure typed `|v: f64| -> f64` loses its float annotations; and a
//!    function's name, `mapv(my_fn)`, becomes [`__mapv_named`]`(&x, my_fn)`: ndarray's `mapv`
//!    on a plain array, and on a tape value a compile error at `my_fn` that shows these forms.
//! 5. The result: a scalar `Var<'_, T, Ix0>`; [`Var::item`] gives the value and
//!    `tape.gradient(&result)` the [`Gradients`]; `grads.take(&p_var)` moves each gradient out as
//!    `ArrayN<T>`. A `Var` of any rank can be returned (its sum is differentiated).
//!
//! PRODUCT.md's `softmax_ce`, rewritten by these rules:
//!
//! ```
//! use ndarray::{array, Array1, Array2, Axis};
//! use symgrad::tape::{dot, Tape};
//!
//! // #[differentiable(wrt(w, b))]
//! // fn softmax_ce(x: &Array2<f64>, w: &Array2<f64>, b: &Array1<f64>, y_onehot: &Array2<f64>) -> f64 {
//! //     let logits = x.dot(w) + b;
//! //     let lse = logits.exp().sum_axis(Axis(1)).ln();
//! //     let picked = (&logits * y_onehot).sum_axis(Axis(1));
//! //     (lse - picked).sum() / x.nrows() as f64
//! // }
//! fn softmax_ce_grad(
//!     x: &Array2<f64>,
//!     w: &Array2<f64>,
//!     b: &Array1<f64>,
//!     y_onehot: &Array2<f64>,
//! ) -> (f64, Array2<f64>, Array1<f64>) {
//!     let tape = Tape::new();
//!     let (w_var, b_var) = (tape.watch(w), tape.watch(b));
//!     let (w, b) = (&w_var, &b_var);
//!     let result = {
//!         let logits = dot(x, w) + b;
//!         let lse = logits.exp().sum_axis(Axis(1)).ln();
//!         let picked = (&logits * y_onehot).sum_axis(Axis(1));
//!         (lse - picked).sum() / x.nrows() as f64
//!     };
//!     let mut grads = tape.gradient(&result);
//!     (result.item(), grads.take(&w_var), grads.take(&b_var))
//! }
//!
//! let x = array![[0.3, -1.2, 0.5, 2.0], [1.1, 0.4, -0.7, 0.2]];
//! let (w, b) = (Array2::from_elem((4, 3), 0.1), Array1::from_vec(vec![0.0, 0.1, -0.1]));
//! let y = array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]];
//! let (loss, dw, db) = softmax_ce_grad(&x, &w, &b, &y);
//! assert!(loss > 0.0 && dw.dim() == (4, 3) && db.len() == 3);
//! ```
//!
//! Not supported on the tape (use plain arrays for constants, or ask for an op): indexing and
//! slicing (`a[[i, j]]`, `slice`), `iter()`, `map` (use `mapv`), `fold`, `mean()` returning
//! `Option`, in-place mutation of a watched array, `Zip`, `dot` on `IxDyn` operands.

mod adjoints;
mod arith;
pub mod cache;
mod dual;
mod elementwise;
mod error;
mod float;
mod gradients;
mod graph;
mod linalg;
mod nn;
mod operand;
mod operators;
mod reduce;
mod shape;
mod var;

pub use arith::Broadcast;
pub use dual::Dual;
pub use error::{AxisError, ShapeError};
pub use float::TapeFloat;
pub use gradients::Gradients;
pub use graph::{Recorded, Tape};
pub use linalg::DotDim;
pub use operand::{
    __mapv_named, IntoArray, MapvFunction, MapvPath, Operand, TapeDot, TapeDotMethod, dot,
};
pub use var::Var;
