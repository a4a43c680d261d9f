//! Pinned expansions: what `#[differentiable]` emits for ~25 representative functions, kept as
//! insta snapshots in `snapshots/` beside this file.
//!
//! The other tests check that gradients are right; these show what the generated code *is*, so
//! that every change to the generator shows its effect on the emitted code in review (a slower
//! loop, a recomputed subexpression, a new allocation), and an unintended change fails here.
//! The functions cover the seed costs, piecewise code (`if`, early `return`, `match`), each
//! loop shape (index loops, neighbours, nested and triangular loops, iterator sums, branches on
//! data), recurrences, calls passing slices, `stop_gradient`, `wrt`, `hessian`, `f32`, `rule`,
//! the ndarray tape, a vector-valued function with a caller, a `Vec`-valued one, and loop shapes that once had bugs
//! (`tests/regressions.rs`).
//!
//! Each test is a piece of Rust source as a user writes it: every function in it that carries
//! `#[differentiable(...)]` is expanded by [`crate::expand::differentiable`], other items are
//! kept as they are, and the result is formatted with prettyplease. An expansion containing
//! `compile_error!` fails the test (snapshots are not for error messages: see the error gallery,
//! `tests/ui`), and so does an expansion that differs between two runs in the same process
//! (hash-map order leaking into the output).
//!
//! After changing the generator:
//!
//! - `cargo insta review` (with `cargo install cargo-insta`) shows each changed expansion and
//!   accepts or rejects it; or
//! - `INSTA_UPDATE=always cargo test -p symgrad-macros --lib expansions` rewrites the
//!   snapshots, then `git diff macros/src/snapshots` is the review.
//!
//! A new test writes its snapshot as `<name>.snap.new` on its first run (accept it with
//! `cargo insta accept`, or run with `INSTA_UPDATE=always`); in CI (`CI=true`) a missing or
//! different snapshot fails.

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Expands every `#[differentiable]` function of `source`, formatted as a file.
fn expand_source(source: &str) -> String {
    let file: syn::File =
        syn::parse_str(source).expect("internal error: test source does not parse");
    let mut out = TokenStream::new();
    for item in file.items {
        match item {
            syn::Item::Fn(mut func) => {
                let Some(pos) = func
                    .attrs
                    .iter()
                    .position(|a| a.path().is_ident("differentiable"))
                else {
                    func.to_tokens(&mut out);
                    continue;
                };
                let attr = func.attrs.remove(pos);
                let args = match attr.meta {
                    syn::Meta::Path(_) => TokenStream::new(),
                    syn::Meta::List(list) => list.tokens,
                    syn::Meta::NameValue(_) => {
                        panic!("internal error: `#[differentiable = ...]` in test source")
                    }
                };
                let item = func.into_token_stream();
                let first = crate::expand::differentiable(args.clone(), item.clone())
                    .unwrap_or_else(syn::Error::into_compile_error);
                let second = crate::expand::differentiable(args, item)
                    .unwrap_or_else(syn::Error::into_compile_error);
                assert_eq!(
                    first.to_string(),
                    second.to_string(),
                    "the expansion differs between two runs: a determinism bug in the macro"
                );
                out.extend(first);
            }
            other => other.to_tokens(&mut out),
        }
    }
    let text = out.to_string();
    assert!(
        !text.contains("compile_error"),
        "the expansion is an error, not code to pin:\n{text}"
    );
    let file: syn::File =
        syn::parse2(out).expect("internal error: the expansion does not parse as a file");
    prettyplease::unparse(&file)
}

/// Pins the expansion of `$source` under the name of the enclosing test.
macro_rules! snapshot {
    ($source:expr) => {
        // The expansion keeps the function itself: the source in the header would repeat it.
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(expand_source($source));
        })
    };
}

// ---- seed costs

#[test]
fn cost() {
    snapshot!(
        r"
        #[differentiable(wrt(w))]
        fn cost(w: f64, x: f64, y: f64) -> f64 {
            let f_wb = w * x;
            (f_wb - y).powi(2)
        }
        "
    );
}

#[test]
fn logistic_cost() {
    snapshot!(
        r"
        #[differentiable(wrt(w, b))]
        fn logistic_cost(w: f64, b: f64, x: f64, y: f64) -> f64 {
            let p = sigmoid(w * x + b);
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        }
        "
    );
}

/// Seed 002: `f32`, `wrt` and `hessian`.
#[test]
fn affine_hessian() {
    snapshot!(
        r"
        #[differentiable(wrt(w, b), hessian)]
        fn affine(w: f32, b: f32, x: f32) -> f32 {
            x * w + b
        }
        "
    );
}

