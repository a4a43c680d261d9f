//! ADBench's Gaussian mixture objective, written the way its C++ reference writes it (scratch
//! buffers filled element by element, the triangular `Q·x` added into in a loop nest), and its
//! gradient from `#[differentiable]` (all 1650 partial derivatives in one call), checked against
//! central differences and timed against the objective.
//!
//! Run: `cargo run --release --example adbench_gmm`

use std::hint::black_box;
use std::time::Instant;

#[path = "../benches/common/adbench_gmm.rs"]
mod adbench_gmm;
use adbench_gmm::{GmmObjectiveGrad, gmm_input, gmm_objective, gmm_objective_grad_into};

fn main() {
    let (d, k, n) = (10, 25, 1000);
    let (alphas, means, icf, x) = gmm_input(d, k, n);
    println!("GMM, d = {d} dimensions, k = {k} components, n = {n} points");
    println!(
        "  parameters: {} (alphas {k}, means {}, icf {})",
        alphas.len() + means.len() + icf.len(),
        means.len(),
        icf.len()
    );

    let mut grad = GmmObjectiveGrad::default();
    let value = gmm_objective_grad_into(&alphas, &means, &icf, &x, d, 1.0, 0, &mut grad);
    println!("  objective: {value:.6}");

    // Three components of the gradient against central differences.
    let h = 1e-6;
    for (name, i) in [("alphas", 3), ("means", 17), ("icf", 40)] {
        let (mut a, mut m, mut q) = (alphas.clone(), means.clone(), icf.clone());
        let bump = |v: &mut Vec<f64>, s: f64| v[i] += s;
        let f = |a: &[f64], m: &[f64], q: &[f64]| gmm_objective(a, m, q, &x, d, 1.0, 0);
        let (symbolic, numeric) = match name {
            "alphas" => {
                bump(&mut a, h);
                let up = f(&a, &m, &q);
                bump(&mut a, -2.0 * h);
                (grad.alphas[i], (up - f(&a, &m, &q)) / (2.0 * h))
            }
            "means" => {
                bump(&mut m, h);
                let up = f(&a, &m, &q);
                bump(&mut m, -2.0 * h);
                (grad.means[i], (up - f(&a, &m, &q)) / (2.0 * h))
            }
            _ => {
                bump(&mut q, h);
                let up = f(&a, &m, &q);
                bump(&mut q, -2.0 * h);
                (grad.icf[i], (up - f(&a, &m, &q)) / (2.0 * h))
            }
        };
        println!("  ∂/∂{name}[{i}]: symbolic {symbolic:+.9}, central difference {numeric:+.9}");
    }

    // Gradient ÷ objective, ADBench's measure (manual 1.9–7.2, Tapenade 3.7–15.5).
    let reps = 20;
    let time = |f: &mut dyn FnMut() -> f64| {
        let t = Instant::now();
        for _ in 0..reps {
            black_box(f());
        }
        t.elapsed().as_secs_f64() / f64::from(reps)
    };
    let objective = time(&mut || gmm_objective(black_box(&alphas), &means, &icf, &x, d, 1.0, 0));
    let gradient = time(&mut || {
        gmm_objective_grad_into(black_box(&alphas), &means, &icf, &x, d, 1.0, 0, &mut grad)
    });
    println!(
        "  objective {:.2} ms, gradient {:.2} ms: {:.1}× (one run; `cargo bench --bench adbench` interleaves)",
        objective * 1e3,
        gradient * 1e3,
        gradient / objective
    );
}
