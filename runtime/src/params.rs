//! [`Parameters`]: several parameters of a model, trained together as one flat vector.
//!
//! A model's parameters are rarely one slice: a weight vector and a bias, a few `ndarray`
//! matrices, a rotation and a translation. [`Minimizer::run_params`](crate::Minimizer::run_params)
//! takes them as a tuple of mutable references and hands the objective the same tuple, so
//! nothing is packed by hand:
//!
//! ```
//! use symgrad::{Minimizer, differentiable, optim::Adam};
//!
//! #[differentiable(wrt(w, b))]
//! fn loss(w: &[f64], b: f64, x: &[f64], y: &[f64]) -> f64 {
//!     let mut s = 0.0;
//!     for i in 0..y.len() {
//!         s += (w[0] * x[2 * i] + w[1] * x[2 * i + 1] + b - y[i]).powi(2);
//!     }
//!     s
//! }
//!
//! let x = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 2.0, 1.0];
//! let y = [4.0, 3.0, 6.0, 8.0]; // 2·x₀ + 3·x₁ + 1
//! let (mut w, mut b) = (vec![0.0; 2], 0.0);
//! Minimizer::new(Adam::new(0.05))
//!     .max_steps(5000)
//!     .tol_grad_norm(1e-10)
//!     .run_params((&mut w, &mut b), |(w, b)| loss_grad(w, **b, &x, &y))?;
//! assert!((w[0] - 2.0).abs() < 1e-6 && (w[1] - 3.0).abs() < 1e-6 && (b - 1.0).abs() < 1e-6);
//! # Ok::<(), symgrad::TrainError>(())
//! ```
//!
//! The flat order is the tuple's order, each part in its own order: a slice, `Vec` or array in
//! index order, a scalar as one number, an `ndarray` array in logical (row-major) order, a
//! nalgebra matrix (feature `nalgebra`) in its column-major storage order. It is the order of a
//! generated `<Name>Grad`'s fields (the differentiated parameters in declaration order), so a
//! tuple written in the order of the function's parameters pairs with its gradient; a gradient of
//! another length is reported as an error by the training loop.

/// A set of parameters read and written as one flat sequence of `T`: see the [module
/// docs](self) for the order. Implemented for `&mut` references to `f32`/`f64`, slices, `Vec`s,
/// Rust arrays, `ndarray` arrays, nalgebra matrices (feature `nalgebra`), and tuples of up to
/// six of these.
///
/// ```
/// use symgrad::params::Parameters;
///
/// let (mut w, mut b, mut m) = (vec![1.0, 2.0], 3.0, [4.0, 5.0]);
/// let mut set = (&mut w, &mut b, &mut m);
/// let mut flat = Vec::new();
/// set.read_flat(&mut flat);
/// assert_eq!((flat.as_slice(), set.flat_len()), (&[1.0, 2.0, 3.0, 4.0, 5.0][..], 5));
///
/// let rest = set.write_flat(&[-1.0, -2.0, -3.0, -4.0, -5.0, 9.0]);
/// assert_eq!(rest, [9.0]);
/// assert_eq!((w, b, m), (vec![-1.0, -2.0], -3.0, [-4.0, -5.0]));
/// ```
pub trait Parameters<T> {
    /// Number of scalar components.
    fn flat_len(&self) -> usize;
    /// Appends the components to `out`, in order.
    fn read_flat(&self, out: &mut Vec<T>);
    /// Overwrites the components with the first [`flat_len`](Self::flat_len) values of `flat`
    /// and returns the rest.
    ///
    /// # Panics
    ///
    /// If `flat` is shorter than `flat_len()` (the training loop always passes a vector read
    /// from the same parameters).
    fn write_flat<'f>(&mut self, flat: &'f [T]) -> &'f [T];
}

macro_rules! scalar_parameters {
    ($($t:ty),*) => {$(
        impl Parameters<$t> for &mut $t {
            fn flat_len(&self) -> usize {
                1
            }
            fn read_flat(&self, out: &mut Vec<$t>) {
                out.push(**self);
            }
            fn write_flat<'f>(&mut self, flat: &'f [$t]) -> &'f [$t] {
                **self = flat[0];
                &flat[1..]
            }
        }
    )*};
}
scalar_parameters!(f32, f64);

/// Copies the front of `flat` into `dst`; returns the rest.
fn copy_front<'f, T: Copy>(dst: &mut [T], flat: &'f [T]) -> &'f [T] {
    let (front, rest) = flat.split_at(dst.len());
    dst.copy_from_slice(front);
    rest
}

