//! [`Gradient`]: how the runtime reads any gradient as a flat list of numbers.
//!
//! Every `<Name>Grad` struct that `#[differentiable]` generates implements it (fields in
//! declaration order), so the optimizers, the training loop and the gradient checker work with any
//! generated `*_grad` companion without ceremony.

/// A gradient that can be read as a flat sequence of scalars, in a fixed order.
///
/// ```
/// use symgrad_runtime::Gradient;
///
/// let mut flat = Vec::new();
/// [1.0_f64, 2.0].flatten_into(&mut flat);
/// 3.0_f64.flatten_into(&mut flat);
/// assert_eq!(flat, [1.0, 2.0, 3.0]);
/// assert_eq!((vec![1.0_f64; 4]).flat_len(), 4);
/// ```
pub trait Gradient<T> {
    /// Number of scalar components.
    fn flat_len(&self) -> usize;
    /// Appends the components to `out`, in order.
    fn flatten_into(&self, out: &mut Vec<T>);
    /// The components as a new vector.
    fn to_flat_vec(&self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.flat_len());
        self.flatten_into(&mut out);
        out
    }
}

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
