//! The random program generator: valid Rust within the language the README promises, in bounds
//! and finite by construction, biased toward the loop shapes where gradients go wrong.
//!
//! A program is a main function over sizes `n`, `d`, slices (`x: n·d`, `w: d`, `y: n`,
//! `z: n + 1`, `u: n`, `v: d`), sometimes an array (`p: &[f64; K]` or `q: [f64; K]`) and
//! scalars (`a`, `b`, `g`), sometimes with a scalar helper `h(a, b)` and a slice helper
//! `dot(u, v[, t])` it calls. Its body is a few blocks (loop nests with their accumulators, over
//! ranges or iterators, deep shared chains, `let` chains, `if`s, early returns, helper calls,
//! closures, array patterns) and a final expression combining their results. Loops may be
//! `while` or `loop` loops a counter decides, step integer counters, and `continue` or `break`
//! under an `if` (`flow.rs`). Blocks and loop bodies may build local arrays, write them in loops
//! at their index and at single indices, and read and iterate them after (`arrays.rs`), and
//! pass local arrays to helpers in place of slices (`local_args.rs`, behind a weight at 0).

mod arrays;
mod blocks;
mod carried;
mod chains;
mod closures;
mod divrem;
mod expr;
mod fills;
mod flow;
mod iters;
mod layers;
mod local_args;
mod loops;
mod pushes;
mod scans;
mod scope;
mod splits;
mod vector;
mod weights;

pub use weights::Weights;

use crate::ast::{Dim, Expr, Extent, Func, Param, ParamTy, Point, Program, Stmt, Value};
use crate::rng::Rng;
use scope::Scope;

/// A callable helper: its name, parameters and number of outputs (`None`: `-> f64`).
#[derive(Debug, Clone)]
struct Helper {
    name: String,
    params: Vec<Param>,
    outputs: Option<usize>,
    /// A vector-valued helper returning `Vec<f64>`: its outputs are read by index only.
    vec: bool,
}

/// The state of writing one function.
struct Gen<'a> {
    rng: &'a mut Rng,
    /// The stream of the decisions added with the iterator forms, closures and arrays (whether
    /// to use one here): a program that uses none of them draws from `rng` exactly what it did
    /// before they were added, so the older seeds' programs are still generated.
    x: &'a mut Rng,
    /// The stream of the decisions added with the control-flow forms (counters, `while`,
    /// `loop`, `continue`, `break`: `flow.rs`), the same way: a program that uses none of them
    /// is the program the grammar without them generates.
    c: &'a mut Rng,
    /// The stream of the decisions added with runs passed to helpers and vector-valued
    /// functions (`vector.rs`), the same way.
    v: &'a mut Rng,
    /// The outputs of the function being written, if it is vector-valued.
    outputs: Option<usize>,
    /// The stream of the decisions added with local arrays (`arrays.rs`), the same way. It
    /// starts from the state `x` has when the function is begun (copied, not drawn from).
    a: Rng,
    /// The stream of the decisions added with coupled loop state (`loops.rs`), the same way,
    /// started as `a` is.
    k: Rng,
    /// The stream of the decisions added with arrays carried across a loop's iterations
    /// (`carried.rs`), the same way, started as `a` is.
    h: Rng,
    /// The stream of the decisions added with the buffer shapes (reversed loops writing a
    /// local array, carried arrays started from copies, additions beside them), the same way,
    /// started as `a` is.
    s: Rng,
    /// The stream of the decisions added with local arrays passed to helpers
    /// (`local_args.rs`), the same way, started as `a` is; drawn only where
    /// `helper_local_array` is not 0.
    l: Rng,
    /// The stream of the decisions added with scans (`scans.rs`), the same way, started as `a`
    /// is; drawn only where `array_scan` is not 0.
    q: Rng,
    /// The stream of the decisions added with layers × time (`layers.rs`), the same way,
    /// started as `a` is; drawn only where `carried_layers` is not 0.
    y: Rng,
    /// The stream of the decisions added with buffers grown by `push` (`pushes.rs`), the same
    /// way, started as `a` is; drawn only where `buffer_push` is not 0.
    p: Rng,
    /// The stream of the decisions added with `split_at` (`splits.rs`), the same way, started
    /// as `a` is; drawn only where `split_at` is not 0.
    t: Rng,
    /// The stream of the decisions added with indices written with `/` and `%` (`divrem.rs`),
    /// the same way, started as `a` is; drawn only where `index_div_rem` is not 0.
    r: Rng,
    /// The stream of the decisions added with nested fills (`fills.rs`), the same way, started
    /// as `a` is; drawn only where `nested_fill` is not 0.
    f: Rng,
    w: &'a Weights,
    scope: Scope,
    helpers: Vec<Helper>,
    counter: usize,
    /// Top-level values the final expression combines.
    results: Vec<String>,
    /// Writing an iterator closure's body (no iterator inside another).
    in_closure: bool,
    /// The counters in scope whose step in the body being written is still to come.
    stepping: Vec<String>,
    /// How many loop bodies the code being written is in.
    nesting: usize,
    /// How many enclosing loops update a recurrence (a carried variable other than a sum): no
    /// local array is built in them (see `Weights::local_array_in_recurrence`).
    recurrence: usize,
}

