//! Generated `*_grad` against a hand-written value-and-gradient of the same function.
//!
//! Each benchmark evaluates value + gradient at 1024 points per iteration (so the tiny functions
//! are measured as throughput, not as timer noise). Run: `cargo bench --bench scalar`; the README
//! reports the ratios `generated / hand-written`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use symgrad::differentiable;

// ---- seed 000: (w·x − y)²

#[differentiable(wrt(w))]
fn cost(w: f64, x: f64, y: f64) -> f64 {
    let f_wb = w * x;
    (f_wb - y).powi(2)
}

fn cost_hand(w: f64, x: f64, y: f64) -> (f64, f64) {
    let r = w * x - y;
    (r * r, 2.0 * x * r)
}

// ---- seed 001: (x·w − y)·(x·w − y), all three partials

#[differentiable]
fn loss(w: f64, x: f64, y: f64) -> f64 {
    let y_pred = x * w;
    (y_pred - y) * (y_pred - y)
}

fn loss_hand(w: f64, x: f64, y: f64) -> (f64, [f64; 3]) {
    let r = x * w - y;
    (r * r, [2.0 * x * r, 2.0 * w * r, -2.0 * r])
}

// ---- seed 003: (x − 50)²

#[differentiable]
fn loss_fun(x: f64) -> f64 {
    (x - 50.0).powi(2)
}

fn loss_fun_hand(x: f64) -> (f64, f64) {
    let r = x - 50.0;
    (r * r, 2.0 * r)
}

// ---- Rosenbrock in 2-D

#[differentiable]
fn rosenbrock(x: f64, y: f64) -> f64 {
    (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
}

fn rosenbrock_hand(x: f64, y: f64) -> (f64, [f64; 2]) {
    let a = 1.0 - x;
    let b = y - x * x;
    (a * a + 100.0 * b * b, [-2.0 * a - 400.0 * x * b, 200.0 * b])
}

// ---- thirteen elementary functions

#[differentiable]
fn elementary(x: f64, y: f64) -> f64 {
    let r = x.hypot(y);
    x.sin() * y.cos()
        + (x * y).exp() / (1.0 + x * x)
        + (1.0 + y * y).ln()
        + (r + 1.0).sqrt()
        + (x - y).tanh()
        + (x * y).atan()
        + (x / 3.0).sinh()
        + (y / 4.0).cosh()
        + (x + 2.0).powf(1.5)
        + y.powi(3)
        + (x - 0.5).abs()
}

#[allow(clippy::similar_names)]
fn elementary_hand(x: f64, y: f64) -> (f64, [f64; 2]) {
    let (sx, cx) = x.sin_cos();
    let (sy, cy) = y.sin_cos();
    let r = x.hypot(y);
    let e = (x * y).exp();
    let q = 1.0 + x * x;
    let l = 1.0 + y * y;
    let s = (r + 1.0).sqrt();
    let t = (x - y).tanh();
    let xy = x * y;
    let p = (x + 2.0).powf(1.5);
    let value = sx * cy
        + e / q
        + l.ln()
        + s
        + t
        + xy.atan()
        + (x / 3.0).sinh()
        + (y / 4.0).cosh()
        + p
        + y * y * y
        + (x - 0.5).abs();
    let ds = 0.5 / s / r;
    let dt = 1.0 - t * t;
    let da = 1.0 / (1.0 + xy * xy);
    let dx = cx * cy + y * e / q - e * 2.0 * x / (q * q)
        + ds * x
        + dt
        + da * y
        + (x / 3.0).cosh() / 3.0
        + 1.5 * (x + 2.0).sqrt()
        + (x - 0.5).signum();
    let dy = -sx * sy + x * e / q + 2.0 * y / l + ds * y - dt
        + da * x
        + (y / 4.0).sinh() / 4.0
        + 3.0 * y * y;
    (value, [dx, dy])
}

fn points() -> Vec<(f64, f64, f64)> {
    (0..1024)
        .map(|i| {
            let t = f64::from(i) / 1024.0;
            (0.3 + 1.4 * t, 1.0 - 0.9 * t, 0.5 + t)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pts = points();
    macro_rules! pair {
        ($group:literal, |$p:ident| $generated:expr, $hand:expr) => {{
            let mut g = c.benchmark_group($group);
            g.bench_function("generated", |b| {
                b.iter(|| {
                    for $p in black_box(&pts) {
                        black_box($generated);
                    }
                })
            });
            g.bench_function("hand-written", |b| {
                b.iter(|| {
                    for $p in black_box(&pts) {
                        black_box($hand);
                    }
                })
            });
            g.finish();
        }};
    }
    pair!(
        "seed000_cost",
        |p| cost_grad(p.0, p.1, p.2),
        cost_hand(p.0, p.1, p.2)
    );
    pair!(
        "seed001_loss",
        |p| loss_grad(p.0, p.1, p.2),
        loss_hand(p.0, p.1, p.2)
    );
    pair!(
        "seed003_loss",
        |p| loss_fun_grad(p.0 * 60.0),
        loss_fun_hand(p.0 * 60.0)
    );
    pair!(
        "rosenbrock_2d",
        |p| rosenbrock_grad(p.0, p.1),
        rosenbrock_hand(p.0, p.1)
    );
    pair!(
        "elementary_13",
        |p| elementary_grad(p.0, p.1),
        elementary_hand(p.0, p.1)
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
