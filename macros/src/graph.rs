//! The symbolic graph: a flat, hash-consed DAG of scalar operations.
//!
//! **Invariant** (egg's): a node's children always precede it, so `NodeId` order is a
//! topological order. Nodes are interned: building the same operation on the same children twice
//! gives the same `NodeId`, which is common-subexpression elimination for free.
//!
//! Every node has a [`Kind`]: a float value (the values we differentiate), an integer (indices,
//! `powi` exponents, lengths), a boolean (branch conditions) or an opaque value of some other type
//! (a slice or struct handed to a call). Nodes lowered from user code remember an [`Origin`] so
//! errors can point at the user's tokens; this module knows nothing of `syn` or spans.
//!
//! New nodes go through [`Graph::add`], which first tries the graph's rewrite hook (the named
//! rules of `simplify`, given by the lowering pass: this module depends on nothing).
//!
//! The op set is declared once ([`define_ops!`]): each operation's fields, named, with its
//! children marked, from which the enum, [`Op::children`] and [`Op::with_children`] are
//! generated. Adding an op is one line there, then the exhaustive matches the compiler points
//! to (its derivative in `diff`, its code in `emit`, its value in `eval`, its text in `formula`).

use std::collections::{HashMap, HashSet};

/// A set of loops, bit `v` for loop `v`: the loops a node varies with, a recurrence's mask.
/// 128 bits, so a function has at most 128 loops, its derivatives' included (each reverse
/// sweep of an array carried across a loop's iterations adds loops over its elements, once
/// per row of a Jacobian).
pub type LoopMask = u128;

/// Index of a node in a [`Graph`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a node came from in the user's code: an index into the lowering pass's span table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Origin(pub u32);

/// Index of an opaque symbol: a named value the graph does not look into (a `const` item,
/// `PI`, `xs.len()`, a called function's path). The lowering pass keeps its tokens; the graph
/// keeps its display name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SymId(pub u32);

/// What a node's value is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    Float,
    Int,
    Bool,
    /// A value of another type (a slice, a struct), only ever passed through to calls.
    Other,
    /// A local array of floats (`vec![0.0; n]` after its writes), read element by element.
    Array,
}

/// Defines an enum of float operations written as methods, with the table of their method names
/// (`Fun::Sqrt` is `x.sqrt()`), `from_method` and `name`: each name is written once.
macro_rules! method_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $method:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            /// Every operation with the method name users write.
            pub const ALL: &'static [($name, &'static str)] = &[$(($name::$variant, $method),)*];

            /// The operation a method name stands for.
            pub fn from_method(name: &str) -> Option<$name> {
                $name::ALL.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
            }

            pub fn name(self) -> &'static str {
                $name::ALL.iter().find(|(f, _)| *f == self).map_or("internal error: unnamed operation", |(_, n)| n)
            }
        }
    };
}

method_enum! {
    /// Elementary functions of one float argument.
    Fun {
        Sqrt => "sqrt",
        Cbrt => "cbrt",
        Exp => "exp",
        Exp2 => "exp2",
        ExpM1 => "exp_m1",
        Ln => "ln",
        Log2 => "log2",
        Log10 => "log10",
        Ln1p => "ln_1p",
        Sin => "sin",
        Cos => "cos",
        Tan => "tan",
        Asin => "asin",
        Acos => "acos",
        Atan => "atan",
        Sinh => "sinh",
        Cosh => "cosh",
        Tanh => "tanh",
        Asinh => "asinh",
        Acosh => "acosh",
        Atanh => "atanh",
        Abs => "abs",
        Signum => "signum",
        // `sign(0) = 0`: the derivative of `abs`. Internal: no user method lowers to it.
        Sign => "__sign",
        Recip => "recip",
        ToDegrees => "to_degrees",
        ToRadians => "to_radians",
        Floor => "floor",
        Ceil => "ceil",
        Round => "round",
        Trunc => "trunc",
        Fract => "fract",
    }
}

method_enum! {
    /// Float functions of two float arguments, written as methods on the first.
    Fun2 {
        Powf => "powf",
        Log => "log",
        Atan2 => "atan2",
        Hypot => "hypot",
        Max => "max",
        Min => "min",
    }
}

method_enum! {
    /// Float predicates (`x.is_nan()`, …).
    #[allow(clippy::enum_variant_names)] // named after the methods they stand for
    Pred {
        IsNan => "is_nan",
        IsFinite => "is_finite",
        IsInfinite => "is_infinite",
        IsSignPositive => "is_sign_positive",
        IsSignNegative => "is_sign_negative",
    }
}

/// Comparison operators, on floats or integers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Cmp {
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
        }
    }
}

/// Integer binary operators.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IntOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl IntOp {
    pub fn symbol(self) -> &'static str {
        match self {
            IntOp::Add => "+",
            IntOp::Sub => "-",
            IntOp::Mul => "*",
            IntOp::Div => "/",
            IntOp::Rem => "%",
        }
    }
}

/// The `position` of an [`Op::VjpRows`] that passes no local array.
pub const NO_ARRAY: u32 = u32::MAX;

/// `(from, to)` pairs of slice numbers: the sinks an [`Op::Rebound`] effect writes to.
pub type SinkPairs = Vec<(u32, u32)>;

