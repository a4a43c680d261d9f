//! The scalar language of PRODUCT.md, construct by construct, against hand-derived gradients.

use approx::assert_relative_eq;
use symgrad::{Gradient, differentiable, sigmoid};

const LAMBDA: f64 = 0.5;

#[differentiable(wrt(w, b))]
fn linear(w: f64, b: f64, x: f64, y: f64) -> f64 {
    let pred = w * x + b;
    0.5 * (pred - y).powi(2) + LAMBDA * w * w
}

#[test]
fn wrt_differentiates_only_the_listed_parameters() {
    let (v, g) = linear_grad(2.0, 1.0, 3.0, 4.0);
    let r = 2.0 * 3.0 + 1.0 - 4.0;
    assert_eq!(v, 0.5 * r * r + 0.5 * 4.0);
    assert_relative_eq!(g.w, r * 3.0 + 2.0 * LAMBDA * 2.0, max_relative = 1e-12);
    assert_relative_eq!(g.b, r, max_relative = 1e-12);
    // The struct has exactly the `wrt` fields, and implements the runtime's `Gradient`.
    let LinearGrad { w: _, b: _ } = g;
    assert_eq!(g.to_flat_vec(), vec![g.w, g.b]);
    assert_eq!(LinearGrad::FORMULAS.len(), 2);
}

// Seed 002: y = x·w + b; dy/dw = x = 3, dy/db = 1, d²y/dw² = 0 (TensorFlow prints `None`).
#[differentiable(hessian)]
fn affine(w: f64, b: f64, x: f64) -> f64 {
    x * w + b
}

#[test]
fn seed_002_first_and_second_derivatives() {
    let (y, g, h) = affine_hessian(1.0, 2.0, 3.0);
    assert_eq!(y, 5.0);
    assert_eq!((g.w, g.b, g.x), (3.0, 1.0, 1.0));
    assert_eq!(h[0][0], 0.0); // d²y/dw²
    assert_eq!(h[0][2], 1.0); // d²y/dw dx
    assert_eq!(h[2][0], 1.0);
}

#[differentiable(hessian)]
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

#[test]
fn hessian_of_rosenbrock_is_the_textbook_one() {
    let (x, y) = (-1.2, 1.0);
    let (_, g, h) = rosenbrock_hessian(x, y);
    assert_relative_eq!(
        g.x,
        -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
        max_relative = 1e-12
    );
    assert_relative_eq!(g.y, 200.0 * (y - x * x), max_relative = 1e-12);
    assert_relative_eq!(
        h[0][0],
        2.0 - 400.0 * y + 1200.0 * x * x,
        max_relative = 1e-12
    );
    assert_relative_eq!(h[0][1], -400.0 * x, max_relative = 1e-12);
    assert_relative_eq!(h[1][0], -400.0 * x, max_relative = 1e-12);
    assert_relative_eq!(h[1][1], 200.0, max_relative = 1e-12);
}

#[differentiable]
fn single(x: f32, k: i32) -> f32 {
    let half: f32 = 0.5;
    half * x.powi(k) + std::f32::consts::PI * x
}

#[test]
fn f32_functions_get_f32_gradients() {
    let (v, g): (f32, SingleGrad) = single_grad(2.0, 3);
    assert_eq!(v, 0.5 * 8.0 + std::f32::consts::PI * 2.0);
    let d: f32 = g.x;
    assert_relative_eq!(d, 1.5 * 4.0 + std::f32::consts::PI, max_relative = 1e-6);
}

#[differentiable]
fn with_integers(x: f64, n: usize, k: i32, flag: bool) -> f64 {
    let m = n as f64;
    let p = x.powi(k + 1) / m;
    if flag { p } else { -p }
}

#[test]
fn integer_and_bool_parameters_are_constants() {
    let (v, g) = with_integers_grad(2.0, 4, 2, true);
    assert_eq!(v, 8.0 / 4.0);
    assert_eq!(g.x, 3.0 * 4.0 / 4.0);
    assert_eq!(with_integers_grad(2.0, 4, 2, false).1.x, -3.0);
}

#[differentiable]
fn safe_log(x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let l = x.ln();
    l * l
}

#[test]
fn the_untaken_branch_does_not_inject_nan() {
    assert_eq!(safe_log_grad(-1.0), (0.0, SafeLogGrad { x: 0.0 }));
    assert_eq!(safe_log_grad(0.0), (0.0, SafeLogGrad { x: 0.0 }));
    let (v, g) = safe_log_grad(std::f64::consts::E);
    assert_relative_eq!(v, 1.0, max_relative = 1e-15);
    assert_relative_eq!(g.x, 2.0 / std::f64::consts::E, max_relative = 1e-15);
}

#[differentiable]
fn huber(r: f64, delta: f64) -> f64 {
    match r.abs() {
        a if a <= delta => 0.5 * r * r,
        _ => delta * (r.abs() - 0.5 * delta),
    }
}

#[test]
fn match_with_guards_is_piecewise() {
    assert_eq!(huber_grad(0.5, 1.0).1, HuberGrad { r: 0.5, delta: 0.0 });
    assert_eq!(
        huber_grad(-3.0, 1.0).1,
        HuberGrad {
            r: -1.0,
            delta: 3.0 - 1.0
        }
    );
}

