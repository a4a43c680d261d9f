//! Elementwise functions (`exp`, `ln`, `powi`, …, `sigmoid`, `relu`) and `mapv` with a
//! differentiable closure: forward and backward side by side.
//!
//! Backward rules are stated with the input `x` and the output `y`, whichever is cheaper:
//! `ā += ȳ ∘ f'(x, y)`, fused into one pass over the arrays.
//!
//! An op whose backward rule reads only its input (`ln`, `powi`, `powf`, `abs`, `sin`, `cos`,
//! `relu`) is recorded *deferred*: its value is computed when something first reads it. A `sum`
//! or `mean` reads it without storing it, so `e.powi(2).sum()` is one pass over `e` and no array
//! of squares (bitwise the same total: the sum runs over the values in the same order).

use ndarray::{ArrayD, ArrayRef, ArrayViewD, Dimension, IxDyn, Zip};

use super::adjoints::{Adjoints, Incoming};
use super::cache::{self, Buffer};
use super::dual::{Dual, half, sigmoid, sign};
use super::float::TapeFloat;
use super::graph::{Node, Op, Reads};
use super::var::Var;

/// Elementwise ops; the first field is the input node id.
pub(crate) enum UnaryOp<T> {
    Exp(usize),
    Ln(usize),
    Powi(usize, i32),
    Powf(usize, T),
    Sqrt(usize),
    Abs(usize),
    Sin(usize),
    Cos(usize),
    Tanh(usize),
    Sigmoid(usize),
    Relu(usize),
    /// `mapv`: the derivative f'(x) of every element, saved by the forward pass.
    Map(usize, Buffer<T>),
}