#[test]
fn rosenbrock_hessian() {
    snapshot!(
        r"
        #[differentiable(hessian)]
        fn rosenbrock(x: f64, y: f64) -> f64 {
            (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
        }
        "
    );
}

/// `f32` with an integer power and an `f32` constant.
#[test]
fn single_f32() {
    snapshot!(
        r"
        #[differentiable]
        fn single(x: f32, k: i32) -> f32 {
            let half: f32 = 0.5;
            half * x.powi(k) + std::f32::consts::PI * x
        }
        "
    );
}

// ---- piecewise

#[test]
fn unit_if_else() {
    snapshot!(
        r"
        #[differentiable(wrt(w, b))]
        fn unit(w: f64, b: f64, x: f64, target: f64) -> f64 {
            let z = w * x + b;
            let p = if z > 0.0 {
                sigmoid(z)
            } else {
                0.5 * sigmoid(2.0 * z) + 0.25
            };
            (p - target).powi(2)
        }
        "
    );
}

#[test]
fn safe_log_early_return() {
    snapshot!(
        r"
        #[differentiable]
        fn safe_log(x: f64) -> f64 {
            if x <= 0.0 {
                return 0.0;
            }
            let l = x.ln();
            l * l
        }
        "
    );
}

#[test]
fn huber_match() {
    snapshot!(
        r"
        #[differentiable]
        fn huber(r: f64, delta: f64) -> f64 {
            match r.abs() {
                a if a <= delta => 0.5 * r * r,
                _ => delta * (r.abs() - 0.5 * delta),
            }
        }
        "
    );
}

// ---- loop shapes

/// Seed 001's batch cost as an index loop over slices.
#[test]
fn bgd_loop() {
    snapshot!(
        r"
        #[differentiable(wrt(w, b))]
        fn bgd_loop(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
            let m = x.len() as f64;
            let mut acc = 0.0;
            for i in 0..x.len() {
                let r = w * x[i] + b - y[i];
                acc += r * r;
            }
            acc / (2.0 * m)
        }
        "
    );
}

/// The same cost as an iterator sum.
#[test]
fn bgd_iter() {
    snapshot!(
        r"
        #[differentiable(wrt(w, b))]
        fn bgd_iter(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
            let m = x.len() as f64;
            x.iter()
                .zip(y)
                .map(|(xi, yi)| (w * xi + b - yi).powi(2))
                .sum::<f64>()
                / (2.0 * m)
        }
        "
    );
}

/// A neighbour read, `x[i + 1]`.
#[test]
fn rosenbrock_loop() {
    snapshot!(
        r"
        #[differentiable]
        fn rosenbrock(x: &[f64]) -> f64 {
            let mut f = 0.0;
            for i in 0..x.len() - 1 {
                f += 100.0 * (x[i + 1] - x[i] * x[i]).powi(2) + (1.0 - x[i]).powi(2);
            }
            f
        }
        "
    );
}

/// A nested loop over `m[i * n + j]`, with a branch on data inside.
#[test]
fn quadratic_form() {
    snapshot!(
        r"
        #[differentiable(wrt(m, v))]
        fn quadratic_form(m: &[f64], v: &[f64], weights: &[f64], n: usize) -> f64 {
            let mut acc = 0.0;
            for i in 0..n {
                for j in 0..n {
                    let term = v[i] * m[i * n + j] * v[j];
                    if term > 0.0 {
                        acc += weights[i] * term;
                    } else {
                        acc -= 0.5 * term;
                    }
                }
            }
            acc
        }
        "
    );
}

/// A triangular loop, `for j in 0..i`.
#[test]
fn prefix_sums() {
    snapshot!(
        r"
        #[differentiable]
        fn prefix_sums(w: f64, y: &[f64]) -> f64 {
            let mut s = 0.0;
            for i in 0..y.len() {
                for j in 0..i {
                    s += w * y[j] * y[j];
                }
            }
            s
        }
        "
    );
}

/// `break` at the first negative label: a loop finds where, then one loop runs up to there.
#[test]
fn break_at_first_negative() {
    snapshot!(
        r"
        #[differentiable(wrt(x))]
        fn until_negative(x: &[f64], y: &[f64]) -> f64 {
            let mut s = 0.0;
            for i in 0..x.len() {
                if y[i] < 0.0 {
                    break;
                }
                s += x[i].sin() * y[i];
            }
            s
        }
        "
    );
}

/// Logistic regression over a batch: `sigmoid`, an `if` on data inside the loop, and a call.
#[test]
fn log_loss() {
    snapshot!(
        r"
        #[differentiable(wrt(w, b))]
        fn log_loss(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
            let mut acc = 0.0;
            for i in 0..x.len() {
                let p = sigmoid(w * x[i] + b);
                acc -= if y[i] > 0.5 { p.ln() } else { (1.0 - p).ln() };
            }
            acc / x.len() as f64 + 0.01 * square(w)
        }
        "
    );
}

// ---- recurrences

#[test]
fn product() {
    snapshot!(
        r"
        #[differentiable]
        fn product(x: &[f64]) -> f64 {
            let mut p = 1.0;
            for i in 0..x.len() {
                p *= x[i];
            }
            p
        }
        "
    );
}

#[test]
fn running_max() {
    snapshot!(
        r"
        #[differentiable]
        fn running_max(z: &[f64]) -> f64 {
            let mut m = f64::NEG_INFINITY;
            for i in 0..z.len() {
                m = m.max(z[i]);
            }
            m
        }
        "
    );
}

/// The last state of a one-unit RNN, `h = tanh(w·h + u·xᵢ)`.
#[test]
fn rnn() {
    snapshot!(
        r"
        #[differentiable(wrt(w, u))]
        fn rnn(w: f64, u: f64, x: &[f64]) -> f64 {
            let mut h = 0.0;
            for i in 0..x.len() {
                h = (w * h + u * x[i]).tanh();
            }
            h
        }
        "
    );
}

/// Coupled recurrences: the online softmax's `m` and `s`, updated together in one pass. The
/// reverse loop carries one adjoint per variable over their saved pairs.
#[test]
fn online_softmax() {
    snapshot!(
        r"
        #[differentiable]
        fn online_log_sum_exp(z: &[f64]) -> f64 {
            let mut m = f64::NEG_INFINITY;
            let mut s = 0.0;
            for i in 0..z.len() {
                let mn = m.max(z[i]);
                s = s * (m - mn).exp() + (z[i] - mn).exp();
                m = mn;
            }
            m + s.ln()
        }
        "
    );
}

/// `checkpoint = 16`: a product's forward loop saves every 16th value; the reverse sweep runs
/// each stretch of 16 forward again from its checkpoint, then backwards.
#[test]
fn product_checkpointed() {
    snapshot!(
        r"
        #[differentiable(checkpoint = 16)]
        fn product(x: &[f64]) -> f64 {
            let mut p = 1.0;
            for i in 0..x.len() {
                p *= x[i].sin() + 1.5;
            }
            p
        }
        "
    );
}

/// `checkpoint = 8` on coupled state: every member saved at a checkpoint, the members the sweep
/// reads saved along each recomputed stretch.
#[test]
fn symplectic_euler_checkpointed() {
    snapshot!(
        r"
        #[differentiable(checkpoint = 8)]
        fn spring(k: f64, x0: f64, v0: f64, dt: f64, target: &[f64]) -> f64 {
            let mut x = x0;
            let mut v = v0;
            let mut loss = 0.0;
            for i in 0..target.len() {
                let a = -k * x;
                v += a * dt;
                x += v * dt;
                loss += (x - target[i]).powi(2);
            }
            loss
        }
        "
    );
}

/// Symplectic Euler, with a loss summed along the trajectory: `x`, `v` and `loss` are one
/// coupled state; the reverse loop is the adjoint a person writes by hand.
#[test]
fn symplectic_euler() {
    snapshot!(
        r"
        #[differentiable]
        fn spring(k: f64, x0: f64, v0: f64, dt: f64, target: &[f64]) -> f64 {
            let mut x = x0;
            let mut v = v0;
            let mut loss = 0.0;
            for i in 0..target.len() {
                let a = -k * x;
                v += a * dt;
                x += v * dt;
                loss += (x - target[i]).powi(2);
            }
            loss
        }
        "
    );
}

/// Second derivatives through coupled state: `_hvp` of the online softmax carries the tangents
/// `ṁ`, `ṡ` beside `m`, `s` in one loop (four members), whose reverse loop then gives `H·v`.
#[test]
fn online_softmax_hvp() {
    snapshot!(ONLINE_SOFTMAX_HVP);
}

const ONLINE_SOFTMAX_HVP: &str = "#[differentiable(hessian)]
fn online_log_sum_exp(z: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    let mut s = 0.0;
    for i in 0..z.len() {
        let mn = m.max(z[i]);
        s = s * (m - mn).exp() + (z[i] - mn).exp();
        m = mn;
    }
    m + s.ln()
}";

/// `H·v` through a recurrence reads the values carried beside the tangents, not the original
/// loop's: `_hessian`'s `H·eⱼ` runs one forward loop (values and tangents) and one reverse
/// sweep; `_hvp` runs the gradient's loop and sweep, then those two. (The tangents' readers of
/// the values, `ṡ / s` here, used to read the original loop, which ran for them and was swept a
/// second time.)
#[test]
fn online_softmax_hvp_runs_one_loop_for_the_tangents() {
    let expansion = expand_source(ONLINE_SOFTMAX_HVP);
    for (head, loops) in [
        ("fn online_log_sum_exp_hessian(", 1),
        ("fn online_log_sum_exp_hvp_into(", 2),
    ] {
        let text = item(&expansion, head);
        let forward = text.matches("let mut __trace").count();
        let sweeps = text.matches(".iter().rev()").count();
        assert_eq!((forward, sweeps), (loops, loops), "`{head}`:\n{text}");
    }
}

/// Recurrences in a row, the second starting from the first's value: `_hessian`'s `H·eⱼ` runs
/// one forward loop per recurrence (values and tangents) and one sweep each; the second's
/// values start from the first's carried beside its tangent, not from the original loop's.
#[test]
fn recurrences_in_a_row_run_one_loop_each_for_the_tangents() {
    let expansion = expand_source(
        "#[differentiable(hessian)]
        fn chained(a: f64, x: &[f64]) -> f64 {
            let mut p = 1.0;
            for i in 0..x.len() {
                p = p * (0.5 + (a * x[i]).cos() * 0.25);
            }
            let mut s = p;
            let mut m = 0.0;
            for i in 0..x.len() {
                let t = s * x[i];
                s = 0.5 * s.sin() + t * m + 1.0;
                m = 0.5 * m + 0.2 * s;
            }
            p * s.ln() + (m * p).exp() + a * m
        }",
    );
    let text = item(&expansion, "fn chained_hessian(");
    let forward = text.matches("let mut __trace").count();
    let sweeps = text.matches(".iter().rev()").count();
    assert_eq!((forward, sweeps), (2, 2), "{text}");
}

// ---- calls

/// A slice passed to another differentiable function: the caller's gradient goes through the
/// callee's `__vjp`.
#[test]
fn ridge_calls_dot() {
    snapshot!(
        r"
        #[differentiable]
        fn dot(w: &[f64], x: &[f64]) -> f64 {
            let mut s = 0.0;
            for i in 0..w.len() {
                s += w[i] * x[i];
            }
            s
        }

        #[differentiable]
        fn ridge(w: &[f64], x: &[f64], y: f64, lambda: f64) -> f64 {
            (dot(w, x) - y).powi(2) + lambda * dot(w, w)
        }
        "
    );
}

/// A user-supplied derivative, and a caller that chains through it.
#[test]
fn erf_rule() {
    snapshot!(
        r"
        #[differentiable(rule = erf_rule)]
        fn erf_like(x: f64) -> f64 {
            external_erf(x)
        }

        #[differentiable]
        fn uses_custom_rule(x: f64) -> f64 {
            erf_like(2.0 * x).powi(2)
        }
        "
    );
}

// ---- vector-valued functions

/// A residual with two outputs: `_jacobian`, `_jacobian_into`, `_vjp`, `_vjp_into`, `_jvp` and
/// the hidden `__jacobian`; and a scalar loss reading its outputs, through `__jacobian`.
#[test]
fn residual_jacobian() {
    snapshot!(
        r"
        #[differentiable(wrt(a, b))]
        fn residual(a: f64, b: f64, t: f64, y: f64) -> [f64; 2] {
            let e = (b * t).exp();
            [a * e - y, a * t + b]
        }

        #[differentiable(wrt(a, b))]
        fn sum_of_squares(a: f64, b: f64, t: f64, y: f64) -> f64 {
            let [u, v] = residual(a, b, t, y);
            u * u + v * v
        }
        "
    );
}

/// A residual per observation, `-> Vec<f64>`: the row function (`__decay_vecrow`, output `__k`
/// alone) whose `_grad_into` writes each row, the seeded sum (`__decay_vecseed`) whose gradient
/// is the vector-Jacobian product, and `_jacobian`, `_jacobian_into`, `_vjp`, `_jvp` over them.
#[test]
fn vec_residuals() {
    snapshot!(
        r"
        #[differentiable(wrt(p))]
        fn decay(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
            x.iter().zip(y).map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi).collect()
        }
        "
    );
}