#[differentiable]
fn by_level(x: f64, level: u8) -> f64 {
    match level {
        0 => x,
        1 | 2 => x * x,
        3..=9 => x.powi(3),
        _ => 0.0,
    }
}

#[test]
fn match_on_integers() {
    assert_eq!(by_level_grad(2.0, 0).1.x, 1.0);
    assert_eq!(by_level_grad(2.0, 2).1.x, 4.0);
    assert_eq!(by_level_grad(2.0, 5).1.x, 12.0);
    assert_eq!(by_level_grad(2.0, 200).1.x, 0.0);
}

#[differentiable]
#[allow(clippy::needless_late_init)] // late initialization is the construct under test
fn statements(x: f64, y: f64) -> f64 {
    let s;
    let (a, b) = (x * y, x + y);
    let a = a + 1.0; // shadowing
    let mut acc = a;
    acc += b;
    acc *= 2.0;
    {
        let inner = acc * x;
        acc -= inner / 4.0;
    }
    if a > b {
        s = acc;
    } else {
        s = -acc;
    }
    s / 3.0
}

#[test]
fn blocks_lets_shadowing_and_compound_assignment() {
    let f = |x: f64, y: f64| {
        let a = x * y + 1.0;
        let acc = 2.0 * (a + x + y);
        let acc = acc - acc * x / 4.0;
        (if a > x + y { acc } else { -acc }) / 3.0
    };
    for (x, y) in [(1.5, 2.0), (0.1, -0.4), (-1.0, 3.0)] {
        let (v, g) = statements_grad(x, y);
        assert_relative_eq!(v, f(x, y), max_relative = 1e-14);
        let h = 1e-6;
        assert_relative_eq!(
            g.x,
            (f(x + h, y) - f(x - h, y)) / (2.0 * h),
            max_relative = 1e-6
        );
        assert_relative_eq!(
            g.y,
            (f(x, y + h) - f(x, y - h)) / (2.0 * h),
            max_relative = 1e-6
        );
    }
}

mod layers {
    use symgrad::differentiable;

    #[differentiable]
    pub fn square(u: f64) -> f64 {
        u * u
    }

    pub mod deeper {
        use symgrad::differentiable;

        #[differentiable]
        pub fn scaled_sin(u: f64, k: f64) -> f64 {
            k * u.sin()
        }
    }
}

use layers::deeper::scaled_sin;

#[differentiable]
fn composed(x: f64, y: f64) -> f64 {
    layers::square(x * y) + scaled_sin(x, y) + sigmoid(x - y)
}

#[test]
fn calls_chain_through_other_differentiable_functions_and_helpers() {
    let (x, y) = (0.7, -1.3);
    let (v, g) = composed_grad(x, y);
    let s = sigmoid(x - y);
    assert_relative_eq!(v, (x * y).powi(2) + y * x.sin() + s, max_relative = 1e-15);
    assert_relative_eq!(
        g.x,
        2.0 * x * y * y + y * x.cos() + s * (1.0 - s),
        max_relative = 1e-14
    );
    assert_relative_eq!(
        g.y,
        2.0 * x * x * y + x.sin() - s * (1.0 - s),
        max_relative = 1e-14
    );
}

/// A function the macro cannot see into, with the derivative supplied by the user.
#[differentiable(rule = erf_rule)]
fn erf_like(x: f64) -> f64 {
    external_erf(x)
}

fn external_erf(x: f64) -> f64 {
    // A deliberately opaque approximation (Abramowitz–Stegun 7.1.26).
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    (1.0 - poly * (-x * x).exp()).copysign(x)
}

fn erf_rule(x: f64) -> (f64, [f64; 1]) {
    (
        external_erf(x),
        [2.0 / std::f64::consts::PI.sqrt() * (-x * x).exp()],
    )
}

#[differentiable]
fn uses_custom_rule(x: f64) -> f64 {
    erf_like(2.0 * x).powi(2)
}

#[test]
fn user_rules_drive_the_gradient_and_chain_through_callers() {
    let (v, g) = erf_like_grad(0.3);
    assert_eq!(v, external_erf(0.3));
    assert_eq!(g.x, erf_rule(0.3).1[0]);
    let (_, g) = uses_custom_rule_grad(0.3);
    assert_relative_eq!(
        g.x,
        2.0 * external_erf(0.6) * 2.0 * erf_rule(0.6).1[0],
        max_relative = 1e-14
    );
    assert_eq!(ErfLikeGrad::FORMULAS[0].1, "given by the rule `erf_rule`");
}

#[test]
fn the_gradient_struct_is_copy_debug_partialeq_default() {
    let (_, g) = linear_grad(1.0, 1.0, 1.0, 1.0);
    let copy = g;
    assert_eq!(copy, g);
    assert!(format!("{g:?}").starts_with("LinearGrad"));
    assert_eq!(LinearGrad::default(), LinearGrad { w: 0.0, b: 0.0 });
}

#[test]
fn formulas_are_readable() {
    assert_eq!(
        AffineGrad::FORMULAS,
        &[("w", "x"), ("b", "1.0"), ("x", "w")]
    );
    assert_eq!(
        SafeLogGrad::FORMULAS[0].1,
        "if x <= 0.0 { 0.0 } else { 2.0 * x.ln() / x }"
    );
}
