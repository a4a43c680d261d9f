//! ADBench's GMM objective (the negative log-likelihood of a Gaussian mixture with a Wishart
//! prior, Srajer et al. 2018), written the way the C++ reference (`gmm.h`, `gmm_objective`)
//! writes it: scratch buffers (`Qdiags`, `sum_qs`, `xcentered`, `Qxcentered`, `main_term`)
//! filled element by element, the lower-triangular `Q·x` added into `Qxcentered` in a loop
//! nest, and the log-sum-exp over the components. Two differences of form, both because the
//! macro does not take them yet: the helpers (`subtract`, `Qtimesx`, `sqnorm`, `logsumexp`)
//! are inlined, and `Qtimesx`'s running index into the triangle (`Lparamsidx++` across the
//! nested loops) is computed from `i` and `j`.
//!
//! Beside it, the same objective generic over num-dual's numbers, as an independent forward-
//! mode oracle, and a deterministic input generator (ADBench's sizes: `d` dimensions, `k`
//! components, `n` points).
#![allow(clippy::needless_range_loop)] // index loops are how the reference is written
#![allow(dead_code)] // each user takes what it needs

use std::f64::consts::PI;

use num_dual::DualNum;
use symgrad::differentiable;

/// `log Γ_p(a)`, the multivariate log-gamma of the Wishart normalization (data only: a plain
/// function the differentiable one calls on its data).
pub fn log_gamma_distrib(a: f64, p: usize) -> f64 {
    let mut out = 0.25 * (p * (p - 1)) as f64 * PI.ln();
    for j in 1..=p {
        out += ln_gamma(a + 0.5 * (1.0 - j as f64));
    }
    out
}

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms: 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ADBench's GMM objective: `alphas` (k), `means` (k·d), `icf` (k·d(d+1)/2: per component the
/// log-diagonal of the inverse covariance factor, then its strict lower triangle by columns),
/// points `x` (n·d), the Wishart prior's `gamma` and `m`.
#[differentiable(wrt(alphas, means, icf))]
pub fn gmm_objective(
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    d: usize,
    wishart_gamma: f64,
    wishart_m: usize,
) -> f64 {
    let k = alphas.len();
    let n = x.len() / d;
    let icf_sz = d * (d + 1) / 2;
    let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * PI).ln();
    // preprocess_qs
    let mut sum_qs = vec![0.0; k];
    for ik in 0..k {
        let mut s = 0.0;
        for id in 0..d {
            s += icf[ik * icf_sz + id];
        }
        sum_qs[ik] = s;
    }
    let mut qdiags = vec![0.0; d * k];
    for t in 0..d * k {
        qdiags[t] = icf[(t / d) * icf_sz + t % d].exp();
    }
    let mut slse = 0.0;
    for ix in 0..n {
        let mut main_term = vec![0.0; k];
        for ik in 0..k {
            // subtract
            let mut xcentered = vec![0.0; d];
            for id in 0..d {
                xcentered[id] = x[ix * d + id] - means[ik * d + id];
            }
            // Qtimesx
            let mut qxcentered = vec![0.0; d];
            for id in 0..d {
                qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
            }
            for i in 0..d {
                for j in i + 1..d {
                    let l = ik * icf_sz + d + i * (2 * d - i - 1) / 2 + (j - i - 1);
                    qxcentered[j] += icf[l] * xcentered[i];
                }
            }
            // sqnorm
            let mut sq = 0.0;
            for id in 0..d {
                sq += qxcentered[id] * qxcentered[id];
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sq;
        }
        // logsumexp
        let mut mx = main_term[0];
        for ik in 1..k {
            if main_term[ik] > mx {
                mx = main_term[ik];
            }
        }
        let mut semx = 0.0;
        for ik in 0..k {
            semx += (main_term[ik] - mx).exp();
        }
        slse += semx.ln() + mx;
    }
    let mut amx = alphas[0];
    for ik in 1..k {
        if alphas[ik] > amx {
            amx = alphas[ik];
        }
    }
    let mut asum = 0.0;
    for ik in 0..k {
        asum += (alphas[ik] - amx).exp();
    }
    let lse_alphas = asum.ln() + amx;
    // log_wishart_prior
    let wn = (d + wishart_m + 1) as f64;
    let c =
        wn * d as f64 * (wishart_gamma.ln() - 0.5 * 2.0_f64.ln()) - log_gamma_distrib(0.5 * wn, d);
    let mut prior = 0.0;
    for ik in 0..k {
        let mut frobenius = 0.0;
        for id in 0..d {
            frobenius += qdiags[ik * d + id] * qdiags[ik * d + id];
        }
        for t in d..icf_sz {
            frobenius += icf[ik * icf_sz + t] * icf[ik * icf_sz + t];
        }
        prior += 0.5 * wishart_gamma * wishart_gamma * frobenius - wishart_m as f64 * sum_qs[ik];
    }
    constant + slse - n as f64 * lse_alphas + prior - k as f64 * c
}