/// Program `id` of the run seeded with `seed` (the same whatever the batch it is built in).
#[must_use]
pub fn program(seed: u64, id: u64, w: &Weights) -> Program {
    let mut rng = Rng::derive(seed, id);
    let mut x = Rng::derive(seed ^ 0x17E5_F0E5_C105_0E55, id);
    let mut c = Rng::derive(seed ^ 0xC0_47F1_0E5C_0A7E, id);
    let mut v = Rng::derive(seed ^ 0x5EC7_0A11_0E55_A4D5, id);
    let outputs = vector::tenth(&mut v, w.vector_main).then(|| v.range(1, 3));
    let params = main_params(&mut rng, &mut x, w);
    let mut helpers = Vec::new();
    if rng.below(10) < w.helper_scalar as usize {
        helpers.push(scalar_helper(&mut rng, &mut x, &mut c, &mut v, w));
    }
    if rng.below(10) < w.helper_slice as usize {
        helpers.push(slice_helper(&mut rng, &mut x, &mut c, &mut v, w));
    }
    if vector::tenth(&mut v, w.helper_vector) {
        let mut f = vector::helper(seed, id, w);
        // From a stream of its own: the knob leaves every program as it was. An early
        // `return [..]` keeps the array.
        let mut o = Rng::derive(seed ^ 0x0EC7_0A11_0E55_0EC0, id);
        f.vec_return = vector::tenth(&mut o, w.helper_vector_vec)
            && !crate::print::function(&f, crate::print::Mode::Bare).contains("return ");
        // A stream of its own too: the outputs spelled as a tuple.
        let mut t = Rng::derive(seed ^ 0x7E91_E0A1_1EC7_0E55, id);
        f.tuple_return = !f.vec_return && vector::tenth(&mut t, w.helper_vector_tuple);
        helpers.push(f);
    }
    let callable: Vec<Helper> = helpers
        .iter()
        .map(|f: &Func| Helper {
            name: f.name.clone(),
            params: f.params.clone(),
            outputs: f.outputs(),
            vec: f.vec_return,
        })
        .collect();
    let name = format!("p{id}");
    let streams = (&mut rng, &mut x, &mut c, &mut v);
    let mut main = function(streams, w, &name, params, callable, 2..=4, outputs);
    main.wrt = wrt(&mut rng, w, &main);
    splits::differentiate_passed(&mut main);
    // From a stream of its own too; an early `return [..]` keeps the array.
    let mut o = Rng::derive(seed ^ 0x5EC0_7EC0_0F0E_0A11, id);
    main.vec_return = main.outputs().is_some()
        && w.vector_main_vec > 0
        && o.below(10) < w.vector_main_vec as usize
        && !crate::print::function(&main, crate::print::Mode::Bare).contains("return ");
    // The spellings, each from a stream of its own (its salt), drawn only where its weight is
    // not 0: out of 10 main functions.
    let drawn = |salt: u64, weight: u32| {
        weight > 0 && Rng::derive(seed ^ salt, id).below(10) < weight as usize
    };
    let vector = main.outputs().is_some();
    let spell = &mut main.spellings;
    // Loops writing an array printed over lent elements.
    spell.lent_elements = drawn(0x1E47_E1E4_E475_0A11, w.lent_elements);
    // Loops over items printed over the items mapped.
    spell.mapped_items = drawn(0x3A99_ED17_E350_0A11, w.mapped_items);
    // A vector-valued main's outputs returned in a local array.
    spell.outputs_local = vector && drawn(0x0075_1A11_0CA1_0A11, w.outputs_local);
    // Slices iterated over their halves chained.
    spell.chained_halves = drawn(0x00C4_A1E0_4A17_0A11, w.chained_halves);
    // `split_at` printed as two `let`s of runs.
    spell.split_lets = drawn(0x0051_17A5_1E75_0A11, w.split_as_lets);
    // Fills of new arrays of zeros printed at strided indices.
    spell.strided_fills = drawn(0x057D_F111_5A11_0A11, w.strided_fills);
    // Conditions on items printed with `filter`.
    spell.filters = drawn(0x0F11_7E45_0A11_0A11, w.filters);
    // Mapped sums printed as folds.
    spell.folded_sums = drawn(0x0F01_D5E5_0A11_0A11, w.folded_sums);
    // Element reads through an `Option`.
    spell.option_reads = drawn(0x0097_10E5_0A11_0A11, w.option_reads);
    // Two `let`s in a row bound by one array pattern.
    spell.array_lets = drawn(0x00A4_4A71_E750_0A11, w.array_lets);
    // From a stream of its own, so that the knob leaves every program as it was.
    let mut h = Rng::derive(seed ^ 0x4E55_1A40_5EC0_4D00, id);
    // (Not on a vector-valued main: the macro refuses `hessian` there.)
    main.hessian = h.below(10) < w.hvp as usize
        && main.outputs().is_none()
        && crate::second_order::eligible(&main, &helpers);
    if main.hessian {
        for f in &mut helpers {
            // (Not on a `Vec`-valued helper: the macro refuses `hessian` there, and
            // `second_order` keeps calls of one out.)
            f.hessian = !f.vec_return && crate::second_order::eligible(f, &[]);
        }
    }
    // From a stream of its own too.
    let mut k = Rng::derive(seed ^ 0x0C4E_C4B0_1A7E_0000, id);
    for f in helpers.iter_mut().chain(std::iter::once(&mut main)) {
        if k.below(10) < w.checkpoint as usize {
            f.checkpoint = Some(2 + k.below(4));
        }
    }
    let mut points: Vec<Point> = (0..3).map(|_| point(&mut rng, &mut x, &main)).collect();
    // From a stream of its own too.
    let mut e = Rng::derive(seed ^ 0x0E4B_7E10_0B5E_0000, id);
    if e.below(10) < w.empty_loops as usize && !has_loop(&main, &helpers) {
        points.push(empty_point(&mut e, &main));
    }
    Program {
        id,
        helpers,
        main,
        points,
    }
}

/// Whether a function of the program has a `loop` (written only for a range that never runs
/// empty: at a size of 0 it might not end).
fn has_loop(main: &Func, helpers: &[Func]) -> bool {
    std::iter::once(main)
        .chain(helpers)
        .any(|f| crate::print::function(f, crate::print::Mode::Bare).contains("loop {"))
}

/// An input point where `n`, `d` or both are 0 (the other a size as [`point`] draws it; `n`
/// where the function has no `d`).
fn empty_point(e: &mut Rng, main: &Func) -> Point {
    let has_d = main.params.iter().any(|p| p.ty == ParamTy::Size(Dim::D));
    let (n, d) = match e.below(3) {
        _ if !has_d => (0, 0),
        0 => (0, size(e)),
        1 => (size(e), 0),
        _ => (0, 0),
    };
    let mut floats = e.clone();
    point_sized(e, &mut floats, main, n, d)
}

/// The generator's four streams: the first grammar's, the newer forms', the control-flow
/// forms', the runs' and vector-valued functions'.
type Streams<'a> = (&'a mut Rng, &'a mut Rng, &'a mut Rng, &'a mut Rng);

/// Writes a function's body and final expression (`outputs` of them, for a vector-valued
/// function).
fn function(
    (rng, x, c, v): Streams<'_>,
    w: &Weights,
    name: &str,
    params: Vec<Param>,
    helpers: Vec<Helper>,
    blocks: std::ops::RangeInclusive<usize>,
    outputs: Option<usize>,
) -> Func {
    let a = Rng::derive(x.clone().next_u64() ^ 0xA77A_4E5A_11A4_0CA1, 1);
    let k = Rng::derive(x.clone().next_u64() ^ 0xC009_1ED5_7A7E, 2);
    let h = Rng::derive(x.clone().next_u64() ^ 0xCA22_1ED0_A22A_4500, 3);
    let s = Rng::derive(x.clone().next_u64() ^ 0xB0FF_E25A_4A9E_5000, 4);
    let l = Rng::derive(x.clone().next_u64() ^ 0x10CA_1A22_A4A2_6500, 4);
    let q = Rng::derive(x.clone().next_u64() ^ 0x5CA2_5CA2_0A44_A400, 5);
    let y = Rng::derive(x.clone().next_u64() ^ 0x1A7E_4500_714E_0000, 6);
    let p = Rng::derive(x.clone().next_u64() ^ 0x9B5E_0B0F_F0E2_5000, 7);
    let t = Rng::derive(x.clone().next_u64() ^ 0x5B11_7A70_0000_0000, 8);
    let r = Rng::derive(x.clone().next_u64() ^ 0xD1F4_2E30_0000_0000, 9);
    let f = Rng::derive(x.clone().next_u64() ^ 0xF111_2D00_0000_0000, 10);
    let mut g = Gen {
        rng,
        x,
        c,
        v,
        outputs,
        a,
        k,
        h,
        s,
        l,
        q,
        y,
        p,
        t,
        r,
        f,
        w,
        scope: Scope::new(params.clone()),
        helpers,
        counter: 0,
        results: Vec::new(),
        in_closure: false,
        stepping: Vec::new(),
        nesting: 0,
        recurrence: 0,
    };
    let count = g.rng.range(*blocks.start(), *blocks.end());
    let mut body: Vec<Stmt> = Vec::new();
    for _ in 0..count {
        body.extend(g.block());
    }
    let ret = match outputs {
        Some(m) => Expr::Array((0..m).map(|_| g.final_expr()).collect()),
        None => g.final_expr(),
    };
    Func {
        name: name.into(),
        params,
        wrt: None,
        hessian: false,
        spellings: crate::ast::Spellings::default(),
        checkpoint: None,
        vec_return: false,
        tuple_return: false,
        body,
        ret,
    }
}

fn param(name: &str, ty: ParamTy) -> Param {
    Param {
        name: name.into(),
        ty,
    }
}

