//! Loss functions over data (PEERS.md workloads W1 and W2, and log-sum-exp): the generated
//! `*_grad` against the function alone, a hand-written gradient written the same straightforward
//! way (one loop), and num-dual's forward-mode `gradient`; and what `checkpoint = K` costs a
//! recurrence's gradient. Run: `cargo bench --bench loops`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::{DVector, SVector};
use num_dual::{DualDVec64, DualSVec64, gradient};
#[path = "common/loop_workloads.rs"]
mod workloads;
use workloads::{
    data, linreg, linreg_grad, linreg_hand, log_sum_exp, log_sum_exp_grad, log_sum_exp_hand,
    log_sum_exp_stable, log_sum_exp_stable_grad, log_sum_exp_stable_hand, log_sum_exp_stopped_grad,
    lse_input, rosenbrock, rosenbrock_grad, rosenbrock_hand, rosenbrock_input,
};

/// A filter read by a loss along it (coupled state: `s` and `loss`), its reverse sweep reading
/// every `s`: saved in full (8 MB at n = 10⁶) or every 1000th (8 KB, and a stretch of 16 KB).
#[symgrad::differentiable]
#[allow(clippy::needless_range_loop)] // the index loop a user writes
fn filtered(a: f64, y: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut loss = 0.0;
    for i in 0..y.len() {
        s = a * s + y[i];
        loss += (s - y[i]).powi(2);
    }
    loss
}

#[symgrad::differentiable(checkpoint = 1000)]
#[allow(clippy::needless_range_loop)] // the index loop a user writes
fn filtered_checkpointed(a: f64, y: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut loss = 0.0;
    for i in 0..y.len() {
        s = a * s + y[i];
        loss += (s - y[i]).powi(2);
    }
    loss
}

/// [`filtered`]'s gradient as a person writes it: the states saved forward, one backward loop
/// carrying the filter's adjoint.
fn filtered_hand(a: f64, y: &[f64], gy: &mut [f64]) -> (f64, f64) {
    let mut states = Vec::with_capacity(y.len());
    let (mut s, mut loss) = (0.0, 0.0);
    for &yi in y {
        states.push(s);
        s = a * s + yi;
        loss += (s - yi).powi(2);
    }
    let (mut lam, mut ga) = (0.0, 0.0);
    for i in (0..y.len()).rev() {
        let next = a * states[i] + y[i];
        let d = lam + 2.0 * (next - y[i]);
        ga += states[i] * d;
        gy[i] = d - 2.0 * (next - y[i]);
        lam = a * d;
    }
    (loss, ga)
}

fn checkpoint(c: &mut Criterion) {
    let (y, _) = data(1_000_000);
    let (v, g) = filtered_grad(0.9, &y);
    let (vk, gk) = filtered_checkpointed_grad(0.9, &y);
    assert!(v.to_bits() == vk.to_bits() && g.a.to_bits() == gk.a.to_bits());
    let mut gy = vec![0.0; y.len()];
    let (vh, gah) = filtered_hand(0.9, &y, &mut gy);
    assert!((vh - v).abs() <= 1e-9 * v.abs() && (gah - g.a).abs() <= 1e-9 * g.a.abs());
    assert!(gy.iter().zip(&g.y).all(|(p, q)| (p - q).abs() <= 1e-12));
    let mut group = c.benchmark_group("checkpoint_1e6");
    group.bench_function("function", |bch| {
        bch.iter(|| filtered(black_box(0.9), black_box(&y)));
    });
    group.bench_function("generated, every state saved", |bch| {
        bch.iter(|| filtered_grad(black_box(0.9), black_box(&y)));
    });
    group.bench_function("generated, checkpoint = 1000", |bch| {
        bch.iter(|| filtered_checkpointed_grad(black_box(0.9), black_box(&y)));
    });
    group.bench_function("hand-written", |bch| {
        bch.iter(|| {
            let mut gy = vec![0.0; y.len()];
            let r = filtered_hand(black_box(0.9), black_box(&y), &mut gy);
            (r, gy)
        });
    });
    group.finish();
}

fn w1(c: &mut Criterion) {
    let (x, y) = data(1_000_000);
    let (w, b) = (1.7, 0.2);
    let (v, g) = linreg_grad(w, b, &x, &y);
    let (vh, gh) = linreg_hand(w, b, &x, &y);
    assert!(
        (v - vh).abs() < 1e-9 * vh.abs()
            && (g.w - gh[0]).abs() < 1e-9
            && (g.b - gh[1]).abs() < 1e-9
    );
    let dual = |p: SVector<DualSVec64<2>, 2>| {
        let m = x.len() as f64;
        let mut acc = DualSVec64::<2>::from(0.0);
        for i in 0..x.len() {
            let r = p[0] * x[i] + p[1] - y[i];
            acc += r * r;
        }
        acc / (2.0 * m)
    };
    let (vd, gd) = gradient(dual, &SVector::from([w, b]));
    assert!((vd - vh).abs() < 1e-9 * vh.abs() && (gd[0] - gh[0]).abs() < 1e-9);
    let mut group = c.benchmark_group("w1_linreg_1e6");
    group.sample_size(30);
    group.bench_function("function", |bch| {
        bch.iter(|| linreg(black_box(w), black_box(b), black_box(&x), black_box(&y)));
    });
    group.bench_function("generated", |bch| {
        bch.iter(|| linreg_grad(black_box(w), black_box(b), black_box(&x), black_box(&y)));
    });
    group.bench_function("hand-written", |bch| {
        bch.iter(|| linreg_hand(black_box(w), black_box(b), black_box(&x), black_box(&y)));
    });
    group.bench_function("num-dual", |bch| {
        bch.iter(|| gradient(dual, black_box(&SVector::from([w, b]))));
    });
    group.finish();
}

