//! ADBench's LSTM objective (Srajer et al. 2018), written the way the C++ reference (`lstm.h`:
//! `lstm_model`, `lstm_predict`, `lstm_objective`) writes it: `l` layers of `b` cells with
//! elementwise gate weights, each layer's `hidden` and `cell` vectors carried across the `c`
//! characters of the sequence and updated in place, the last layer's `hidden` fed to the
//! prediction, and the loss the mean log-likelihood of the next character's bits under the
//! prediction's log-sum-exp normalisation. The helpers (`sigmoid`, `logsumexp`, the parameter
//! views) are inlined, the views as offsets into the slices.
//!
//! `#[differentiable]` generates its gradient, `lstm_objective_grad`. Two differences of form
//! from the C++, each what the macro's rules for arrays written in loops ask for, neither
//! changing a floating-point operation: the state `st` (per layer `hidden` then `cell`) is two
//! arrays, `hidden` and `cell` (`l·b` each), because a loop writes an array at one place per
//! iteration (`hidden[s + i]`, `cell[s + i]`, not `st[s + i]` and `st[s + b + i]`), so each is
//! gathered from its stretches of `state` by an index loop (the C++'s copy of the whole state,
//! `state.to_vec()`, which the macro takes, would be the one `st`); and a layer reads the layer
//! below's new `hidden` through `input`, the vector the layers hand on (the C++'s `input`
//! pointer), which each layer overwrites in place, because a loop writing `hidden[s + i]` may
//! read no other element of `hidden`. Beside it, the same objective generic over num-dual's
//! numbers (an independent forward-mode gradient), the adjoint written by hand, and a
//! deterministic input generator of ADBench's shape.
#![allow(clippy::needless_range_loop)] // index loops are how the reference is written
#![allow(dead_code)] // each user takes what it needs

use num_dual::DualNum;
use symgrad::differentiable;