fn main_params(rng: &mut Rng, x: &mut Rng, w: &Weights) -> Vec<Param> {
    let with_d = rng.below(10) < w.with_d as usize;
    let mut params = vec![param("n", ParamTy::Size(Dim::N))];
    if with_d {
        params.push(param("d", ParamTy::Size(Dim::D)));
    }
    let ext = |dim, plus| ParamTy::Slice(Extent { dim, plus });
    let mut pool = vec![
        ("y", ext(Dim::N, 0)),
        ("z", ext(Dim::N, 1)),
        ("u", ext(Dim::N, 0)),
    ];
    if with_d {
        pool.extend([
            ("x", ext(Dim::Nd, 0)),
            ("w", ext(Dim::D, 0)),
            ("x", ext(Dim::Nd, 0)),
            ("v", ext(Dim::D, 0)),
        ]);
    }
    let mut slices: Vec<Param> = Vec::new();
    if with_d && rng.chance(0.6) {
        // The matrix `x[i * d + j]`, often with its weights `w[j]`: the shape of most losses.
        slices.push(param("x", ext(Dim::Nd, 0)));
        if rng.chance(0.6) {
            slices.push(param("w", ext(Dim::D, 0)));
        }
    }
    for _ in 0..rng.range(usize::from(slices.is_empty()), 2) {
        let (name, ty) = *rng.pick(&pool);
        if !slices.iter().any(|p| p.name == name) {
            slices.push(param(name, ty));
        }
    }
    if x.below(10) < w.array_param as usize {
        let len = *x.pick(&[1, 2, 2, 3, 3, 4]);
        let (name, by_ref) = if x.chance(0.5) {
            ("p", true)
        } else {
            ("q", false)
        };
        slices.push(param(name, ParamTy::Array { len, by_ref }));
    }
    let scalars = ["a", "b", "g"][..rng.range(0, 3)]
        .iter()
        .map(|s| param(s, ParamTy::Scalar));
    let mut rest: Vec<Param> = slices.into_iter().chain(scalars).collect();
    if rng.chance(0.3) {
        shuffle(rng, &mut rest);
    }
    params.extend(rest);
    params
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
}

/// `fn h(a: f64, b: f64) -> f64`, straight-line code.
fn scalar_helper(rng: &mut Rng, x: &mut Rng, c: &mut Rng, v: &mut Rng, w: &Weights) -> Func {
    let params = vec![param("a", ParamTy::Scalar), param("b", ParamTy::Scalar)];
    function((rng, x, c, v), w, "h", params, Vec::new(), 1..=3, None)
}

/// `fn dot(u: &[f64], v: &[f64][, t: f64]) -> f64`, loops over `0..u.len()`.
fn slice_helper(rng: &mut Rng, x: &mut Rng, c: &mut Rng, v: &mut Rng, w: &Weights) -> Func {
    let l = ParamTy::Slice(Extent {
        dim: Dim::L,
        plus: 0,
    });
    let mut params = vec![param("u", l)];
    if rng.chance(0.7) {
        params.push(param("v", l));
    }
    if rng.chance(0.4) {
        params.push(param("t", ParamTy::Scalar));
    }
    function((rng, x, c, v), w, "dot", params, Vec::new(), 1..=2, None)
}

/// `wrt(...)`: a non-empty subset of the float parameters, or `None` (all of them).
fn wrt(rng: &mut Rng, w: &Weights, main: &Func) -> Option<Vec<String>> {
    if rng.below(10) >= w.wrt as usize {
        return None;
    }
    let floats: Vec<String> = main
        .differentiated()
        .iter()
        .map(|p| p.name.clone())
        .collect();
    let mut chosen: Vec<String> = floats.iter().filter(|_| rng.chance(0.5)).cloned().collect();
    if chosen.is_empty() {
        chosen.push(rng.pick(&floats).clone());
    }
    Some(chosen)
}

/// A size in `1..=4`, 1 (the edge case) a quarter of the time.
fn size(rng: &mut Rng) -> usize {
    if rng.chance(0.25) { 1 } else { rng.range(2, 4) }
}

/// An input point: sizes, then every float in `[-1.5, 1.5)`.
fn point(rng: &mut Rng, x: &mut Rng, main: &Func) -> Point {
    let (n, d) = (size(rng), size(rng));
    point_sized(rng, x, main, n, d)
}

/// An input point at sizes `n` and `d`: every float in `[-1.5, 1.5)`, the slices' from `rng`,
/// the arrays' from `x`.
fn point_sized(rng: &mut Rng, x: &mut Rng, main: &Func, n: usize, d: usize) -> Point {
    main.params
        .iter()
        .map(|p| match p.ty {
            ParamTy::Size(Dim::D) => Value::Size(d),
            ParamTy::Size(_) => Value::Size(n),
            ParamTy::Scalar => Value::Scalar(rng.float(-1.5, 1.5)),
            ParamTy::Slice(e) => {
                Value::Slice((0..length(e, n, d)).map(|_| rng.float(-1.5, 1.5)).collect())
            }
            ParamTy::Array { len, .. } => {
                Value::Slice((0..len).map(|_| x.float(-1.5, 1.5)).collect())
            }
        })
        .collect()
}

/// A slice's length at sizes `n`, `d`.
#[must_use]
pub fn length(e: Extent, n: usize, d: usize) -> usize {
    let base = match e.dim {
        Dim::N | Dim::L => n,
        Dim::D => d,
        Dim::Nd => n * d,
        Dim::Fixed(k) => k,
        Dim::View(_) => 0,
    };
    base + e.plus
}

