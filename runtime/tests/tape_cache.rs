//! Buffer reuse across tapes (`tape::cache`): a tape recorded after others on the same thread
//! takes their buffers, and its values and gradients are bitwise those of a tape that started
//! from an empty cache, even when the reused buffers are full of NaN.

use std::sync::{Mutex, MutexGuard};

use ndarray::{Array, Array1, Array2, Axis, Dimension};
use symgrad_runtime::tape::{Dual, Tape, TapeFloat, cache, dot};

/// Each thread has its own cache, but the limit is shared: the tests that count hits or bytes
/// must not run while another sets the limit to 0.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Inputs large enough for their intermediates to be cached (≥ 16 KiB, in f32 too).
struct Inputs<T> {
    x: Array2<T>,
    w: Array2<T>,
    b: Array1<T>,
    v: Array1<T>,
    u: Array1<T>,
    y: Array2<T>,
}

const N: usize = 96;
const D: usize = 48;
const K: usize = 50;

fn inputs<T: TapeFloat>(fill: Option<T>) -> Inputs<T> {
    let f = |x: f64| fill.unwrap_or_else(|| T::from(x).unwrap());
    let y = Array2::from_shape_fn((N, K), |(i, k)| {
        if k == (i * 7) % K {
            T::one()
        } else {
            T::zero()
        }
    });
    Inputs {
        x: Array2::from_shape_fn((N, D), |(i, j)| {
            f(((i * 13 + j * 7) % 17) as f64 / 17.0 - 0.4)
        }),
        w: Array2::from_shape_fn((D, K), |(i, j)| {
            f(((i * 5 + j * 11) % 19) as f64 / 40.0 - 0.2)
        }),
        b: Array1::from_shape_fn(K, |k| f(0.01 * k as f64)),
        v: Array1::from_shape_fn(D, |j| f(0.5 - 0.02 * j as f64)),
        u: Array1::from_shape_fn(N, |i| f(0.1 + 0.01 * i as f64)),
        y,
    }
}

/// A loss that goes through every family of ops, with the in-place paths (operands given up by
/// value) and the fresh ones; its value, and the gradients w.r.t. x, w, b, v as flat vectors.
fn evaluate<T: TapeFloat>(d: &Inputs<T>) -> (T, Vec<Vec<T>>) {
    let c = |x: f64| T::from(x).unwrap();
    let tape = Tape::new();
    let (x, w, b, v) = (
        tape.watch(&d.x),
        tape.watch(&d.w),
        tape.watch(&d.b),
        tape.watch(&d.v),
    );
    let z = x.dot(&w) + &b; // N × K
    let probs = z.softmax(Axis(1));
    let nn = probs.mse(&d.y)
        + z.cross_entropy_with_logits(&d.y)
        + z.log_softmax(Axis(1)).mean()
        + z.log_sum_exp(Axis(1)).sum();
    let xv = x.dot(&v); // N
    let ux = dot(&d.u, &x); // D
    let vv = v.dot(&v);
    let column = xv.insert_axis(Axis(1)); // N × 1, broadcast against N × K
    let ratio = (&z * &column) / (z.powi(2).add_scalar(c(1.0)).sqrt() + &column.abs());
    let smooth = z.mapv(|t: Dual<T>| (t * c(0.5)).tanh() + t.sin());
    let mixed = (ratio - &smooth).mul_scalar(c(0.3)) + z.t().sum_axis(Axis(0)).insert_axis(Axis(1));
    let positive = z.powi(2).add_scalar(c(2.0));
    let elementwise = positive.ln().sum()
        + positive.powf(c(0.75)).mean()
        + positive.rdiv_scalar(c(1.0)).sum()
        + z.exp().mean()
        + z.cos().sum()
        + z.sigmoid().sum()
        + z.relu().powi(3).sum()
        + z.mean_axis(Axis(0)).sum();
    let vectors = (&ux * &ux).sum() + vv.mul_scalar(c(0.1)) - (xv.tanh() / &ux.sum()).sum();
    let loss = nn + mixed.sum() + elementwise + vectors;
    let grads = tape.gradient(&loss);
    let flat = |a: Array<T, _>| a.iter().copied().collect::<Vec<T>>();
    let gradients = vec![
        flat(grads.wrt(&x).into_dyn()),
        flat(grads.wrt(&w).into_dyn()),
        flat(grads.wrt(&b).into_dyn()),
        flat(grads.wrt(&v).into_dyn()),
    ];
    (loss.item(), gradients)
}

