//! The program AST: exactly the subset of Rust the generator writes, so that printing is
//! mechanical and the same tree prints as plain `f64` code and as the dual-number oracle.

/// A size that slice lengths and loop bounds are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// The `n: usize` parameter.
    N,
    /// The `d: usize` parameter.
    D,
    /// `n * d` (a row-major `n × d` matrix).
    Nd,
    /// A helper's common slice length (`u.len()` of its first slice parameter).
    L,
    /// An array parameter's length, `K` of `[f64; K]`.
    Fixed(usize),
    /// The length of a run bound by a pattern (a window or chunk `r`: `r.len()`), by its number.
    View(usize),
}

/// A slice length: `dim + plus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// The size it is made of.
    pub dim: Dim,
    /// The extra elements (`z` of length `n + 1` has `plus = 1`).
    pub plus: usize,
}

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamTy {
    /// `usize`: the size `Dim::N` or `Dim::D`.
    Size(Dim),
    /// `&[f64]` of the given length.
    Slice(Extent),
    /// `[f64; len]`, or `&[f64; len]` when `by_ref`.
    Array {
        /// Its length.
        len: usize,
        /// Passed by reference.
        by_ref: bool,
    },
    /// `f64`.
    Scalar,
}

/// A function parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: ParamTy,
}

/// An integer (`usize`) expression: indices and loop bounds.
#[derive(Debug, Clone, PartialEq)]
pub enum IntExpr {
    /// A loop variable or a size parameter.
    Var(String),
    /// A literal.
    Const(usize),
    /// `x.len()`.
    Len(String),
    /// `a + b`.
    Add(Box<IntExpr>, Box<IntExpr>),
    /// `a - b` (the generator proves it does not underflow).
    Sub(Box<IntExpr>, Box<IntExpr>),
    /// `a * b`.
    Mul(Box<IntExpr>, Box<IntExpr>),
    /// `a / b`, integer division (the generator keeps `b` a size or a literal, never 0).
    Div(Box<IntExpr>, Box<IntExpr>),
    /// `a % b`, the remainder (`b` a size or a literal, never 0).
    Rem(Box<IntExpr>, Box<IntExpr>),
}

/// A binary float operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// A float method, printed `recv.name(args)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `exp()`
    Exp,
    /// `ln()`
    Ln,
    /// `sin()`
    Sin,
    /// `cos()`
    Cos,
    /// `tanh()`
    Tanh,
    /// `sqrt()`
    Sqrt,
    /// `cbrt()`
    Cbrt,
    /// `atan()`
    Atan,
    /// `sinh()`
    Sinh,
    /// `exp_m1()`
    ExpM1,
    /// `ln_1p()`
    Ln1p,
    /// `abs()`
    Abs,
    /// `recip()`
    Recip,
    /// `powi(k)`
    Powi(i32),
    /// `powf(y)`
    Powf,
    /// `max(y)`
    Max,
    /// `min(y)`
    Min,
    /// `hypot(y)`
    Hypot,
    /// `mul_add(a, b)`
    MulAdd,
}

impl Method {
    /// The method's name in Rust.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Method::Exp => "exp",
            Method::Ln => "ln",
            Method::Sin => "sin",
            Method::Cos => "cos",
            Method::Tanh => "tanh",
            Method::Sqrt => "sqrt",
            Method::Cbrt => "cbrt",
            Method::Atan => "atan",
            Method::Sinh => "sinh",
            Method::ExpM1 => "exp_m1",
            Method::Ln1p => "ln_1p",
            Method::Abs => "abs",
            Method::Recip => "recip",
            Method::Powi(_) => "powi",
            Method::Powf => "powf",
            Method::Max => "max",
            Method::Min => "min",
            Method::Hypot => "hypot",
            Method::MulAdd => "mul_add",
        }
    }
}

/// A call argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A float expression.
    Float(Expr),
    /// A slice parameter passed whole.
    Slice(String),
    /// A run of a slice parameter: `&x[a..b]`, `&x[k..]`, `&x[..b]`, `&x[a..=b]`.
    Run {
        /// The slice.
        slice: String,
        /// The first index, if any.
        start: Option<IntExpr>,
        /// The end, if any: one past the last index, or the last with `inclusive`.
        end: Option<IntExpr>,
        /// `a..=b`.
        inclusive: bool,
    },
    /// A local array passed whole, `&z` (the `helper_local_array` weight).
    LocalArray(String),
    /// A run of a local array from an index on, `&z[k..]` (`&z[..]` for 0; the
    /// `helper_local_run` weight).
    LocalRun(String, usize),
    /// An array written in the call, `&[e0, e1, ..]` (the `helper_local_array` weight).
    ArrayLit(Vec<Expr>),
}