/// [`gmm_objective`] on num-dual's numbers, written independently (iterators, no buffers of
/// the reference's shape): the forward-mode oracle. `p` is `alphas ‖ means ‖ icf`.
#[allow(clippy::similar_names)]
pub fn gmm_objective_dual<T: DualNum<Primitive = f64> + Copy>(
    p: &[T],
    k: usize,
    x: &[f64],
    d: usize,
    wishart_gamma: f64,
    wishart_m: usize,
) -> T {
    let icf_sz = d * (d + 1) / 2;
    let (alphas, rest) = p.split_at(k);
    let (means, icf) = rest.split_at(k * d);
    let n = x.len() / d;
    let lse = |v: &[T]| {
        let m = v
            .iter()
            .fold(v[0], |m, &a| if a.re() > m.re() { a } else { m });
        v.iter()
            .map(|&a| (a - m).exp())
            .fold(T::zero(), |s, e| s + e)
            .ln()
            + m
    };
    let mut slse = T::zero();
    for ix in 0..n {
        let terms: Vec<T> = (0..k)
            .map(|ik| {
                let q = &icf[ik * icf_sz..(ik + 1) * icf_sz];
                let xc: Vec<T> = (0..d)
                    .map(|id| -means[ik * d + id] + x[ix * d + id])
                    .collect();
                // (L·xc)[j] = exp(q[j])·xc[j] + Σ_{i<j} L[j][i]·xc[i]
                let mut sq = T::zero();
                for j in 0..d {
                    let mut row = q[j].exp() * xc[j];
                    for i in 0..j {
                        row += q[d + i * (2 * d - i - 1) / 2 + (j - i - 1)] * xc[i];
                    }
                    sq += row * row;
                }
                let sum_q = q[..d].iter().fold(T::zero(), |s, &v| s + v);
                alphas[ik] + sum_q - sq * T::from(0.5)
            })
            .collect();
        slse += lse(&terms);
    }
    let wn = (d + wishart_m + 1) as f64;
    let c =
        wn * d as f64 * (wishart_gamma.ln() - 0.5 * 2.0_f64.ln()) - log_gamma_distrib(0.5 * wn, d);
    let mut prior = T::zero();
    for ik in 0..k {
        let q = &icf[ik * icf_sz..(ik + 1) * icf_sz];
        let diag = q[..d].iter().fold(T::zero(), |s, &v| s + v.exp() * v.exp());
        let off = q[d..].iter().fold(T::zero(), |s, &v| s + v * v);
        let sum_q = q[..d].iter().fold(T::zero(), |s, &v| s + v);
        prior += (diag + off) * T::from(0.5 * wishart_gamma * wishart_gamma)
            - sum_q * T::from(wishart_m as f64);
    }
    let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * PI).ln();
    slse - lse(alphas) * T::from(n as f64) + prior + T::from(constant - k as f64 * c)
}

/// A GMM problem of ADBench's shape, from a fixed seed: `(alphas, means, icf, x)`.
pub fn gmm_input(d: usize, k: usize, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let icf_sz = d * (d + 1) / 2;
    let alphas = (0..k).map(|_| uniform() - 0.5).collect();
    let means = (0..k * d).map(|_| 2.0 * uniform() - 1.0).collect();
    let icf = (0..k * icf_sz).map(|_| 0.5 * uniform() - 0.25).collect();
    let x = (0..n * d).map(|_| 2.0 * uniform() - 1.0).collect();
    (alphas, means, icf, x)
}