// ---- stop_gradient

#[test]
fn held() {
    snapshot!(
        r"
        #[differentiable]
        fn held(x: f64, y: f64) -> f64 {
            x * stop_gradient(y * y) + symgrad::stop_gradient(x.sin())
        }
        "
    );
}

#[test]
fn log_sum_exp_stopped() {
    snapshot!(
        r"
        #[differentiable]
        fn log_sum_exp_stopped(z: &[f64]) -> f64 {
            let mut m = f64::NEG_INFINITY;
            for i in 0..z.len() {
                m = m.max(z[i]);
            }
            let m = stop_gradient(m);
            let mut s = 0.0;
            for i in 0..z.len() {
                s += (z[i] - m).exp();
            }
            m + s.ln()
        }
        "
    );
}

// ---- the tape (ndarray)

#[test]
fn ce_tape() {
    snapshot!(
        r"
        #[differentiable]
        fn ce(x: &Array2<f64>, w: &Array2<f64>) -> f64 {
            x.dot(w).mapv(|v| v.exp()).sum()
        }
        "
    );
}

/// PRODUCT.md's example.
#[test]
fn softmax_ce_tape() {
    snapshot!(
        r"
        #[differentiable(wrt(w, b))]
        fn softmax_ce(x: &Array2<f64>, w: &Array2<f64>, b: &Array1<f64>, y_onehot: &Array2<f64>) -> f64 {
            let logits = x.dot(w) + b;
            let lse = logits.exp().sum_axis(Axis(1)).ln();
            let picked = (&logits * y_onehot).sum_axis(Axis(1));
            (lse - picked).sum() / x.nrows() as f64
        }
        "
    );
}