/// A float expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A literal (printed `1.5`, or `cst(1.5)` in the oracle).
    Lit(f64),
    /// `f64::NEG_INFINITY`.
    NegInf,
    /// A float parameter or local (a `&f64` binding used as an operand or receiver, bare).
    Var(String),
    /// `*v` of a `&f64` binding.
    Deref(String),
    /// `x[i]`.
    Index(String, IntExpr),
    /// `(i as f64)`.
    Cast(IntExpr),
    /// `-e`.
    Neg(Box<Expr>),
    /// `a op b`.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `recv.method(args)`.
    Method(Method, Box<Expr>, Vec<Expr>),
    /// A call to a helper function.
    Call(String, Vec<Arg>),
    /// `if cond { a } else { b }`.
    If(Box<Cond>, Box<Expr>, Box<Expr>),
    /// An iterator sum or product.
    Iter(Box<IterExpr>),
    /// `[a, b, ..]`: the value of a vector-valued function (its final expression, or after
    /// `return`), nowhere else.
    Array(Vec<Expr>),
    /// `r(..)[k]`: output `k` of a call of a vector-valued helper.
    Output(Box<Expr>, usize),
}

/// `chain.map(f).sum::<f64>()` (or `.product::<f64>()`).
#[derive(Debug, Clone, PartialEq)]
pub struct IterExpr {
    /// What is iterated.
    pub chain: Chain,
    /// What each item is mapped to.
    pub map: MapFn,
    /// `.product()` rather than `.sum()`.
    pub product: bool,
}

/// The mapping of an [`IterExpr`]'s items.
#[derive(Debug, Clone, PartialEq)]
pub enum MapFn {
    /// `.map(|pat| body)`.
    Closure {
        /// The closure's pattern.
        pat: Pat,
        /// The closure's body.
        body: Expr,
    },
    /// `.map(f)` of a closure bound by `let`.
    Named(String),
    /// No `map`: the items are floats (`x.iter().sum::<f64>()`).
    Items,
}

/// An iterator: a base and its adaptors, `x.iter().skip(1).rev()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// Where the items come from.
    pub base: Base,
    /// The adaptors, in order.
    pub adaptors: Vec<Adaptor>,
}

/// The start of a [`Chain`].
#[derive(Debug, Clone, PartialEq)]
pub enum Base {
    /// `(start..end)` (parenthesized when adapted).
    Range(Range),
    /// `x` itself (`for &v in x`, `.zip(y)`).
    Bare(String),
    /// `x.iter()`.
    Iter(String),
    /// `&z` of a local array (`for &v in &z`).
    Borrow(String),
    /// `x[start..end].iter()`, either bound left out.
    Sub {
        /// The slice.
        slice: String,
        /// The first index, if any.
        start: Option<IntExpr>,
        /// One past the last index, if any.
        end: Option<IntExpr>,
    },
    /// `x.windows(k)`, `x.chunks(k)`, `x.chunks_exact(k)`.
    Runs(RunKind, String, IntExpr),
}

/// How a slice is cut into runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// `windows(k)`: every run of `k` consecutive elements.
    Windows,
    /// `chunks(k)`: runs of `k`, the last one shorter.
    Chunks,
    /// `chunks_exact(k)`: runs of `k`, the rest left out.
    ChunksExact,
}

impl RunKind {
    /// The method's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RunKind::Windows => "windows",
            RunKind::Chunks => "chunks",
            RunKind::ChunksExact => "chunks_exact",
        }
    }
}

/// An iterator adaptor.
#[derive(Debug, Clone, PartialEq)]
pub enum Adaptor {
    /// `.skip(k)`
    Skip(IntExpr),
    /// `.take(k)`
    Take(IntExpr),
    /// `.step_by(k)`, `k >= 1`
    StepBy(IntExpr),
    /// `.rev()`
    Rev,
    /// `.enumerate()`
    Enumerate,
    /// `.copied()`
    Copied,
    /// `.zip(other)`
    Zip(Box<Chain>),
}

