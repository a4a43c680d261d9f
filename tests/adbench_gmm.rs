//! ADBench's GMM objective written as the C++ reference writes it (scratch buffers, `Q·x`
//! added into in a loop nest): its gradient against num-dual's forward mode on an independent
//! twin of the objective, and against central differences.

mod common;

use common::{assert_all_close, numeric_gradient};
use nalgebra::SVector;
use num_dual::{DualSVec64, gradient};

#[path = "../benches/common/adbench_gmm.rs"]
mod adbench_gmm;
use adbench_gmm::{gmm_input, gmm_objective, gmm_objective_dual, gmm_objective_grad};

const GAMMA: f64 = 1.0;
const M: usize = 0;

#[test]
fn the_gmm_gradient_matches_forward_mode_and_central_differences() {
    let (d, k, n) = (3, 4, 20);
    let (alphas, means, icf, x) = gmm_input(d, k, n);
    let (value, g) = gmm_objective_grad(&alphas, &means, &icf, &x, d, GAMMA, M);
    assert!((value - gmm_objective(&alphas, &means, &icf, &x, d, GAMMA, M)).abs() < 1e-12);
    let mut p = alphas.clone();
    p.extend(&means);
    p.extend(&icf);
    // 4 + 4·3 + 4·6 = 40 parameters, one forward pass carrying all 40 derivatives.
    let (dual_value, dual_grad) = gradient(
        |v: SVector<DualSVec64<40>, 40>| gmm_objective_dual(v.as_slice(), k, &x, d, GAMMA, M),
        &SVector::<f64, 40>::from_column_slice(&p),
    );
    assert!(
        (value - dual_value).abs() <= 1e-10 * value.abs(),
        "{value} vs {dual_value}"
    );
    let mut ours = g.alphas.clone();
    ours.extend(&g.means);
    ours.extend(&g.icf);
    for (i, (a, b)) in ours.iter().zip(dual_grad.iter()).enumerate() {
        assert!(
            (a - b).abs() <= 1e-10 * b.abs().max(1.0),
            "component {i}: {a} vs {b}"
        );
    }
    let numeric = numeric_gradient(
        |q| gmm_objective(&q[..k], &q[k..k + k * d], &q[k + k * d..], &x, d, GAMMA, M),
        &p,
    );
    assert_all_close(&ours, &numeric, 1e-6);
}

#[test]
fn the_gmm_objective_is_the_mixture_likelihood_at_one_point() {
    // d = 1, k = 1, n = 1, icf = [0] (unit variance), gamma = 1, m = 0: the objective is
    // −½·ln 2π − ½(x − μ)², plus the prior ½·e⁰·e⁰ = ½ minus its constant C.
    let (x, mu) = (0.7, -0.2);
    let value = gmm_objective(&[0.3], &[mu], &[0.0], &[x], 1, 1.0, 0);
    let wn = 2.0;
    let c = wn * (0.0 - 0.5 * 2.0_f64.ln()) - adbench_gmm::log_gamma_distrib(0.5 * wn, 1);
    let expected = -0.5 * (2.0 * std::f64::consts::PI).ln() - 0.5 * (x - mu).powi(2) + 0.5 - c;
    assert!((value - expected).abs() < 1e-12, "{value} vs {expected}");
    // Γ(1) = 1: log Γ_1(1) = 0.
    assert!(adbench_gmm::log_gamma_distrib(1.0, 1).abs() < 1e-14);
}