// ---- loop shapes that had bugs (tests/regressions.rs)

/// A loop over `j` nested in a loop over rows, after the reverse pass.
#[test]
fn reduced() {
    snapshot!(
        r"
        #[differentiable(wrt(w))]
        fn reduced(n: usize, d: usize, w: &[f64], x: &[f64]) -> f64 {
            let mut s = 0.0;
            for ix in 0..n {
                let mut sq = 0.0;
                for j in 0..d {
                    sq += w[j].exp() * x[ix * d + j];
                }
                s += sq.exp();
            }
            s
        }
        "
    );
}

/// A recurrence nested in a loop, starting from that loop's carried value.
#[test]
fn nested_recurrence() {
    snapshot!(
        r"
        #[differentiable]
        fn nested(n: usize, x: &[f64]) -> f64 {
            let mut h = 0.0;
            for i in 0..n {
                for j in 0..n {
                    h = 0.9 * h + x[j];
                }
            }
            h
        }
        "
    );
}

/// `hessian` on a function of a scalar and a slice: `_hvp`, `_hvp_into` (value, gradient and
/// `H·v` in one pass over the derivative of `∇f·v`) and the dense `_hessian` built from `H·v`.
#[test]
fn springs_hvp() {
    snapshot!(
        r"
        #[differentiable(hessian)]
        fn springs(k: f64, x: &[f64]) -> f64 {
            let mut e = 0.0;
            for i in 1..x.len() {
                e += k * (x[i] - x[i - 1]).powi(2);
            }
            e
        }
        "
    );
}

/// nalgebra parameters: `a[(i, j)]` read as `a[i + 3 * j]`, `x.z` as `x[2]`; the gradient fields
/// are `Matrix3<f64>` and `Vector3<f64>`, accumulated through their storage as slices.
#[test]
fn nalgebra_least_squares() {
    snapshot!(
        r"
        #[differentiable]
        fn lsq(a: Matrix3<f64>, x: Vector3<f64>, b: &Vector3<f64>) -> f64 {
            let mut s = 0.0;
            for i in 0..3 {
                let mut ax = 0.0;
                for j in 0..3 {
                    ax += a[(i, j)] * x[j];
                }
                s += (ax - b[i]).powi(2);
            }
            s + x.z
        }
        "
    );
}

/// A nalgebra matrix as the result: `Matrix2::new` takes rows, the outputs are the elements in
/// column-major order (`[s·cos, s·sin, −s·sin, s·cos]`), the companions return `[f64; 4]`.
#[test]
fn nalgebra_matrix_result() {
    snapshot!(
        r"
        #[differentiable]
        fn scaled_rotation(theta: f64, s: f64) -> Matrix2<f64> {
            Matrix2::new(s * theta.cos(), -s * theta.sin(), s * theta.sin(), s * theta.cos())
        }
        "
    );
}

/// A Hessian through a call given a differentiated slice: the callee's `__hvp` (its
/// directional derivative along the caller's direction, and `seed·H·t`), called once for the
/// tangent and once, seeded, for the slice's part of `H·v`.
#[test]
fn hvp_through_slice_calls() {
    snapshot!(HVP_THROUGH_SLICE_CALLS);
}

const HVP_THROUGH_SLICE_CALLS: &str = "#[differentiable(hessian)]
fn dot(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len() {
        s += w[i] * x[i];
    }
    s
}

#[differentiable(wrt(w), hessian)]
fn ridge(w: &[f64], x: &[f64], y: f64) -> f64 {
    (dot(w, x) - y).powi(2)
}";

/// The text of the item of `expansion` that starts with `head` (at the start of a line), up to
/// the next line that closes an item (`}` at column 0).
fn item<'a>(expansion: &'a str, head: &str) -> &'a str {
    let start = expansion
        .find(&format!("\n{head}"))
        .unwrap_or_else(|| panic!("internal error: no `{head}` in the expansion"));
    let rest = &expansion[start + 1..];
    rest.find("\n}\n").map_or(rest, |end| &rest[..end + 2])
}

/// Three calls given `w` and an element product between their terms: the products renamed to
/// `(H·v).w` share one block, so each call's `__hvp` along `v` (seed 1) is made once, not once
/// per block that reads it (6 blocks and 10 calls before).
#[test]
fn products_of_several_calls_share_one_block() {
    let expansion = expand_source(&format!(
        "{HVP_THROUGH_SLICE_CALLS}
        #[differentiable(wrt(w), hessian)]
        fn mixed(w: &[f64], x: &[f64], y: f64) -> f64 {{
            (dot(w, x) - y).powi(2) + w[0] * w[1] + dot(w, w).sin() + (dot(x, w) * y).exp()
        }}"
    ));
    for head in ["fn mixed_hvp_into(", "fn mixed_hessian("] {
        let text = item(&expansion, head);
        let blocks = text.matches("let __grad0 = &mut *__grad").count();
        let along_v = text.matches("1.0 as f64,").count();
        let calls = text.matches("::__hvp(").count();
        // One call along `v` per distinct call, one seeded per call's products (`dot(w, w)`
        // has two, one per position).
        assert_eq!((blocks, along_v, calls), (1, 3, 7), "`{head}`:\n{text}");
    }
}