impl<T: TapeFloat, D: Dimension> Var<'_, T, D> {
    fn elementwise(&self, op: UnaryOp<T>) -> Self {
        let nodes = self.tape.values(&[self.id]);
        if op.deferred() {
            let shape = nodes[self.id].shape.clone();
            drop(nodes);
            return self.tape.push_deferred(shape, Op::Unary(op), self.id);
        }
        let value = op.forward(MapOver(&nodes[self.id].value));
        drop(nodes);
        self.tape.push(value, Op::Unary(op), &[self.id])
    }

    /// eˣ elementwise.
    #[must_use]
    pub fn exp(&self) -> Self {
        self.elementwise(UnaryOp::Exp(self.id))
    }

    /// ln x elementwise.
    #[must_use]
    pub fn ln(&self) -> Self {
        self.elementwise(UnaryOp::Ln(self.id))
    }

    /// xⁿ elementwise.
    #[must_use]
    pub fn powi(&self, n: i32) -> Self {
        self.elementwise(UnaryOp::Powi(self.id, n))
    }

    /// xᵖ elementwise.
    #[must_use]
    pub fn powf(&self, p: T) -> Self {
        self.elementwise(UnaryOp::Powf(self.id, p))
    }

    /// √x elementwise.
    #[must_use]
    pub fn sqrt(&self) -> Self {
        self.elementwise(UnaryOp::Sqrt(self.id))
    }

    /// |x| elementwise (derivative 0 at 0, as in TensorFlow and PyTorch).
    #[must_use]
    pub fn abs(&self) -> Self {
        self.elementwise(UnaryOp::Abs(self.id))
    }

    /// sin x elementwise.
    #[must_use]
    pub fn sin(&self) -> Self {
        self.elementwise(UnaryOp::Sin(self.id))
    }

    /// cos x elementwise.
    #[must_use]
    pub fn cos(&self) -> Self {
        self.elementwise(UnaryOp::Cos(self.id))
    }

    /// tanh x elementwise.
    #[must_use]
    pub fn tanh(&self) -> Self {
        self.elementwise(UnaryOp::Tanh(self.id))
    }

    /// σ(x) = 1/(1 + e⁻ˣ) elementwise (computed without overflow).
    ///
    /// ```
    /// use ndarray::Array1;
    /// use symgrad::tape::Tape;
    ///
    /// // Seed 002: the gradient of the sigmoid over linspace(-10, 10, 10).
    /// let a = Array1::linspace(-10.0_f64, 10.0, 10);
    /// let tape = Tape::new();
    /// let a_var = tape.watch(&a);
    /// let grads = tape.gradient(&a_var.sigmoid());
    /// let expected = a.mapv(|x| { let s = 1.0 / (1.0 + (-x).exp()); s * (1.0 - s) });
    /// assert!((grads.wrt(&a_var) - expected).iter().all(|d| d.abs() < 1e-15));
    /// ```
    #[must_use]
    pub fn sigmoid(&self) -> Self {
        self.elementwise(UnaryOp::Sigmoid(self.id))
    }

    /// max(x, 0) elementwise (derivative 0 at 0).
    #[must_use]
    pub fn relu(&self) -> Self {
        self.elementwise(UnaryOp::Relu(self.id))
    }

    /// Applies a differentiable scalar function to every element. The closure receives a
    /// [`Dual`] number and is written like ordinary float code; one evaluation gives both the
    /// value and the derivative the backward pass needs.
    ///
    /// ```
    /// use ndarray::array;
    /// use symgrad::tape::Tape;
    ///
    /// let x = array![0.5_f64, 1.0, 2.0];
    /// let tape = Tape::new();
    /// let x_var = tape.watch(&x);
    /// let y = x_var.mapv(|v| v.powi(2) * 3.0 + v.sin()); // 3x² + sin x
    /// let grads = tape.gradient(&y.sum());
    /// assert_eq!(grads.wrt(&x_var), x.mapv(|v| 6.0 * v + v.cos()));
    /// ```
    #[must_use]
    pub fn mapv(&self, f: impl Fn(Dual<T>) -> Dual<T>) -> Self {
        self.mapv_with_derivative(|x| {
            let y = f(Dual::variable(x));
            (y.re, y.eps)
        })
    }

    /// Applies `f` to every element, with its derivative `df` given by hand (the role of
    /// `tf.custom_gradient` for elementwise functions).
    ///
    /// ```
    /// use ndarray::array;
    /// use symgrad::tape::Tape;
    ///
    /// let x = array![1.0_f64, 4.0];
    /// let tape = Tape::new();
    /// let x_var = tape.watch(&x);
    /// let y = x_var.mapv_with(f64::cbrt, |v| v.cbrt() / (3.0 * v));
    /// assert_eq!(tape.gradient(&y.sum()).wrt(&x_var), x.mapv(|v| v.cbrt() / (3.0 * v)));
    /// ```
    #[must_use]
    pub fn mapv_with(&self, f: impl Fn(T) -> T, df: impl Fn(T) -> T) -> Self {
        self.mapv_with_derivative(|x| (f(x), df(x)))
    }

    fn mapv_with_derivative(&self, f: impl Fn(T) -> (T, T)) -> Self {
        let (value, derivative) = {
            let nodes = self.tape.values(&[self.id]);
            let x = &*nodes[self.id].value;
            let (mut value, mut derivative) =
                (cache::scratch(x.shape()), cache::scratch(x.shape()));
            Zip::from(&mut value)
                .and(&mut derivative)
                .and(x)
                .for_each(|y, dy, &x| (*y, *dy) = f(x));
            (value, Buffer::new(derivative))
        };
        self.tape.push(
            value,
            Op::Unary(UnaryOp::Map(self.id, derivative)),
            &[self.id],
        )
    }
}

/// xⁿ, with the small powers as plain products (`powi` is an out-of-line call that dominates an
/// elementwise pass otherwise).
fn int_pow<T: TapeFloat>(x: T, n: i32) -> T {
    match n {
        0 => T::one(),
        1 => x,
        2 => x * x,
        3 => x * (x * x),
        -1 => x.recip(),
        _ => x.powi(n),
    }
}

