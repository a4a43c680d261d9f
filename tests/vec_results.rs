//! Smoke.
use symgrad::differentiable;

#[differentiable(wrt(p))]
fn residuals(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(y)
        .map(|(xi, yi)| p[0] * (-p[1] * xi).exp() - yi)
        .collect()
}

#[differentiable(wrt(p))]
fn filled(p: &[f64], x: &[f64], y: &[f64]) -> Vec<f64> {
    let s = p[2] * p[2];
    let mut r = vec![0.0; x.len()];
    for i in 0..x.len() {
        let e = (p[1] * x[i]).sin();
        r[i] = p[0] * e + s - y[i];
    }
    r
}

#[differentiable]
fn pushed(a: f64, b: f64, t: &[f64]) -> Vec<f64> {
    let mut s = 0.0;
    for i in 0..t.len() {
        s += a * t[i];
    }
    let mut r = Vec::with_capacity(t.len());
    for &ti in t {
        r.push((s - ti * b).sin());
    }
    r
}

#[test]
fn smoke() {
    let (r, j) = residuals_jacobian(&[2.0, 0.5], &[1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
    println!("{r:?} {j:?}");
    let (r, j) = filled_jacobian(&[2.0, 0.5, 0.3], &[1.0, 2.0, 3.0], &[1.0, 1.0, 1.0]);
    println!("{r:?} {j:?}");
    let (r, j) = pushed_jacobian(2.0, 0.5, &[1.0, 2.0, 3.0]);
    println!("{r:?} {j:?}");
    let (r, g) = pushed_vjp(2.0, 0.5, &[1.0, 2.0, 3.0], &[1.0, 0.0, 2.0]);
    println!("{r:?} {g:?}");
}