/// `H·v` through a call given a differentiated slice runs the callee's `__hvp` once per
/// distinct call: once along `v` for the directional derivative (seed 1), once with the
/// caller's seed into `(H·v).w`. Each product used to sit in a block of its own that called the
/// first one again.
#[test]
fn hvp_through_slice_calls_calls_each_hvp_once() {
    let expansion = expand_source(HVP_THROUGH_SLICE_CALLS);
    for head in ["fn ridge_hvp_into(", "fn ridge_hessian("] {
        let text = item(&expansion, head);
        assert_eq!(
            text.matches("__symgrad_ridge_calls_dot::__hvp(").count(),
            2,
            "`{head}`:\n{text}"
        );
        assert_eq!(
            text.matches("1.0 as f64,").count(),
            1,
            "`{head}`: the directional derivative's call, once:\n{text}"
        );
    }
}

/// `H·v` through a call given a local array built from expressions: the callee's `__hvp` along
/// `v` (the array's tangent `ż` as its direction, seed 1), once more with the array's adjoint
/// vector as the sink (`λ·(H·ż)_z`), and its `__vjp` into the tangent's adjoint (`λ·∇_z f`),
/// beside the gradient's own `__vjp`.
#[test]
fn hvp_through_a_local_array_call_runs_the_callee_three_times() {
    let expansion = expand_source(
        "#[differentiable(hessian)]
        fn weigh(z: &[f64], w: f64) -> f64 {
            let mut s = 0.0;
            for i in 0..z.len() {
                s += z[i] * z[i] * w;
            }
            s
        }

        #[differentiable(hessian)]
        fn weigh_pair(a: f64, b: f64, w: f64) -> f64 {
            let z = [a * b, a + b];
            weigh(&z, w)
        }",
    );
    let text = item(&expansion, "fn weigh_pair_hvp_into(");
    let calls = |what: &str| {
        text.matches(&format!("__symgrad_weigh_pair_calls_weigh::{what}("))
            .count()
    };
    assert_eq!(
        (calls("__hvp"), calls("__vjp")),
        (2, 2),
        "`weigh_pair_hvp_into`:\n{text}"
    );
    assert_eq!(text.matches("1.0 as f64,").count(), 1, "{text}");
}

/// A Hessian through the outputs of a vector-valued call given a slice: the callee's
/// `__hvp_outputs` (every output's tangent, and the gradient of the seeded sum of them), the
/// caller's tangent sweep calling it once per output read (seed 1 at that output) and its
/// reverse sweep once per output with that output's adjoint as the seed.
#[test]
fn hvp_through_vector_calls() {
    snapshot!(
        r"
        #[differentiable(hessian)]
        fn pair(u: &[f64], t: f64) -> [f64; 2] {
            [u[0] * t, u[1] * u[0]]
        }

        #[differentiable(wrt(u), hessian)]
        fn loss(u: &[f64], t: f64) -> f64 {
            let r = pair(u, t);
            r[0] * r[1]
        }
        "
    );
}

/// A function returning a tuple: its companions and hidden items are the `[f64; 2]`
/// function's (the user's function unchanged); the caller's `let (u, v) = polar(x, t);` reads
/// the call's value through `tuple_outputs`, as an array.
#[test]
fn tuple_outputs() {
    snapshot!(
        r"
        #[differentiable]
        fn polar(x: &[f64], t: f64) -> (f64, f64) {
            (x[0] * t.cos(), x[1] * t.sin())
        }

        #[differentiable(wrt(x))]
        fn loss(x: &[f64], t: f64) -> f64 {
            let (u, v) = polar(x, t);
            u * u + 3.0 * v
        }
        "
    );
}

/// A Hessian through calls: the callee's `__partials2` (value, derivative, second derivative),
/// and the caller's `_hvp` binding each call's second partials beside its partials.
#[test]
fn hvp_through_calls() {
    snapshot!(HVP_THROUGH_CALLS);
}

const HVP_THROUGH_CALLS: &str = "#[differentiable(hessian)]
fn soft(r: f64) -> f64 {
    (1.0 + r * r).ln()
}

#[differentiable(wrt(w, b), hessian)]
fn fit(w: f64, b: f64, x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..y.len() {
        s += soft(w * x[i] + b - y[i]);
    }
    s
}";

