//! The ecosystem examples run as `cargo run --example` runs them, and print what they say:
//! `argmin_lbfgs` (argmin's L-BFGS, Newton, trust region and Gauss–Newton on generated
//! derivatives), `levenberg_marquardt_fit` (NIST's problems, checked in `tests/nist_strd.rs`) and
//! `nalgebra_pose` (a rigid transform with `Vector3` parameters and results).
//! The oracles: Rosenbrock's exact minimum, the logistic regression's stationarity by central
//! differences of the loss itself, NIST's certified Misra1a values, and the transform the pose's
//! data were made with (by nalgebra's `Rotation3`).

#[path = "../examples/argmin_lbfgs.rs"]
mod argmin_example;
#[path = "../examples/levenberg_marquardt_fit.rs"]
mod lm_example;
#[path = "../examples/nalgebra_pose.rs"]
mod pose_example;

#[test]
fn both_examples_run() {
    argmin_example::main().unwrap();
    lm_example::main();
    pose_example::main();
}

#[test]
fn the_pose_is_recovered_from_nalgebra_residuals() {
    let (w, t, rss, _) = pose_example::fit();
    let (w_true, t_true) = pose_example::truth();
    // The data come from nalgebra's `Rotation3`, not from the residual's formula: a wrong
    // Jacobian would stop the solver short of them.
    assert!((w - w_true).amax() < 1e-9, "{w} vs {w_true}");
    assert!((t - t_true).amax() < 1e-9, "{t} vs {t_true}");
    assert!(rss < 1e-20, "{rss:e}");
    // The generated Jacobian at the start against central differences of the residual.
    let data = pose_example::correspondences();
    let w0 = symgrad::nalgebra::Vector3::new(0.1, 0.2, -0.3);
    let t0 = symgrad::nalgebra::Vector3::new(0.5, 0.0, -1.0);
    let (_, rows) = pose_example::residual_jacobian(w0, t0, data.p[3], data.q[3]);
    for (k, row) in rows.iter().enumerate() {
        let flat: Vec<f64> = row.w.iter().chain(row.t.iter()).copied().collect();
        for (j, got) in flat.iter().enumerate() {
            let h = 1e-6;
            let at = |d: f64| {
                let mut x: Vec<f64> = w0.iter().chain(t0.iter()).copied().collect();
                x[j] += d;
                let w = symgrad::nalgebra::Vector3::from_column_slice(&x[..3]);
                let t = symgrad::nalgebra::Vector3::from_column_slice(&x[3..]);
                pose_example::residual(w, t, data.p[3], data.q[3])[k]
            };
            let want = (at(h) - at(-h)) / (2.0 * h);
            assert!((got - want).abs() < 1e-7, "∂r{k}/∂x{j}: {got} vs {want}");
        }
    }
}

#[test]
fn lbfgs_finds_rosenbrocks_minimum() {
    let (p, iterations) = argmin_example::rosenbrock_lbfgs().unwrap();
    assert!(
        (p[0] - 1.0).abs() < 1e-10 && (p[1] - 1.0).abs() < 1e-10,
        "{p:?}"
    );
    assert!(iterations < 100, "{iterations}");
}

#[test]
fn the_three_logistic_fits_agree_at_a_stationary_point() {
    let data = argmin_example::Classes::new(200);
    let fits = argmin_example::logistic_fits(&data).unwrap();
    let newton = &fits[1].1;
    // The loss is strictly convex (the L2 penalty), so its one stationary point is the minimum:
    // the central differences of the loss itself (not of the generated gradient) vanish there.
    let loss = |p: &[f64]| data.loss(p);
    for j in 0..3 {
        let h = 1e-5;
        let (mut up, mut down) = (newton.clone(), newton.clone());
        up[j] += h;
        down[j] -= h;
        let slope = (loss(&up) - loss(&down)) / (2.0 * h);
        assert!(slope.abs() < 1e-9, "∂L/∂p{j} = {slope:e} at {newton:?}");
    }
    for (solver, p, _) in &fits {
        for (a, b) in p.iter().zip(newton) {
            assert!((a - b).abs() < 1e-9, "{solver}: {p:?} vs Newton {newton:?}");
        }
    }
    // The data have the slope the generator used, roughly: 1.5·x₀ − 2·x₁ + 0.5, shrunk by the
    // noise and the penalty.
    assert!(
        newton[0] > 0.5 && newton[1] < -0.5 && newton[2] > 0.0,
        "{newton:?}"
    );
}

#[test]
fn gauss_newton_fits_misra1a_to_nine_digits() {
    let (b, rss, _) = argmin_example::misra1a_gauss_newton().unwrap();
    let certified = [2.389_421_291_8e2, 5.501_564_318_1e-4];
    for (v, c) in b.iter().zip(certified) {
        assert!(((v - c) / c).abs() < 1e-8, "{b:?}");
    }
    assert!((rss / 1.245_513_889_4e-1 - 1.0).abs() < 1e-10, "{rss:e}");
}
