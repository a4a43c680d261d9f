//! Shape mistakes: the fallible path returns an error naming the operation and both shapes, the
//! operator path panics with the same message, and the tape accepts exactly the broadcasts
//! ndarray accepts.

use std::panic::{AssertUnwindSafe, catch_unwind};

use ndarray::{Array, Array1, Array2, ArrayD, Axis, Dimension, IxDyn, array};
use symgrad_runtime::tape::{AxisError, ShapeError, Tape, dot};

fn shape_error(op: &'static str, left: &[usize], right: &[usize]) -> ShapeError {
    ShapeError {
        op,
        left: left.to_vec(),
        right: right.to_vec(),
    }
}

#[test]
fn dot_mismatch_names_dot_and_both_shapes_in_every_form() {
    let tape = Tape::new();
    let m = tape.watch(Array2::<f64>::zeros((2, 4)));
    let v = tape.watch(Array1::<f64>::zeros(4));
    assert_eq!(
        m.try_dot(Array2::zeros((3, 3))).unwrap_err(),
        shape_error("dot", &[2, 4], &[3, 3])
    );
    assert_eq!(
        m.try_dot(Array1::zeros(3)).unwrap_err(),
        shape_error("dot", &[2, 4], &[3])
    );
    assert_eq!(
        v.try_dot(Array1::zeros(3)).unwrap_err(),
        shape_error("dot", &[4], &[3])
    );
    assert_eq!(
        v.try_dot(Array2::zeros((3, 2))).unwrap_err(),
        shape_error("dot", &[4], &[3, 2])
    );
    assert_eq!(
        v.try_dot(&m).unwrap_err(),
        shape_error("dot", &[4], &[2, 4])
    );
    assert!(m.try_dot(&v).is_ok());
}

#[test]
fn dot_on_dynamic_ranks_rejects_rank_three() {
    let tape = Tape::new();
    let cube = tape.watch(ArrayD::<f64>::zeros(IxDyn(&[2, 2, 2])));
    let m = ArrayD::<f64>::zeros(IxDyn(&[2, 2]));
    assert_eq!(
        cube.try_dot(&m).unwrap_err(),
        shape_error("dot", &[2, 2, 2], &[2, 2])
    );
}

#[test]
fn arithmetic_mismatch_names_the_operation() {
    let tape = Tape::new();
    let a = tape.watch(Array2::<f64>::zeros((4, 3)));
    let wrong = Array1::<f64>::zeros(4);
    assert_eq!(
        a.try_add(&wrong).unwrap_err(),
        shape_error("add", &[4, 3], &[4])
    );
    assert_eq!(
        a.try_sub(&wrong).unwrap_err(),
        shape_error("sub", &[4, 3], &[4])
    );
    assert_eq!(
        a.try_mul(&wrong).unwrap_err(),
        shape_error("mul", &[4, 3], &[4])
    );
    assert_eq!(
        a.try_div(&wrong).unwrap_err(),
        shape_error("div", &[4, 3], &[4])
    );
    let b = tape.watch(Array2::<f64>::zeros((2, 3)));
    assert_eq!(
        a.try_add(b).unwrap_err(),
        shape_error("add", &[4, 3], &[2, 3])
    );
}

#[test]
fn losses_require_equal_shapes() {
    let tape = Tape::new();
    let p = tape.watch(Array2::<f64>::zeros((2, 3)));
    assert_eq!(
        p.try_mse(Array2::zeros((3, 2))).unwrap_err(),
        shape_error("mse", &[2, 3], &[3, 2])
    );
    assert_eq!(
        p.try_cross_entropy_with_logits(Array2::zeros((2, 4)))
            .unwrap_err(),
        shape_error("cross_entropy_with_logits", &[2, 3], &[2, 4])
    );
}

#[test]
fn display_is_a_sentence_naming_op_and_shapes() {
    let e = shape_error("dot", &[2, 4], &[3, 3]);
    assert_eq!(
        e.to_string(),
        "shape mismatch in `dot`: left operand has shape [2, 4], right operand has shape [3, 3]"
    );
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().contains("`dot`"));
}

#[test]
#[should_panic(
    expected = "shape mismatch in `dot`: left operand has shape [2, 4], right operand has shape [3, 3]"
)]
fn dot_method_panics_with_the_message() {
    let tape = Tape::new();
    let _ = tape
        .watch(Array2::<f64>::zeros((2, 4)))
        .dot(Array2::zeros((3, 3)));
}

#[test]
#[should_panic(
    expected = "shape mismatch in `dot`: left operand has shape [2, 4], right operand has shape [3, 3]"
)]
fn dot_function_with_constant_left_panics_with_the_message() {
    let x = Array2::<f64>::zeros((2, 4));
    let tape = Tape::new();
    let _ = dot(&x, tape.watch(Array2::zeros((3, 3))));
}

