//! The optimizer API: chosen at run time, on ndarray arrays, on f32, errors instead of panics.

use ndarray::{Array2, array};
use symgrad_runtime::optim::{
    Adagrad, Adam, AdamW, OptimError, Optimizer, OptimizerExt, RmsProp, Sgd,
};

/// What a command-line flag or a config file would pick.
fn optimizer_named(name: &str, lr: f64) -> Option<Box<dyn Optimizer>> {
    Some(match name {
        "sgd" => Box::new(Sgd::new(lr).momentum(0.9).nesterov(true)),
        "adam" => Box::new(Adam::new(lr)),
        "keras-adam" => Box::new(Adam::keras(lr)),
        "adamw" => Box::new(AdamW::new(lr).weight_decay(1e-4)),
        "rmsprop" => Box::new(RmsProp::new(lr)),
        "adagrad" => Box::new(Adagrad::new(lr)),
        _ => return None,
    })
}

#[test]
fn every_optimizer_chosen_at_run_time_descends_seed_003() {
    for (name, lr) in [
        ("sgd", 0.01),
        ("adam", 1.0),
        ("keras-adam", 1.0),
        ("adamw", 1.0),
        ("rmsprop", 1.0),
        ("adagrad", 10.0),
    ] {
        let mut opt = optimizer_named(name, lr).unwrap();
        let mut x = [3.0];
        for _ in 0..300 {
            let grad = [2.0 * (x[0] - 50.0)];
            opt.try_step(&mut x, &grad).unwrap();
        }
        assert!((x[0] - 50.0).abs() < 1.0, "{name}: x = {}", x[0]);
        assert_eq!(opt.step_count(), 300);
    }
    assert!(optimizer_named("lbfgs", 1.0).is_none());
}

#[test]
fn an_array_steps_like_its_flat_slice() {
    let mut w: Array2<f64> = array![[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]];
    let grad = w.mapv(|v| 2.0 * v);
    let mut flat: Vec<f64> = w.iter().copied().collect();
    let flat_grad: Vec<f64> = grad.iter().copied().collect();

    let (mut on_array, mut on_slice) = (Adam::new(0.1), Adam::new(0.1));
    on_array.try_step_array(&mut w, &grad).unwrap();
    on_slice.try_step(&mut flat, &flat_grad).unwrap();
    assert_eq!(w.iter().copied().collect::<Vec<_>>(), flat);
}

#[test]
fn a_transposed_array_is_stepped_in_logical_order() {
    let mut w = array![[1.0, 2.0], [3.0, 4.0]];
    let grad = array![[1.0, 0.0], [0.0, 0.0]];
    // The view's [0, 0] is w[0, 0]; its [0, 1] is w[1, 0].
    let mut view = w.view_mut().reversed_axes();
    Sgd::new(1.0).try_step_array(&mut view, &grad).unwrap();
    assert_eq!(w, array![[0.0, 2.0], [3.0, 4.0]]);
    let mut view = w.view_mut().reversed_axes();
    let grad = array![[0.0, 1.0], [0.0, 0.0]];
    Sgd::new(1.0).try_step_array(&mut view, &grad).unwrap();
    assert_eq!(w, array![[0.0, 2.0], [2.0, 4.0]]);
}

#[test]
fn arrays_of_different_shapes_are_an_error() {
    let mut w = Array2::<f64>::zeros((2, 3));
    let grad = Array2::<f64>::zeros((3, 2));
    let mut opt: Box<dyn Optimizer> = Box::new(Adam::new(0.1));
    let error = opt.try_step_array(&mut w, &grad).unwrap_err();
    assert_eq!(
        error,
        OptimError::ShapeMismatch {
            params: vec![2, 3],
            grads: vec![3, 2]
        }
    );
    assert_eq!(opt.step_count(), 0);
}

#[test]
fn f32_optimizers_box_too() {
    let mut opt: Box<dyn Optimizer<f32>> = Box::new(RmsProp::new(0.5).momentum(0.5));
    let mut x = [3.0_f32];
    for _ in 0..300 {
        let grad = [2.0 * (x[0] - 50.0)];
        opt.try_step(&mut x, &grad).unwrap();
    }
    assert!((x[0] - 50.0).abs() < 1.0, "x = {}", x[0]);
}

#[test]
fn errors_explain_themselves() {
    let mut adam = Adam::new(0.1).betas(0.9, 1.0);
    let error = adam.try_step(&mut [1.0], &[1.0]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid Adam hyper-parameter `betas.1` = 1: it must be in [0, 1)"
    );
    let mut sgd = Sgd::new(0.1);
    sgd.try_step(&mut [1.0, 2.0], &[0.0, 0.0]).unwrap();
    let error = sgd.try_step(&mut [1.0], &[0.0]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the optimizer's state was built for 2 parameters but this step has 1; call `reset()` \
         before optimizing a different parameter vector"
    );
}