/// What to do with an op's scalar function: [`UnaryOp::forward`] calls `apply` with it as a
/// concrete closure, so that each op gets a loop of its own (a `match` inside the loop would
/// keep it from vectorizing).
pub(crate) trait WithFunction<T> {
    type Output;
    fn apply(self, f: impl Fn(T) -> T) -> Self::Output;
}

/// `f` applied to every element of an array, in a cached buffer.
pub(crate) struct MapOver<'a, T>(pub(crate) &'a ArrayRef<T, IxDyn>);

impl<T: TapeFloat> WithFunction<T> for MapOver<'_, T> {
    type Output = ArrayD<T>;
    fn apply(self, f: impl Fn(T) -> T) -> ArrayD<T> {
        cache::map(self.0, f)
    }
}

/// The sum of `f` over a row-major slice, in exactly the order ndarray's `sum` adds the elements
/// of the mapped array (eight interleaved partial sums), so the result is bitwise the same.
pub(crate) struct SumOver<'a, T>(pub(crate) &'a [T]);

impl<T: TapeFloat> WithFunction<T> for SumOver<'_, T> {
    type Output = T;
    fn apply(self, f: impl Fn(T) -> T) -> T {
        let mut p = [T::zero(); 8];
        let mut chunks = self.0.chunks_exact(8);
        for chunk in &mut chunks {
            for (p, &x) in p.iter_mut().zip(chunk) {
                *p += f(x);
            }
        }
        let mut total = T::zero();
        for k in 0..4 {
            total += p[k] + p[k + 4];
        }
        chunks.remainder().iter().fold(total, |t, &x| t + f(x))
    }
}

impl<T: TapeFloat> UnaryOp<T> {
    /// The input's node id.
    pub(crate) fn input(&self) -> usize {
        match *self {
            UnaryOp::Exp(a)
            | UnaryOp::Ln(a)
            | UnaryOp::Powi(a, _)
            | UnaryOp::Powf(a, _)
            | UnaryOp::Sqrt(a)
            | UnaryOp::Abs(a)
            | UnaryOp::Sin(a)
            | UnaryOp::Cos(a)
            | UnaryOp::Tanh(a)
            | UnaryOp::Sigmoid(a)
            | UnaryOp::Relu(a)
            | UnaryOp::Map(a, _) => a,
        }
    }

    /// Whether the value is computed only when read: the backward rule reads the input alone.
    pub(crate) fn deferred(&self) -> bool {
        let reads = self.reads();
        !reads.output && !matches!(self, UnaryOp::Map(..))
    }

    /// Runs `k` with the op's scalar function y = f(x).
    pub(crate) fn forward<K: WithFunction<T>>(&self, k: K) -> K::Output {
        match *self {
            UnaryOp::Exp(_) => k.apply(T::exp),
            UnaryOp::Ln(_) => k.apply(T::ln),
            // The common powers as plain products, each in a loop of its own.
            UnaryOp::Powi(_, 2) => k.apply(|x| int_pow(x, 2)),
            UnaryOp::Powi(_, 3) => k.apply(|x| int_pow(x, 3)),
            UnaryOp::Powi(_, n) => k.apply(|x| int_pow(x, n)),
            UnaryOp::Powf(_, p) => k.apply(|x| x.powf(p)),
            UnaryOp::Sqrt(_) => k.apply(T::sqrt),
            UnaryOp::Abs(_) => k.apply(T::abs),
            UnaryOp::Sin(_) => k.apply(T::sin),
            UnaryOp::Cos(_) => k.apply(T::cos),
            UnaryOp::Tanh(_) => k.apply(T::tanh),
            UnaryOp::Sigmoid(_) => k.apply(sigmoid),
            UnaryOp::Relu(_) => k.apply(|x| if x > T::zero() { x } else { T::zero() }),
            UnaryOp::Map(..) => unreachable!("internal error: `mapv` computes its value itself"),
        }
    }

