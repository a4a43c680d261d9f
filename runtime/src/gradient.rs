//! [`Gradient`]: how the runtime reads any gradient as a flat list of numbers.
//!
//! Every `<Name>Grad` struct that `#[differentiable]` generates implements it (fields in
//! declaration order), so the optimizers, the training loop and the gradient checker work with any
//! generated `*_grad` companion without ceremony.

/// A gradient that can be read as a flat sequence of scalars, in a fixed order.
///
/// ```
/// use symgrad::Gradient;
///
/// let mut flat = Vec::new();
/// [1.0_f64, 2.0].flatten_into(&mut flat);
/// 3.0_f64.flatten_into(&mut flat);
/// assert_eq!(flat, [1.0, 2.0, 3.0]);
/// assert_eq!((vec![1.0_f64; 4]).flat_len(), 4);
/// ```
///
/// What `#[differentiable]` generates for `fn loss(w: &[f64], b: f64) -> f64` is, in effect:
///
/// ```
/// use symgrad::Gradient;
///
/// struct LossGrad {
///     pub w: Vec<f64>,
///     pub b: f64,
/// }
///
/// impl Gradient<f64> for LossGrad {
///     fn flat_len(&self) -> usize {
///         self.w.flat_len() + self.b.flat_len()
///     }
///     fn flatten_into(&self, out: &mut Vec<f64>) {
///         self.w.flatten_into(out);
///         self.b.flatten_into(out);
///     }
/// }
///
/// let grad = LossGrad { w: vec![0.5, -1.0], b: 2.0 };
/// assert_eq!(grad.to_flat_vec(), [0.5, -1.0, 2.0]);
/// ```
///
/// # One gradient for many calls
///
/// Every generated struct is also `Default` (zeros, and empty vectors), and beside `<name>_grad`
/// the macro generates `<name>_grad_into(args…, grad: &mut <Name>Grad) -> T`, which overwrites
/// every field of `grad` and returns the value. Its vectors are resized to the slices' lengths
/// and zeroed in place, so a loop that passes the same struct again allocates nothing once the
/// first call has sized them (a `Default` struct, or one an earlier `_grad` returned, is the
/// start). The sizes come from the arguments, so no constructor takes them. The training loop
/// reuses one struct this way in [`Minimizer::run_into`](crate::train::Minimizer::run_into).
///
/// ```
/// use symgrad::{Gradient, differentiable};
///
/// #[differentiable]
/// fn loss(w: &[f64], b: f64) -> f64 {
///     let mut s = b * b;
///     for i in 0..w.len() {
///         s += w[i] * w[i];
///     }
///     s
/// }
///
/// let mut grad = LossGrad::default();
/// for step in 0..3 {
///     let value = loss_grad_into(&[1.0, 2.0], 0.5 * step as f64, &mut grad);
///     assert_eq!((value, grad.w.as_slice()), (5.0 + 0.25 * (step * step) as f64, &[2.0, 4.0][..]));
/// }
/// assert_eq!(grad.to_flat_vec(), [2.0, 4.0, 2.0]);
/// ```
///
/// `_grad_into` is a function of each struct's own arguments, so it is not a method of this
/// trait; what the runtime needs of a gradient (read it as numbers) is.
pub trait Gradient<T> {
    /// Number of scalar components.
    ///
    /// ```
    /// use ndarray::Array2;
    /// use symgrad::Gradient;
    ///
    /// assert_eq!(1.5_f32.flat_len(), 1);
    /// assert_eq!([0.0_f64; 3].flat_len(), 3);
    /// assert_eq!(Array2::<f64>::zeros((4, 5)).flat_len(), 20);
    /// ```
    fn flat_len(&self) -> usize;
    /// Appends the components to `out`, in order (arrays in their logical, row-major order).
    ///
    /// ```
    /// use ndarray::array;
    /// use symgrad::Gradient;
    ///
    /// let mut out = vec![0.0_f64];
    /// array![[1.0, 2.0], [3.0, 4.0]].t().to_owned().flatten_into(&mut out);
    /// assert_eq!(out, [0.0, 1.0, 3.0, 2.0, 4.0]);
    /// ```
    fn flatten_into(&self, out: &mut Vec<T>);
    /// The components as a new vector.
    ///
    /// ```
    /// use symgrad::Gradient;
    ///
    /// assert_eq!(vec![1.0_f64, 2.0].to_flat_vec(), [1.0, 2.0]);
    /// assert_eq!(7.0_f64.to_flat_vec(), [7.0]);
    /// ```
    fn to_flat_vec(&self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.flat_len());
        self.flatten_into(&mut out);
        out
    }
}