/// The README's "What the macro generates" blocks, each between `<!-- expansion: NAME -->` and
/// `<!-- /expansion -->`: the source, and the items of its real expansion the block shows.
const README_BLOCKS: &[(&str, &str, &[&str])] = &[
    (
        "cost",
        "#[differentiable]
         fn cost(w: f64, x: f64, y: f64) -> f64 {
             let f_wb = w * x;
             (f_wb - y).powi(2)
         }",
        &[
            "cost_grad",
            "cost_grad_into",
            "CostGrad",
            "impl CostGrad",
            "enum cost",
            "impl cost",
        ],
    ),
    (
        "mse",
        "#[differentiable(wrt(w))]
         fn mse(w: &[f64], x: &[f64], y: &[f64]) -> f64 {
             let d = w.len();
             let n = y.len();
             let mut total = 0.0;
             for i in 0..n {
                 let mut p = 0.0;
                 for j in 0..d {
                     p += w[j] * x[i * d + j];
                 }
                 total += (p - y[i]).powi(2);
             }
             total / n as f64
         }",
        &["mse_grad_into"],
    ),
    (
        "safe_log",
        "#[differentiable]
         fn safe_log(x: f64) -> f64 {
             if x <= 0.0 {
                 return 0.0;
             }
             let l = x.ln();
             l * l
         }",
        &["safe_log_grad_into"],
    ),
    (
        "residual",
        "#[differentiable(wrt(a, b))]
         fn residual(a: f64, b: f64, t: f64, y: f64) -> [f64; 2] {
             let e = (b * t).exp();
             [a * e - y, a * t + b]
         }",
        &["residual_jacobian_into", "residual_jvp"],
    ),
    (
        "spring",
        "#[differentiable(wrt(k, x0, v0, dt))]
         fn spring(k: f64, x0: f64, v0: f64, dt: f64, target: &[f64]) -> f64 {
             let mut x = x0;
             let mut v = v0;
             let mut loss = 0.0;
             for i in 0..target.len() {
                 let a = -k * x;
                 v += a * dt;
                 x += v * dt;
                 loss += (x - target[i]).powi(2);
             }
             loss
         }",
        &["spring_grad_into"],
    ),
    (
        "springs",
        "#[differentiable(hessian)]
         fn springs(k: f64, x: &[f64]) -> f64 {
             let mut e = 0.0;
             for i in 1..x.len() {
                 e += k * (x[i] - x[i - 1]).powi(2);
             }
             e
         }",
        &["springs_hvp_into"],
    ),
    ("fit", HVP_THROUGH_CALLS, &["impl soft", "fit_hvp_into"]),
    (
        "product_hvp",
        "#[differentiable(hessian)]
         fn product(x: &[f64]) -> f64 {
             let mut p = 1.0;
             for i in 0..x.len() {
                 p *= x[i];
             }
             p
         }",
        &["product_hvp_into"],
    ),
];

/// What a README block calls an item: a function's, struct's or enum's name, `impl Type` for an
/// inherent impl (trait impls and the checks of callees are not shown).
fn readme_item_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(format!("enum {}", e.ident)),
        syn::Item::Impl(i) if i.trait_.is_none() => Some(format!(
            "impl {}",
            i.self_ty.to_token_stream().to_string().replace(' ', "")
        )),
        _ => None,
    }
}

/// Leaves out the `#[allow(...)]` lint attributes (the README says so).
struct NoAllows;

impl syn::visit_mut::VisitMut for NoAllows {
    fn visit_attributes_mut(&mut self, attrs: &mut Vec<syn::Attribute>) {
        attrs.retain(|a| !a.path().is_ident("allow"));
    }
}

/// The README shows real expansions: each block is the named items of the expansion, as
/// prettyplease prints them. After a change to the generator (or to a block's source),
/// `UPDATE_README=1 cargo test -p symgrad-macros --lib readme` rewrites the blocks.
#[test]
fn readme_shows_the_real_expansion() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).expect("internal error: README.md is missing");
    let mut updated = readme.clone();
    for (name, source, shown) in README_BLOCKS {
        let expanded: syn::File = syn::parse_str(&expand_source(source))
            .expect("internal error: the expansion does not parse");
        let items: Vec<syn::Item> = shown
            .iter()
            .map(|want| {
                expanded
                    .items
                    .iter()
                    .find(|it| readme_item_name(it).as_deref() == Some(want))
                    .unwrap_or_else(|| {
                        panic!("internal error: no item `{want}` in the expansion of `{name}`")
                    })
                    .clone()
            })
            .collect();
        let mut file = syn::File {
            shebang: None,
            attrs: Vec::new(),
            items,
        };
        syn::visit_mut::VisitMut::visit_file_mut(&mut NoAllows, &mut file);
        let text = prettyplease::unparse(&file);
        let open = format!("<!-- expansion: {name} -->\n");
        let close = "<!-- /expansion -->";
        let start = updated
            .find(&open)
            .unwrap_or_else(|| panic!("internal error: README.md has no `{}` block", open.trim()))
            + open.len();
        let end = start
            + updated[start..].find(close).unwrap_or_else(|| {
                panic!("internal error: README.md's `{name}` block is not closed")
            });
        updated.replace_range(start..end, &format!("```rust\n{text}```\n"));
    }
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(path, &updated).expect("internal error: cannot write README.md");
    } else {
        assert!(
            readme == updated,
            "README.md's expansions differ from the macro's: run `UPDATE_README=1 cargo test -p symgrad-macros --lib readme` and review `git diff README.md`"
        );
    }
}

#[test]
fn buffer_per_point() {
    snapshot!(
        r"
        #[differentiable]
        fn per_point_lse(mu: &[f64], xs: &[f64]) -> f64 {
            let k = mu.len();
            let mut total = 0.0;
            for i in 0..xs.len() {
                let mut z = vec![0.0; k];
                for c in 0..k {
                    let d = xs[i] - mu[c];
                    z[c] = -0.5 * d * d;
                }
                let mut s = 0.0;
                for c in 0..k {
                    s += z[c].exp();
                }
                total += s.ln();
            }
            total
        }
        "
    );
}

#[test]
fn buffer_added_into() {
    snapshot!(
        r"
        #[differentiable]
        fn matvec_hist(a: &[f64], x: &[f64], w: &[f64], bin: &[usize]) -> f64 {
            let n = x.len();
            let m = a.len() / n;
            let mut y = vec![0.0; m];
            for i in 0..n {
                for j in 0..m {
                    y[j] += a[i * m + j] * x[i];
                }
            }
            let mut h = vec![0.0; 3];
            for i in 0..w.len() {
                h[bin[i]] += w[i];
            }
            let mut s = 0.0;
            for j in 0..m {
                s += y[j] * y[j];
            }
            s + h[0] * h[1]
        }
        "
    );
}

#[test]
fn adbench_gmm() {
    // ADBench's GMM objective as the benchmark and the example have it.
    snapshot!(include_str!("../../benches/common/adbench_gmm.rs"));
}

#[test]
fn adbench_ba() {
    // ADBench's bundle adjustment objective as the benchmark, the test and the example have it:
    // helpers taking sub-slices and local arrays, their outputs fed on.
    snapshot!(include_str!("../../benches/common/adbench_ba.rs"));
}

