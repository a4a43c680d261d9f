//! Seed 003 end to end, with the tutorial's figure: minimize `(x − 50)²` from `x = 3` with
//! `tf.keras.optimizers.Adam(1)` for 200 steps, then draw the loss curve over
//! `np.linspace(0, 100, 101)`, every point the run visited (blue), and the initial point and the
//! final minimum (red), as the tutorial's matplotlib figure does.
//!
//! Run: `cargo run --release --features plot --example seed003_plot [out.svg]`
//! (default output: `target/seed003.svg` in the repository).

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use symgrad::optim::Adam;
use symgrad::{Minimizer, differentiable};

/// The tutorial's stand-in for a loss function.
#[differentiable]
fn loss_fun(x: f64) -> f64 {
    (x - 50.0).powi(2)
}

/// matplotlib's default line colour (`C0`), for the curve, so the blue points stand out on it.
const CURVE: RGBColor = RGBColor(31, 119, 180);

/// The run's points `(x, loss_fun(x))`: the start, then the point after each step.
struct Run {
    points: Vec<(f64, f64)>,
}

impl Run {
    fn start(&self) -> (f64, f64) {
        self.points[0]
    }

    fn end(&self) -> (f64, f64) {
        self.points[self.points.len() - 1]
    }
}

/// The tutorial's loop, as a [`Minimizer`] run that records the parameters at every step.
fn descend(init_x: f64, steps: u64) -> Result<Run, Box<dyn Error>> {
    let mut x = [init_x];
    let report = Minimizer::new(Adam::keras(1.0)) // Keras: β = (0.9, 0.999), ε-hat = 1e-7
        .max_steps(steps)
        .record_params(true)
        .run(&mut x, |p| loss_fun_grad(p[0]))?;
    println!("{report}");
    let history = report.history;
    let points = history.params.iter().map(|p| p[0]);
    let points = points.zip(history.losses).collect();
    Ok(Run { points })
}

/// `np.linspace(start, stop, n)`.
fn linspace(start: f64, stop: f64, n: usize) -> impl Iterator<Item = f64> {
    let step = (stop - start) / (n - 1) as f64;
    (0..n).map(move |i| start + step * i as f64)
}

/// `plt.plot(x_arr, y_arr)`, `plt.scatter(points)` in blue, the start and the minimum in red.
fn draw(run: &Run, path: &Path) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (640, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Adam(1) on (x − 50)², 200 steps from x = 3",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(-2.0..102.0, -60.0..2560.0)?;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("loss_fun(x)")
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .draw()?;

    let curve = linspace(0.0, 100.0, 101).map(|x| (x, loss_fun(x)));
    chart
        .draw_series(LineSeries::new(curve, CURVE.stroke_width(2)))?
        .label("loss_fun(x) = (x − 50)²")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], CURVE.stroke_width(2)));
    let dot = |(x, y), color: RGBColor| Circle::new((x, y), 4, color.filled());
    chart
        .draw_series(run.points.iter().map(|&p| dot(p, BLUE)))?
        .label(format!("the {} points visited", run.points.len()))
        .legend(|(x, y)| Circle::new((x + 9, y), 4, BLUE.filled()));
    chart
        .draw_series([dot(run.start(), RED), dot(run.end(), RED)])?
        .label("the initial point and the minimum found")
        .legend(|(x, y)| Circle::new((x + 9, y), 4, RED.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperMiddle)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let run = descend(3.0, 200)?;
    let ((x0, y0), (x, y)) = (run.start(), run.end());
    println!("初始点: x = {x0}, y = {y0}");
    println!("最小值x: {x:.7}");
    println!("最小值y: {y:.7}");

    let path = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/seed003.svg"),
        PathBuf::from,
    );
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    draw(&run, &path)?;
    println!("plot written to {}", path.display());
    Ok(())
}