/// The objective, under `#[differentiable($($args)*)]` as `$name`: written once for
/// [`lstm_objective`] and its checkpointed twin [`lstm_objective_checkpointed`].
macro_rules! lstm_objective {
    ($(#[$doc:meta])* $name:ident, [$($args:tt)*]) => {
        $(#[$doc])*
        #[differentiable($($args)*)]
        #[allow(clippy::similar_names)] // `ingate` / `outgate`, the reference's names
        pub fn $name(
            main_params: &[f64],
            extra_params: &[f64],
            state: &[f64],
            sequence: &[f64],
            l: usize,
            c: usize,
            b: usize,
        ) -> f64 {
            // The state, copied (the C++ takes it by value): per layer `hidden`, then `cell`.
            let mut hidden = vec![0.0; l * b];
            let mut cell = vec![0.0; l * b];
            for k in 0..l * b {
                hidden[k] = state[2 * b * (k / b) + k % b];
                cell[k] = state[2 * b * (k / b) + b + k % b];
            }
            let mut ypred = vec![0.0; b];
            let mut ynorm = vec![0.0; b];
            let mut total = 0.0;
            let mut count = 0;
            for t in 0..c - 1 {
                // lstm_predict: the input, scaled, is layer 0's input.
                let mut input = vec![0.0; b];
                for i in 0..b {
                    input[i] = sequence[t * b + i] * extra_params[i];
                }
                for layer in 0..l {
                    let w = 8 * b * layer; // the layer's weights; its biases at w + 4b
                    let s = b * layer; // the layer's hidden and cell
                    // lstm_model; its output is the next layer's input.
                    for i in 0..b {
                        let forget = 1.0
                            / (1.0
                                + (-(input[i] * main_params[w + i]
                                    + main_params[w + 4 * b + i]))
                                    .exp());
                        let ingate = 1.0
                            / (1.0
                                + (-(hidden[s + i] * main_params[w + b + i]
                                    + main_params[w + 5 * b + i]))
                                    .exp());
                        let outgate = 1.0
                            / (1.0
                                + (-(input[i] * main_params[w + 2 * b + i]
                                    + main_params[w + 6 * b + i]))
                                    .exp());
                        let change = (hidden[s + i] * main_params[w + 3 * b + i]
                            + main_params[w + 7 * b + i])
                            .tanh();
                        cell[s + i] = cell[s + i] * forget + ingate * change;
                        hidden[s + i] = outgate * cell[s + i].tanh();
                        input[i] = hidden[s + i];
                    }
                }
                for i in 0..b {
                    ypred[i] = input[i] * extra_params[b + i] + extra_params[2 * b + i];
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
    };
}

lstm_objective!(
    /// ADBench's LSTM objective. `main_params` (`2·l·4·b`): per layer the weights then the biases
    /// of the `forget`, `ingate`, `outgate` and `change` gates, `b` each; `extra_params` (`3·b`):
    /// `in_weight`, `out_weight`, `out_bias`; `state` (`2·l·b`, data, copied as the C++ copies
    /// it): per layer `hidden` then `cell`; `sequence` (`c·b`): the characters' bits.
    lstm_objective,
    [wrt(main_params, extra_params)]
);

lstm_objective!(
    /// [`lstm_objective`] with `checkpoint = 32`: the state carried across the time steps is
    /// saved every 32nd step (`⌈(c − 1)/32⌉` rows of `hidden` and `cell`, √1023 ≈ 32 at
    /// ADBench's c = 1024), and the reverse sweep recomputes each stretch of 32 steps from its
    /// checkpoint; its gradient is [`lstm_objective`]'s bit for bit.
    lstm_objective_checkpointed,
    [wrt(main_params, extra_params), checkpoint = 32]
);

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

/// The gradient of [`lstm_objective`] with respect to `main_params` and `extra_params`, the
/// adjoint written by hand, as a person writes it (the "manual" column of ADBench): the
/// forward sweep saves the state (`hidden` and `cell` of every layer, `2·l·b` floats) at the
/// start of every time step, a `c × 2·l·b` table; the reverse sweep walks the steps backwards
/// carrying one adjoint vector per state vector (`λh`, `λc`, per layer), recomputes each
/// step's gates from the saved state, and adds the weights' partial derivatives into
/// `grad_main` and `grad_extra` (overwritten). Returns the objective. Allocates the table and
/// the adjoint vectors: 4 vectors per call.
#[allow(
    clippy::similar_names,
    clippy::too_many_arguments,
    clippy::too_many_lines
)] // the reference's names and arguments; one sweep, as written by hand
pub fn lstm_objective_grad_by_hand(
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
    (l, c, b): (usize, usize, usize),
    grad_main: &mut [f64],
    grad_extra: &mut [f64],
) -> f64 {
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let w = |k: usize, g: usize, i: usize| main_params[8 * b * k + g * b + i];
    let bias = |k: usize, g: usize, i: usize| main_params[8 * b * k + (4 + g) * b + i];
    let sz = 2 * l * b;
    // trace[t·sz ..]: the state before step t; the last row is the state after the last step.
    let mut trace = vec![0.0; c * sz];
    trace[..sz].copy_from_slice(&state[..sz]);
    let mut ypred = vec![0.0; b];
    let mut total = 0.0;
    for t in 0..c - 1 {
        let (before, after) = trace[t * sz..(t + 2) * sz].split_at_mut(sz);
        after.copy_from_slice(before);
        for k in 0..l {
            let s = 2 * b * k;
            for i in 0..b {
                let input = if k == 0 {
                    sequence[t * b + i] * extra_params[i]
                } else {
                    after[s - 2 * b + i]
                };
                let h = before[s + i];
                let f = sigmoid(input * w(k, 0, i) + bias(k, 0, i));
                let ig = sigmoid(h * w(k, 1, i) + bias(k, 1, i));
                let o = sigmoid(input * w(k, 2, i) + bias(k, 2, i));
                let ch = (h * w(k, 3, i) + bias(k, 3, i)).tanh();
                let cell = before[s + b + i] * f + ig * ch;
                after[s + b + i] = cell;
                after[s + i] = o * cell.tanh();
            }
        }
        let top = 2 * b * (l - 1);
        let mut sum = 2.0;
        for i in 0..b {
            ypred[i] = after[top + i] * extra_params[b + i] + extra_params[2 * b + i];
            sum += ypred[i].exp();
        }
        let lse = sum.ln();
        for i in 0..b {
            total += sequence[(t + 1) * b + i] * (ypred[i] - lse);
        }
    }
    let count = ((c - 1) * b) as f64;
    grad_main.fill(0.0);
    grad_extra.fill(0.0);
    // λ: the adjoint of the state after the current step (hidden and cell of every layer).
    let mut lambda = vec![0.0; sz];
    // The adjoint of the state before it, built during the step.
    let mut previous = vec![0.0; sz];
    let seed = -1.0 / count;
    for t in (0..c - 1).rev() {
        let before = &trace[t * sz..(t + 1) * sz];
        let after = &trace[(t + 1) * sz..(t + 2) * sz];
        // The loss of step t: ȳᵢ = seed·(goldᵢ − (Σ gold)·softmaxᵢ), softmax over Σ exp + 2.
        let top = 2 * b * (l - 1);
        let gold = &sequence[(t + 1) * b..(t + 2) * b];
        let gold_sum: f64 = gold.iter().sum();
        let mut sum = 2.0;
        for i in 0..b {
            ypred[i] = after[top + i] * extra_params[b + i] + extra_params[2 * b + i];
            sum += ypred[i].exp();
        }
        for i in 0..b {
            let ybar = seed * (gold[i] - gold_sum * ypred[i].exp() / sum);
            grad_extra[b + i] += ybar * after[top + i];
            grad_extra[2 * b + i] += ybar;
            lambda[top + i] += ybar * extra_params[b + i];
        }
        // The layers, top down: layer k's input adjoint adds to layer k − 1's new hidden.
        for k in (0..l).rev() {
            let s = 2 * b * k;
            for i in 0..b {
                let input = if k == 0 {
                    sequence[t * b + i] * extra_params[i]
                } else {
                    after[s - 2 * b + i]
                };
                let (h, cell_old, cell) = (before[s + i], before[s + b + i], after[s + b + i]);
                let f = sigmoid(input * w(k, 0, i) + bias(k, 0, i));
                let ig = sigmoid(h * w(k, 1, i) + bias(k, 1, i));
                let o = sigmoid(input * w(k, 2, i) + bias(k, 2, i));
                let ch = (h * w(k, 3, i) + bias(k, 3, i)).tanh();
                let tc = cell.tanh();
                let hbar = lambda[s + i];
                let cbar = lambda[s + b + i] + hbar * o * (1.0 - tc * tc);
                let zf = cbar * cell_old * f * (1.0 - f);
                let zi = cbar * ch * ig * (1.0 - ig);
                let zo = hbar * tc * o * (1.0 - o);
                let zc = cbar * ig * (1.0 - ch * ch);
                let base = 8 * b * k;
                grad_main[base + i] += zf * input;
                grad_main[base + b + i] += zi * h;
                grad_main[base + 2 * b + i] += zo * input;
                grad_main[base + 3 * b + i] += zc * h;
                grad_main[base + 4 * b + i] += zf;
                grad_main[base + 5 * b + i] += zi;
                grad_main[base + 6 * b + i] += zo;
                grad_main[base + 7 * b + i] += zc;
                let input_bar = zf * w(k, 0, i) + zo * w(k, 2, i);
                if k == 0 {
                    grad_extra[i] += input_bar * sequence[t * b + i];
                } else {
                    lambda[s - 2 * b + i] += input_bar;
                }
                previous[s + i] = zi * w(k, 1, i) + zc * w(k, 3, i);
                previous[s + b + i] = cbar * f;
            }
        }
        std::mem::swap(&mut lambda, &mut previous);
    }
    -total / count
}
