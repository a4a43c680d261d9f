//! `check_gradient` passes right gradients and catches wrong ones.

use symgrad_runtime::Gradient;
use symgrad_runtime::gradcheck::{GradCheck, check_gradient};

/// Seed 000's `J(w, b) = (w·x + b − y)²` gradient, as `#[differentiable]` would generate it.
struct CostGrad {
    w: f64,
    b: f64,
}

impl Gradient<f64> for CostGrad {
    fn flat_len(&self) -> usize {
        2
    }
    fn flatten_into(&self, out: &mut Vec<f64>) {
        out.extend([self.w, self.b]);
    }
}

fn cost_grad(w: f64, b: f64, x: f64, y: f64) -> (f64, CostGrad) {
    let r = w * x + b - y;
    (
        r * r,
        CostGrad {
            w: 2.0 * r * x,
            b: 2.0 * r,
        },
    )
}

/// The classic mistake: the chain rule's inner derivative `x` forgotten in `∂J/∂w`.
fn wrong_cost_grad(w: f64, b: f64, x: f64, y: f64) -> (f64, CostGrad) {
    let r = w * x + b - y;
    (
        r * r,
        CostGrad {
            w: 2.0 * r,
            b: 2.0 * r,
        },
    )
}

#[test]
fn a_right_gradient_passes() {
    let report = check_gradient(|p| cost_grad(p[0], p[1], 3.0, 1.0), &[0.7, -0.2]).unwrap();
    assert!(report.passed(), "{report}");
    assert!(report.max_rel_err() < 1e-8, "{report}");
    assert_eq!(report.components.len(), 2);
    assert_eq!(report.value, (0.7_f64 * 3.0 - 0.2 - 1.0).powi(2));
}

#[test]
fn a_wrong_gradient_fails_on_the_wrong_component_only() {
    let report = check_gradient(|p| wrong_cost_grad(p[0], p[1], 3.0, 1.0), &[0.7, -0.2]).unwrap();
    assert!(!report.passed());
    let failures: Vec<usize> = report.failures().map(|c| c.index).collect();
    assert_eq!(failures, [0]);
    let w = &report.components[0];
    assert!(
        (w.analytic * 3.0 - w.numeric).abs() < 1e-6,
        "off by the factor x = 3"
    );
    assert!((w.rel_err - 2.0 / 3.0).abs() < 1e-6);
}

#[test]
fn the_report_prints_as_a_table() {
    let report = check_gradient(|p| wrong_cost_grad(p[0], p[1], 3.0, 1.0), &[0.7, -0.2]).unwrap();
    let table = report.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("gradient check FAILED: 1 of 2 components fail"),
        "{table}"
    );
    assert!(
        lines[1].contains("analytic") && lines[1].contains("limit"),
        "{table}"
    );
    assert!(
        lines[2].trim_start().starts_with('0') && lines[2].ends_with("FAIL"),
        "{table}"
    );
    assert!(
        lines[3].trim_start().starts_with('1') && lines[3].ends_with("ok"),
        "{table}"
    );
    assert!(
        lines[4].starts_with("furthest over its limit: component 0, rel err"),
        "{table}"
    );
}

#[test]
fn tolerances_can_be_tightened_and_loosened() {
    // A gradient 1e-4 off (relative) passes torch's defaults but not a tight check.
    let nearly = |p: &[f64]| (p[0].exp(), p[0].exp() * (1.0 + 1e-4));
    assert!(check_gradient(nearly, &[1.0]).unwrap().passed());
    let tight = GradCheck::new().atol(0.0).rtol(1e-6);
    assert!(!tight.run(nearly, &[1.0]).unwrap().passed());
    let step = GradCheck::new().eps(1e-3).run(nearly, &[1.0]).unwrap();
    assert!(step.passed());
}
