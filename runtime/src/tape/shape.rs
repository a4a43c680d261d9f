//! Broadcasting (NumPy/ndarray rules) and its adjoint: summing a gradient back to a shape.

use ndarray::{ArrayViewD, Axis, CowArray, IxDyn};

use super::error::ShapeError;
use super::float::TapeFloat;

/// The shape both operands broadcast to, aligning trailing axes; an axis pairs when the lengths
/// are equal or one of them is 1 (exactly ndarray's rule for `&a + &b`).
pub(crate) fn co_broadcast(
    op: &'static str,
    left: &[usize],
    right: &[usize],
) -> Result<Vec<usize>, ShapeError> {
    let ndim = left.len().max(right.len());
    let padded = |s: &[usize], i: usize| {
        let lead = ndim - s.len();
        if i < lead { 1 } else { s[i - lead] }
    };
    (0..ndim)
        .map(|i| match (padded(left, i), padded(right, i)) {
            (l, r) if l == r || r == 1 => Ok(l),
            (1, r) => Ok(r),
            _ => Err(ShapeError::new(op, left, right)),
        })
        .collect()
}

/// The adjoint of broadcasting `shape` up to `g`'s shape: sum `g` over the leading axes that
/// broadcasting added and over the axes where `shape` has length 1.
///
/// Borrows when nothing needs summing.
pub(crate) fn sum_to_shape<'a, T: TapeFloat>(
    g: ArrayViewD<'a, T>,
    shape: &[usize],
) -> CowArray<'a, T, IxDyn> {
    let mut out = CowArray::from(g);
    while out.ndim() > shape.len() {
        out = CowArray::from(out.sum_axis(Axis(0)));
    }
    for (i, &len) in shape.iter().enumerate() {
        if len == 1 && out.shape()[i] != 1 {
            out = CowArray::from(out.sum_axis(Axis(i)).insert_axis(Axis(i)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ArrayD;

    #[test]
    fn co_broadcast_follows_ndarray() {
        assert_eq!(co_broadcast("add", &[4, 3], &[3]), Ok(vec![4, 3]));
        assert_eq!(co_broadcast("add", &[4, 1], &[1, 3]), Ok(vec![4, 3]));
        assert_eq!(co_broadcast("add", &[], &[2, 2]), Ok(vec![2, 2]));
        assert_eq!(
            co_broadcast("add", &[4, 3], &[4]),
            Err(ShapeError::new("add", &[4, 3], &[4]))
        );
    }

    #[test]
    fn sum_to_shape_reduces_broadcast_axes() {
        let g = ArrayD::from_shape_vec(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(
            sum_to_shape(g.view(), &[3])
                .into_owned()
                .into_raw_vec_and_offset()
                .0,
            [5.0, 7.0, 9.0]
        );
        assert_eq!(sum_to_shape(g.view(), &[2, 1]).shape(), &[2, 1]);
        assert_eq!(sum_to_shape(g.view(), &[]).sum(), 21.0);
    }
}
