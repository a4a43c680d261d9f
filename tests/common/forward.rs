//! num-dual's first-order forward mode, one direction at a time: the exact oracle of the
//! generic twins (`#[path = "common/forward.rs"] mod forward;`).

use num_dual::Dual64;

/// The value and gradient of `f` at `x`.
pub fn forward(f: impl Fn(&[Dual64]) -> Dual64, x: &[f64]) -> (f64, Vec<f64>) {
    let plain: Vec<Dual64> = x.iter().map(|&v| Dual64::from_re(v)).collect();
    let grad = (0..x.len())
        .map(|k| {
            let q: Vec<Dual64> = x
                .iter()
                .enumerate()
                .map(|(i, &v)| Dual64::new(v, if i == k { 1.0 } else { 0.0 }))
                .collect();
            f(&q).eps
        })
        .collect();
    (f(&plain).re, grad)
}