impl Gen<'_> {
    /// A fresh local name `<prefix><k>`.
    fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }

    /// `let [mut] name = value;`, declared in the scope.
    fn let_stmt(&mut self, name: &str, mutable: bool, value: Expr) -> Stmt {
        let typed = self.is_typed(&value);
        self.scope.declare(name, typed);
        Stmt::Let {
            name: name.into(),
            mutable,
            value,
        }
    }

    /// One in `out_of_10` tries, per a weight out of 10.
    fn tenth(&mut self, weight: u32) -> bool {
        self.rng.below(10) < weight as usize
    }

    /// [`Gen::tenth`] on the stream of the newer forms' decisions.
    fn x_tenth(&mut self, weight: u32) -> bool {
        weight > 0 && self.x.below(10) < weight as usize
    }

    /// A fresh name for the next loop index: `i`, `j`, `k`, `l` by depth, then `i<k>`.
    fn index_name(&mut self) -> String {
        match ["i", "j", "k", "l"].get(self.scope.loops.len()) {
            Some(n) => (*n).to_string(),
            None => self.fresh("i"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Weights, program};
    use crate::ast::{
        Adaptor, Arg, ArrayInit, Base, Cond, Expr, IntExpr, MapFn, ParamTy, Pat, Program, Stmt,
        Value,
    };
    use crate::print::{Mode, functions};

    #[test]
    fn programs_are_deterministic_per_seed_and_id() {
        let w = Weights::default();
        assert_eq!(program(5, 3, &w), program(5, 3, &w));
        assert_ne!(program(5, 3, &w), program(5, 4, &w));
    }

    /// The sample's programs (seed 1, ids 0..300) use every construct the fuzzer promises.
    #[test]
    fn the_sample_covers_the_grammar() {
        let w = Weights::default();
        let text: String = (0..300)
            .map(|id| functions(&program(1, id, &w), Mode::Plain))
            .collect();
        let count = |pat: &str| text.matches(pat).count();
        let required = [
            "for i in 0..n {",
            "for j in 0..d {",
            "for j in 0..i {",
            "for i in 0..x.len() {",
            "for i in 1..n {",
            "[i * d + j]",
            "[i + 1]",
            "w[0]",
            " += ",
            " -= ",
            " *= ",
            ".max(",
            ".min(",
            ".tanh()",
            ".exp()",
            ".ln()",
            ".sqrt()",
            ".powi(",
            ".powf(",
            ".hypot(",
            ".abs()",
            ".recip()",
            ".mul_add(",
            "return ",
            "} else {",
            " as f64)",
            "h(",
            "dot(",
            "wrt(",
            "f64::NEG_INFINITY",
            "(c",
            ".sin() + c",
            "0..i + 1",
            "0..n * d",
            "0..z.len()",
            "[j + 1]",
            " > m",
            ".iter().map(|&",
            ".iter().zip(",
            ".iter().enumerate()",
            ").map(|i| ",
            ".sum::<f64>()",
            ".product::<f64>()",
            // Iterator forms: element loops, adaptors, runs, sub-slices.
            "for &e",
            " in x {",
            ".iter().enumerate() {",
            ".zip(x.iter().skip(1))",
            ".zip(1..",
            ".skip(",
            ".take(",
            ".step_by(",
            ").rev()",
            ".windows(",
            ".chunks(",
            ".chunks_exact(",
            ".copied()",
            "[1..].iter()",
            ".iter().sum::<f64>()",
            "*e",
            // Closures and array patterns.
            "let fc",
            "move |",
            ": &f64|",
            ".map(fc",
            "= *p;",
            ", ..] = q;",
            // Control flow: counters, `while`, `loop`, `continue`, `break`.
            "let mut ct",
            " += 1;\n",
            " -= 1;\n",
            " += 2;\n",
            " = ct",
            "while ct",
            " > ct",
            "loop {",
            "continue;\n",
            "break;\n",
            "if ct",
            "[ct",
            " - 1]",
            "= 0.3 * (ct",
        ];
        // A condition comparing two loop indices, whichever way round.
        let indices = ["if j < i", "if i < j", "if k < j", "if k < i", "if j <= i"];
        assert!(
            indices.iter().any(|p| count(p) > 0),
            "never generated: {indices:?}"
        );
        let missing: Vec<&str> = required.iter().copied().filter(|p| count(p) == 0).collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        let triple = text
            .lines()
            .filter(|l| l.starts_with("            for "))
            .count();
        assert!(triple >= 50, "{triple} loops three deep");
        let matrix = count("* d + j]") + count("* d + k]");
        assert!(matrix >= 60, "{matrix} reads x[i * d + j]");
    }

    /// The sample's programs use local arrays in every form `arrays.rs` writes.
    #[test]
    fn the_sample_covers_local_arrays() {
        let w = Weights::default();
        let text: String = (0..300)
            .map(|id| functions(&program(1, id, &w), Mode::Plain))
            .collect();
        let required = [
            "let mut zs",
            "        let mut zs",
            ": Vec<f64> = vec![",
            "= vec![0.0; ",
            "] = ",
            "] += ",
            "] -= ",
            "] *= ",
            "] /= ",
            "in &zs",
            "zs1.len()",
            ".windows(",
        ];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|p| !text.contains(p))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
    }

    /// The weights of the control-flow forms (`flow.rs`).
    const FLOW: [&str; 6] = [
        "loop_counter",
        "loop_continue",
        "loop_break",
        "loop_while",
        "loop_loop",
        "local_array_break",
    ];

    /// The weights of the forms added after the first grammar, all at 0.
    fn without_newer_forms() -> Weights {
        let mut w = Weights::default();
        for name in [
            "block_closure",
            "block_array",
            "loop_iter",
            "loop_guarded",
            "iter_adaptor",
            "iter_runs",
            "iter_sub",
            "iter_unmapped",
            "loop_closure",
            "expr_closure",
            "array_param",
            "local_array",
            "local_array_loop",
            "loop_coupled",
            "carried_array",
        ]
        .into_iter()
        .chain(FLOW)
        {
            w.set(name, 0).unwrap();
        }
        w
    }

    /// Whether a program uses a form of the newer grammar: a loop over an iterator, a loop
    /// under `if`, a closure, an array, a `*e`, or a sum other than the first four shapes.
    fn uses_newer(p: &Program) -> bool {
        fn expr(e: &Expr) -> bool {
            match e {
                Expr::Deref(_) => true,
                Expr::Iter(it) => {
                    let classic = match it.chain.adaptors.as_slice() {
                        [] => !matches!(it.chain.base, Base::Runs(..) | Base::Sub { .. }),
                        [Adaptor::Enumerate] => matches!(it.chain.base, Base::Iter(_)),
                        [Adaptor::Zip(o)] => {
                            matches!(it.chain.base, Base::Iter(_))
                                && matches!(o.base, Base::Bare(_))
                                && o.adaptors.is_empty()
                        }
                        _ => false,
                    };
                    match &it.map {
                        MapFn::Closure { body, .. } => !classic || expr(body),
                        _ => true,
                    }
                }
                Expr::Neg(a) => expr(a),
                Expr::Bin(_, a, b) => expr(a) || expr(b),
                Expr::If(c, a, b) => cond(c) || expr(a) || expr(b),
                Expr::Method(_, r, args) => expr(r) || args.iter().any(expr),
                Expr::Call(_, args) => args.iter().any(|a| matches!(a, Arg::Float(e) if expr(e))),
                _ => false,
            }
        }
        fn cond(c: &Cond) -> bool {
            match c {
                Cond::Float(_, a, b) => expr(a) || expr(b),
                Cond::And(a, b) | Cond::Or(a, b) => cond(a) || cond(b),
                Cond::Not(a) | Cond::Matched(a) => cond(a),
                Cond::Int(..) => false,
            }
        }
        fn stmts(body: &[Stmt]) -> bool {
            body.iter().any(|s| match s {
                Stmt::ForIter { .. }
                | Stmt::Fold { .. }
                | Stmt::Closure { .. }
                | Stmt::LetArray { .. }
                | Stmt::NewArray { .. }
                | Stmt::SetElem { .. }
                | Stmt::SplitAt { .. }
                | Stmt::Push { .. } => true,
                s if flow(s) => true,
                Stmt::Let { value, .. } | Stmt::Assign { value, .. } | Stmt::Return(value) => {
                    expr(value)
                }
                Stmt::For { body, .. } => coupled(body) || stmts(body),
                Stmt::If { cond: c, then, els } => {
                    let looped = then
                        .iter()
                        .chain(els.iter().flatten())
                        .any(|s| matches!(s, Stmt::For { .. } | Stmt::ForIter { .. }));
                    looped || cond(c) || stmts(then) || els.as_deref().is_some_and(stmts)
                }
                Stmt::LetInt { .. }
                | Stmt::SetInt { .. }
                | Stmt::Step { .. }
                | Stmt::While { .. }
                | Stmt::Loop(_)
                | Stmt::Continue
                | Stmt::Break => true,
                Stmt::LetOutputs { call, .. } => expr(call),
            })
        }
        let arrays = p
            .main
            .params
            .iter()
            .any(|q| matches!(q.ty, ParamTy::Array { .. }));
        arrays
            || p.helpers
                .iter()
                .chain([&p.main])
                .any(|f| stmts(&f.body) || expr(&f.ret))
    }

    /// Whether a loop body updates coupled state (`loops.rs`): an assignment at its level (or
    /// under its `if`s) reading another variable assigned there. The older grammar's carried
    /// variables are read only by their own updates.
    fn coupled(body: &[Stmt]) -> bool {
        fn assigned<'s>(body: &'s [Stmt], out: &mut Vec<(&'s str, &'s Expr)>) {
            for s in body {
                match s {
                    Stmt::Assign { name, value, .. } => out.push((name, value)),
                    Stmt::If { then, els, .. } => {
                        assigned(then, out);
                        assigned(els.as_deref().unwrap_or_default(), out);
                    }
                    _ => {}
                }
            }
        }
        let mut updates = Vec::new();
        assigned(body, &mut updates);
        updates.iter().any(|(name, value)| {
            let text = format!("{value:?}");
            updates
                .iter()
                .any(|(other, _)| other != name && text.contains(&format!("Var({other:?})")))
        })
    }

    /// Whether a statement is one of the control-flow forms (a counter, `while`, `loop`,
    /// `continue`, `break`), or holds one.
    fn flow(s: &Stmt) -> bool {
        match s {
            Stmt::LetInt { .. }
            | Stmt::Step { .. }
            | Stmt::While { .. }
            | Stmt::Loop(_)
            | Stmt::Continue
            | Stmt::Break => true,
            Stmt::For { body, .. } | Stmt::ForIter { body, .. } | Stmt::Fold { body, .. } => {
                body.iter().any(flow)
            }
            Stmt::If { then, els, .. } => then.iter().chain(els.iter().flatten()).any(flow),
            _ => false,
        }
    }

    fn uses_flow(p: &Program) -> bool {
        p.helpers
            .iter()
            .chain([&p.main])
            .any(|f| f.body.iter().any(flow))
    }

    /// The control-flow forms' decisions come from a third stream: a program without them is
    /// the program the grammar generates with their weights at 0 (the seeds' programs before
    /// they were added), with every other form at its default; at 0, none is used.
    /// Over programs 0 to 299 of seed 1: none generated with `off` uses what `uses` detects
    /// (`what`), and each one generated with `on` that uses none of it is the program `off`
    /// generates. How many used none, and how many used some.
    fn isolated(
        on: &Weights,
        off: &Weights,
        uses: fn(&Program) -> bool,
        what: &str,
    ) -> (usize, usize) {
        let (mut unchanged, mut using) = (0, 0);
        for id in 0..300 {
            let q = program(1, id, off);
            assert!(!uses(&q), "program {id} uses {what} at weight 0");
            let p = program(1, id, on);
            if uses(&p) {
                using += 1;
            } else {
                assert_eq!(p, q, "program {id}");
                unchanged += 1;
            }
        }
        (unchanged, using)
    }

    #[test]
    fn programs_without_control_flow_are_unchanged() {
        let all = Weights::default();
        let mut off = Weights::default();
        for name in FLOW {
            off.set(name, 0).unwrap();
        }
        let (unchanged, flowing) = isolated(&all, &off, uses_flow, "a control-flow form");
        assert!(unchanged >= 50, "{unchanged} programs without control flow");
        assert!(flowing >= 50, "{flowing} programs with control flow");
    }

    /// Whether a statement of a program's functions, at any depth of loops and `if`s, is `hit`.
    fn any_stmt(p: &Program, hit: &dyn Fn(&Stmt) -> bool) -> bool {
        fn stmts(body: &[Stmt], hit: &dyn Fn(&Stmt) -> bool) -> bool {
            body.iter().any(|s| {
                hit(s)
                    || match s {
                        Stmt::For { body, .. }
                        | Stmt::ForIter { body, .. }
                        | Stmt::Fold { body, .. }
                        | Stmt::While { body, .. }
                        | Stmt::Loop(body) => stmts(body, hit),
                        Stmt::If { then, els, .. } => {
                            stmts(then, hit) || els.as_deref().is_some_and(|e| stmts(e, hit))
                        }
                        _ => false,
                    }
            })
        }
        p.helpers
            .iter()
            .chain([&p.main])
            .any(|f| stmts(&f.body, hit))
    }

    /// Whether a program has a local array.
    fn uses_arrays(p: &Program) -> bool {
        any_stmt(p, &|s| {
            matches!(s, Stmt::NewArray { .. } | Stmt::SetElem { .. })
        })
    }

    /// Local arrays' decisions come from a fourth stream: a program without one is the program
    /// the grammar generates with their weights at 0; at 0, none is used.
    #[test]
    fn programs_without_local_arrays_are_unchanged() {
        let all = Weights::default();
        let mut off = Weights::default();
        for name in ["local_array", "local_array_loop", "carried_array"] {
            off.set(name, 0).unwrap();
        }
        let (unchanged, with) = isolated(&all, &off, uses_arrays, "a local array");
        assert!(unchanged >= 50, "{unchanged} programs without local arrays");
        assert!(with >= 50, "{with} programs with local arrays");
    }

    /// Whether a program has a buffer shape: a loop filling a local array written reversed
    /// (`for c in (lo..hi).rev() { z[c] = …; }`), a carried array started from a copy, an
    /// array added into beside one (`acc`).
    fn uses_buffer_shapes(p: &Program) -> bool {
        fn writes_at(body: &[Stmt], var: &str) -> bool {
            body.iter().any(|s| match s {
                Stmt::SetElem {
                    index: IntExpr::Var(v),
                    ..
                } => v == var,
                Stmt::If { then, els, .. } => {
                    writes_at(then, var) || els.as_deref().is_some_and(|e| writes_at(e, var))
                }
                _ => false,
            })
        }
        any_stmt(p, &|s| match s {
            Stmt::NewArray {
                init: ArrayInit::Copy { .. },
                ..
            } => true,
            Stmt::NewArray { name, .. } => name.starts_with("acc"),
            Stmt::ForIter {
                pat: Pat::Bind(var),
                chain,
                body,
            } => {
                matches!(chain.base, Base::Range(_))
                    && chain.adaptors == [Adaptor::Rev]
                    && writes_at(body, var)
            }
            _ => false,
        })
    }

    /// The buffer shapes' decisions come from a stream of their own: a program without one is
    /// the program the grammar generates with their weights at 0; at 0, none is used.
    #[test]
    fn programs_without_buffer_shapes_are_unchanged() {
        let mut on = Weights::default();
        for name in ["local_array", "local_array_loop", "carried_array"] {
            on.set(name, 6).unwrap();
        }
        let mut off = on.clone();
        for name in ["local_array_rev", "carried_array_copy", "carried_array_add"] {
            off.set(name, 0).unwrap();
        }
        let (unchanged, with) = isolated(&on, &off, uses_buffer_shapes, "a buffer shape");
        assert!(
            unchanged >= 50,
            "{unchanged} programs without buffer shapes"
        );
        assert!(with >= 20, "{with} programs with buffer shapes");
    }

    /// Whether a program has a scan: a write `z[i] = ..` reading `z[i - 1]` or `z[i + 1]`.
    fn uses_scans(p: &Program) -> bool {
        any_stmt(p, &|s| match s {
            Stmt::SetElem {
                array,
                index: IntExpr::Var(v),
                value,
                ..
            } => {
                let text = crate::print::expr(value);
                text.contains(&format!("{array}[{v} - 1]"))
                    || text.contains(&format!("{array}[{v} + 1]"))
            }
            _ => false,
        })
    }

    /// Scans' decisions come from a stream of their own, drawn only where `array_scan` is not
    /// 0: a program without one is the program the grammar generates at 0, and at 0 (the
    /// default) none is generated.
    #[test]
    fn programs_without_scans_are_unchanged() {
        let off = Weights::default();
        let mut on = off.clone();
        on.set("array_scan", 8).unwrap();
        on.set("array_scan_rev", 5).unwrap();
        let (unchanged, with) = isolated(&on, &off, uses_scans, "a scan");
        assert!(unchanged >= 20, "{unchanged} programs without scans");
        assert!(with >= 50, "{with} programs with scans");
    }

    /// Whether a program has layers × time: a write at `K * ly + j` (or another spelling of
    /// an offset, `IntExpr::Add` of a product and a variable).
    fn uses_layers(p: &Program) -> bool {
        any_stmt(p, &|s| {
            matches!(s, Stmt::SetElem { index: IntExpr::Add(a, b), .. }
                if matches!((&**a, &**b), (IntExpr::Mul(..), IntExpr::Var(_)) | (IntExpr::Var(_), IntExpr::Mul(..))))
        })
    }

    /// Layers × time's decisions come from a stream of their own, drawn only where
    /// `carried_layers` is not 0: a program without one is the program the grammar generates
    /// at 0, and at 0 (the default) none is generated.
    #[test]
    fn programs_without_layers_are_unchanged() {
        let off = Weights::default();
        let mut on = off.clone();
        on.set("carried_layers", 8).unwrap();
        let (unchanged, with) = isolated(&on, &off, uses_layers, "layers × time");
        assert!(unchanged >= 20, "{unchanged} programs without layers");
        assert!(with >= 50, "{with} programs with layers");
    }

    /// Whether a program has a nested fill (`fills.rs`: an array named `tb…`).
    fn uses_fills(p: &Program) -> bool {
        functions(p, Mode::Plain).contains("let mut tb")
    }

    /// Nested fills' decisions come from a stream of their own, drawn only where
    /// `nested_fill` is not 0: a program without one is the program the grammar generates at
    /// 0, and at 0 (the default) none is generated.
    #[test]
    fn programs_without_fills_are_unchanged() {
        let off = Weights::default();
        let mut on = off.clone();
        on.set("nested_fill", 6).unwrap();
        let (unchanged, with) = isolated(&on, &off, uses_fills, "a nested fill");
        assert!(unchanged >= 20, "{unchanged} programs without fills");
        assert!(with >= 50, "{with} programs with fills");
    }

    /// With `nested_fill` raised, tables, cubes, bound row offsets, overwrites and fills under
    /// `if` are generated.
    #[test]
    fn fills_cover_their_forms() {
        let mut w = Weights::default();
        w.set("nested_fill", 10).unwrap();
        let text: String = (0..200)
            .map(|id| functions(&program(1, id, &w), Mode::Plain))
            .collect();
        for form in [
            "[2 * (",
            ") * 2 + i",
            "[o",
            "[3 * i",
            "] = (",
            "[j",
            " as f64)",
        ] {
            assert!(text.contains(form), "never generated: {form}");
        }
    }

    /// Whether a program has a point where a size is 0.
    fn has_empty_point(p: &Program) -> bool {
        p.points
            .iter()
            .any(|pt| pt.iter().any(|v| matches!(v, Value::Size(0))))
    }

    /// The point where a size is 0 comes from a stream of its own, drawn only where
    /// `empty_loops` is not 0: the program and its other points are the same, and at 0 (the
    /// default) there is no such point.
    #[test]
    fn empty_points_leave_the_programs_unchanged() {
        let off = Weights::default();
        let mut on = off.clone();
        on.set("empty_loops", 10).unwrap();
        let (unchanged, with) = isolated(&on, &off, has_empty_point, "a point of size 0");
        assert!(with >= 200, "{with} programs with a point of size 0");
        for id in 0..50 {
            let (p, q) = (program(1, id, &on), program(1, id, &off));
            assert_eq!((&p.main, &p.helpers), (&q.main, &q.helpers), "program {id}");
            assert_eq!(p.points[..3], q.points[..], "program {id}");
        }
        let _ = unchanged;
    }

    /// Whether a program writes an index with integer `/` or `%` (`divrem.rs`).
    fn uses_div_rem(p: &Program) -> bool {
        let text = format!("{p:?}");
        text.contains("Div(") || text.contains("Rem(")
    }

    /// Indices with `/` and `%` come from a stream of their own, drawn only where
    /// `index_div_rem` is not 0: a program without one is the program the grammar generates at
    /// 0, and at 0 (the default) none is generated; layers too.
    #[test]
    fn programs_without_div_rem_are_unchanged() {
        let mut off = Weights::default();
        off.set("carried_layers", 4).unwrap();
        let mut on = off.clone();
        on.set("index_div_rem", 1).unwrap();
        let (unchanged, with) = isolated(&on, &off, uses_div_rem, "`/` or `%` in an index");
        assert!(unchanged >= 30, "{unchanged} programs without `/` or `%`");
        assert!(with >= 50, "{with} programs with `/` or `%`");
    }

    /// With `index_div_rem` raised, every form of `divrem.rs` is generated, printed the same
    /// in the oracle, and no loop writes an array with `=` at such an index.
    #[test]
    fn div_rem_covers_its_forms() {
        let mut w = Weights::default();
        for (name, v) in [
            ("index_div_rem", 8),
            ("carried_layers", 6),
            ("range_nd", 6),
            ("local_array", 6),
            ("local_array_add", 6),
        ] {
            w.set(name, v).unwrap();
        }
        let programs: Vec<Program> = (0..300).map(|id| program(1, id, &w)).collect();
        let text: String = programs.iter().map(|p| functions(p, Mode::Plain)).collect();
        let required = [
            " + 1) % n]",
            " % d]",
            " % (n * d)]",
            " / 2]",
            " / d]",
            "[d * (k / d) + k % d]",
            ") / d]",
            ") % d]",
            "% u.len()]",
            "] += ",
            " % 2]",
            "] = st",
        ];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|p| !text.contains(p))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        let oracle: String = programs
            .iter()
            .map(|p| functions(p, Mode::Oracle))
            .collect();
        for form in [" + 1) % n]", "[d * (k / d) + k % d]"] {
            assert!(oracle.contains(form), "the oracle's {form}");
        }
        let set_at = |l: &&str| {
            let Some((lhs, _)) = l.split_once("] = ") else {
                return false;
            };
            lhs.contains('[') && (lhs.contains(" % ") || lhs.contains(" / "))
        };
        let bad: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("        "))
            .filter(set_at)
            .filter(|l| !l.contains("] = st"))
            .collect();
        assert!(bad.is_empty(), "`=` at an index with `/` or `%`: {bad:?}");
        if std::env::var_os("SHOW_DIV_REM").is_some() {
            for p in programs.iter().filter(|p| uses_div_rem(p)).take(8) {
                println!("{}", functions(p, Mode::Plain));
            }
        }
    }

    /// Whether a program binds a layer's offset in a `let` (`let s = K * ly;`).
    fn uses_bound_offsets(p: &Program) -> bool {
        any_stmt(p, &|s| matches!(s, Stmt::LetInt { mutable: false, .. }))
    }

    /// Bound offsets' decisions are drawn from the layers' stream only where
    /// `layers_bound_offset` is not 0: at 0 (the default) the programs are the ones generated
    /// before it (`programs_without_layers_are_unchanged` holds with it at 0), none binds an
    /// offset, and raised, some do.
    #[test]
    fn bound_offsets_only_where_their_weight_is_not_0() {
        let mut off = Weights::default();
        off.set("carried_layers", 8).unwrap();
        let mut on = off.clone();
        on.set("layers_bound_offset", 6).unwrap();
        let count = |w: &Weights| {
            (0..300)
                .filter(|&id| uses_bound_offsets(&program(1, id, w)))
                .count()
        };
        assert_eq!(count(&off), 0);
        let with = count(&on);
        assert!(with >= 30, "{with} programs with bound offsets");
    }

    /// With `layers_bound_offset` raised, layers read and write their stretch at a bound
    /// offset, and their weights from a local array at a bound weight offset, both stretches.
    #[test]
    fn bound_offsets_cover_their_forms() {
        let mut w = Weights::default();
        w.set("carried_layers", 10).unwrap();
        w.set("layers_bound_offset", 10).unwrap();
        let programs: Vec<Program> = (0..100).map(|id| program(1, id, &w)).collect();
        let text: String = programs.iter().map(|p| functions(p, Mode::Plain)).collect();
        for form in [
            "let s",
            "let wo",
            " = 2 * 3 * ly",
            " = 2 * 2 * ly",
            ": Vec<f64> = vec![0.0; ",
            "[wo",
            " + 3 + j",
            "] = (",
            "(k",
            " as f64)",
        ] {
            assert!(text.contains(form), "never generated: {form}");
        }
        assert!(text.lines().any(|l| l.contains("[s") && l.contains("] = ")));
        assert!(text.lines().any(|l| l.contains("[j") && l.contains(" + s")));
        if std::env::var_os("SHOW_BOUND").is_some() {
            for p in programs.iter().filter(|p| uses_bound_offsets(p)).take(4) {
                println!("{}", functions(p, Mode::Plain));
            }
        }
    }

    /// With `hvp` raised, scans (forward and reversed, at `enumerate`'s count, read in their
    /// loop, a scan per row) are in programs with `hessian`, whose `H·v` is then checked.
    #[test]
    fn scans_get_hessian() {
        let mut w = Weights::default();
        for (name, v) in [
            ("array_scan", 8),
            ("array_scan_rev", 5),
            ("array_scan_enumerate", 3),
            ("array_scan_read", 4),
            ("hvp", 8),
        ] {
            w.set(name, v).unwrap();
        }
        let programs: Vec<Program> = (0..300).map(|id| program(1, id, &w)).collect();
        let with: Vec<&Program> = programs
            .iter()
            .filter(|p| p.main.hessian && p.has_scan() && uses_scans(p))
            .collect();
        assert!(
            with.len() >= 30,
            "{} programs with `hessian` and a scan",
            with.len()
        );
        let text: String = with.iter().map(|p| functions(p, Mode::Plain)).collect();
        for form in ["- 1]", "+ 1]", ".rev()", ".enumerate()", "sr"] {
            assert!(
                text.contains(form),
                "never generated with `hessian`: {form}"
            );
        }
    }

    /// Whether a program grows a `Vec` with `push`.
    fn uses_pushes(p: &Program) -> bool {
        any_stmt(p, &|s| matches!(s, Stmt::Push { .. }))
    }

    /// Pushes' decisions come from a stream of their own, drawn only where `buffer_push` is not
    /// 0: a program without one is the program the grammar generates at 0, and at 0 (the
    /// default) none is generated.
    #[test]
    fn programs_without_pushes_are_unchanged() {
        let off = Weights::default();
        let mut on = off.clone();
        on.set("buffer_push", 8).unwrap();
        let (unchanged, with) = isolated(&on, &off, uses_pushes, "a push");
        assert!(unchanged >= 20, "{unchanged} programs without pushes");
        assert!(with >= 50, "{with} programs with pushes");
    }

    /// With `buffer_push` raised, every form of `pushes.rs` is generated, in both printings,
    /// and no function pushing gets `hessian`.
    #[test]
    fn pushes_cover_their_forms() {
        let mut w = Weights::default();
        w.set("buffer_push", 10).unwrap();
        w.set("helper_slice", 6).unwrap();
        w.set("hvp", 10).unwrap();
        let programs: Vec<Program> = (0..300).map(|id| program(1, id, &w)).collect();
        let text: String = programs.iter().map(|p| functions(p, Mode::Plain)).collect();
        let required = [
            " = Vec::new();",
            " = Vec::with_capacity(n);",
            " = Vec::with_capacity(",
            ": Vec<f64> = Vec::",
            ".push(",
            "in 1..n {\n",
            "for &e",
            "(pv",
            ".len() as f64)",
            ".iter().sum::<f64>()",
            "(&pv",
            "        let mut pv",
        ];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|p| !text.contains(p))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        let oracle: String = programs
            .iter()
            .map(|p| functions(p, Mode::Oracle))
            .collect();
        assert!(
            oracle.contains(": Vec<D> = Vec::"),
            "the oracle's typed `Vec`"
        );
        let pushing_hessian = programs.iter().any(|p| {
            p.helpers.iter().chain([&p.main]).any(|f| {
                let alone = Program {
                    helpers: Vec::new(),
                    main: f.clone(),
                    ..p.clone()
                };
                f.hessian && uses_pushes(&alone)
            })
        });
        assert!(!pushing_hessian, "`hessian` on a function that pushes");
        if std::env::var_os("SHOW_PUSHES").is_some() {
            for p in programs.iter().filter(|p| uses_pushes(p)).take(8) {
                println!("{}", functions(p, Mode::Plain));
            }
        }
    }

    /// Whether a program splits a slice with `split_at`, or copies a run of one
    /// (`x[k..].to_vec()`).
    fn uses_splits(p: &Program) -> bool {
        any_stmt(p, &|s| {
            matches!(
                s,
                Stmt::SplitAt { .. }
                    | Stmt::NewArray {
                        init: ArrayInit::Run { .. },
                        ..
                    }
            )
        })
    }

    /// Splits' decisions come from a stream of their own, drawn only where `split_at` is not
    /// 0: a program without one is the program the grammar generates at 0, and at 0 (the
    /// default) none is generated.
    #[test]
    fn programs_without_splits_are_unchanged() {
        let off = Weights::default();
        let mut on = off.clone();
        on.set("split_at", 8).unwrap();
        let (unchanged, with) = isolated(&on, &off, uses_splits, "a split");
        assert!(unchanged >= 20, "{unchanged} programs without splits");
        assert!(with >= 50, "{with} programs with splits");
    }

    /// With `split_at` raised, every form of `splits.rs` is generated: splits of slices,
    /// arrays and pushed buffers, at literals, sizes and lengths; the runs read at indices,
    /// summed, zipped, measured and passed to a helper bare.
    #[test]
    fn splits_cover_their_forms() {
        let mut w = Weights::default();
        w.set("split_at", 10).unwrap();
        w.set("buffer_push", 4).unwrap();
        w.set("helper_slice", 6).unwrap();
        w.set("array_param", 5).unwrap();
        let programs: Vec<Program> = (0..300).map(|id| program(1, id, &w)).collect();
        let text: String = programs.iter().map(|p| functions(p, Mode::Plain)).collect();
        let required = [
            "= z.split_at(n);",
            "= z.split_at(1);",
            "= x.split_at(d);",
            ".split_at(0);",
            ".len());",
            "= p.split_at(",
            "= q.split_at(",
            "= pv",
            "(sa",
            "(sb",
            ".iter().zip(sb",
            "dot(sa",
            "..].to_vec();",
            "[..n].to_vec();",
        ];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|p| !text.contains(p))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        // A run passed to a helper is one of a local array or of a parameter the function
        // differentiates.
        for p in &programs {
            let text = crate::print::function(&p.main, Mode::Plain);
            for line in text.lines().filter(|l| l.contains("= dot(s")) {
                let run = line
                    .split("dot(")
                    .nth(1)
                    .and_then(|r| r.split([',', ')']).next());
                let split = text.lines().find(|l| {
                    run.is_some_and(|r| {
                        l.contains(&format!("{r},")) || l.contains(&format!(", {r})"))
                    }) && l.contains(".split_at(")
                });
                let of = split.and_then(|l| l.split(" = ").nth(1)?.split('.').next());
                let differentiated = p.main.differentiated();
                let param = p.main.params.iter().any(|q| Some(q.name.as_str()) == of);
                assert!(
                    !param || differentiated.iter().any(|q| Some(q.name.as_str()) == of),
                    "program {}: {line} of {of:?}",
                    p.id
                );
            }
        }
        if std::env::var_os("SHOW_SPLITS").is_some() {
            for p in programs.iter().filter(|p| uses_splits(p)).take(8) {
                println!("{}", functions(p, Mode::Plain));
            }
        }
    }

    /// The newer forms' decisions come from a stream of their own: a program that uses none of
    /// them is the program the grammar without them generates (the older seeds' programs
    /// are still generated), and with their weights at 0 none is used.
    #[test]
    fn programs_without_the_newer_forms_are_unchanged() {
        let (all, old) = (Weights::default(), without_newer_forms());
        let (unchanged, _) = isolated(&all, &old, uses_newer, "a newer form");
        assert!(
            unchanged >= 10,
            "{unchanged} programs without the newer forms"
        );
    }

    /// The weights of runs passed to helpers and of vector-valued functions (`vector.rs`).
    const VECTOR: [&str; 4] = [
        "call_sub_slice",
        "helper_vector",
        "helper_vector_slice",
        "vector_main",
    ];

    /// Whether a program passes a run or has a vector-valued function.
    fn uses_vector(p: &Program) -> bool {
        p.main.outputs().is_some()
            || p.helpers.iter().any(|h| h.outputs().is_some())
            || format!("{p:?}").contains("Run {")
    }

    /// Their decisions come from a fourth stream, drawn only where their weight is not zero: at
    /// zero (the default) none is used, and with them raised a program that uses none of them
    /// is the program the grammar without them generates.
    #[test]
    fn programs_without_runs_or_vectors_are_unchanged() {
        let off = Weights::default();
        let mut on = Weights::default();
        for name in VECTOR {
            assert_eq!(
                off.table().iter().find(|(n, _)| *n == name).map(|e| e.1),
                Some(0)
            );
            on.set(name, 5).unwrap();
        }
        let (unchanged, using) = isolated(&on, &off, uses_vector, "a run or a vector");
        assert!(unchanged >= 50, "{unchanged} programs without them");
        assert!(using >= 50, "{using} programs with them");
    }

    /// Vector-valued helpers spelled as tuples, and their callers reading tuples; the oracle
    /// keeps the arrays.
    #[test]
    fn tuple_helpers_are_generated() {
        let mut w = Weights::default();
        w.set("helper_vector", 6).unwrap();
        let programs: Vec<Program> = (0..300).map(|id| program(1, id, &w)).collect();
        let text: String = programs.iter().map(|p| functions(p, Mode::Plain)).collect();
        for form in [
            "-> (f64, f64) {",
            "-> (f64, f64, f64) {",
            "let (r",
            ").1",
            "return (",
        ] {
            assert!(text.contains(form), "never generated: {form}");
        }
        let oracle: String = programs
            .iter()
            .map(|p| functions(p, Mode::Oracle))
            .collect();
        assert!(!oracle.contains("-> (D"), "the oracle returns arrays");
    }

    /// With their weights raised, every form is generated.
    #[test]
    fn runs_and_vectors_are_generated() {
        let mut w = Weights::default();
        for name in VECTOR {
            w.set(name, 5).unwrap();
        }
        let text: String = (0..300)
            .map(|id| functions(&program(1, id, &w), Mode::Plain))
            .collect();
        let required = [
            "-> [f64; 2] {",
            "-> [f64; 3] {",
            "-> [f64; 1] {",
            "pub fn r(a: f64, b: f64)",
            "pub fn r(u: &[f64], b: f64)",
            "let [r",
            ")[0]",
            "return [",
            "[1..]",
            "..=",
            ".len() - 1]",
            " * d..(",
        ];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|p| !text.contains(p))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        // A vector-valued main function passes its slices on, to both helpers.
        let passes = |helper: &str| {
            (0..300).any(|id| {
                let p = program(1, id, &w);
                let text = functions(&p, Mode::Plain);
                let start = format!("fn p{id}(");
                p.main.outputs().is_some()
                    && text
                        .split(&start)
                        .nth(1)
                        .and_then(|m| m.split("\npub fn ").next())
                        .is_some_and(|m| m.contains(helper))
            })
        };
        assert!(passes("dot("), "no vector-valued main function calls `dot`");
        assert!(
            passes("r(&"),
            "no vector-valued main function passes a run to `r`"
        );
    }

    /// The weights that pass local arrays to helpers (`local_args.rs`), with helpers taking
    /// slices more often.
    fn with_local_args() -> Weights {
        let mut w = Weights::default();
        for (name, v) in [
            ("helper_local_array", 8),
            ("helper_slice", 6),
            ("helper_vector", 5),
            ("helper_vector_slice", 6),
            ("vector_main", 3),
        ] {
            w.set(name, v).unwrap();
        }
        w
    }

    /// Their decisions come from a stream of their own, drawn only where the weight is not
    /// zero: at zero (the default) no program passes a local array to a helper, and with it
    /// raised one that passes none is the program the grammar without it generates.
    #[test]
    fn programs_without_local_array_arguments_are_unchanged() {
        let on = with_local_args();
        let mut off = on.clone();
        off.set("helper_local_array", 0).unwrap();
        let uses = |p: &Program| p.main.passes_local_array();
        let (unchanged, using) = isolated(&on, &off, uses, "a local array passed to a helper");
        assert!(unchanged >= 50, "{unchanged} programs without them");
        assert!(using >= 50, "{using} programs with them");
    }

    /// With the weight raised, every form is generated: arrays written in the call, named ones
    /// built from a literal, element by element and by a loop, a vector-valued helper's outputs
    /// handed on, to both helpers, from scalar and vector-valued callers, and with `hessian`.
    #[test]
    fn local_arrays_are_passed_to_helpers() {
        let mut w = with_local_args();
        w.set("hvp", 8).unwrap();
        let programs: Vec<Program> = (0..300).map(|id| program(1, id, &w)).collect();
        let text: String = programs.iter().map(|p| functions(p, Mode::Plain)).collect();
        let required = [
            "(&[",
            ", &[",
            "(&la",
            ", &la",
            "(&zs",
            "let la",
            "let mut la",
            "= vec![0.0; ",
            "] = ",
            "..la",
            "let rv",
            "&[rv",
            "&[r",
            "dot(&",
            "r(&",
        ];
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|p| !text.contains(p))
            .collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        let count = |f: &dyn Fn(&Program) -> bool| programs.iter().filter(|p| f(p)).count();
        let vector = count(&|p| p.main.outputs().is_some() && p.main.passes_local_array());
        let hessian = count(&|p| p.main.hessian && p.main.passes_local_array());
        assert!(
            vector >= 5,
            "{vector} vector-valued callers pass a local array"
        );
        assert!(
            hessian >= 5,
            "{hessian} callers with `hessian` pass a local array"
        );
        if std::env::var_os("SHOW_LOCAL_ARGS").is_some() {
            for p in programs
                .iter()
                .filter(|p| p.main.passes_local_array())
                .take(12)
            {
                println!("{}", functions(p, Mode::Plain));
            }
        }
    }

    #[test]
    fn programs_are_small_to_medium() {
        let w = Weights::default();
        let lines: Vec<usize> = (0..200)
            .map(|id| functions(&program(1, id, &w), Mode::Plain).lines().count())
            .collect();
        let mean = lines.iter().sum::<usize>() / lines.len();
        assert!((8..=60).contains(&mean), "mean {mean} lines");
    }
}
