//! An early `return` before layers × time whose loss reads the input handed up the layers
//! (`l += inp[0] * x[t]` after the layer loop): the fuzzer's shape (seed 2703, program 39)
//! whose expansion did not compile on the macro that read an inner loop's arrays back empty
//! untyped (`let hs = Vec::new();`). Checked against central differences, with the `return`
//! taken and not.
#![allow(clippy::needless_range_loop)] // index loops are the language under test

mod common;

use common::{assert_all_close, numeric_gradient};
use symgrad::differentiable;

/// `if x[0] > 0.5 { return x[0]; }`, then two layers of two cells over `x`'s steps.
#[differentiable]
fn early_return_then_layers(x: &[f64], n: usize) -> f64 {
    if x[0] > 0.5 {
        return x[0];
    }
    let mut hs: Vec<f64> = vec![-0.29; 4];
    let mut l = 0.0;
    for t in 0..n {
        let mut inp: Vec<f64> = vec![0.0; 2];
        for j in 0..2 {
            inp[j] = x[1];
        }
        for ly in 0..2 {
            for j in 0..2 {
                hs[2 * ly + j] = (0.89 * inp[j] + 0.14 * hs[2 * ly + j]).tanh();
                inp[j] = hs[2 * ly + j];
            }
        }
        l += inp[0] * x[t];
    }
    hs[3] + l
}

#[test]
fn an_early_return_before_layers_matches_central_differences() {
    for x in [[0.2, -0.7, 0.4], [0.9, -0.7, 0.4]] {
        let (value, g) = early_return_then_layers_grad(&x, 3);
        assert!((value - early_return_then_layers(&x, 3)).abs() <= 1e-12);
        let numeric = numeric_gradient(|x| early_return_then_layers(x, 3), &x);
        assert_all_close(&g.x, &numeric, 1e-7);
    }
}