    /// The values the backward rule reads: the input x or the output y, as stated in the rule.
    pub(crate) fn reads(&self) -> Reads {
        match *self {
            UnaryOp::Exp(_) | UnaryOp::Sqrt(_) | UnaryOp::Tanh(_) | UnaryOp::Sigmoid(_) => {
                Reads::output()
            }
            UnaryOp::Ln(a)
            | UnaryOp::Powi(a, _)
            | UnaryOp::Powf(a, _)
            | UnaryOp::Abs(a)
            | UnaryOp::Sin(a)
            | UnaryOp::Cos(a)
            | UnaryOp::Relu(a) => Reads::inputs([Some(a)]),
            UnaryOp::Map(..) => Reads::none(),
        }
    }

    pub(crate) fn backward(
        &self,
        nodes: &[Node<'_, T>],
        out: &ArrayViewD<'_, T>,
        g: Incoming<T>,
        grads: &mut Adjoints<T>,
    ) {
        let one = T::one();
        let two = one + one;
        match self {
            // y = eˣ  ⇒  x̄ += ȳ ∘ y
            UnaryOp::Exp(a) => grads.chain(*a, g, out, |g, y| g * y),
            // y = ln x  ⇒  x̄ += ȳ / x
            UnaryOp::Ln(a) => grads.chain(*a, g, &nodes[*a].value.view(), |g, x| g / x),
            // y = xⁿ  ⇒  x̄ += ȳ ∘ n xⁿ⁻¹
            UnaryOp::Powi(a, n) => {
                let (n, nt) = (*n, T::from(*n).unwrap_or_else(T::nan));
                let x = nodes[*a].value.view();
                match n {
                    // (x²)' = 2x: the common square, without a power call
                    2 => grads.chain(*a, g, &x, |g, x| g * two * x),
                    _ => grads.chain(*a, g, &x, |g, x| g * nt * int_pow(x, n - 1)),
                }
            }
            // y = xᵖ  ⇒  x̄ += ȳ ∘ p xᵖ⁻¹
            UnaryOp::Powf(a, p) => {
                let p = *p;
                grads.chain(*a, g, &nodes[*a].value.view(), |g, x| {
                    g * p * x.powf(p - one)
                });
            }
            // y = √x  ⇒  x̄ += ȳ ∘ ½ / y
            UnaryOp::Sqrt(a) => grads.chain(*a, g, out, |g, y| g * half::<T>() / y),
            // y = |x|  ⇒  x̄ += ȳ ∘ sign(x)
            UnaryOp::Abs(a) => {
                grads.chain(*a, g, &nodes[*a].value.view(), |g, x| g * sign(x));
            }
            // y = sin x  ⇒  x̄ += ȳ ∘ cos x
            UnaryOp::Sin(a) => {
                grads.chain(*a, g, &nodes[*a].value.view(), |g, x| g * x.cos());
            }
            // y = cos x  ⇒  x̄ −= ȳ ∘ sin x
            UnaryOp::Cos(a) => {
                grads.chain(*a, g, &nodes[*a].value.view(), |g, x| -g * x.sin());
            }
            // y = tanh x  ⇒  x̄ += ȳ ∘ (1 − y²)
            UnaryOp::Tanh(a) => grads.chain(*a, g, out, |g, y| g * (one - y * y)),
            // y = σ(x)  ⇒  x̄ += ȳ ∘ y(1 − y)
            UnaryOp::Sigmoid(a) => grads.chain(*a, g, out, |g, y| g * y * (one - y)),
            // y = max(x, 0)  ⇒  x̄ += ȳ ∘ [x > 0]
            UnaryOp::Relu(a) => grads.chain(*a, g, &nodes[*a].value.view(), |g, x| {
                if x > T::zero() { g } else { T::zero() }
            }),
            // y = f(x)  ⇒  x̄ += ȳ ∘ f'(x) (saved by the forward pass)
            UnaryOp::Map(a, derivative) => {
                grads.chain(*a, g, &derivative.view(), |g, d| g * d);
            }
        }
    }
}
