//! NIST's certified nonlinear regression problems (StRD), fitted by the `levenberg-marquardt`
//! crate with the Jacobian `#[differentiable]` generates: the fitted parameters next to NIST's
//! certified ones, and how many significant digits they share.
//!
//! ```sh
//! cargo run --release --example levenberg_marquardt_fit --features levenberg-marquardt
//! ```
//!
//! The residual of each model is one line of Rust (`tests/nist/mod.rs`), e.g. Misra1a's
//! `b[0] * (1.0 - (-b[1] * x).exp()) - y`, and its generated `_grad` is one row of the Jacobian:
//!
//! ```text
//! let problem = Problem::rows(start, x.len(), |b: &[f64], i| exponential_grad(b, x[i], y[i]));
//! let (fitted, report) = LevenbergMarquardt::new().minimize(problem);
//! ```
//!
//! Every problem runs from both of NIST's start points with the crate's default settings. Two
//! runs stop short of the certified minimum with those (MGH09 from Start 1: out of evaluations;
//! BoxBOD from Start 1: a first step so long it lands where the exponential is flat); each is run
//! again with the one setting that changes that. `tests/nist_strd.rs` checks what this prints.

#[path = "../tests/nist/mod.rs"]
pub(crate) mod nist;

use std::fmt::Write as _;

use nist::Settings;

pub fn main() {
    let rows = nist_table();
    for row in &rows {
        println!("{row}");
    }
    println!("\n{}", summary(&rows));
}

/// One fit from one start.
pub(crate) struct Row {
    pub(crate) data: nist::Dataset,
    /// NIST's start point, 1 or 2.
    pub(crate) start: usize,
    /// Through a vector-valued residual (`-> [f64; 6]` for BoxBOD, `-> Vec<f64>` over the data
    /// for Thurber and Rat43) instead of one per observation.
    pub(crate) vector: bool,
    pub(crate) settings: Settings,
    pub(crate) fit: nist::Fit,
}

/// Every problem from both of NIST's start points with the default settings, the two hard
/// starts again with a setting that fits them, BoxBOD through its `[f64; 6]`-valued residual and
/// Thurber and Rat43 through their `Vec`-valued ones.
#[must_use]
pub(crate) fn nist_table() -> Vec<Row> {
    let mut runs = Vec::new();
    for name in nist::NAMES {
        runs.push((name, 1, false, Settings::Defaults));
        runs.push((name, 2, false, Settings::Defaults));
    }
    runs.push(("MGH09", 1, false, Settings::Patience(1000)));
    runs.push(("BoxBOD", 1, false, Settings::Stepbound(10.0)));
    runs.push(("BoxBOD", 1, true, Settings::Stepbound(10.0)));
    runs.push(("BoxBOD", 2, true, Settings::Defaults));
    for name in ["Thurber", "Rat43"] {
        runs.push((name, 1, true, Settings::Defaults));
        runs.push((name, 2, true, Settings::Defaults));
    }
    runs.into_iter()
        .map(|(name, start, vector, settings)| {
            let data = nist::dataset(name);
            let fit = nist::fit(&data, &data.starts[start - 1], vector, settings);
            Row {
                data,
                start,
                vector,
                settings,
                fit,
            }
        })
        .collect()
}

impl Row {
    /// The fewest digits a fitted parameter shares with its certified value.
    #[must_use]
    pub(crate) fn parameter_digits(&self) -> f64 {
        nist::parameter_digits(&self.data, &self.fit)
    }

    /// The digits the residual sum of squares shares with the certified one.
    #[must_use]
    pub(crate) fn rss_digits(&self) -> f64 {
        nist::digits(self.fit.rss, self.data.certified_rss)
    }

    /// The vector-valued residual's return type, if the run went through one.
    fn form(&self) -> Option<&'static str> {
        match (self.vector, self.data.name) {
            (false, _) => None,
            (true, "BoxBOD") => Some("[f64; 6]"),
            (true, _) => Some("Vec<f64>"),
        }
    }

    fn label(&self) -> String {
        let form = self.form().map(|f| format!(", {f}")).unwrap_or_default();
        format!(
            "{} start {}{form}, {}",
            self.data.name, self.start, self.settings
        )
    }
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Row { data, fit, .. } = self;
        writeln!(
            f,
            "{}: {} evaluations, {}",
            self.label(),
            fit.evaluations,
            fit.termination
        )?;
        for (k, (b, c)) in fit.params.iter().zip(&data.certified).enumerate() {
            writeln!(
                f,
                "  b{} = {b:<+23.15e} certified {c:<+17.10e} digits {:.1}",
                k + 1,
                nist::digits(*b, *c)
            )?;
        }
        write!(
            f,
            "  RSS = {:<+22.15e} certified {:<+17.10e} digits {:.1}",
            fit.rss,
            data.certified_rss,
            self.rss_digits()
        )
    }
}

/// The results as a Markdown table.
#[must_use]
pub(crate) fn summary(rows: &[Row]) -> String {
    let mut out = String::from(
        "| problem | start | settings | evaluations | stop | RSS certified | RSS ours | digits: RSS | digits: parameters (fewest) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let form = row.form().map(|f| format!(" (`{f}`)")).unwrap_or_default();
        let stop = row.fit.termination.split(' ').next().unwrap_or_default();
        let _ = writeln!(
            out,
            "| {}{form} | {} | {} | {} | {stop} | {:.10e} | {:.10e} | {:.1} | {:.1} |",
            row.data.name,
            row.start,
            row.settings,
            row.fit.evaluations,
            row.data.certified_rss,
            row.fit.rss,
            row.rss_digits(),
            row.parameter_digits()
        );
    }
    out
}