#[test]
#[should_panic(
    expected = "shape mismatch in `add`: left operand has shape [4], right operand has shape [4, 3]"
)]
fn operator_with_array_on_the_left_reports_shapes_in_source_order() {
    let x = Array1::<f64>::zeros(4);
    let tape = Tape::new();
    let _ = &x + tape.watch(Array2::zeros((4, 3)));
}

#[test]
#[should_panic(expected = "shape mismatch in `mul`")]
fn mul_operator_panics() {
    let tape = Tape::new();
    let a = tape.watch(Array2::<f64>::zeros((4, 3)));
    let _ = a * tape.watch(Array2::zeros((3, 4)));
}

#[test]
#[should_panic(expected = "shape mismatch in `mse`")]
fn mse_panics() {
    let tape = Tape::new();
    let _ = tape.watch(Array1::<f64>::zeros(3)).mse(Array1::zeros(2));
}

#[test]
fn axis_out_of_bounds_is_an_error_naming_the_op() {
    let tape = Tape::new();
    let m = tape.watch(Array2::<f64>::zeros((2, 3)));
    let err = |op, axis| AxisError {
        op,
        axis,
        shape: vec![2, 3],
    };
    assert_eq!(m.try_sum_axis(Axis(2)).unwrap_err(), err("sum_axis", 2));
    assert_eq!(m.try_mean_axis(Axis(5)).unwrap_err(), err("mean_axis", 5));
    assert_eq!(
        m.try_insert_axis(Axis(3)).unwrap_err(),
        err("insert_axis", 3)
    );
    assert!(m.try_insert_axis(Axis(2)).is_ok());
    assert_eq!(m.try_softmax(Axis(2)).unwrap_err(), err("softmax", 2));
    assert_eq!(
        m.try_log_softmax(Axis(2)).unwrap_err(),
        err("log_softmax", 2)
    );
    assert_eq!(
        m.try_log_sum_exp(Axis(2)).unwrap_err(),
        err("log_sum_exp", 2)
    );
}

#[test]
#[should_panic(expected = "axis 2 is out of bounds in `sum_axis` for shape [2, 3]")]
fn sum_axis_panics_with_the_message() {
    let tape = Tape::new();
    let _ = tape.watch(Array2::<f64>::zeros((2, 3))).sum_axis(Axis(2));
}

#[test]
fn the_tape_stays_usable_after_an_error() {
    let a = array![[1.0_f64, 2.0]];
    let tape = Tape::new();
    let x = tape.watch(&a);
    assert!(x.try_dot(array![1.0, 2.0, 3.0]).is_err());
    let grads = tape.gradient(&x.dot(array![1.0, 2.0]).sum());
    assert_eq!(grads.wrt(&x), array![[1.0, 2.0]]);
}

/// `&a + &b` in ndarray itself, or `None` if ndarray panics.
fn ndarray_add(a: &ArrayD<f64>, b: &ArrayD<f64>) -> Option<ArrayD<f64>> {
    catch_unwind(AssertUnwindSafe(|| a + b)).ok()
}

#[test]
fn broadcasting_accepts_exactly_what_ndarray_accepts() {
    let shapes: &[&[usize]] = &[
        &[],
        &[1],
        &[3],
        &[4],
        &[1, 3],
        &[4, 1],
        &[4, 3],
        &[3, 4],
        &[2, 4, 3],
        &[2, 1, 1],
        &[0],
        &[4, 0],
    ];
    let std_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for &left in shapes {
        for &right in shapes {
            let a = Array::from_shape_fn(IxDyn(left), |i| {
                i.slice().iter().sum::<usize>() as f64 + 1.0
            });
            let b = Array::from_shape_fn(IxDyn(right), |i| {
                2.0 * i.slice().iter().sum::<usize>() as f64 - 1.0
            });
            let tape = Tape::new();
            let ours = tape.watch(&a).try_add(&b).map(|v| v.value());
            match (ours, ndarray_add(&a, &b)) {
                (Ok(ours), Some(theirs)) => assert_eq!(ours, theirs, "{left:?} + {right:?}"),
                (Err(e), None) => assert_eq!(e, shape_error("add", left, right)),
                (ours, theirs) => panic!("{left:?} + {right:?}: tape {ours:?}, ndarray {theirs:?}"),
            }
        }
    }
    std::panic::set_hook(std_hook);
}

#[test]
#[should_panic(expected = "gradients asked for a variable of another tape")]
fn gradients_reject_a_variable_of_another_tape() {
    let a = array![1.0_f64, 2.0];
    let (first, second) = (Tape::new(), Tape::new());
    let x = first.watch(&a);
    let y = second.watch(&a);
    let grads = first.gradient(&x.sum());
    let _ = grads.wrt(&y);
}

#[test]
#[should_panic(expected = "a value recorded on one tape was used with another tape")]
fn operands_from_two_tapes_are_rejected() {
    let a = array![1.0_f64, 2.0];
    let (first, second) = (Tape::new(), Tape::new());
    let _ = first.watch(&a) + second.watch(&a);
}