/// A pattern binding an iterator's item.
#[derive(Debug, Clone, PartialEq)]
pub enum Pat {
    /// `name`.
    Bind(String),
    /// `&name` (a `&f64` item, bound by value).
    Deref(String),
    /// `_`.
    Wild,
    /// `(a, b)`.
    Pair(Box<Pat>, Box<Pat>),
}

/// A closure parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ClosureParam {
    /// Its name.
    pub name: String,
    /// `&f64` rather than `f64`.
    pub by_ref: bool,
}

impl Expr {
    /// `a op b`.
    #[must_use]
    pub fn bin(op: BinOp, a: Expr, b: Expr) -> Self {
        Expr::Bin(op, Box::new(a), Box::new(b))
    }

    /// `-a`.
    #[must_use]
    pub fn negate(a: Expr) -> Self {
        Expr::Neg(Box::new(a))
    }

    /// `recv.m(args)`.
    #[must_use]
    pub fn method(m: Method, recv: Expr, args: Vec<Expr>) -> Self {
        Expr::Method(m, Box::new(recv), args)
    }

    /// `if c { a } else { b }`.
    #[must_use]
    pub fn if_else(c: Cond, a: Expr, b: Expr) -> Self {
        Expr::If(Box::new(c), Box::new(a), Box::new(b))
    }

    /// The variable `name`.
    #[must_use]
    pub fn var(name: &str) -> Self {
        Expr::Var(name.into())
    }
}

impl IntExpr {
    /// `a + b`.
    #[must_use]
    pub fn plus(a: IntExpr, b: IntExpr) -> Self {
        IntExpr::Add(Box::new(a), Box::new(b))
    }

    /// `a - b`.
    #[must_use]
    pub fn minus(a: IntExpr, b: IntExpr) -> Self {
        IntExpr::Sub(Box::new(a), Box::new(b))
    }

    /// `a * b`.
    #[must_use]
    pub fn times(a: IntExpr, b: IntExpr) -> Self {
        IntExpr::Mul(Box::new(a), Box::new(b))
    }

    /// `a / b`.
    #[must_use]
    pub fn over(a: IntExpr, b: IntExpr) -> Self {
        IntExpr::Div(Box::new(a), Box::new(b))
    }

    /// `a % b`.
    #[must_use]
    pub fn modulo(a: IntExpr, b: IntExpr) -> Self {
        IntExpr::Rem(Box::new(a), Box::new(b))
    }
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// A comparison of floats.
    Float(CmpOp, Expr, Expr),
    /// A comparison of integers.
    Int(CmpOp, IntExpr, IntExpr),
    /// `a && b`.
    And(Box<Cond>, Box<Cond>),
    /// `a || b`.
    Or(Box<Cond>, Box<Cond>),
    /// `!a`.
    Not(Box<Cond>),
    /// `a`, written as a `match` on a tuple of its comparisons (the weight `match_tuple`): `if
    /// i < 2 && x[i] > 0.5 { p } else { q }` as `match (i, x[i] > 0.5) { (..2, true) => p, _ =>
    /// q }`, an `||` as `|` of tuple patterns; elsewhere than an `if`'s condition, `(match … {
    /// … => true, _ => false })`.
    Matched(Box<Cond>),
}

/// A compound or plain assignment operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Set,
    /// `+=`
    Add,
    /// `-=`
    Sub,
    /// `*=`
    Mul,
    /// `/=`
    Div,
}

/// A `for` loop's range `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// The first index.
    pub start: IntExpr,
    /// One past the last index.
    pub end: IntExpr,
}

