//! Seed 000's collaborative-filtering cost in sparse form, shared by `tests/tape_macro.rs` and
//! `benches/tape.rs` (included with `#[path = …] mod cofi;`), so that the loop the benchmark times
//! is the one the tests check against the dense tape.

use ndarray::Array2;
use symgrad::differentiable;

/// Beyond the dense frameworks: the cost as a loop over the rated entries only, so its gradient
/// is sparse automatically (work proportional to the ratings, not to movies × users). Entry `t`
/// is movie `rows[t]`, user `cols[t]`, rating `ratings[t]`; X, W, b are flat row-major slices.
#[differentiable(wrt(x, w, b))]
#[allow(clippy::too_many_arguments)] // the tutorial's argument list, in sparse form
pub fn cofi_sparse(
    x: &[f64],
    w: &[f64],
    b: &[f64],
    rows: &[usize],
    cols: &[usize],
    ratings: &[f64],
    features: usize,
    lambda: f64,
) -> f64 {
    let mut j = 0.0;
    for t in 0..rows.len() {
        let m = rows[t];
        let u = cols[t];
        let mut p = 0.0;
        for k in 0..features {
            p += x[m * features + k] * w[u * features + k];
        }
        let e = p + b[u] - ratings[t];
        j += 0.5 * e * e;
    }
    let reg = x.iter().map(|v| v * v).sum::<f64>() + w.iter().map(|v| v * v).sum::<f64>();
    j + lambda / 2.0 * reg
}

/// The rated entries of `y` (where `r` is 1), in row-major order, as the sparse form's three
/// lists.
pub fn rated_entries(y: &Array2<f64>, r: &Array2<f64>) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let (mut rows, mut cols, mut ratings) = (Vec::new(), Vec::new(), Vec::new());
    for ((m, u), &rated) in r.indexed_iter() {
        if rated == 1.0 {
            rows.push(m);
            cols.push(u);
            ratings.push(y[[m, u]]);
        }
    }
    (rows, cols, ratings)
}
