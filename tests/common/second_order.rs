//! Helpers of the second-order tests (`tests/hessian_*.rs`, included with `#[path = …] mod
//! second_order;`): points, tolerances, `H·v`, and the Hessian by central differences of a
//! gradient, the oracle every generated Hessian is checked against.

/// A small deterministic generator of points in `[-1, 1)`.
#[allow(dead_code)] // not every second-order test draws points
pub struct Lcg(pub u64);

#[allow(dead_code)] // not every second-order test draws points
impl Lcg {
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    pub fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next()).collect()
    }
}

/// Asserts `got` and `want` agree componentwise within `tol` (relative to `1 + |want|`).
#[allow(dead_code)] // not every test including this module uses it
pub fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}[{i}]: {a} vs {b}"
        );
    }
}

/// `H·v` for a row-major `n × n` matrix.
#[allow(dead_code)] // not every test including this module uses it
pub fn mat_vec(h: &[f64], v: &[f64]) -> Vec<f64> {
    let n = v.len();
    (0..n)
        .map(|i| (0..n).map(|j| h[i * n + j] * v[j]).sum())
        .collect()
}

/// Central differences of a flat gradient `grad(θ)`: column `i` is `(∇f(θ + h·eᵢ) − ∇f(θ −
/// h·eᵢ)) / 2h`, returned row-major (the Hessian is symmetric).
#[allow(dead_code)] // not every test including this module uses it
pub fn hessian_by_differences(grad: impl Fn(&[f64]) -> Vec<f64>, theta: &[f64]) -> Vec<f64> {
    let n = theta.len();
    let mut h = vec![0.0; n * n];
    for i in 0..n {
        let step = 1e-5 * theta[i].abs().max(1.0);
        let (mut up, mut down) = (theta.to_vec(), theta.to_vec());
        up[i] += step;
        down[i] -= step;
        let (gu, gd) = (grad(&up), grad(&down));
        for j in 0..n {
            h[j * n + i] = (gu[j] - gd[j]) / (2.0 * step);
        }
    }
    h
}

/// num-dual's value, gradient and dense Hessian (row-major) of `f` at `t`: the exact
/// second-order forward-mode oracle of the generic twins.
#[allow(dead_code)] // not every second-order test compares with num-dual
pub fn dual_hessian<const N: usize>(
    f: impl Fn(&[num_dual::Dual2SVec64<N>]) -> num_dual::Dual2SVec64<N>,
    t: &[f64],
) -> (f64, Vec<f64>, Vec<f64>) {
    let at: nalgebra::SVector<f64, N> = nalgebra::SVector::from_iterator(t.iter().copied());
    let (f, g, h) = num_dual::hessian(
        |z: nalgebra::SVector<num_dual::Dual2SVec64<N>, N>| f(z.as_slice()),
        &at,
    );
    let flat = (0..N)
        .flat_map(|i| (0..N).map(move |j| (i, j)))
        .map(|(i, j)| h[(i, j)])
        .collect();
    (f, g.iter().copied().collect(), flat)
}