/// The bits of a value and its gradients, for exact comparison.
fn bits<T: TapeFloat>((value, grads): &(T, Vec<Vec<T>>)) -> Vec<Vec<u64>> {
    let to_bits = |t: &T| t.to_f64().unwrap().to_bits();
    let mut all = vec![vec![to_bits(value)]];
    all.extend(grads.iter().map(|g| g.iter().map(to_bits).collect()));
    all
}

fn warm_equals_cold<T: TapeFloat>() {
    let _serial = serial();
    let data = inputs::<T>(None);
    cache::clear();
    let cold = evaluate(&data);
    assert!(cold.0.is_finite());
    assert!(
        bits(&cold)
            .iter()
            .flatten()
            .all(|&b| !f64::from_bits(b).is_nan())
    );
    // Leave every intermediate buffer full of NaN in the cache: any element the next tapes read
    // before writing would show.
    let poisoned = evaluate(&inputs::<T>(Some(T::nan())));
    assert!(poisoned.0.is_nan());
    let before = cache::stats();
    for _ in 0..3 {
        assert_eq!(bits(&evaluate(&data)), bits(&cold));
    }
    let after = cache::stats();
    assert!(
        after.hits >= before.hits + 3,
        "the warm tapes took buffers from the cache: {before:?} → {after:?}"
    );
}

#[test]
fn a_warm_cache_gives_bitwise_the_results_of_a_cold_one_in_f64() {
    warm_equals_cold::<f64>();
}

#[test]
fn a_warm_cache_gives_bitwise_the_results_of_a_cold_one_in_f32() {
    warm_equals_cold::<f32>();
}

#[test]
fn gradients_moved_out_are_the_callers_and_the_rest_go_back() {
    let _serial = serial();
    let x0 = Array2::from_elem((100, 100), 0.5_f64); // 80 kB
    cache::clear();
    let tape = Tape::new();
    let x = tape.watch(&x0);
    let y = tape.watch(&x0);
    let loss = (&x * &y).sum();
    let mut grads = tape.gradient(&loss);
    let dx = grads.take(&x);
    let held = cache::stats().bytes;
    drop(grads); // ∂y was not taken: it goes back
    assert!(cache::stats().bytes >= held + 80_000);
    // `dx` is an ordinary array: still valid, and it never goes back.
    assert_eq!(dx, x0);
}

#[test]
fn caching_turned_off_still_gives_the_same_gradients() {
    let _serial = serial();
    let data = inputs::<f64>(None);
    let cached = evaluate(&data);
    let limit = cache::limit();
    cache::set_limit(0);
    assert_eq!(cache::stats().bytes, 0);
    let uncached = evaluate(&data);
    cache::set_limit(limit);
    assert_eq!(bits(&uncached), bits(&cached));
}

/// The size check runs on the shapes, not just the element count: a buffer reused for an array
/// of another shape with the same number of elements is reshaped.
#[test]
fn a_buffer_is_reused_for_another_shape_of_the_same_size() {
    fn grad<D: Dimension>(a: &Array<f64, D>) -> Array<f64, D> {
        let tape = Tape::new();
        let x = tape.watch(a);
        tape.gradient(&x.exp().sum()).wrt(&x)
    }
    let _serial = serial();
    cache::clear();
    let wide = Array2::from_shape_fn((10, 1000), |(i, j)| 1e-3 * (i + j) as f64);
    let tall = Array2::from_shape_fn((1000, 10), |(i, j)| 1e-3 * (i + j) as f64);
    let flat = Array1::from_shape_fn(10_000, |i| 1e-4 * i as f64);
    let (g_wide, g_tall, g_flat) = (grad(&wide), grad(&tall), grad(&flat));
    assert!(cache::stats().hits > 0);
    assert_eq!(g_wide, wide.mapv(f64::exp));
    assert_eq!(g_tall, tall.mapv(f64::exp));
    assert_eq!(g_flat, flat.mapv(f64::exp));
}