impl<T: Copy> Parameters<T> for &mut [T] {
    fn flat_len(&self) -> usize {
        self.len()
    }
    fn read_flat(&self, out: &mut Vec<T>) {
        out.extend_from_slice(self);
    }
    fn write_flat<'f>(&mut self, flat: &'f [T]) -> &'f [T] {
        copy_front(self, flat)
    }
}

impl<T: Copy> Parameters<T> for &mut Vec<T> {
    fn flat_len(&self) -> usize {
        self.len()
    }
    fn read_flat(&self, out: &mut Vec<T>) {
        out.extend_from_slice(self);
    }
    fn write_flat<'f>(&mut self, flat: &'f [T]) -> &'f [T] {
        copy_front(self, flat)
    }
}

impl<T: Copy, const N: usize> Parameters<T> for &mut [T; N] {
    fn flat_len(&self) -> usize {
        N
    }
    fn read_flat(&self, out: &mut Vec<T>) {
        out.extend_from_slice(&self[..]);
    }
    fn write_flat<'f>(&mut self, flat: &'f [T]) -> &'f [T] {
        copy_front(&mut self[..], flat)
    }
}

/// Logical (row-major) order, whatever the array's memory layout.
impl<T: Copy, D: ndarray::Dimension> Parameters<T> for &mut ndarray::Array<T, D> {
    fn flat_len(&self) -> usize {
        self.len()
    }
    fn read_flat(&self, out: &mut Vec<T>) {
        out.extend(self.iter().copied());
    }
    fn write_flat<'f>(&mut self, flat: &'f [T]) -> &'f [T] {
        let (front, rest) = flat.split_at(self.len());
        self.iter_mut().zip(front).for_each(|(p, v)| *p = *v);
        rest
    }
}

/// Column-major: nalgebra's storage order.
#[cfg(feature = "nalgebra")]
impl<T, R, C, S> Parameters<T> for &mut nalgebra::Matrix<T, R, C, S>
where
    T: nalgebra::Scalar + Copy,
    R: nalgebra::Dim,
    C: nalgebra::Dim,
    S: nalgebra::RawStorageMut<T, R, C>,
{
    fn flat_len(&self) -> usize {
        self.len()
    }
    fn read_flat(&self, out: &mut Vec<T>) {
        out.extend(self.iter().copied());
    }
    fn write_flat<'f>(&mut self, flat: &'f [T]) -> &'f [T] {
        let (front, rest) = flat.split_at(self.len());
        self.iter_mut().zip(front).for_each(|(p, v)| *p = *v);
        rest
    }
}

macro_rules! tuple_parameters {
    ($($p:ident $i:tt),+) => {
        /// The parts in tuple order, each in its own order.
        impl<T, $($p: Parameters<T>),+> Parameters<T> for ($($p,)+) {
            fn flat_len(&self) -> usize {
                0 $(+ self.$i.flat_len())+
            }
            fn read_flat(&self, out: &mut Vec<T>) {
                $(self.$i.read_flat(out);)+
            }
            fn write_flat<'f>(&mut self, flat: &'f [T]) -> &'f [T] {
                $(let flat = self.$i.write_flat(flat);)+
                flat
            }
        }
    };
}
tuple_parameters!(A 0);
tuple_parameters!(A 0, B 1);
tuple_parameters!(A 0, B 1, C 2);
tuple_parameters!(A 0, B 1, C 2, D 3);
tuple_parameters!(A 0, B 1, C 2, D 3, E 4);
tuple_parameters!(A 0, B 1, C 2, D 3, E 4, F 5);

#[cfg(test)]
mod tests {
    use super::Parameters;

    #[test]
    fn round_trip_in_tuple_order() {
        let mut w = vec![1.0, 2.0];
        let mut b = 3.0;
        let mut a = ndarray::array![[4.0, 5.0], [6.0, 7.0]];
        let mut s = [8.0_f64];
        let mut set = (&mut w, &mut b, &mut a, &mut s[..]);
        let mut flat = Vec::new();
        set.read_flat(&mut flat);
        assert_eq!(flat, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        let doubled: Vec<f64> = flat.iter().map(|v| 2.0 * v).collect();
        assert!(set.write_flat(&doubled).is_empty());
        let mut again = Vec::new();
        set.read_flat(&mut again);
        assert_eq!(again, doubled);
        assert_eq!((w, b, a[[1, 0]], s), (vec![2.0, 4.0], 6.0, 12.0, [16.0]));
    }
}
