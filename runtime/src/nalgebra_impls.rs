//! nalgebra's vectors and matrices as gradients and gradient buffers (feature `nalgebra`).
//!
//! A `#[differentiable]` function that takes a `Vector3<f64>`, an `SMatrix<f64, R, C>` or a
//! `&DVector<f64>` gets a gradient field of the same type. The runtime reads it as a flat list of
//! numbers in nalgebra's storage order, column-major: a `Matrix2` `[[a, b], [c, d]]` is
//! `[a, c, b, d]`, as `as_slice()` gives it.
//!
//! ```
//! use symgrad::Gradient;
//! use symgrad::nalgebra::{Matrix2, Vector3};
//!
//! assert_eq!(Vector3::new(1.0, 2.0, 3.0).to_flat_vec(), [1.0, 2.0, 3.0]);
//! assert_eq!(Matrix2::new(1.0, 2.0, 3.0, 4.0).to_flat_vec(), [1.0, 3.0, 2.0, 4.0]);
//! ```

use nalgebra::{DVector, Dim, Matrix, RawStorage, SMatrix, Scalar};

use crate::gradient::{GradBuffer, Gradient};

impl<T: Scalar + Copy, R: Dim, C: Dim, S: RawStorage<T, R, C>> Gradient<T> for Matrix<T, R, C, S> {
    fn flat_len(&self) -> usize {
        self.len()
    }
    fn flatten_into(&self, out: &mut Vec<T>) {
        out.extend(self.iter().copied());
    }
}

impl<T: Scalar + Copy + Default, const R: usize, const C: usize> GradBuffer<T>
    for SMatrix<T, R, C>
{
    /// A fixed-size matrix is the size of its parameter already: it is zeroed.
    fn zero_resized(&mut self, _len: usize) {
        self.fill(T::default());
    }
    fn flat_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: Scalar + Copy + Default> GradBuffer<T> for DVector<T> {
    fn zero_resized(&mut self, len: usize) {
        if self.len() == len {
            self.fill(T::default());
        } else {
            *self = DVector::from_element(len, T::default());
        }
    }
    fn flat_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{Matrix2x3, Vector2};

    #[test]
    fn flat_order_is_column_major() {
        let m = Matrix2x3::new(1.0, 2.0, 3.0, 4.0, 5.0, 6.0);
        assert_eq!(m.to_flat_vec(), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(m.flat_len(), 6);
    }

    #[test]
    fn buffers_are_zeroed_and_sized() {
        let mut v = Vector2::new(1.0, 2.0);
        GradBuffer::zero_resized(&mut v, 2);
        assert_eq!(v, Vector2::zeros());
        let mut d = DVector::from_vec(vec![1.0, 2.0]);
        GradBuffer::zero_resized(&mut d, 3);
        assert_eq!(d.as_slice(), [0.0; 3]);
        d[1] = 5.0;
        GradBuffer::zero_resized(&mut d, 3);
        assert_eq!(d.as_slice(), [0.0; 3]);
        GradBuffer::flat_mut(&mut d)[2] = 1.0;
        assert_eq!(d[2], 1.0);
    }
}
