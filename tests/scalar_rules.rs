//! Every derivative rule, through the code the macro generates, against central finite
//! differences of the original function (which the macro leaves unchanged).

use symgrad::differentiable;

/// Central difference of `f` at `x`, with a step scaled to `x`.
fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn assert_close(got: f64, want: f64, what: &str) {
    let tol = 1e-7 * want.abs().max(1.0);
    assert!(
        (got - want).abs() <= tol,
        "{what}: generated {got}, finite differences {want}"
    );
}

/// One function per method: `name / name_grad: |x| body, at [points]`, checked for value and derivative.
macro_rules! unary_rules {
    ($($name:ident / $grad:ident: |$x:ident| $body:expr, at [$($p:expr),+];)*) => {
        $(
            #[differentiable]
            fn $name($x: f64) -> f64 {
                $body
            }
        )*

        #[test]
        fn every_unary_rule_matches_finite_differences() {
            $(
                for p in [$($p),+] {
                    let (v, g) = $grad(p);
                    assert_eq!(v, $name(p), "value of {} at {p}", stringify!($name));
                    assert_close(g.x, central($name, p), &format!("{}'({p})", stringify!($name)));
                }
            )*
        }
    };
}

unary_rules! {
    sqrt_rule / sqrt_rule_grad: |x| x.sqrt(), at [0.3, 2.0, 9.5];
    cbrt_rule / cbrt_rule_grad: |x| x.cbrt(), at [-2.0, 0.3, 8.0];
    exp_rule / exp_rule_grad: |x| x.exp(), at [-1.0, 0.0, 2.5];
    exp2_rule / exp2_rule_grad: |x| x.exp2(), at [-1.0, 0.5, 3.0];
    exp_m1_rule / exp_m1_rule_grad: |x| x.exp_m1(), at [-1.0, 1e-3, 2.0];
    ln_rule / ln_rule_grad: |x| x.ln(), at [0.1, 1.0, 7.0];
    log2_rule / log2_rule_grad: |x| x.log2(), at [0.1, 1.0, 7.0];
    log10_rule / log10_rule_grad: |x| x.log10(), at [0.1, 1.0, 7.0];
    ln_1p_rule / ln_1p_rule_grad: |x| x.ln_1p(), at [-0.5, 0.0, 3.0];
    sin_rule / sin_rule_grad: |x| x.sin(), at [-1.0, 0.3, 2.0];
    cos_rule / cos_rule_grad: |x| x.cos(), at [-1.0, 0.3, 2.0];
    tan_rule / tan_rule_grad: |x| x.tan(), at [-1.0, 0.3, 1.2];
    asin_rule / asin_rule_grad: |x| x.asin(), at [-0.9, 0.0, 0.5];
    acos_rule / acos_rule_grad: |x| x.acos(), at [-0.9, 0.0, 0.5];
    atan_rule / atan_rule_grad: |x| x.atan(), at [-3.0, 0.0, 0.5];
    sinh_rule / sinh_rule_grad: |x| x.sinh(), at [-2.0, 0.0, 1.5];
    cosh_rule / cosh_rule_grad: |x| x.cosh(), at [-2.0, 0.1, 1.5];
    tanh_rule / tanh_rule_grad: |x| x.tanh(), at [-2.0, 0.0, 1.5];
    asinh_rule / asinh_rule_grad: |x| x.asinh(), at [-2.0, 0.0, 1.5];
    acosh_rule / acosh_rule_grad: |x| x.acosh(), at [1.1, 2.0, 10.0];
    atanh_rule / atanh_rule_grad: |x| x.atanh(), at [-0.9, 0.0, 0.5];
    abs_rule / abs_rule_grad: |x| x.abs(), at [-2.0, 0.5];
    signum_rule / signum_rule_grad: |x| x.signum() * x, at [-2.0, 0.5];
    recip_rule / recip_rule_grad: |x| x.recip(), at [-2.0, 0.5, 3.0];
    to_degrees_rule / to_degrees_rule_grad: |x| x.to_degrees(), at [-2.0, 0.5];
    to_radians_rule / to_radians_rule_grad: |x| x.to_radians(), at [-200.0, 45.0];
    powi_rule / powi_rule_grad: |x| x.powi(3) + x.powi(-2) + x.powi(0) + x.powi(1), at [-2.0, 0.5, 1.7];
    powf_rule / powf_rule_grad: |x| x.powf(2.5) + 2f64.powf(x), at [0.5, 1.7];
    log_rule / log_rule_grad: |x| x.log(3.0) + 10f64.log(x), at [0.5, 1.7, 4.0];
    atan2_rule / atan2_rule_grad: |x| x.atan2(2.0) + 1.5f64.atan2(x), at [-1.0, 0.5, 3.0];
    hypot_rule / hypot_rule_grad: |x| x.hypot(2.0), at [-1.0, 0.5, 3.0];
    max_rule / max_rule_grad: |x| x.max(1.0) + (2.0 * x).max(x * x), at [-1.0, 0.5, 3.0];
    min_rule / min_rule_grad: |x| x.min(1.0) + (2.0 * x).min(x * x), at [-1.0, 0.5, 3.0];
    clamp_rule / clamp_rule_grad: |x| (x * 3.0).clamp(-1.0, 2.0) + x.clamp(x * x, 5.0), at [-1.0, 0.2, 0.5, 2.0];
    mul_add_rule / mul_add_rule_grad: |x| x.mul_add(x, 2.0) + 3f64.mul_add(x, x.sin()), at [-1.0, 0.5, 3.0];
    floor_rule / floor_rule_grad: |x| x.floor() + x.ceil() * x + x.round() + x.trunc() + x.fract(), at [-1.3, 0.4, 2.7];
    call_form_rule / call_form_rule_grad: |x| f64::exp(x) + f64::max(x, 0.5) + f64::powi(x, 2) + f64::sqrt(x * x + 1.0), at [-1.0, 0.7, 2.0];
    neg_div_rule / neg_div_rule_grad: |x| -x / (1.0 + x * x) - 3.0 / x, at [-1.0, 0.7, 2.0];
}

#[test]
fn abs_has_zero_derivative_at_zero() {
    // PyTorch's and JAX's choice; `signum` would say 1.
    assert_eq!(abs_rule_grad(0.0).1.x, 0.0);
}

#[test]
fn max_and_min_send_the_gradient_to_the_first_argument_on_ties() {
    #[differentiable]
    fn m(a: f64, b: f64) -> f64 {
        a.max(b) + 10.0 * a.min(b)
    }
    let (_, g) = m_grad(1.0, 1.0);
    assert_eq!((g.a, g.b), (11.0, 0.0));
}
