//! Helpers shared by the integration tests (`mod common;`): finite-difference oracles.

/// Central differences of `f` with respect to every element of `x`.
pub fn numeric_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let h = 1e-6 * x[i].abs().max(1.0);
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[i] += h;
            down[i] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

/// Asserts `got` and `want` have the same length and agree componentwise within `tol`
/// (relative to `1 + |want|`).
pub fn assert_all_close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "component {i}: {a} vs {b}"
        );
    }
}
