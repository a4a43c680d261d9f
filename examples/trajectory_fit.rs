//! Fitting the parameters of a simulation written as a simulator is written: a damped spring
//! integrated step by step (semi-implicit Euler), its positions kept in an array as the loop
//! runs, the loss reading that array after the loop; and an AR(2) process whose values a scan
//! reading two elements back keeps. `#[differentiable]` differentiates through both loops: one
//! forward loop fills the arrays, one reverse loop carries the adjoints of the state.
//!
//! The spring's stiffness and damping are recovered from a noisy observed trajectory with the
//! runtime's Adam; the AR(2) coefficients from a series the process generated, by least
//! squares on its one-step predictions.
//!
//! Run: `cargo run --release --example trajectory_fit`

// Index loops over the steps, as a simulator is written.
#![allow(clippy::needless_range_loop)]

use symgrad::differentiable;
use symgrad::optim::{Adam, Optimizer};

/// Squared distance between the simulated positions of a spring (stiffness `p[0]`, damping
/// `p[1]`, from `x0 = 1`, at rest) and the observed `obs`, one step of `dt = 0.05` per
/// observation.
#[differentiable]
fn spring_misfit(p: &[f64], obs: &[f64]) -> f64 {
    let n = obs.len();
    let dt = 0.05;
    let mut pos = vec![0.0; n];
    let mut x = 1.0;
    let mut v = 0.0;
    for i in 0..n {
        let acc = -p[0] * x - p[1] * v;
        v += acc * dt;
        x += v * dt;
        pos[i] = x;
    }
    let mut loss = 0.0;
    for i in 0..n {
        let d = pos[i] - obs[i];
        loss += d * d;
    }
    loss / n as f64
}

/// Mean squared distance between the series `y` and an AR(2) process with coefficients `c`,
/// started from `y`'s first two values and driven by the innovations `e`: its values are a
/// scan two back, `f[i] = c₀·f[i − 1] + c₁·f[i − 2] + e[i]`.
#[differentiable]
fn ar2_misfit(c: &[f64], y: &[f64], e: &[f64]) -> f64 {
    let n = y.len();
    if n < 3 {
        return 0.0;
    }
    let mut f = vec![0.0; n];
    f[0] = y[0];
    f[1] = y[1];
    for i in 2..n {
        f[i] = c[0] * f[i - 1] + c[1] * f[i - 2] + e[i];
    }
    let mut loss = 0.0;
    for i in 2..n {
        let d = f[i] - y[i];
        loss += d * d;
    }
    loss / n as f64
}

/// A reproducible pseudo-random number in (−0.5, 0.5).
fn noise(k: usize) -> f64 {
    let h = (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((h >> 11) as f64 / (1u64 << 53) as f64) - 0.5
}

fn simulate(k: f64, damping: f64, n: usize) -> Vec<f64> {
    let (mut x, mut v) = (1.0, 0.0);
    (0..n)
        .map(|_| {
            v += (-k * x - damping * v) * 0.05;
            x += v * 0.05;
            x
        })
        .collect()
}

fn main() {
    // ---- The spring.
    let (k_true, c_true) = (4.0, 0.3);
    let obs: Vec<f64> = simulate(k_true, c_true, 200)
        .iter()
        .enumerate()
        .map(|(i, x)| x + 0.02 * noise(i))
        .collect();
    let mut p = [2.0, 1.0];
    let (loss0, g) = spring_misfit_grad(&p, &obs);
    // The gradient against central differences at the start.
    let h = 1e-6;
    let fd: Vec<f64> = (0..2)
        .map(|j| {
            let (mut up, mut down) = (p, p);
            up[j] += h;
            down[j] -= h;
            (spring_misfit(&up, &obs) - spring_misfit(&down, &obs)) / (2.0 * h)
        })
        .collect();
    println!("spring: stiffness and damping from 200 noisy positions");
    println!(
        "  at (2.0, 1.0): loss {loss0:.6}, gradient ({:.6}, {:.6}), central differences ({:.6}, {:.6})",
        g.p[0], g.p[1], fd[0], fd[1]
    );
    let mut adam = Adam::new(0.05);
    for step in 0..=600 {
        let (loss, g) = spring_misfit_grad(&p, &obs);
        if step % 150 == 0 {
            println!(
                "  step {step:3}: loss {loss:.3e}, stiffness {:.4}, damping {:.4}",
                p[0], p[1]
            );
        }
        adam.step(&mut p, &g.p);
    }
    println!(
        "  fitted stiffness {:.3} (true {k_true}), damping {:.3} (true {c_true})\n",
        p[0], p[1]
    );

    // ---- The AR(2) process.
    let (a_true, b_true) = (0.6, -0.3);
    let n = 400;
    let e: Vec<f64> = (0..n).map(|i| 0.2 * noise(1000 + i)).collect();
    let mut y = vec![0.0; n];
    y[0] = e[0];
    y[1] = e[1];
    for i in 2..n {
        y[i] = a_true * y[i - 1] + b_true * y[i - 2] + e[i];
    }
    let mut c = [0.0, 0.0];
    let mut adam = Adam::new(0.02);
    println!("AR(2): coefficients from 400 values of the process and its innovations");
    for step in 0..=800 {
        let (loss, g) = ar2_misfit_grad(&c, &y, &e);
        if step % 200 == 0 {
            println!(
                "  step {step:3}: loss {loss:.3e}, coefficients ({:.4}, {:.4})",
                c[0], c[1]
            );
        }
        adam.step(&mut c, &g.c);
    }
    println!(
        "  fitted ({:.4}, {:.4}) (true ({a_true}, {b_true}))",
        c[0], c[1]
    );
}