fn w2(c: &mut Criterion) {
    for n in [1000usize, 1_000_000] {
        let x = rosenbrock_input(n);
        let mut g = vec![0.0; n];
        let fh = rosenbrock_hand(&x, &mut g);
        let (f, gg) = rosenbrock_grad(&x);
        assert!(
            (f - fh).abs() < 1e-9 * fh.abs()
                && gg
                    .x
                    .iter()
                    .zip(&g)
                    .all(|(a, b)| (a - b).abs() < 1e-9 * (1.0 + b.abs()))
        );
        let mut group = c.benchmark_group(format!("w2_rosenbrock_{n}"));
        group.sample_size(if n > 1000 { 20 } else { 100 });
        group.bench_function("function", |bch| {
            bch.iter(|| rosenbrock(black_box(&x)));
        });
        group.bench_function("generated", |bch| {
            bch.iter(|| rosenbrock_grad(black_box(&x)));
        });
        group.bench_function("hand-written", |bch| {
            bch.iter(|| {
                let mut g = vec![0.0; n];
                let f = rosenbrock_hand(black_box(&x), &mut g);
                (f, g)
            });
        });
        if n == 1000 {
            let dual = |v: DVector<DualDVec64>| {
                let mut f = DualDVec64::from(0.0);
                for i in 0..v.len() - 1 {
                    let t = v[i + 1].clone() - v[i].clone() * v[i].clone();
                    let u = -v[i].clone() + 1.0;
                    f += t.clone() * t * 100.0 + u.clone() * u;
                }
                f
            };
            let xv = DVector::from_vec(x.clone());
            let (fd, gd) = gradient(dual, &xv);
            assert!(
                (fd - fh).abs() < 1e-9 * fh.abs()
                    && (gd[0] - g[0]).abs() < 1e-9 * (1.0 + g[0].abs())
            );
            group.sample_size(10);
            group.bench_function("num-dual", |bch| {
                bch.iter(|| gradient(dual, black_box(&xv)));
            });
        }
        group.finish();
    }
}

fn lse(c: &mut Criterion) {
    let z = lse_input();
    let mut g = vec![0.0; z.len()];
    let vh = log_sum_exp_hand(&z, &mut g);
    let (v, gg) = log_sum_exp_grad(&z);
    assert!(
        (v - vh).abs() < 1e-12 * vh.abs()
            && gg.z.iter().zip(&g).all(|(a, b)| (a - b).abs() < 1e-14)
    );
    let mut group = c.benchmark_group("log_sum_exp_1e4");
    group.bench_function("function", |bch| {
        bch.iter(|| log_sum_exp(black_box(&z)));
    });
    group.bench_function("generated", |bch| {
        bch.iter(|| log_sum_exp_grad(black_box(&z)));
    });
    group.bench_function("hand-written", |bch| {
        bch.iter(|| {
            let mut g = vec![0.0; z.len()];
            let v = log_sum_exp_hand(black_box(&z), &mut g);
            (v, g)
        });
    });
    group.finish();
}

fn lse_stable(c: &mut Criterion) {
    let z = lse_input();
    let mut g = vec![0.0; z.len()];
    let vh = log_sum_exp_stable_hand(&z, &mut g);
    let (v, gg) = log_sum_exp_stable_grad(&z);
    assert!(
        (v - vh).abs() < 1e-12 * vh.abs()
            && gg.z.iter().zip(&g).all(|(a, b)| (a - b).abs() < 1e-14)
    );
    let (vs, gs) = log_sum_exp_stopped_grad(&z);
    assert!(vs == v && gs.z.iter().zip(&g).all(|(a, b)| (a - b).abs() < 1e-15));
    let mut group = c.benchmark_group("log_sum_exp_stable_1e4");
    group.bench_function("function", |bch| {
        bch.iter(|| log_sum_exp_stable(black_box(&z)));
    });
    group.bench_function("generated", |bch| {
        bch.iter(|| log_sum_exp_stable_grad(black_box(&z)));
    });
    group.bench_function("generated, stop_gradient(m)", |bch| {
        bch.iter(|| log_sum_exp_stopped_grad(black_box(&z)));
    });
    group.bench_function("hand-written", |bch| {
        bch.iter(|| {
            let mut g = vec![0.0; z.len()];
            let v = log_sum_exp_stable_hand(black_box(&z), &mut g);
            (v, g)
        });
    });
    group.finish();
}

criterion_group!(benches, w1, w2, lse, lse_stable, checkpoint);
criterion_main!(benches);