/// An array carried across a loop's iterations (a hidden-state vector) with a loss summed along
/// the sequence: the forward loop copies `h` into a table of rows at the start of every step;
/// the reverse loop restores each row, runs the step forward again, and carries `h`'s adjoint
/// vector `λ` back one step.
#[test]
fn hidden_state() {
    snapshot!(
        r"
        #[differentiable(wrt(w))]
        fn rnn(w: &[f64], x: &[f64], n: usize) -> f64 {
            let mut h = vec![0.0; n];
            let mut loss = 0.0;
            for t in 0..x.len() {
                for j in 0..n {
                    h[j] = (w[j] * h[j] + x[t]).tanh();
                }
                loss += (h[0] - x[t]).powi(2);
            }
            loss
        }
        "
    );
}

/// A vector-valued function with a hidden state: each row of `_jacobian` is one reverse sweep
/// of the carried array (its adjoint vector seeded by that output), all rows reading the one
/// forward loop's table of rows; `_vjp` is one sweep seeded with `Σ_k seed_k·f_k`, and `_jvp`
/// contracts each row with the tangent as it is computed (no tangent pass through a carried
/// array in a Jacobian: its forward mode takes the reverse pass).
#[test]
fn hidden_state_vector_valued() {
    snapshot!(
        r"
        #[differentiable(wrt(w))]
        fn last_state(w: &[f64], x: &[f64]) -> [f64; 2] {
            let n = w.len();
            let mut h = vec![0.0; n];
            for t in 0..x.len() {
                for j in 0..n {
                    h[j] = (w[j] * h[j] + x[t]).tanh();
                }
            }
            [h[0], h[n - 1]]
        }
        "
    );
}

/// `checkpoint = 4` on an array carried across a loop's iterations: the forward loop saves `h`'s
/// row and the loss every 4th step only; the reverse loop, from the last checkpoint, copies its
/// row into a working vector, runs the stretch of 4 steps forward again saving the rows into a
/// scratch of 4, then sweeps them backwards as without checkpoints.
#[test]
fn hidden_state_checkpointed() {
    snapshot!(
        r"
        #[differentiable(wrt(w), checkpoint = 4)]
        fn rnn(w: &[f64], x: &[f64], n: usize) -> f64 {
            let mut h = vec![0.0; n];
            let mut loss = 0.0;
            for t in 0..x.len() {
                for j in 0..n {
                    h[j] = (w[j] * h[j] + x[t]).tanh();
                }
                loss += (h[0] - x[t]).powi(2);
            }
            loss
        }
        "
    );
}

/// `checkpoint = 4` on a time loop around a layer loop: the time loop saves the state every 4th
/// step and recomputes each stretch; the layer loop inside a step, whose saved values live for
/// one step only, saves every layer's `gain` and `h` row as without `checkpoint` (no stretch of
/// its own recomputed in its sweep).
#[test]
fn layers_inside_a_checkpointed_time_loop() {
    snapshot!(
        r"
        #[differentiable(wrt(w), checkpoint = 4)]
        fn stacked(w: &[f64], x: &[f64], n: usize, layers: usize) -> f64 {
            let mut h = vec![0.0; n];
            let mut loss = 0.0;
            for t in 0..x.len() {
                let mut gain = 1.0;
                for l in 0..layers {
                    for j in 0..n {
                        h[j] = (w[j] * h[j] * gain + x[t]).tanh();
                    }
                    gain = gain * 0.5 + h[0];
                }
                loss += (h[0] - x[t]).powi(2) * gain;
            }
            loss
        }
        "
    );
}

/// A cumulative product written element by element (a scan): the loop carries the previous
/// element in a float; the array is the recurrence's values, filled by a forward loop of its
/// own, and the gradient is the recurrence's reverse sweep, each iteration's `λ` also given
/// the adjoint of the element it wrote.
#[test]
fn cumulative_product_scan() {
    snapshot!(
        r"
        #[differentiable]
        fn cumprod(w: &[f64]) -> f64 {
            let n = w.len();
            let mut z = vec![1.0; n];
            for c in 1..n {
                z[c] = z[c - 1] * w[c];
            }
            z[n - 1]
        }
        "
    );
}

/// A cumulative product's `H·v`: the tangent of the scan is a second scan, `ż[c] =
/// ż[c − 1]·w[c] + z[c − 1]·v.w[c]`, whose update reads the first scan's values; the sweep back
/// over it gives the first scan's elements their adjoints, and the first scan's sweep follows.
#[test]
fn cumulative_product_scan_hessian() {
    snapshot!(
        r"
        #[differentiable(hessian)]
        fn cumprod(w: &[f64]) -> f64 {
            let n = w.len();
            let mut z = vec![1.0; n];
            for c in 1..n {
                z[c] = z[c - 1] * w[c];
            }
            z[n - 1]
        }
        "
    );
}

/// Discounted returns, a reversed scan: the loop carries the element after the one it writes
/// (zero past the end); its values, in the order of the iterations, are flipped into place.
#[test]
fn discounted_returns_reversed_scan() {
    snapshot!(
        r"
        #[differentiable]
        fn returns(gamma: f64, r: &[f64]) -> f64 {
            let n = r.len();
            let mut g = vec![0.0; n];
            for t in (0..n).rev() {
                let next = if t + 1 < n { gamma * g[t + 1] } else { 0.0 };
                g[t] = r[t] + next;
            }
            g.iter().sum::<f64>()
        }
        "
    );
}

/// A scan per row, with `checkpoint`: the loop saving the trace (every second state) also
/// fills the row's array.
#[test]
fn checkpointed_scan_per_row() {
    snapshot!(
        r"
        #[differentiable(checkpoint = 2)]
        fn rows(w: &[f64], m: usize) -> f64 {
            let mut total = 0.0;
            for r in 0..w.len() / m {
                let mut z = vec![1.0; m];
                for c in 1..m {
                    z[c] = (z[c - 1] + w[r * m + c]).tanh();
                }
                total += z[m - 1] * z[0];
            }
            total
        }
        "
    );
}