/// A statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `let [mut] name = value;`
    Let {
        /// The new variable.
        name: String,
        /// Whether it is `let mut`.
        mutable: bool,
        /// Its initial value.
        value: Expr,
    },
    /// `name op value;`
    Assign {
        /// The assigned variable.
        name: String,
        /// `=`, `+=`, ...
        op: AssignOp,
        /// The right-hand side.
        value: Expr,
    },
    /// `for pat in chain { body }`
    ForIter {
        /// The pattern of each item.
        pat: Pat,
        /// The iterator.
        chain: Chain,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `let name = [move] |params| body;`
    Closure {
        /// The closure's name.
        name: String,
        /// A `move` closure.
        moved: bool,
        /// Its parameters (typed `f64` or `&f64`).
        params: Vec<ClosureParam>,
        /// Its body.
        body: Expr,
    },
    /// `let [a, b, ..] = *p;` of an array parameter.
    LetArray {
        /// The bound names, in order (`None`: `_`).
        names: Vec<Option<String>>,
        /// Where `..` stands among them, if anywhere.
        rest: Option<usize>,
        /// The array parameter.
        array: String,
        /// `*p` (the parameter is `&[f64; K]`).
        deref: bool,
    },
    /// `let (mut m1, mut m2, ..) = (range).fold((init1, init2, ..), |(mut m1, mut m2, ..), var|
    /// { body (m1, m2, ..) });`: coupled state written as a fold to a tuple (the weight
    /// `fold_tuple`), the loop `let mut m1 = init1; …; for var in range { body }`.
    Fold {
        /// The accumulators and their initial values.
        members: Vec<(String, Expr)>,
        /// The loop's index.
        var: String,
        /// Its range.
        range: Range,
        /// The body, which assigns the accumulators.
        body: Vec<Stmt>,
    },
    /// `for var in range { body }`
    For {
        /// The loop variable.
        var: String,
        /// Its range.
        range: Range,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `if cond { then } [else { els }]`
    If {
        /// The condition.
        cond: Cond,
        /// The taken branch.
        then: Vec<Stmt>,
        /// The other branch, if any.
        els: Option<Vec<Stmt>>,
    },
    /// `return value;`
    Return(Expr),
    /// `let mut name = value;` of an integer counter, or `let name = value;` of an offset
    /// (`let s = 3 * ly;`) when not `mutable`.
    LetInt {
        /// The counter.
        name: String,
        /// Whether it is a counter (`let mut`), not a bound offset.
        mutable: bool,
        /// Its first value.
        value: IntExpr,
    },
    /// `name += by;` (`-=` when `down`), or `name = name + by;` when `spelled`: a counter's
    /// step.
    Step {
        /// The counter.
        name: String,
        /// The amount.
        by: IntExpr,
        /// Subtracted rather than added.
        down: bool,
        /// Written `name = name + by`.
        spelled: bool,
    },
    /// `name = value;` of an integer declared before the loop, in the branch of its `break`
    /// (`if c { at = i; break; }`, the `break_found` weight).
    SetInt {
        /// The integer.
        name: String,
        /// Its new value.
        value: IntExpr,
    },
    /// `while cond { body }`
    While {
        /// The condition (on a counter the body steps).
        cond: Cond,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `loop { body }` (the body ends with `if .. { break; }`).
    Loop(Vec<Stmt>),
    /// `let [a, b] = r(..);`: the outputs of a vector-valued helper's call, bound by name.
    LetOutputs {
        /// The names, one per output.
        names: Vec<String>,
        /// The call.
        call: Expr,
    },
    /// `continue;`
    Continue,
    /// `break;`
    Break,
    /// `let [mut] name[: ty] = init;` of a local array (`gen/arrays.rs`).
    NewArray {
        /// The array.
        name: String,
        /// Whether it is `let mut`.
        mutable: bool,
        /// `vec![..]` rather than `[..]`.
        vec: bool,
        /// Written `: Vec<f64>` or `: [f64; K]`.
        typed: bool,
        /// Its elements.
        init: ArrayInit,
    },
    /// `array[index] op value;` of a local array.
    SetElem {
        /// The array.
        array: String,
        /// The element.
        index: IntExpr,
        /// `=`, `+=`, ...
        op: AssignOp,
        /// The right-hand side.
        value: Expr,
    },
    /// `let (left, right) = of.split_at(at);` of a slice, an array or a local array
    /// (`gen/splits.rs`).
    SplitAt {
        /// The first `at` elements' name.
        left: String,
        /// The rest's name.
        right: String,
        /// What is split.
        of: String,
        /// Where.
        at: IntExpr,
    },
    /// `array.push(value);` of a local `Vec` (`gen/pushes.rs`).
    Push {
        /// The array.
        array: String,
        /// The element appended.
        value: Expr,
    },
}

/// The elements of a new local array.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayInit {
    /// `vec![value; len]`, or `[value; len]` (`len` a literal).
    Repeat {
        /// Every element.
        value: Expr,
        /// How many.
        len: IntExpr,
    },
    /// `vec![a, b, c]` or `[a, b, c]`.
    List(Vec<Expr>),
    /// `of[..len].to_vec()` of a slice at least `len` long, or `of.clone()` of a local `Vec`
    /// (`len` `None`): printed without `vec!`.
    Copy {
        /// The slice or local array copied.
        of: String,
        /// How many of its first elements, for a slice.
        len: Option<usize>,
    },
    /// `of[start..].to_vec()` or `of[..end].to_vec()` of a slice, an array or a local array
    /// (`gen/splits.rs`): printed without `vec!`.
    Run {
        /// The slice copied from.
        of: String,
        /// The first index, if any.
        start: Option<IntExpr>,
        /// One past the last index, if any.
        end: Option<IntExpr>,
    },
    /// `if cond { then } else { other }` of two of the forms above of one length (`vec![..]`s,
    /// or `[..]`s), the `local_array_chosen` weight: the macro builds it element by element.
    Chosen {
        /// The condition.
        cond: Cond,
        /// The array where it holds.
        then: Box<ArrayInit>,
        /// The array where it does not.
        other: Box<ArrayInit>,
    },
    /// `Vec::new()`, or `Vec::with_capacity(capacity)`: empty, grown by [`Stmt::Push`].
    Empty {
        /// The capacity asked for, if any.
        capacity: Option<IntExpr>,
    },
}

/// The spellings a main function is printed in (each drawn from a weight of its own on a stream
/// of its own); the oracle is printed plain.
#[derive(Debug, Clone, PartialEq, Default)]
#[allow(clippy::struct_excessive_bools)] // independent print flags
pub struct Spellings {
    /// Loops writing a local array at their index printed over the elements `iter_mut` lends
    /// where they can (`for (c, z_c) in z.iter_mut().enumerate() { *z_c = ..; }`, the
    /// `lent_elements` weight); the oracle keeps the index loops.
    pub lent_elements: bool,
    /// Loops over an iterator whose body starts with a `let` of the item printed over the item
    /// mapped where they can (`for v in x.iter().map(|&e| e * w) { .. }` for `for &e in x.iter()
    /// { let v = e * w; .. }`, the `mapped_items` weight); the oracle keeps the `let`.
    pub mapped_items: bool,
    /// A vector-valued function printed with its outputs written into a local array returned by
    /// its name (`let mut outs = [0.0; M]; outs[0] = e0; … outs`, the `outputs_local` weight);
    /// the oracle returns `[e0, e1, ..]`.
    pub outputs_local: bool,
    /// Loops and iterator sums over a slice parameter's adaptor-free `x.iter()` printed over its
    /// halves chained (`x[..x.len() / 2].iter().chain(&x[x.len() / 2..])`, the `chained_halves`
    /// weight; not for a loop that breaks); the oracle keeps `x.iter()`.
    pub chained_halves: bool,
    /// Each `split_at` printed as two `let`s of runs (`let a = &x[..k]; let b = &x[k..];`, the
    /// `split_as_lets` weight); the oracle keeps `split_at`.
    pub split_lets: bool,
    /// Loops filling a new array of zeros at their index (`z[c] = e`, the array mentioned
    /// nowhere else in the body) printed two elements an iteration at strided indices (`for sk in
    /// 0..(n + 1) / 2 { if 2 * sk < n { let c = 2 * sk; ..; z[2 * sk] = e; } if 2 * sk + 1 < n {
    /// .. } }`, the `strided_fills` weight); the oracle keeps the loop.
    pub strided_fills: bool,
    /// Loops whose body starts with `if c { continue; }`, and sums whose map is `if c { e } else
    /// { 0.0 }`, printed with `filter` (`for p in chain.filter(|&p| !(c))`, `.filter(|&p|
    /// c).map(|p| e)`, the `filters` weight); the oracle keeps the `if`s.
    pub filters: bool,
    /// Mapped iterator sums and products printed as the folds they are (`.map(|p| e).fold(0.0,
    /// |facc, fv| facc + fv)`, the `folded_sums` weight); the oracle keeps `sum`.
    pub folded_sums: bool,
    /// One read in 3 of a slice parameter's element printed through an `Option` (`(if let
    /// Some(&v) = x.get(i) { v } else { 0.0 })`, `first()`, `last()`: the `option_reads` weight);
    /// the oracle reads `x[i]`.
    pub option_reads: bool,
    /// Two `let`s of floats in a row, the second not reading the first, printed as one array
    /// pattern (`let [a, b] = [ea, eb];`, the `array_lets` weight); the oracle keeps the `let`s.
    pub array_lets: bool,
}

/// A function `fn name(params) -> f64 { body; ret }`, or `-> [f64; M]` when `ret` is an
/// [`Expr::Array`] of `M` outputs.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::struct_excessive_bools)] // independent flags, each drawn from a weight of its own
pub struct Func {
    /// Its name.
    pub name: String,
    /// Its parameters, in order.
    pub params: Vec<Param>,
    /// `Some(names)` for `#[differentiable(wrt(names))]`.
    pub wrt: Option<Vec<String>>,
    /// `hessian` in the attribute: `_hvp` is checked too (the `hvp` weight).
    pub hessian: bool,
    /// Other spellings of the same program the plain printing uses (the oracle keeps the
    /// plain one).
    pub spellings: Spellings,
    /// `Some(K)` for `checkpoint = K` in the attribute.
    pub checkpoint: Option<usize>,
    /// The statements.
    pub body: Vec<Stmt>,
    /// The final expression.
    pub ret: Expr,
    /// A vector-valued function printed as `-> Vec<f64>`, its outputs as
    /// `(0..M).map(|__o| if __o == 0 { e0 } else if … { e1 } else { e2 }).collect()` (the
    /// `vector_main_vec` weight); the oracle still returns `[D; M]`.
    pub vec_return: bool,
    /// A vector-valued helper printed as `-> (f64, f64)`, its outputs and early returns as
    /// tuples, its callers reading it as `let (r1, r2) = r(..);` and `r(..).k` (the
    /// `helper_vector_tuple` weight); the oracle still returns `[D; M]`.
    pub tuple_return: bool,
}

impl Func {
    /// Whether the function passes a local array to a helper (`&z`, `&[a, b]`: the
    /// `helper_local_array` weight; the run's statistics count such programs).
    #[must_use]
    pub fn passes_local_array(&self) -> bool {
        let text = format!("{self:?}");
        text.contains("LocalArray(") || text.contains("LocalRun(") || text.contains("ArrayLit(")
    }

    /// Whether the function writes a scan (`z[i] = f(z[i - 1])`, the `array_scan` weight; the
    /// run's statistics count such programs with `hessian`).
    #[must_use]
    pub fn writes_scan(&self) -> bool {
        format!("{:?}", self.body).contains("SetElem { array: \"zs")
    }

    /// How many outputs a vector-valued function has (`None`: a scalar function).
    #[must_use]
    pub fn outputs(&self) -> Option<usize> {
        match &self.ret {
            Expr::Array(items) => Some(items.len()),
            _ => None,
        }
    }

    /// The parameters the gradient has a field for, in declaration order.
    #[must_use]
    pub fn differentiated(&self) -> Vec<&Param> {
        self.params
            .iter()
            .filter(|p| {
                matches!(
                    p.ty,
                    ParamTy::Slice(_) | ParamTy::Array { .. } | ParamTy::Scalar
                )
            })
            .filter(|p| self.wrt.as_ref().is_none_or(|w| w.contains(&p.name)))
            .collect()
    }
}

/// One argument value of an input point.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A size.
    Size(usize),
    /// A float.
    Scalar(f64),
    /// A slice's or an array's elements.
    Slice(Vec<f64>),
}

/// An input point: one value per parameter of the main function, in order.
pub type Point = Vec<Value>;

/// A generated program: helpers first, then the main function, and the points to check it at.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// Its number within the run (`p17` has id 17).
    pub id: u64,
    /// Helper functions the main function may call.
    pub helpers: Vec<Func>,
    /// The function under test.
    pub main: Func,
    /// The inputs.
    pub points: Vec<Point>,
}

impl Program {
    /// The module, file and main-function name, `p<id>`.
    #[must_use]
    pub fn name(&self) -> String {
        format!("p{}", self.id)
    }

    /// Whether the main function or a helper writes a scan ([`Func::writes_scan`]).
    #[must_use]
    pub fn has_scan(&self) -> bool {
        self.main.writes_scan() || self.helpers.iter().any(Func::writes_scan)
    }
}