/// Declares the op set once; generates the enum, [`Op::children`] and [`Op::with_children`]
/// from it (in the spirit of egg's `define_language!`). Each field is named and
/// marked: `node` is a child (a `NodeId`), `nodes` a list of children (a call's arguments), any
/// other type is data that stays as it is. Children are listed in the order of the fields.
macro_rules! define_ops {
    (
        $(#[$meta:meta])*
        pub enum $enum:ident {
            $(
                $(#[$doc:meta])*
                $variant:ident
                $( ( $($tf:ident : $tk:tt),* ) )?
                $( { $($sf:ident : $sk:tt),* } )?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $enum {
            $(
                $(#[$doc])*
                $variant
                $( ( $(op_field_type!($tk)),* ) )?
                $( { $($sf: op_field_type!($sk)),* } )?
            ),*
        }

        impl $enum {
            /// The children, in order.
            #[allow(clippy::vec_init_then_push)] // one `push` per child field, generated
            pub fn children(&self) -> Vec<NodeId> {
                match self {
                    $(
                        #[allow(unused_variables)]
                        $enum::$variant $( ( $($tf),* ) )? $( { $($sf),* } )? => {
                            #[allow(unused_mut)]
                            let mut out = Vec::new();
                            $( $( op_push_child!(out, $tk, $tf); )* )?
                            $( $( op_push_child!(out, $sk, $sf); )* )?
                            out
                        }
                    )*
                }
            }

            /// The same operation on other children (in the order of [`Op::children`]).
            pub fn with_children(&self, children: &[NodeId]) -> $enum {
                #[allow(unused_mut, unused_variables)]
                let mut next = children.iter().copied();
                match self {
                    $(
                        #[allow(unused_variables)]
                        $enum::$variant $( ( $($tf),* ) )? $( { $($sf),* } )? => $enum::$variant
                            $( ( $(op_rebuilt!(next, $tk, $tf)),* ) )?
                            $( { $($sf: op_rebuilt!(next, $sk, $sf)),* } )?,
                    )*
                }
            }
        }
    };
}

/// The type of a field of [`define_ops!`].
macro_rules! op_field_type {
    (node) => { NodeId };
    (nodes) => { Vec<NodeId> };
    ($t:ty) => { $t };
}

/// Pushes a field of [`define_ops!`] onto the children if it is one.
macro_rules! op_push_child {
    ($out:ident, node, $f:ident) => {
        $out.push(*$f)
    };
    ($out:ident, nodes, $f:ident) => {
        $out.extend($f.iter().copied())
    };
    ($out:ident, $t:tt, $f:ident) => {
        let _ = $f;
    };
}

/// A field of [`define_ops!`] rebuilt: the next child, the rest of them, or the data as it was.
macro_rules! op_rebuilt {
    ($next:ident, node, $f:ident) => {
        $next
            .next()
            .expect("internal error: too few children for the operation")
    };
    ($next:ident, nodes, $f:ident) => {
        $next.by_ref().collect()
    };
    ($next:ident, $t:tt, $f:ident) => {
        $f.clone()
    };
}

define_ops! {
    /// One operation. Children are `NodeId`s of earlier nodes.
    #[derive(Clone, PartialEq, Eq, Hash, Debug)]
    pub enum Op {
        // ---- float leaves
        /// A float literal (its bits, so the op can be hashed).
        Const(bits: u64),
        /// The function's parameter number `i` (a float scalar).
        Input(index: u32),
        /// An opaque value of any kind: a `const` item, `PI`, `xs.len()`, an integer parameter.
        Sym(sym: SymId, kind: Kind),
        /// `n as f32/f64` of an integer node.
        Cast(a: node),

        // ---- float arithmetic
        Neg(a: node),
        Add(a: node, b: node),
        Sub(a: node, b: node),
        Mul(a: node, b: node),
        Div(a: node, b: node),
        Unary(f: Fun, a: node),
        /// `x.powi(n)`, `n` an integer node.
        Powi(a: node, k: node),
        Binary(f: Fun2, a: node, b: node),
        /// `x.clamp(lo, hi)`.
        Clamp(a: node, lo: node, hi: node),
        /// `a.mul_add(b, c)` = `a * b + c` with one rounding.
        MulAdd(a: node, b: node, c: node),

        /// `if c { a } else { b }`, for any kind of `a` and `b`; only the taken branch is evaluated.
        Select(cond: node, then: node, other: node),

        /// A call of a differentiable function (by path), returning a float.
        Call(f: SymId, args: nodes),
        /// Output `k` of a call of a vector-valued differentiable function (`r[k]` after
        /// `let r = residual(a, b);`); the `Call` node is then the whole array.
        CallOutput(call: node, k: u32),
        /// The partial derivative of a `Call` node's value (or of a `CallOutput`) with respect to
        /// the call's argument `i`.
        Partial(call: node, i: u32),
        /// The second partial derivative `∂²f/∂aᵢ∂aⱼ` of a `Call` node's value with respect to
        /// the call's arguments `i` and `j` (`i ≤ j`: the matrix is symmetric), from the called
        /// function's hidden `__partials2` (what Hessians through calls need).
        Partial2(call: node, i: u32, j: u32),
        /// In second derivatives only: the directional derivative of a `Call` given a
        /// differentiated slice, `Σᵢ ∂f/∂aᵢ·ȧᵢ + Σₖ ∇ₓₖf·ẋₖ`, along `dots` (one per argument:
        /// a float argument's tangent, a differentiated slice's tangent symbol, the argument
        /// itself elsewhere), from the callee's hidden `__hvp` (which computes `H·ȧ` with it).
        CallJvp(call: node, dots: nodes),
        /// In second derivatives only: `(H·ȧ)ᵢ` for the float argument `i` of a `CallJvp`'s call,
        /// the derivative of its value with respect to that argument.
        JvpPartial(jvp: node, i: u32),
        /// Effect, in second derivatives only: `∇xₖ += seed·(H·ȧ)ₓₖ` for the differentiated
        /// slices given to a `CallJvp`'s call (its `__hvp` with that seed).
        CallHvp(jvp: node, seed: node),
        /// `stop_gradient(x)` (the function by its path): the value of `x`, with derivative zero.
        StopGradient(f: SymId, a: node),

        // ---- integers
        IntConst(value: i64),
        IntBin(op: IntOp, a: node, b: node),
        IntNeg(a: node),
        /// `e as ty` where `e` is an integer (`ty` the integer type's symbol).
        IntCast(a: node, ty: SymId),
        /// `x as ty` of a float `x`: piecewise constant, derivative zero.
        FloatToInt(a: node, ty: SymId),

        // ---- loops and slices
        /// The index of loop number `v` (an integer, `lo..hi` of the loop's [`Sum`](Op::Sum)).
        LoopVar(v: u32),
        /// `Σ_{v in lo..hi} body`: loop `v`, its bounds and its body (which depends on `LoopVar(v)`).
        /// A float sum, or (when `body` is an effect) a loop of effects.
        Sum { v: u32, lo: node, hi: node, body: node },
        /// `data[i]`: an element of a data slice (a symbol), a constant for the derivative.
        Index(sym: SymId, i: node),
        /// `rows[i]`: an element of an integer data slice (`&[usize]`), e.g. sparse indices.
        IntIndex(sym: SymId, i: node),
        /// `x[i]`: an element of differentiated slice parameter number `k`.
        Element(slice: u32, i: node),
        /// The whole differentiated slice parameter number `k` (only its length is ever used).
        Slice(slice: u32),
        /// Differentiated slice `k` passed to a call, written as the user wrote it (`x`, `&x`);
        /// with `range` `[lo, hi]`, its run `&x[lo..hi]`, whose gradient lands in `∇x[lo..hi]`.
        SliceArg(slice: u32, sym: SymId, range: nodes),
        /// `&data[lo..hi]`: a run of a data slice (by its symbol) passed to a call, its bounds
        /// computed (`dot(&x[j * d..(j + 1) * d], w)` in a loop over rows `j`). Data: no
        /// derivative.
        DataRun(sym: SymId, lo: node, hi: node),
        /// Effect: `∇x_k[i] += value`, how a slice's gradient is accumulated.
        Scatter(slice: u32, i: node, value: node),
        /// Effect: both effects, in order.
        Effects(first: node, second: node),
        /// Effect: nothing (the untaken side of a guarded effect, `if c { ∇x[k] += … }`).
        NoEffect,
        /// Effect: `∇x_k += seed · ∂call/∂x_k` for every differentiated slice `x_k` passed to the
        /// call (the called function's hidden vector-Jacobian product).
        CallVjp(call: node, seed: node),
        /// The value of recurrence `c` at the start of an iteration of loop `v` (`s` in
        /// `s = body(s, i)`). The mask is the loops it varies with: `v` and the loops around it.
        ///
        /// While a loop body is lowered, every float variable in scope is such a value, with a
        /// provisional `c` ([`Graph::provisional_carry`]): the body decides what the variable is
        /// (unchanged, a sum, a recurrence, a member of a coupled one), and lowering then
        /// replaces it by its value before the loop or by the recurrence's own `Carry`. A
        /// recurrence nested in that loop and starting from it (`for i { for j { h = 0.9 * h +
        /// x[j]; } }`) varies with the loop's mask too, and its `Carry` keeps that mask.
        Carry { c: u32, v: u32, mask: LoopMask },
        /// Recurrence `c` over loop `v`: `s = init; for v in lo..hi { s = body }; s`, where `body`
        /// reads `Carry(c, v, _)`. Products (`p *= x[i]`), running maxima, any update that is not
        /// an accumulation.
        Fold { c: u32, v: u32, lo: node, hi: node, init: node, body: node },
        /// In gradients only: in reverse sweep `s` (one per recurrence and gradient: a function's
        /// gradient and its vector-Jacobian product sweep the same fold with different seeds), the
        /// adjoint of the recurrence's value after the current iteration of loop `v` (`λ`).
        Adjoint { sweep: u32, v: u32, mask: LoopMask },
        /// In gradients only: the reverse sweep of a `Fold`: `λ = seed; for v in (lo..hi).rev() {
        /// λ = step }; λ`, where `step` is `λ · ∂body/∂s` at the iteration's saved `s`. Its value is
        /// the adjoint of the fold's `init`; the sums over `v` that read `Adjoint(s, v, _)` run in
        /// the same reverse loop. Fields: sweep `s`, loop `v`, the fold, the seed, the step.
        RevFold { sweep: u32, v: u32, fold: node, seed: node, step: node },
        /// Coupled recurrences over loop `v`: `K` variables updated together (`let t = a + b;
        /// a = b; b = t * w;`, an integrator's `x` and `v`). `parts` is the `K` initial values
        /// then the `K` bodies; body `k` is member `k`'s value after an iteration, reading any
        /// member's value at its start, `Carry(c + j, v, _)`. The state after the loop, a tuple:
        /// member `k` is `Component(self, k)`.
        Coupled { c: u32, v: u32, lo: node, hi: node, parts: nodes },
        /// Member `k` of a tuple: a `Coupled` recurrence's value after its loop, or (of a
        /// `RevCoupled`) the adjoint of its initial value `k`.
        Component(of: node, k: u32),
        /// In gradients only: the reverse sweep of a `Coupled` recurrence, carrying one adjoint
        /// per member, `Adjoint(sweep + k, v, _)`: `λ = seeds; for v in (lo..hi).rev() { λₖ =
        /// stepₖ }`, where `stepₖ = Σⱼ λⱼ · ∂bodyⱼ/∂sₖ` at the iteration's saved state. `parts`
        /// is the `K` seeds then the `K` steps; its value, a tuple, is the adjoints of the
        /// initial values (`Component(self, k)`), and the sums over `v` that read a `λₖ` run in
        /// its reverse loop.
        RevCoupled { sweep: u32, v: u32, fold: node, parts: nodes },
        /// The first index of loop `v` in `lo..hi` at which `cond` holds, or `hi` if none: where
        /// `for v in lo..hi { …; if cond { break; } … }` breaks. An integer (`cond`'s derivative is
        /// zero almost everywhere). Fields: loop `v`, `lo`, `hi`, `cond`.
        Until { v: u32, lo: node, hi: node, cond: node },

        // ---- local arrays
        /// A local array of `hi − lo` floats, element `k` being `body` at index `lo + k` of loop
        /// `v` (over `lo..hi`): `vec![0.0; n]` and the versions its element writes make (`z[c] =
        /// e` in `for c in 0..n` is `Table { v, lo: 0, hi: n, body: e }`). Computed once, into
        /// a vector.
        Table { v: u32, lo: node, hi: node, body: node },
        /// `z[i]`: element `i` of a local array (a `Table`).
        At(table: node, i: node),
        /// The values of recurrence `c` (the fields of its `Fold`) after each of its iterations,
        /// as a local array of `hi − lo` floats: what a scan writes (`for i in 1..n { z[i] =
        /// z[i - 1] * w[i]; }` carries the previous element, and `z` is its values). Computed
        /// into a vector by a forward loop of its own; its gradient is the `Fold`'s reverse
        /// sweep, each iteration's `λ` also given the adjoint of the element it wrote.
        Scanned { c: u32, v: u32, lo: node, hi: node, init: node, body: node },
        /// The values of member `k` of coupled recurrences (the fields of their `Coupled`) after
        /// each of the loop's iterations, as a local array of `hi − lo` floats: the elements a
        /// loop writes from state updated together (`t = a·p + b·q + x[i]; q = p; p = t; z[i] =
        /// p;`, a scan reading two elements back). Computed into a vector by a forward loop,
        /// one for all the members kept and the state's trace (`emit::coupled_scanning`); its
        /// gradient is the `Coupled` recurrences' reverse sweep, one for all the members kept,
        /// each iteration's `λₖ` also given the adjoint of the element it wrote.
        CoupledScan { c: u32, v: u32, k: u32, lo: node, hi: node, parts: nodes },
        /// A vector added into (buffer number `buf`): a copy of the array `like`, or, with
        /// `zero`, zeros of its length. The `Accumulate`s into it follow; `Filled` is the
        /// vector once they have all run. It varies with the loops of `mask` too, those its
        /// additions vary with (see [`Graph::filled`]): a fresh vector each time they run.
        Alloc { buf: u32, like: node, zero: bool, mask: LoopMask },
        /// Effect: `alloc[i] += value`: the user's accumulation into a local array in a loop
        /// nest (`for i { for j { y[j] += a[i·m + j]·x[i] } }`, `h[bin[i]] += w[i]`), or, in a
        /// gradient, a read of an array adding its adjoint to the element read.
        Accumulate { alloc: node, i: node, value: node },
        /// The vector `alloc` once the effect `fill` (its loops of `Accumulate`s) has run: a
        /// local array added into (read with `At`), or, in gradients only, the adjoint of a local
        /// array (`z̄`, read with `AdjAt`; its `alloc` has `zero`).
        Filled { alloc: node, fill: node },
        /// The length of a local array (an integer).
        ArrayLen(array: node),
        /// Effect, in gradients only: `alloc += seed · ∂call/∂arg`, for the local array passed
        /// to the call as argument `position` (the called function's hidden vector-Jacobian
        /// product, writing into the array's adjoint; the slices' gradients through the call
        /// are a `CallVjp` of their own). In second derivatives, `call` may
        /// be a `CallJvp`: `alloc += seed · (H·ȧ)` at that argument, from the callee's `__hvp`.
        ArrayVjp { call: node, seed: node, alloc: node, position: u32 },
        /// In gradients only: element `i` of a local array's adjoint (a `Filled`).
        AdjAt(adjoint: node, i: node),
        /// In gradients only: the adjoint vector `adjoint` with its elements `lo..min(hi, len)`
        /// zero, the step of the adjoint `λ` of an array carried across a loop whose new value
        /// replaces that stretch in place (`h[s + i] = …`): what the stretch held goes to the
        /// written values' adjoint, and the iteration before sees `λ` there zero. Written in
        /// place where it is `λ`'s own step (`for j in lo..min(hi, n) { λ[j] = 0.0; }`).
        Cleared { adjoint: node, lo: node, hi: node },
        /// In gradients only: the seeds of a vector-valued call's vector-Jacobian product, one
        /// per output (`&[ā₀, ā₁]`): the `seed` of its `CallVjp` or `ArrayVjp`.
        Seeds(values: nodes),
        /// Effect, in gradients only: `effect` (calls' products, one or several in a row) with the
        /// gradient vectors of slices `from` written to sinks `to` instead, pair by pair (row
        /// `k` of a Jacobian has sinks of its own; see `jacobian::retarget`).
        Rebound { effect: node, sinks: SinkPairs },
        /// Effect, in gradients only: the vector-Jacobian products of one vector-valued call for
        /// `rows` rows of a Jacobian at once, through the called function's hidden `__vjp_rows`
        /// (one forward pass of the callee for all rows; see `vjp_rows`). `parts` is the rows'
        /// seeds (each an [`Op::Seeds`]) and, with `position` not [`NO_ARRAY`], the adjoint
        /// vector (an `Alloc`) each row's product adds into at that argument, a local array
        /// passed. `sinks` lists, row by row, where the gradient of each differentiated slice
        /// passed goes, `(slice, sink)` pairs, as many for every row.
        VjpRows { call: node, rows: u32, position: u32, sinks: SinkPairs, parts: nodes },

        // ---- booleans
        BoolConst(value: bool),
        Compare(op: Cmp, a: node, b: node),
        Predicate(p: Pred, a: node),
        And(a: node, b: node),
        Or(a: node, b: node),
        Not(a: node),
    }
}

impl Graph {
    /// The call behind `n`: the call of a vector-valued function for one of its outputs
    /// (`CallOutput`), `n` itself otherwise.
    pub fn called(&self, n: NodeId) -> NodeId {
        match *self.op(n) {
            Op::CallOutput(call, _) => call,
            _ => n,
        }
    }
}

impl Op {
    /// The children evaluated whenever this operation is: all but a select's branches and the
    /// right operand of `&&`/`||`, which [`Op::lazy_children`] lists.
    pub fn eager_children(&self) -> Vec<NodeId> {
        match self {
            Op::Select(c, ..) => vec![*c],
            Op::And(a, _) | Op::Or(a, _) => vec![*a],
            Op::Rebound { .. } => vec![],
            op => op.children(),
        }
    }

    /// The children evaluated only under a condition of this operation's own.
    pub fn lazy_children(&self) -> Vec<NodeId> {
        match self {
            Op::Select(_, a, b) => vec![*a, *b],
            Op::And(_, b) | Op::Or(_, b) => vec![*b],
            // Emitted inside the block that renames the vectors.
            Op::Rebound { effect, .. } => vec![*effect],
            _ => vec![],
        }
    }

    /// Evaluating this operation may panic: an element read (the index may be out of range) or
    /// integer arithmetic (overflow in debug builds, division by zero).
    pub fn may_panic_itself(&self) -> bool {
        matches!(
            self,
            Op::Element(..)
                | Op::Index(..)
                | Op::IntIndex(..)
                | Op::IntBin(..)
                | Op::IntNeg(_)
                | Op::At(..)
                | Op::AdjAt(..)
                | Op::Accumulate { .. }
        )
    }

    /// The loop a loop node runs (`Sum`, `Fold`, `Until`, `RevFold`).
    pub fn loop_var(&self) -> Option<u32> {
        match self {
            Op::Sum { v, .. }
            | Op::Fold { v, .. }
            | Op::Scanned { v, .. }
            | Op::CoupledScan { v, .. }
            | Op::Until { v, .. }
            | Op::RevFold { v, .. }
            | Op::Coupled { v, .. }
            | Op::RevCoupled { v, .. } => Some(*v),
            _ => None,
        }
    }

    /// The child a loop node evaluates in each of its iterations, only where it runs, even
    /// where that child does not change with the loop: a table's element (`for i in 0..n {
    /// z[i] = x[0].sin(); }` reads `x[0]` only where `n > 0`), a sum's body, a recurrence's
    /// step, a search's condition. (Its bounds and initial value are evaluated before it.)
    pub fn per_iteration(&self) -> Option<NodeId> {
        match *self {
            Op::Table { body, .. }
            | Op::Sum { body, .. }
            | Op::Fold { body, .. }
            | Op::Scanned { body, .. } => Some(body),
            Op::Until { cond, .. } => Some(cond),
            _ => None,
        }
    }

    /// The loop a loop node runs, a local array's (`Table`) included.
    pub fn own_loop(&self) -> Option<u32> {
        match *self {
            Op::Table { v, .. } => Some(v),
            ref op => op.loop_var(),
        }
    }

    /// A loop, or a vector filled by one (a table, an adjoint vector): computed once, by a
    /// statement of its own.
    pub fn runs_a_loop(&self) -> bool {
        matches!(
            self,
            Op::Sum { .. }
                | Op::Fold { .. }
                | Op::Scanned { .. }
                | Op::CoupledScan { .. }
                | Op::RevFold { .. }
                | Op::Coupled { .. }
                | Op::RevCoupled { .. }
                | Op::Until { .. }
                | Op::Table { .. }
                | Op::Alloc { .. }
                | Op::Filled { .. }
        )
    }

    /// A loop or a call: worth computing once, early, and taken as panicking only where the
    /// user's code would (its inside is not looked at).
    pub fn panics_like_the_user(&self) -> bool {
        self.runs_a_loop() || matches!(self, Op::Call(..) | Op::Partial(..) | Op::Partial2(..))
    }
}

/// A node: its operation, kind, and where it came from.
#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub kind: Kind,
    pub origin: Option<Origin>,
    /// Bit `v` is set when the node's value depends on the index of loop `v` (it is computed
    /// once per iteration of that loop).
    pub loops: LoopMask,
}

/// A carried array's new value with a stretch replaced ([`Graph::stretch_patch`]): the array
/// the stretch is read from, its bounds `lo..hi`, the patch's read of the elements it keeps
/// (`old[j]`) and `old`, the member's value at the start of the iteration.
#[derive(Clone, Copy, Debug)]
pub struct StretchPatch {
    pub written: NodeId,
    pub lo: NodeId,
    pub hi: NodeId,
    pub kept: NodeId,
    pub old: NodeId,
}

/// The DAG. See the module docs for its invariant.
#[derive(Default, Clone, Debug)]
pub struct Graph {
    nodes: Vec<Node>,
    interned: HashMap<Op, NodeId>,
    /// Display names of symbols, for formulas.
    symbols: Vec<String>,
    /// Names of the float inputs, for formulas.
    inputs: Vec<String>,
    /// The origin given to nodes created while it is set (by the lowering pass).
    pub current_origin: Option<Origin>,
    /// The bounds `(lo, hi)` of each loop, by loop number.
    loops: Vec<(NodeId, NodeId)>,
    /// The loops whose bodies the user wrote each loop in, by loop number (bit `u` for loop
    /// `u`): `for k { … for i { … } }` gives loop `i` the bit of `k`, even where nothing in
    /// it changes with `k`. The user computes such a loop only in the iterations of `k` (and
    /// under the conditions) that reach it.
    nests: Vec<LoopMask>,
    /// Names of the differentiated slice parameters, for formulas.
    slices: Vec<String>,
    /// How many recurrences (`Fold`s) and reverse sweeps (`RevFold`s) were declared.
    recurrences: u32,
    sweeps: u32,
    /// How many provisional carries lowering made (see [`Graph::provisional_carry`]).
    provisional: u32,
    /// How many vectors added into (`Alloc`s) were declared.
    buffers: u32,
    /// The latest `RevFold` node of each recurrence.
    reverse_sweeps: HashMap<u32, NodeId>,
    /// The length of each array carried across a loop's iterations (a `Carry` of kind
    /// `Array`, by its recurrence number; see [`Graph::array_carry`]).
    carried_lens: HashMap<u32, NodeId>,
    /// Tried on every new operation: `Some` with an equivalent node makes [`Graph::add`] return
    /// that instead.
    rewrite: Option<Rewrite>,
    /// The name of the user's `let` that first bound a node, for generated temporaries.
    let_names: HashMap<NodeId, String>,
    /// `#[differentiable(checkpoint = K)]`: the recurrences' forward loops save their state
    /// every `K` iterations, and their reverse sweeps recompute the iterations in between.
    pub checkpoint: Option<usize>,
    /// The function's outputs, once differentiated: what the user's code evaluates, whatever
    /// the generated code reads (see `schedule::only_in_loops`).
    pub primal: Vec<NodeId>,
    /// Nodes the function's own code evaluates where the conditions given hold (a select's
    /// condition `c` is `side`), beside what its value reads: the bounds of a `for` loop written
    /// at the top of the body (`for i in (0..n - 1).rev()` after `if n == 0 { return 0.0; }`),
    /// evaluated wherever that statement is reached, even where the value reads the loop only
    /// under a condition (a scan read element by element). Recorded by the lowering; see
    /// `schedule::evaluated_where`.
    pub evaluated: Vec<(NodeId, Vec<(NodeId, bool)>)>,
}

/// A rewrite hook (see [`Graph::with_rewrite`]).
pub type Rewrite = fn(&mut Graph, &Op) -> Option<NodeId>;

impl Graph {
    /// An empty graph whose [`Graph::add`] tries `rewrite` first (`simplify::rewrite`).
    pub fn with_rewrite(rewrite: Rewrite) -> Graph {
        Graph {
            rewrite: Some(rewrite),
            ..Graph::default()
        }
    }

    /// Records that the user's `let name = …` bound `id` (the first name given is kept).
    /// Names that are not plain ASCII identifiers (`r#type`, `é`) are not recorded.
    pub fn name_node(&mut self, id: NodeId, name: &str) {
        let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if plain && !name.is_empty() {
            self.let_names.entry(id).or_insert_with(|| name.to_string());
        }
    }

    /// The name of the user's `let` that bound `id`, if any.
    pub fn let_name(&self, id: NodeId) -> Option<&str> {
        self.let_names.get(&id).map(String::as_str)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub fn op(&self, id: NodeId) -> &Op {
        &self.nodes[id.index()].op
    }

    pub fn kind(&self, id: NodeId) -> Kind {
        self.nodes[id.index()].kind
    }

    /// The loops whose index `id` depends on (bit `v` for loop `v`).
    pub fn loops_of(&self, id: NodeId) -> LoopMask {
        self.nodes[id.index()].loops
    }

    /// Declares a loop over `lo..hi` and returns its number (at most 128 loops per function,
    /// the bits of a [`LoopMask`]).
    pub fn new_loop(&mut self, lo: NodeId, hi: NodeId) -> Option<u32> {
        if self.loops.len() >= LoopMask::BITS as usize {
            return None;
        }
        self.loops.push((lo, hi));
        self.nests.push(0);
        u32::try_from(self.loops.len() - 1).ok()
    }

    /// Records that the user wrote loop `v` inside the bodies of the loops of `mask`.
    pub fn set_loop_nest(&mut self, v: u32, mask: LoopMask) {
        if let Some(m) = self.nests.get_mut(v as usize) {
            *m = mask;
        }
    }

    /// The loops whose bodies the user wrote loop `v` in (see `nests`).
    pub fn loop_nest(&self, v: u32) -> LoopMask {
        self.nests.get(v as usize).copied().unwrap_or(0)
    }

    /// The loops whose bodies the user wrote the loops `id` reads in (not looking inside
    /// those loops): a value that reads one written in loop `u` is not computed outside `u`.
    pub fn written_in(&self, id: NodeId) -> LoopMask {
        let mut mask = 0;
        let mut seen = HashSet::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            match self.op(n).loop_var() {
                Some(v) => mask |= self.loop_nest(v),
                // A local array's loop is its own (and may be the user's loop writing it):
                // what its elements read in that loop's body stays in it.
                None if let Op::Table { v, .. } = *self.op(n) => {
                    mask |= self.written_in_children(n) & !(1 << v);
                }
                None => stack.extend(self.op(n).children()),
            }
        }
        mask
    }

    fn written_in_children(&self, n: NodeId) -> LoopMask {
        self.op(n)
            .children()
            .iter()
            .fold(0, |m, c| m | self.written_in(*c))
    }

    /// A new recurrence number, for a `Fold`.
    pub fn new_recurrence(&mut self) -> u32 {
        self.recurrences += 1;
        self.recurrences - 1
    }

    /// The value of a float variable at the start of an iteration of loop `v`, while the loop's
    /// body is lowered: a `Carry` whose recurrence is not decided yet (see [`Op::Carry`]). Its
    /// number counts down from `u32::MAX`, apart from every recurrence's.
    pub fn provisional_carry(&mut self, v: u32, mask: LoopMask) -> NodeId {
        self.provisional += 1;
        self.add(Op::Carry {
            c: u32::MAX - (self.provisional - 1),
            v,
            mask,
        })
    }

    /// Whether `id` is a [`Graph::provisional_carry`], which lowering replaces.
    pub fn is_provisional(&self, id: NodeId) -> bool {
        matches!(*self.op(id), Op::Carry { c, .. } if c > u32::MAX - self.provisional)
    }

    /// `k` consecutive new recurrence numbers, for a `Coupled` recurrence; the first.
    pub fn new_recurrences(&mut self, k: u32) -> u32 {
        self.recurrences += k;
        self.recurrences - k
    }

    /// `k` consecutive new reverse sweep numbers, for a `RevCoupled` and its `Adjoint`s; the
    /// first.
    pub fn new_sweeps(&mut self, k: u32) -> u32 {
        self.sweeps += k;
        self.sweeps - k
    }

    /// A new reverse sweep number, for a `RevFold` and its `Adjoint`.
    pub fn new_sweep(&mut self) -> u32 {
        self.sweeps += 1;
        self.sweeps - 1
    }

    /// A new buffer number, for an `Alloc`.
    pub fn new_buffer(&mut self) -> u32 {
        self.buffers += 1;
        self.buffers - 1
    }

    /// Whether a loop over `lo..hi` runs for certain: its bounds are literals, `lo < hi`.
    pub fn runs_for_certain(&self, lo: NodeId, hi: NodeId) -> bool {
        matches!((self.as_int(lo), self.as_int(hi)), (Some(a), Some(b)) if a < b)
    }

    /// Whether loop `v` may run zero times (see [`Graph::runs_for_certain`]).
    pub fn may_not_run(&self, v: u32) -> bool {
        !self
            .loop_bounds(v)
            .is_some_and(|(lo, hi)| self.runs_for_certain(lo, hi))
    }

    /// The bounds `(lo, hi)` of loop `v`.
    pub fn loop_bounds(&self, v: u32) -> Option<(NodeId, NodeId)> {
        self.loops.get(v as usize).copied()
    }

    /// The loops `0..len` (by number).
    pub fn loop_count(&self) -> u32 {
        u32::try_from(self.loops.len()).unwrap_or(u32::MAX)
    }

    /// Replaces the bounds of loop `v` (an inner loop's, once the outer loop's placeholders
    /// in them are replaced by their values).
    pub fn set_loop_bounds(&mut self, v: u32, lo: NodeId, hi: NodeId) {
        if let Some(b) = self.loops.get_mut(v as usize) {
            *b = (lo, hi);
        }
    }

    /// The scan (`Op::Scanned`) whose values are those of recurrence `fold` (the same carry,
    /// loop, start and body), if the graph has one.
    pub fn scanned_twin(&self, fold: NodeId) -> Option<NodeId> {
        let Op::Fold {
            c,
            v,
            lo,
            hi,
            init,
            body,
        } = *self.op(fold)
        else {
            return None;
        };
        self.find(&Op::Scanned {
            c,
            v,
            lo,
            hi,
            init,
            body,
        })
    }

    /// The arrays of values of recurrences `fold` the graph has: its scan ([`scanned_twin`](
    /// Self::scanned_twin)) for a `Fold`; for a `Coupled` one, its members' values
    /// (`Op::CoupledScan`s of the same fields).
    pub fn scanned_twins(&self, fold: NodeId) -> Vec<NodeId> {
        match *self.op(fold) {
            Op::Fold { .. } => self.scanned_twin(fold).into_iter().collect(),
            Op::Coupled {
                c,
                v,
                lo,
                hi,
                ref parts,
            } => self.member_scans((c, v, lo, hi), parts),
            _ => Vec::new(),
        }
    }

    /// The values of every member of the coupled state whose member's values `n` is (the
    /// `Op::CoupledScan`s of `n`'s fields the graph has, `n` among them).
    pub fn coupled_scan_siblings(&self, n: NodeId) -> Vec<NodeId> {
        match *self.op(n) {
            Op::CoupledScan {
                c,
                v,
                lo,
                hi,
                ref parts,
                ..
            } => self.member_scans((c, v, lo, hi), parts),
            _ => Vec::new(),
        }
    }

    /// The `Op::CoupledScan`s of coupled state `(c, v, lo, hi, parts)` the graph has.
    fn member_scans(
        &self,
        (c, v, lo, hi): (u32, u32, NodeId, NodeId),
        parts: &[NodeId],
    ) -> Vec<NodeId> {
        let members = u32::try_from(parts.len() / 2).unwrap_or(0);
        (0..members)
            .filter_map(|k| {
                self.find(&Op::CoupledScan {
                    c,
                    v,
                    k,
                    lo,
                    hi,
                    parts: parts.to_vec(),
                })
            })
            .collect()
    }

    /// The elements of scan `scanned` (an `Op::Scanned` over loop `v` from `lo`, started from
    /// `init`, or an `Op::CoupledScan`, started from its member's initial value) an iteration
    /// of `v` reads: the one the previous iteration wrote (before the first, `init`) and the
    /// one this iteration writes.
    ///
    /// ```text
    /// S = Scanned(i ∈ lo..hi, init: body)   →   (if i == lo { init } else { S[i − lo − 1] }, S[i − lo])
    /// ```
    pub fn scan_elements(&mut self, scanned: NodeId) -> Option<(NodeId, NodeId)> {
        let (v, lo, init) = match *self.op(scanned) {
            Op::Scanned { v, lo, init, .. } => (v, lo, init),
            Op::CoupledScan {
                v,
                lo,
                k,
                ref parts,
                ..
            } => (v, lo, *parts.get(k as usize)?),
            _ => return None,
        };
        let i = self.add(Op::LoopVar(v));
        let k = self.int_bin(IntOp::Sub, i, lo);
        let now = self.add(Op::At(scanned, k));
        let first = self.compare(Cmp::Eq, i, lo);
        let one = self.int(1);
        let back = self.int_bin(IntOp::Sub, k, one);
        let before = self.add(Op::At(scanned, back));
        Some((self.select(first, init, before), now))
    }

    /// The `RevFold` node of reverse sweep `s`.
    pub fn reverse_sweep_of(&self, s: u32) -> Option<NodeId> {
        self.reverse_sweeps.get(&s).copied()
    }

    /// The node of `op`, if the graph has it (no rewriting).
    pub fn find(&self, op: &Op) -> Option<NodeId> {
        self.interned.get(op).copied()
    }

    /// The initial values and the bodies of a `Coupled` recurrence (or the seeds and the steps
    /// of a `RevCoupled` sweep), each `K` long.
    pub fn coupled_parts(&self, n: NodeId) -> Option<(&[NodeId], &[NodeId])> {
        match self.op(n) {
            Op::Coupled { parts, .. } | Op::RevCoupled { parts, .. } => {
                Some(parts.split_at(parts.len() / 2))
            }
            _ => None,
        }
    }

    /// The initial values and the bodies of coupled state `n`, run forward: a `Coupled` node
    /// or the values of one of its members (an `Op::CoupledScan`, which runs its loop too).
    pub fn state_parts(&self, n: NodeId) -> Option<(&[NodeId], &[NodeId])> {
        match self.op(n) {
            Op::Coupled { parts, .. } | Op::CoupledScan { parts, .. } => {
                Some(parts.split_at(parts.len() / 2))
            }
            _ => None,
        }
    }

    /// The carries recurrence `n` binds (a `Fold`'s or a `Scanned`'s one; every member of a
    /// `Coupled` or a `CoupledScan` one), or none for any other node.
    pub fn carries_of(&self, n: NodeId) -> std::ops::Range<u32> {
        match *self.op(n) {
            Op::Fold { c, .. } | Op::Scanned { c, .. } => c..c.saturating_add(1),
            Op::Coupled { c, .. } => {
                let members = self.coupled_parts(n).map_or(0, |p| p.1.len());
                c..c.saturating_add(u32::try_from(members).unwrap_or(0))
            }
            Op::CoupledScan { c, ref parts, .. } => {
                let members = parts.len() / 2;
                c..c.saturating_add(u32::try_from(members).unwrap_or(0))
            }
            _ => 0..0,
        }
    }

    /// The recurrence number of a `RevFold`'s fold.
    pub fn recurrence_of_sweep(&self, reverse: NodeId) -> Option<u32> {
        match self.op(reverse) {
            Op::RevFold { fold, .. } => match self.op(*fold) {
                Op::Fold { c, .. } => Some(*c),
                _ => None,
            },
            _ => None,
        }
    }

    /// Declares differentiated slice parameter number `k` (in order) and returns its node.
    pub fn new_slice(&mut self, name: impl Into<String>) -> NodeId {
        self.slices.push(name.into());
        let k = u32::try_from(self.slices.len() - 1).expect("internal error: too many slices");
        self.intern(Op::Slice(k), Kind::Other)
    }

    pub fn slice_name(&self, k: u32) -> &str {
        &self.slices[k as usize]
    }

    pub fn slice_count(&self) -> usize {
        self.slices.len()
    }

    /// `(c, lo, hi)` where `n` is the local array `[c; hi − lo]` of one leaf value `c`
    /// (`vec![0.0; n]`).
    pub fn constant_fill(&self, n: NodeId) -> Option<(NodeId, NodeId, NodeId)> {
        match *self.op(n) {
            Op::Table { v, lo, hi, body }
                if self.is_leaf(body) && self.loops_of(body) & (1 << v) == 0 =>
            {
                Some((body, lo, hi))
            }
            _ => None,
        }
    }

    /// `Filled { alloc, fill }`, its `Alloc` made to vary with the loops `fill` varies with
    /// (rebuilt, and `fill` with it, where it did not): a vector added into in each iteration
    /// of a loop is allocated in each iteration, never once outside the loop and added into
    /// again and again.
    pub fn filled(&mut self, alloc: NodeId, fill: NodeId) -> NodeId {
        let extra = self.loops_of(fill) & !self.loops_of(alloc);
        let Op::Alloc {
            buf,
            like,
            zero,
            mask,
        } = *self.op(alloc)
        else {
            return self.add(Op::Filled { alloc, fill });
        };
        if extra == 0 {
            return self.add(Op::Filled { alloc, fill });
        }
        let wider = self.add(Op::Alloc {
            buf,
            like,
            zero,
            mask: mask | extra,
        });
        let fill = self.substitute(fill, &HashMap::from([(alloc, wider)]));
        self.add(Op::Filled { alloc: wider, fill })
    }

    /// An array carried across the iterations of loop `v` (`h` in `for t in … { h = next; }`),
    /// at the start of an iteration: recurrence `c`'s `Carry`, an array of `len` floats.
    pub fn array_carry(&mut self, c: u32, v: u32, mask: LoopMask, len: NodeId) -> NodeId {
        self.carried_lens.insert(c, len);
        self.intern(Op::Carry { c, v, mask }, Kind::Array)
    }

    /// Whether coupled state `n` carries an array across its loop's iterations.
    pub fn carries_arrays(&self, n: NodeId) -> bool {
        matches!(self.op(n), Op::Coupled { .. })
            && self
                .coupled_parts(n)
                .is_some_and(|(inits, _)| inits.iter().any(|m| self.kind(*m) == Kind::Array))
    }

    /// In gradients only: the adjoint of an array carried across the iterations of loop `v`
    /// (a vector, `λ`), in reverse sweep `sweep`.
    pub fn array_adjoint(&mut self, sweep: u32, v: u32, mask: LoopMask) -> NodeId {
        self.intern(Op::Adjoint { sweep, v, mask }, Kind::Array)
    }

    /// The length of local array `n` (a `Table`, a `Buffer`, or an adjoint of one).
    pub fn array_len(&mut self, n: NodeId) -> NodeId {
        match *self.op(n) {
            Op::Table { lo, hi, .. }
            | Op::Scanned { lo, hi, .. }
            | Op::CoupledScan { lo, hi, .. } => self.int_bin(IntOp::Sub, hi, lo),
            Op::Alloc { like, .. } => self.array_len(like),
            Op::Filled { alloc, .. } => self.array_len(alloc),
            Op::Carry { c, .. } if self.carried_lens.contains_key(&c) => self.carried_lens[&c],
            Op::Component(of, k) if self.kind(n) == Kind::Array => {
                match self
                    .coupled_parts(of)
                    .and_then(|(firsts, _)| firsts.get(k as usize))
                {
                    Some(&first) if matches!(self.op(of), Op::Coupled { .. }) => {
                        self.array_len(first)
                    }
                    _ => self.add(Op::ArrayLen(n)),
                }
            }
            _ => self.add(Op::ArrayLen(n)),
        }
    }

    /// `Σ_{v in lo..hi} body` over loop `v`.
    pub fn loop_sum(&mut self, v: u32, body: NodeId) -> NodeId {
        let (lo, hi) = self.loops[v as usize];
        self.add(Op::Sum { v, lo, hi, body })
    }

    /// Rebuilds `root` with the nodes of `map` replaced (through the rewrite rules).
    pub fn substitute(&mut self, root: NodeId, map: &HashMap<NodeId, NodeId>) -> NodeId {
        let memo = self.rebuild_from(&[root], map, false);
        memo.get(&root).copied().unwrap_or(root)
    }

    /// [`substitute`](Self::substitute) from every root: what every node reached became.
    pub fn substitute_all(
        &mut self,
        roots: &[NodeId],
        map: &HashMap<NodeId, NodeId>,
    ) -> HashMap<NodeId, NodeId> {
        self.rebuild_from(roots, map, false)
    }

    /// Rebuilds everything reachable from `roots` with the nodes of `map` replaced, as
    /// [`substitute`](Self::substitute) does, each rebuilt node keeping the origin and the
    /// user's name of the node it replaces (a pass rewriting the lowered program, before any
    /// derivative: errors and generated names still point at the user's code). Returns what
    /// every node reached became.
    pub fn rebuild(
        &mut self,
        roots: &[NodeId],
        map: &HashMap<NodeId, NodeId>,
    ) -> HashMap<NodeId, NodeId> {
        self.rebuild_from(roots, map, true)
    }

    /// [`substitute`](Self::substitute) from every root, each rebuilt node given the origin
    /// and the user's name of the node it replaces if `keep`.
    fn rebuild_from(
        &mut self,
        roots: &[NodeId],
        map: &HashMap<NodeId, NodeId>,
        keep: bool,
    ) -> HashMap<NodeId, NodeId> {
        let mut memo: HashMap<NodeId, NodeId> = map.clone();
        let origin = self.current_origin;
        for n in self.reachable(roots) {
            if memo.contains_key(&n) {
                continue;
            }
            let op = self.op(n).clone();
            let children = op.children();
            let new: Vec<NodeId> = children
                .iter()
                .map(|c| memo.get(c).copied().unwrap_or(*c))
                .collect();
            let rebuilt = if new == children {
                n
            } else if keep {
                self.current_origin = self.node(n).origin;
                let rebuilt = self.add(op.with_children(&new));
                if let Some(name) = self.let_names.get(&n).cloned() {
                    self.name_node(rebuilt, &name);
                }
                rebuilt
            } else {
                self.add(op.with_children(&new))
            };
            memo.insert(n, rebuilt);
        }
        self.current_origin = origin;
        memo
    }

    /// The length nodes of the arrays carried across loops (see [`Graph::array_carry`]).
    pub fn carried_len_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.carried_lens.values().copied()
    }

    /// Does `root` depend on `target`?
    pub fn mentions(&self, root: NodeId, target: NodeId) -> bool {
        target <= root && self.reachable(&[root]).binary_search(&target).is_ok()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn symbol_name(&self, s: SymId) -> &str {
        &self.symbols[s.0 as usize]
    }

    pub fn input_name(&self, i: u32) -> &str {
        &self.inputs[i as usize]
    }

    /// Declares a named symbol (its tokens live with the caller).
    pub fn new_symbol(&mut self, name: impl Into<String>) -> SymId {
        self.symbols.push(name.into());
        SymId(u32::try_from(self.symbols.len() - 1).expect("internal error: too many symbols"))
    }

    /// Declares float input number `i` (in order) and returns its node.
    pub fn new_input(&mut self, name: impl Into<String>) -> NodeId {
        self.inputs.push(name.into());
        let i = u32::try_from(self.inputs.len() - 1).expect("internal error: too many inputs");
        self.intern(Op::Input(i), Kind::Float)
    }

    /// The kind an operation produces.
    pub fn kind_of(&self, op: &Op) -> Kind {
        match op {
            Op::Const(_)
            | Op::Input(_)
            | Op::Cast(_)
            | Op::StopGradient(..)
            | Op::Neg(_)
            | Op::Add(..)
            | Op::Sub(..)
            | Op::Mul(..)
            | Op::Div(..)
            | Op::Unary(..)
            | Op::Powi(..)
            | Op::Binary(..)
            | Op::Clamp(..)
            | Op::MulAdd(..)
            | Op::Call(..)
            | Op::CallOutput(..)
            | Op::Partial(..)
            | Op::Partial2(..)
            | Op::CallJvp(..)
            | Op::JvpPartial(..)
            | Op::Index(..)
            | Op::Element(..)
            | Op::Carry { .. }
            | Op::Fold { .. }
            | Op::Adjoint { .. }
            | Op::RevFold { .. }
            | Op::At(..)
            | Op::AdjAt(..) => Kind::Float,
            // A member of coupled state is a float or (carried across the iterations) an array.
            Op::Component(of, k) => self
                .coupled_parts(*of)
                .and_then(|(firsts, _)| firsts.get(*k as usize))
                .map_or(Kind::Float, |m| self.kind(*m)),
            Op::Table { .. }
            | Op::Alloc { .. }
            | Op::Filled { .. }
            | Op::Scanned { .. }
            | Op::CoupledScan { .. }
            | Op::Cleared { .. } => Kind::Array,
            Op::Sum { body, .. } => self.kind(*body),
            Op::Slice(_)
            | Op::SliceArg(..)
            | Op::DataRun(..)
            | Op::Scatter(..)
            | Op::Effects(..)
            | Op::NoEffect
            | Op::CallVjp(..)
            | Op::CallHvp(..)
            | Op::Accumulate { .. }
            | Op::ArrayVjp { .. }
            | Op::Coupled { .. }
            | Op::RevCoupled { .. }
            | Op::Seeds(_)
            | Op::Rebound { .. }
            | Op::VjpRows { .. } => Kind::Other,
            Op::Sym(_, k) => *k,
            Op::Select(_, a, _) => self.kind(*a),
            Op::IntConst(_)
            | Op::IntIndex(..)
            | Op::LoopVar(_)
            | Op::IntBin(..)
            | Op::IntNeg(_)
            | Op::IntCast(..)
            | Op::FloatToInt(..)
            | Op::Until { .. }
            | Op::ArrayLen(_) => Kind::Int,
            Op::BoolConst(_)
            | Op::Compare(..)
            | Op::Predicate(..)
            | Op::And(..)
            | Op::Or(..)
            | Op::Not(_) => Kind::Bool,
        }
    }

    /// Adds an operation, simplified by the rewrite rules first. The way every pass builds nodes.
    pub fn add(&mut self, op: Op) -> NodeId {
        if let Some(rewrite) = self.rewrite
            && let Some(id) = rewrite(self, &op)
        {
            return id;
        }
        let kind = self.kind_of(&op);
        self.intern(op, kind)
    }

    /// Adds an operation as it is (no rewriting), or finds it.
    pub fn intern(&mut self, op: Op, kind: Kind) -> NodeId {
        if let Some(&id) = self.interned.get(&op) {
            return id;
        }
        let id = NodeId(u32::try_from(self.nodes.len()).expect("internal error: graph too large"));
        debug_assert!(
            op.children().iter().all(|c| *c < id),
            "internal error: children must precede their parent"
        );
        let loops = match &op {
            // An inner loop's index depends on an outer one when its bounds do (`0..i`).
            Op::LoopVar(v) => {
                let bounds = self.loops.get(*v as usize);
                bounds.map_or(0, |&(lo, hi)| self.loops_of(lo) | self.loops_of(hi)) | 1 << v
            }
            Op::Carry { mask, .. } | Op::Adjoint { mask, .. } => *mask,
            Op::Alloc { mask, .. } => op
                .children()
                .iter()
                .fold(*mask, |m, c| m | self.loops_of(*c)),
            Op::Sum { v, .. }
            | Op::Fold { v, .. }
            | Op::RevFold { v, .. }
            | Op::Coupled { v, .. }
            | Op::RevCoupled { v, .. }
            | Op::Until { v, .. }
            | Op::Table { v, .. }
            | Op::Scanned { v, .. }
            | Op::CoupledScan { v, .. } => {
                op.children().iter().fold(0, |m, c| m | self.loops_of(*c)) & !(1 << v)
            }
            _ => op.children().iter().fold(0, |m, c| m | self.loops_of(*c)),
        };
        if let Op::RevFold { sweep: c, .. } = &op {
            self.reverse_sweeps.insert(*c, id);
        }
        // Each member's `λ` is swept by the one reverse loop.
        if let Op::RevCoupled { sweep, parts, .. } = &op {
            for k in 0..u32::try_from(parts.len() / 2).unwrap_or(0) {
                self.reverse_sweeps.insert(sweep + k, id);
            }
        }
        self.nodes.push(Node {
            op: op.clone(),
            kind,
            origin: self.current_origin,
            loops,
        });
        self.interned.insert(op, id);
        id
    }

    // ---- small builders, so passes read like the math.

    pub fn constant(&mut self, v: f64) -> NodeId {
        self.add(Op::Const(v.to_bits()))
    }
    pub fn int(&mut self, v: i64) -> NodeId {
        self.add(Op::IntConst(v))
    }
    pub fn boolean(&mut self, v: bool) -> NodeId {
        self.add(Op::BoolConst(v))
    }
    pub fn zero(&mut self) -> NodeId {
        self.constant(0.0)
    }
    pub fn one(&mut self) -> NodeId {
        self.constant(1.0)
    }
    pub fn neg(&mut self, a: NodeId) -> NodeId {
        self.add(Op::Neg(a))
    }
    /// `a + b` (not a loop sum: that is [`Op::Sum`]).
    pub fn plus(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Add(a, b))
    }
    /// `a − b`.
    pub fn minus(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Sub(a, b))
    }
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Mul(a, b))
    }
    pub fn div(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Div(a, b))
    }
    pub fn unary(&mut self, f: Fun, a: NodeId) -> NodeId {
        self.add(Op::Unary(f, a))
    }
    pub fn binary(&mut self, f: Fun2, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Binary(f, a, b))
    }
    pub fn select(&mut self, c: NodeId, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Select(c, a, b))
    }
    pub fn compare(&mut self, op: Cmp, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Compare(op, a, b))
    }
    pub fn and(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::And(a, b))
    }
    pub fn or(&mut self, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::Or(a, b))
    }
    pub fn not(&mut self, a: NodeId) -> NodeId {
        self.add(Op::Not(a))
    }
    pub fn cast(&mut self, n: NodeId) -> NodeId {
        self.add(Op::Cast(n))
    }
    pub fn int_bin(&mut self, op: IntOp, a: NodeId, b: NodeId) -> NodeId {
        self.add(Op::IntBin(op, a, b))
    }

    /// The parts of `body` if it is member `d`'s array (a `Carry` of recurrence `d`) with a
    /// stretch replaced, what a loop writing `h[off + i]` lowers to: `[if lo <= j && j < hi {
    /// written[j − lo] } else { old[j] } for j in 0..n]`, `old` the member's own value.
    pub fn stretch_patch(&self, d: u32, body: NodeId) -> Option<StretchPatch> {
        let Op::Table {
            v,
            lo: zero,
            body: value,
            ..
        } = *self.op(body)
        else {
            return None;
        };
        let Op::Select(cond, new, kept) = *self.op(value) else {
            return None;
        };
        let (&Op::And(from, to), &Op::At(written, k), &Op::At(old, j)) =
            (self.op(cond), self.op(new), self.op(kept))
        else {
            return None;
        };
        let (&Op::Compare(Cmp::Ge, j1, lo), &Op::Compare(Cmp::Lt, j2, hi)) =
            (self.op(from), self.op(to))
        else {
            return None;
        };
        let is_j = |n: NodeId| matches!(*self.op(n), Op::LoopVar(w) if w == v);
        let own = matches!(*self.op(old), Op::Carry { c, .. } if c == d);
        let offset =
            matches!(*self.op(k), Op::IntBin(IntOp::Sub, j3, lo3) if is_j(j3) && lo3 == lo);
        (self.as_int(zero) == Some(0) && is_j(j) && is_j(j1) && is_j(j2) && offset && own)
            .then_some(StretchPatch {
                written,
                lo,
                hi,
                kept,
                old,
            })
    }

    /// Whether integer nodes `a` and `b` compute the same value as written, up to the order of
    /// the operands of `+` and `*` (`3 * ly + j` and `j + ly * 3`): what makes two spellings of
    /// an index the same element.
    pub fn same_int(&self, a: NodeId, b: NodeId) -> bool {
        if a == b {
            return true;
        }
        match (self.op(a), self.op(b)) {
            (Op::IntBin(p, a1, a2), Op::IntBin(q, b1, b2)) if p == q => {
                (self.same_int(*a1, *b1) && self.same_int(*a2, *b2))
                    || (matches!(p, IntOp::Add | IntOp::Mul)
                        && self.same_int(*a1, *b2)
                        && self.same_int(*a2, *b1))
            }
            _ => false,
        }
    }

    /// Whether computing `roots` runs a loop of sums or a recurrence (a `Sum`, `Fold` or
    /// `Coupled` node): what decides whether generated code is inlined.
    pub fn runs_loops(&self, roots: &[NodeId]) -> bool {
        self.reachable(roots).iter().any(|n| {
            matches!(
                self.op(*n),
                Op::Sum { .. }
                    | Op::Fold { .. }
                    | Op::Scanned { .. }
                    | Op::Coupled { .. }
                    | Op::CoupledScan { .. }
            )
        })
    }

    /// The value of a float constant node, if it is one.
    pub fn as_const(&self, id: NodeId) -> Option<f64> {
        match self.op(id) {
            Op::Const(bits) => Some(f64::from_bits(*bits)),
            _ => None,
        }
    }

    pub fn as_int(&self, id: NodeId) -> Option<i64> {
        match self.op(id) {
            Op::IntConst(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_bool(&self, id: NodeId) -> Option<bool> {
        match self.op(id) {
            Op::BoolConst(v) => Some(*v),
            _ => None,
        }
    }

    pub fn is_const(&self, id: NodeId, v: f64) -> bool {
        self.as_const(id) == Some(v)
    }

    /// A leaf: printed inline everywhere, never bound to a `let`. Not a provisional carry: it
    /// stands for whatever value the variable had before the loop, which may be any expression,
    /// so the rewrites that move leaves (`x * 2 => 2 * x`, a loop-invariant leaf out of a sum)
    /// leave it where it is.
    pub fn is_leaf(&self, id: NodeId) -> bool {
        !self.is_provisional(id)
            && matches!(
                self.op(id),
                Op::Const(_)
                    | Op::Input(_)
                    | Op::Sym(..)
                    | Op::IntConst(_)
                    | Op::BoolConst(_)
                    | Op::LoopVar(_)
                    | Op::Carry { .. }
                    | Op::Adjoint { .. }
                    | Op::Slice(_)
                    | Op::SliceArg(..)
                    | Op::NoEffect
            )
    }

    /// Whether evaluating `id` may panic: it reads an element (the index may be out of range)
    /// or does integer arithmetic (overflow, division by zero), itself or below. Loops and
    /// calls count as safe (see `emit`'s hoisting).
    pub fn may_panic(&self, id: NodeId) -> bool {
        let mut seen = HashSet::new();
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            let op = self.op(n);
            if op.may_panic_itself() {
                return true;
            }
            if !op.panics_like_the_user() {
                stack.extend(op.children());
            }
        }
        false
    }

    /// [`Graph::may_panic`] for every node of `nodes` (in graph order) at once: the set of those
    /// that may panic.
    pub fn panicking(&self, nodes: &[NodeId]) -> HashSet<NodeId> {
        let mut out = HashSet::new();
        for &n in nodes {
            let op = self.op(n);
            let below = !op.panics_like_the_user() && op.children().iter().any(|c| out.contains(c));
            if op.may_panic_itself() || below {
                out.insert(n);
            }
        }
        out
    }

    /// The effects `e` runs in its own block, in order: the leaves of its tree of
    /// [`Op::Effects`], without [`Op::NoEffect`].
    pub fn effect_parts(&self, e: NodeId) -> Vec<NodeId> {
        let mut parts = Vec::new();
        let mut stack = vec![e];
        while let Some(n) = stack.pop() {
            match *self.op(n) {
                Op::Effects(a, b) => stack.extend([b, a]),
                Op::NoEffect => {}
                _ => parts.push(n),
            }
        }
        parts
    }

    /// `parts` run in order, as one effect (the inverse of [`Graph::effect_parts`]); none:
    /// [`Op::NoEffect`].
    pub fn effect_list(&mut self, parts: &[NodeId]) -> NodeId {
        let Some((first, rest)) = parts.split_first() else {
            return self.add(Op::NoEffect);
        };
        rest.iter()
            .fold(*first, |out, p| self.add(Op::Effects(out, *p)))
    }

    /// An effect (`∇x[i] += …`, a call's vector-Jacobian product, both, neither, or one of two
    /// under a condition), not a value.
    pub fn is_effect(&self, id: NodeId) -> bool {
        match self.op(id) {
            Op::Scatter(..)
            | Op::Effects(..)
            | Op::CallVjp(..)
            | Op::CallHvp(..)
            | Op::NoEffect
            | Op::Accumulate { .. }
            | Op::ArrayVjp { .. }
            | Op::Rebound { .. }
            | Op::VjpRows { .. } => true,
            Op::Select(_, a, _) => self.is_effect(*a),
            // A loop of effects: `Σ_j ∇x[j] += …` inside `Σ_i` runs once per `i`, even where
            // nothing in it changes with `i`.
            Op::Sum { body, .. } => self.is_effect(*body),
            _ => false,
        }
    }

    /// Every node the code computing `roots` runs, in increasing (topological) order: the
    /// reachable nodes, and the reverse sweep of every recurrence whose adjoint `λ` a reachable
    /// node reads (a sweep runs wherever a sum reads its `λ`, even if its own value, the adjoint
    /// of the recurrence's initial value, is not needed).
    pub fn reachable_with_sweeps(&self, roots: &[NodeId]) -> Vec<NodeId> {
        let mut extended: Vec<NodeId> = roots.to_vec();
        loop {
            let all = self.reachable(&extended);
            let missing: Vec<NodeId> = all
                .iter()
                .filter_map(|n| match self.op(*n) {
                    Op::Adjoint { sweep: c, .. } => self.reverse_sweep_of(*c),
                    _ => None,
                })
                .filter(|r| all.binary_search(r).is_err())
                .collect();
            if missing.is_empty() {
                return all;
            }
            extended.extend(missing);
        }
    }

    /// Every node reachable from `roots`, in increasing (topological) order.
    pub fn reachable(&self, roots: &[NodeId]) -> Vec<NodeId> {
        let mut seen = vec![false; self.nodes.len()];
        let mut stack: Vec<NodeId> = roots.to_vec();
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n.index()], true) {
                continue;
            }
            stack.extend(self.op(n).children());
        }
        (0..self.nodes.len())
            .filter(|&i| seen[i])
            .map(|i| NodeId(u32::try_from(i).expect("internal error: graph too large")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Fun, NodeId, Op, SymId};

    /// `with_children` puts back what `children` took out, field by field, for leaves,
    /// operations with data fields, the loop ops (struct variants) and a call's argument list.
    #[test]
    fn with_children_inverts_children() {
        let n = |i| NodeId(i);
        let ops = [
            Op::Const(1.5f64.to_bits()),
            Op::NoEffect,
            Op::Unary(Fun::Exp, n(3)),
            Op::Select(n(1), n(2), n(3)),
            Op::Call(SymId(4), vec![n(5), n(6), n(7)]),
            Op::Scatter(2, n(8), n(9)),
            Op::Sum {
                v: 1,
                lo: n(1),
                hi: n(2),
                body: n(3),
            },
            Op::Fold {
                c: 0,
                v: 2,
                lo: n(1),
                hi: n(2),
                init: n(3),
                body: n(4),
            },
            Op::Carry {
                c: 1,
                v: 2,
                mask: 6,
            },
        ];
        let counts = [0, 0, 1, 3, 3, 2, 3, 4, 0];
        for (op, count) in ops.iter().zip(counts) {
            let children = op.children();
            assert_eq!(children.len(), count, "{op:?}");
            assert_eq!(&op.with_children(&children), op);
        }
        // New children land in the fields in order.
        let moved = Op::Select(n(1), n(2), n(3)).with_children(&[n(7), n(8), n(9)]);
        assert_eq!(moved, Op::Select(n(7), n(8), n(9)));
    }
}