/// Layers × time as ADBench's LSTM writes them (each layer rewriting its stretch `s..s + b` of
/// `hidden` in place, reading it there only): the layer loop's reverse sweep hands the stretch
/// of `λ` to the written values' adjoint and clears it in place (`for __j in s..min(s + b,
/// len) { λ[__j] = 0 }`), O(b) a layer, with no copy of `λ` and no pass over the whole state.
#[test]
fn layer_stretches_cleared_in_place() {
    snapshot!(
        r"
        #[differentiable(wrt(p))]
        fn layered(p: &[f64], x: &[f64], layers: usize) -> f64 {
            let b = 2;
            let mut hidden = vec![0.1; layers * b];
            let mut loss = 0.0;
            for t in 0..x.len() {
                let mut input = vec![0.0; b];
                for i in 0..b {
                    input[i] = x[t] * p[i];
                }
                for layer in 0..layers {
                    let s = b * layer;
                    for i in 0..b {
                        hidden[s + i] = (p[2] * input[i] + p[3] * hidden[s + i]).tanh();
                        input[i] = hidden[s + i];
                    }
                }
                loss += (input[0] - x[t]).powi(2);
            }
            loss
        }
        "
    );
}

/// A table filled row by row in a loop nested in another, the outer body not reading it (`z[i *
/// m + j] = a[i] * b[j]`): the outer loop carries `z`, each iteration patching its own row in
/// place. The rows of two iterations are disjoint and no iteration reads `z`, so the forward
/// loop keeps no per-iteration rows of it (O(n·m) floats, not O(n²·m)), and the reverse sweep
/// hands each row of `λ` to the written values' adjoint and clears it in place.
#[test]
fn table_filled_row_by_row() {
    snapshot!(
        r"
        #[differentiable]
        fn fill2d(a: &[f64], b: &[f64]) -> f64 {
            let (n, m) = (a.len(), b.len());
            let mut z = vec![0.0; n * m];
            for i in 0..n {
                for j in 0..m {
                    z[i * m + j] = a[i] * b[j];
                }
            }
            let mut s = 0.0;
            for k in 0..n * m { s += z[k] * z[k]; }
            s
        }
        "
    );
}

/// Every outer iteration rewriting the whole array without reading it: the value after the loop
/// is the last iteration's, and the earlier iterations' writes get no adjoint.
#[test]
fn whole_array_rewritten_each_iteration() {
    snapshot!(
        r"
        #[differentiable]
        fn loss(w: &[f64], xs: &[f64]) -> f64 {
            let k = w.len();
            let mut z = vec![0.0; k];
            for i in 0..xs.len() {
                for c in 0..k {
                    z[c] = w[c] * xs[i];
                }
            }
            z[0] * z[1]
        }
        "
    );
}

/// A value computed in a loop nested in a recurrence's body without reading the recurrence's
/// index (`y[j] * y[j]`): its adjoint is added into `∇y[j]` by the reverse loop, one iteration
/// at a time, as by hand (`n²`), not summed over the recurrence's loop at each `j`, which ran
/// the reverse sweep again for every `j` (`n³`) and computed `n - 1` before a loop over `0..n`.
#[test]
fn value_nested_in_a_recurrence_body() {
    snapshot!(
        r"
        #[differentiable]
        fn f(x: &[f64], y: &[f64]) -> f64 {
            let n = x.len();
            let mut p = 1.0;
            for i in 0..n {
                let mut t = 0.0;
                for j in 0..n - 1 {
                    t += if x[i] * y[j] > 0.48 { y[j] * y[j] } else { x[i] };
                }
                p /= 1.0 + t * t;
            }
            p
        }
        "
    );
}

/// A guard clause, a buffer, a running maximum from its first element and a log-sum-exp: the
/// gradient runs under the guard's `if` (at `x.len() < 2` nothing computes `x.len() - 1` or
/// `z[0]`), and the buffer's adjoint vector is filled once, before the loop routing it to
/// `∇x` (it was filled again in every iteration, O(n²)).
#[test]
fn log_sum_exp_over_a_buffer_after_a_guard() {
    snapshot!(
        r"
        #[differentiable]
        fn f(x: &[f64]) -> f64 {
            if x.len() < 2 {
                return 0.0;
            }
            let n = x.len();
            let mut z = vec![0.0; n - 1];
            for i in 0..n - 1 {
                z[i] = x[i + 1] - x[i];
            }
            let mut m = z[0];
            for i in 1..n - 1 {
                m = m.max(z[i]);
            }
            let mut s = 0.0;
            for i in 0..n - 1 {
                s += (z[i] - m).exp();
            }
            m + s.ln()
        }
        "
    );
}

/// Every element of a local array from `x[0]`, which does not change with the loop filling it:
/// the gradient reads `x[0]` for the element's derivative only where the summed adjoint is not
/// zero (at `n = 0`, `x` may be empty), and the companion the callers use fills the array once,
/// before the loop summing it (it filled it again in every iteration, `n²`).
#[test]
fn a_local_array_of_one_element_repeated() {
    snapshot!(
        r"
        #[differentiable]
        fn f(n: usize, x: &[f64]) -> f64 {
            let mut z = vec![0.45; n];
            for i in 0..n {
                z[i] /= 1.0 + x[0] * x[0];
            }
            z.iter().map(|e| e * e).sum::<f64>()
        }
        "
    );
}

/// A product scan from the first element (`z[0] = x[0]`, `z[i] = z[i - 1]·x[i] + a`): the
/// adjoint vector of the scan's values takes its length from the scan's loop, so the reverse
/// sweep of the callers' companion (`__partials`) fills it once, before the sweep (it filled it
/// again in every iteration, `n²`, as `H·v` did for the tangent's scan), and the values are not
/// kept only to know their length.
#[test]
fn a_product_scan_from_the_first_element() {
    snapshot!(
        r"
        #[differentiable]
        fn f(a: f64, x: &[f64]) -> f64 {
            let n = x.len();
            let mut z = vec![0.0; n];
            z[0] = x[0];
            for i in 1..n {
                z[i] = z[i - 1] * x[i] + a;
            }
            let mut s = 0.0;
            for i in 0..n {
                s += z[i] * z[i] * x[i];
            }
            s
        }
        "
    );
}