/// Makes `v` `len` zeros for a generated `_grad_into` to accumulate a slice's gradient in,
/// keeping `v`'s allocation when it has room: a gradient reused from call to call allocates
/// nothing. A vector without room (the empty one of a `Default` gradient, which `_grad` starts
/// from) gets a zeroed allocation, as `vec![0.0; len]` does. With the `nalgebra` feature, a
/// nalgebra vector or matrix field is zeroed the same way (see [`GradBuffer`]).
///
/// ```
/// let mut v = Vec::with_capacity(8);
/// v.extend([1.0_f64, 2.0, 3.0]);
/// let before = v.as_ptr();
/// symgrad::gradient::zero_resized(&mut v, 5);
/// assert_eq!((v.as_slice(), v.as_ptr()), (&[0.0; 5][..], before));
/// ```
#[doc(hidden)]
pub fn zero_resized<T, B: GradBuffer<T> + ?Sized>(v: &mut B, len: usize) {
    v.zero_resized(len);
}

/// A gradient field that holds a slice parameter's gradient: a `Vec<T>` (and, with the
/// `nalgebra` feature, nalgebra's fixed-size matrices and `DVector<T>`). What generated code
/// zeroes before accumulating into it, and reads as one flat `&mut [T]` (nalgebra's in its
/// column-major storage order).
#[doc(hidden)]
pub trait GradBuffer<T> {
    /// Makes the buffer `len` zeros, keeping its allocation when it has room (a fixed-size
    /// matrix has its size already: it is zeroed).
    fn zero_resized(&mut self, len: usize);
    /// The elements, in storage order.
    fn flat_mut(&mut self) -> &mut [T];
}

impl<T: Copy + Default> GradBuffer<T> for Vec<T> {
    fn zero_resized(&mut self, len: usize) {
        if self.capacity() < len {
            *self = vec![T::default(); len];
        } else {
            self.clear();
            self.resize(len, T::default());
        }
    }
    fn flat_mut(&mut self) -> &mut [T] {
        self
    }
}

/// The seeds `given` of a vector-valued function's hidden vector-Jacobian product as an array of
/// its `M` outputs, zero past the end of `given` (a caller that reads only the first outputs
/// passes only their seeds). Not part of the public API; generated code calls it.
///
/// ```
/// assert_eq!(symgrad::gradient::padded::<f64, 3>(&[1.0, 2.0]), [1.0, 2.0, 0.0]);
/// ```
///
/// # Panics
///
/// If `given` has more than `M` seeds (generated code never passes more).
#[doc(hidden)]
#[must_use]
pub fn padded<T: Copy + Default, const M: usize>(given: &[T]) -> [T; M] {
    let mut out = [T::default(); M];
    out[..given.len()].copy_from_slice(given);
    out
}

/// The outputs of a function returning a tuple of floats, as the array generated code reads
/// (`tuple_outputs(polar(r, t))[1]`): a tuple is an array of outputs spelled another way.
#[doc(hidden)]
#[must_use]
pub fn tuple_outputs<O: TupleOutputs>(outputs: O) -> O::Array {
    outputs.into_array()
}

/// A tuple of one float type, `(T,)` to twelve elements: see [`tuple_outputs`].
#[doc(hidden)]
pub trait TupleOutputs {
    /// `[T; M]`.
    type Array;
    fn into_array(self) -> Self::Array;
}

macro_rules! tuple_outputs {
    (@float $v:ident) => { T };
    ($($n:literal: ($($v:ident),+)),* $(,)?) => {$(
        impl<T> TupleOutputs for ($(tuple_outputs!(@float $v),)+) {
            type Array = [T; $n];
            fn into_array(self) -> [T; $n] {
                let ($($v,)+) = self;
                [$($v),+]
            }
        }
    )*};
}

tuple_outputs!(
    1: (a),
    2: (a, b),
    3: (a, b, c),
    4: (a, b, c, d),
    5: (a, b, c, d, e),
    6: (a, b, c, d, e, f),
    7: (a, b, c, d, e, f, g),
    8: (a, b, c, d, e, f, g, h),
    9: (a, b, c, d, e, f, g, h, i),
    10: (a, b, c, d, e, f, g, h, i, j),
    11: (a, b, c, d, e, f, g, h, i, j, k),
    12: (a, b, c, d, e, f, g, h, i, j, k, l),
);

macro_rules! scalar_gradient {
    ($($t:ty),*) => {$(
        impl Gradient<$t> for $t {
            fn flat_len(&self) -> usize {
                1
            }
            fn flatten_into(&self, out: &mut Vec<$t>) {
                out.push(*self);
            }
        }
    )*};
}
scalar_gradient!(f32, f64);

impl<T: Copy, const N: usize> Gradient<T> for [T; N] {
    fn flat_len(&self) -> usize {
        N
    }
    fn flatten_into(&self, out: &mut Vec<T>) {
        out.extend_from_slice(self);
    }
}

impl<T: Copy> Gradient<T> for Vec<T> {
    fn flat_len(&self) -> usize {
        self.len()
    }
    fn flatten_into(&self, out: &mut Vec<T>) {
        out.extend_from_slice(self);
    }
}

impl<T: Copy, D: ndarray::Dimension> Gradient<T> for ndarray::Array<T, D> {
    fn flat_len(&self) -> usize {
        self.len()
    }
    fn flatten_into(&self, out: &mut Vec<T>) {
        out.extend(self.iter().copied());
    }
}
