use std::panic::{AssertUnwindSafe, catch_unwind};

pub struct Report {
    pub pass: Vec<String>,
    pub fail: Vec<String>,
}

impl Report {
    pub fn new() -> Self {
        Report {
            pass: vec![],
            fail: vec![],
        }
    }
}

/// 4-point central difference (O(h^4)).
pub fn fd(f: &dyn Fn(&[f64]) -> f64, x: &[f64], h: f64) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    let mut xx = x.to_vec();
    for k in 0..x.len() {
        let hk = h * x[k].abs().max(1.0);
        let v = |d: f64, xx: &mut Vec<f64>| {
            xx[k] = x[k] + d;
            let r = f(xx);
            xx[k] = x[k];
            r
        };
        let f1 = v(hk, &mut xx);
        let fm1 = v(-hk, &mut xx);
        let f2 = v(2.0 * hk, &mut xx);
        let fm2 = v(-2.0 * hk, &mut xx);
        g[k] = (-f2 + 8.0 * f1 - 8.0 * fm1 + fm2) / (12.0 * hk);
    }
    g
}

/// f: plain function on the flat parameter vector; g: generated (value, flat gradient).
/// `rtol` for the gradient; `h` FD step.
pub fn check_h(
    r: &mut Report,
    name: &str,
    x0: &[f64],
    f: impl Fn(&[f64]) -> f64,
    g: impl Fn(&[f64]) -> (f64, Vec<f64>),
    rtol: f64,
    h: f64,
) {
    let res = catch_unwind(AssertUnwindSafe(|| {
        let fv = f(x0);
        let (gv, gg) = g(x0);
        let exp = fd(&f, x0, h);
        let mut msgs = vec![];
        let vt = 1e-12_f64.max(rtol * 1e-3);
        if !((gv - fv).abs() <= vt * fv.abs().max(1.0)) && !(gv.is_nan() && fv.is_nan()) {
            msgs.push(format!("VALUE got {gv:e} expected {fv:e}"));
        }
        if gg.len() != exp.len() {
            msgs.push(format!("GRAD LEN got {} expected {}", gg.len(), exp.len()));
        } else {
            let scale = fv.abs().max(1.0);
            let mut bad = vec![];
            for k in 0..exp.len() {
                let tol = rtol * exp[k].abs() + rtol * 1e-3 * scale;
                if !((gg[k] - exp[k]).abs() <= tol) {
                    bad.push(k);
                }
            }
            if !bad.is_empty() {
                let mut s = format!(
                    "GRAD at x={x0:?}\n      got      {gg:?}\n      expected {exp:?}\n      bad idx {bad:?}"
                );
                if s.len() > 2000 {
                    s.truncate(2000);
                }
                msgs.push(s);
            }
        }
        msgs
    }));
    match res {
        Ok(m) if m.is_empty() => r.pass.push(name.to_string()),
        Ok(m) => r.fail.push(format!("{name}: {}", m.join("; "))),
        Err(e) => {
            let s = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            r.fail.push(format!("{name}: PANIC {s}"))
        }
    }
}

pub fn check(
    r: &mut Report,
    name: &str,
    x0: &[f64],
    f: impl Fn(&[f64]) -> f64,
    g: impl Fn(&[f64]) -> (f64, Vec<f64>),
) {
    check_h(r, name, x0, f, g, 1e-6, 1e-3)
}
