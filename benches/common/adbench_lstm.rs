//! ADBench's LSTM objective (Srajer et al. 2018), written the way the C++ reference (`lstm.h`:
//! `lstm_model`, `lstm_predict`, `lstm_objective`) writes it: `l` layers of `b` cells with
//! elementwise gate weights, each layer's `hidden` and `cell` vectors carried across the `c`
//! characters of the sequence and updated in place, the last layer's `hidden` fed to the
//! prediction, and the loss the mean log-likelihood of the next character's bits under the
//! prediction's log-sum-exp normalisation. One difference of form: the helpers (`sigmoid`,
//! `logsumexp`, the parameter views) are inlined, the views as offsets into the slices.
//!
//! `#[differentiable]` does not take it yet (its `hidden` and `cell` are arrays carried from
//! one iteration of the time loop to the next), so it is plain Rust here: the objective the
//! benchmark divides by, with, beside it, the same objective generic over num-dual's numbers
//! (an independent forward-mode gradient) and a deterministic input generator of ADBench's
//! shape.
#![allow(clippy::needless_range_loop)] // index loops are how the reference is written
#![allow(dead_code)] // each user takes what it needs

use num_dual::DualNum;

/// ADBench's LSTM objective. `main_params` (`2·l·4·b`): per layer the weights then the biases
/// of the `forget`, `ingate`, `outgate` and `change` gates, `b` each; `extra_params` (`3·b`):
/// `in_weight`, `out_weight`, `out_bias`; `state` (`2·l·b`, data, copied as the C++ copies
/// it): per layer `hidden` then `cell`; `sequence` (`c·b`): the characters' bits.
#[allow(clippy::similar_names)] // `ingate` / `outgate`, the reference's names
pub fn lstm_objective(
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
    l: usize,
    c: usize,
    b: usize,
) -> f64 {
    let mut st = vec![0.0; 2 * l * b];
    for i in 0..2 * l * b {
        st[i] = state[i];
    }
    let mut ypred = vec![0.0; b];
    let mut ynorm = vec![0.0; b];
    let mut total = 0.0;
    let mut count = 0;
    for t in 0..c - 1 {
        // lstm_predict: the input, scaled, is layer 0's input.
        for i in 0..b {
            ypred[i] = sequence[t * b + i] * extra_params[i];
        }
        for layer in 0..l {
            let w = 8 * b * layer; // the layer's weights; its biases at w + 4b
            let s = 2 * b * layer; // the layer's hidden; its cell at s + b
            // lstm_model: the input is the prediction (layer 0) or the layer below's hidden.
            for i in 0..b {
                let input = if layer == 0 {
                    ypred[i]
                } else {
                    st[s - 2 * b + i]
                };
                let forget = 1.0
                    / (1.0 + (-(input * main_params[w + i] + main_params[w + 4 * b + i])).exp());
                let ingate = 1.0
                    / (1.0
                        + (-(st[s + i] * main_params[w + b + i] + main_params[w + 5 * b + i]))
                            .exp());
                let outgate = 1.0
                    / (1.0
                        + (-(input * main_params[w + 2 * b + i] + main_params[w + 6 * b + i]))
                            .exp());
                let change =
                    (st[s + i] * main_params[w + 3 * b + i] + main_params[w + 7 * b + i]).tanh();
                st[s + b + i] = st[s + b + i] * forget + ingate * change;
                st[s + i] = outgate * st[s + b + i].tanh();
            }
        }
        let top = 2 * b * (l - 1);
        for i in 0..b {
            ypred[i] = st[top + i] * extra_params[b + i] + extra_params[2 * b + i];
        }
        // logsumexp (ADBench's: log(Σ exp + 2))
        let mut sum = 0.0;
        for i in 0..b {
            sum += ypred[i].exp();
        }
        sum += 2.0;
        let lse = sum.ln();
        for i in 0..b {
            ynorm[i] = ypred[i] - lse;
        }
        for i in 0..b {
            total += sequence[(t + 1) * b + i] * ynorm[i];
        }
        count += b;
    }
    -total / count as f64
}

/// [`lstm_objective`] on num-dual's numbers, written independently (one `hidden` and one
/// `cell` vector per layer, iterators, the gates as closures): the forward-mode oracle. `p`
/// is `main_params ‖ extra_params`.
pub fn lstm_objective_dual<T: DualNum<Primitive = f64> + Copy>(
    p: &[T],
    state: &[f64],
    sequence: &[f64],
    l: usize,
    b: usize,
) -> T {
    let sigmoid = |x: T| (T::one() + (-x).exp()).recip();
    let (main, extra) = p.split_at(8 * l * b);
    let (in_weight, rest) = extra.split_at(b);
    let (out_weight, out_bias) = rest.split_at(b);
    let mut hidden: Vec<Vec<T>> = (0..l)
        .map(|k| {
            state[2 * b * k..2 * b * k + b]
                .iter()
                .map(|&v| T::from(v))
                .collect()
        })
        .collect();
    let mut cell: Vec<Vec<T>> = (0..l)
        .map(|k| {
            state[2 * b * k + b..2 * b * (k + 1)]
                .iter()
                .map(|&v| T::from(v))
                .collect()
        })
        .collect();
    let chars: Vec<&[f64]> = sequence.chunks(b).collect();
    let mut total = T::zero();
    for pair in chars.windows(2) {
        let (x, gold) = (pair[0], pair[1]);
        let mut input: Vec<T> = x.iter().zip(in_weight).map(|(&v, &w)| w * v).collect();
        for k in 0..l {
            let gate = |g: usize, i: usize, v: T| {
                v * main[8 * b * k + g * b + i] + main[8 * b * k + (4 + g) * b + i]
            };
            for i in 0..b {
                let f = sigmoid(gate(0, i, input[i]));
                let ig = sigmoid(gate(1, i, hidden[k][i]));
                let o = sigmoid(gate(2, i, input[i]));
                let ch = gate(3, i, hidden[k][i]).tanh();
                cell[k][i] = cell[k][i] * f + ig * ch;
                hidden[k][i] = o * cell[k][i].tanh();
            }
            input.clone_from(&hidden[k]);
        }
        let y: Vec<T> = (0..b)
            .map(|i| input[i] * out_weight[i] + out_bias[i])
            .collect();
        let lse = (y.iter().fold(T::from(2.0), |s, &v| s + v.exp())).ln();
        for (&yi, &g) in y.iter().zip(gold) {
            total += (yi - lse) * g;
        }
    }
    -total / ((chars.len() - 1) * b) as f64
}

/// An LSTM problem of ADBench's shape from a fixed seed, as its `gen_data.py` makes one:
/// parameters and the initial state uniform in `[0, 1)`, the sequence `c` characters of `b`
/// bits (here pseudo-random bits). `(main_params, extra_params, state, sequence)`.
pub fn lstm_input(l: usize, c: usize, b: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let main = (0..8 * l * b).map(|_| uniform()).collect();
    let extra = (0..3 * b).map(|_| uniform()).collect();
    let st = (0..2 * l * b).map(|_| uniform()).collect();
    let sequence = (0..c * b)
        .map(|_| if uniform() < 0.5 { 0.0 } else { 1.0 })
        .collect();
    (main, extra, st, sequence)
}
