//! What the generator knows while writing a function: its parameters, the locals in scope (float
//! locals: which are readable, which are typed `f64` rather than a bare `{float}`, which are
//! `&f64` items; runs bound by patterns; closures), and the enclosing loops' index ranges (what
//! makes every element read in bounds).

use crate::ast::{Dim, Extent, IntExpr, Param, ParamTy};

/// What a local holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalKind {
    /// A float: `f64`, or `&f64` (an iterator's item bound by reference, read as `*v`).
    Float {
        /// A `&f64`.
        by_ref: bool,
        /// Bound by an iterator pattern or a closure parameter (read more often).
        item: bool,
    },
    /// A run bound by a pattern (a window or chunk): a slice of length `Dim::View(id)`, never
    /// empty, its first `fixed` elements always there.
    View {
        /// Its number (`Dim::View(id)`).
        id: usize,
        /// How many leading elements every run has (at least 1).
        fixed: usize,
    },
    /// A closure bound by `let`: its parameters, `true` for `&f64`.
    Closure(Vec<bool>),
    /// A local array of length `ext` (`gen/arrays.rs`; `typed`: its elements are known `f64`).
    /// While a loop writes it, `writer` is that loop's index: the array is read only at it.
    Array {
        /// Its length.
        ext: Extent,
        /// The index of the loop writing it, if one is.
        writer: Option<String>,
    },
    /// An integer counter (`let mut ct = 0;`, stepped once per iteration of a loop), with the
    /// bounds of its value here (`index: false`: a counter whose bounds are not known, read in
    /// conditions and casts only).
    Counter(LoopVar),
}

/// A local.
#[derive(Debug, Clone)]
pub struct Local {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub kind: LocalKind,
    /// Whether rustc knows it is `f64` (a method may be called on it).
    pub typed: bool,
    /// How many enclosing loops update it: only its own update may read it there.
    pub carried: u32,
    /// Hidden by a later `let` of the same name.
    pub shadowed: bool,
}

/// An enclosing loop's index `var`, with `lo <= var <= size(dim) - 1 - slack`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopVar {
    /// The index variable.
    pub name: String,
    /// The size its bound is made of.
    pub dim: Dim,
    /// Its smallest value.
    pub lo: i64,
    /// How far below `size(dim) - 1` its largest value is (negative: above).
    pub slack: i64,
    /// A `usize` that may index and bound (false: an `i32` of a literal range in a `zip`, only
    /// cast).
    pub index: bool,
}

impl LoopVar {
    /// A `usize` index with these bounds.
    #[must_use]
    pub fn new(name: String, dim: Dim, lo: i64, slack: i64) -> Self {
        Self {
            name,
            dim,
            lo,
            slack,
            index: true,
        }
    }
}

/// The generator's view of one function being written.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The function's parameters.
    pub params: Vec<Param>,
    /// The float locals, innermost last.
    pub locals: Vec<Local>,
    /// The enclosing loops, innermost last.
    pub loops: Vec<LoopVar>,
    /// Runs are out of sight while this is positive (the arguments of a call: see
    /// `Weights::call_run_args`).
    pub hide_runs: u32,
    /// Local arrays are out of sight while this is positive (the body of a closure bound by
    /// `let`, which would keep an array borrowed across a later write).
    pub hide_arrays: u32,
}

impl Scope {
    /// A scope over these parameters.
    #[must_use]
    pub fn new(params: Vec<Param>) -> Self {
        Self {
            params,
            ..Self::default()
        }
    }

    /// The sizes loops may run over.
    #[must_use]
    pub fn dims(&self) -> Vec<Dim> {
        let mut dims = Vec::new();
        for p in &self.params {
            match p.ty {
                ParamTy::Size(d) => dims.push(d),
                ParamTy::Slice(Extent { dim: Dim::L, .. }) if !dims.contains(&Dim::L) => {
                    dims.push(Dim::L);
                }
                _ => {}
            }
        }
        if dims.contains(&Dim::N) && dims.contains(&Dim::D) {
            dims.push(Dim::Nd);
        }
        dims
    }

    /// The integer expression of a size: `n`, `d`, `n * d`, `u.len()`, `r.len()` of a run, `K`
    /// of an array.
    #[must_use]
    pub fn dim_expr(&self, dim: Dim) -> IntExpr {
        match dim {
            Dim::Fixed(k) => IntExpr::Const(k),
            Dim::View(id) => IntExpr::Len(
                self.locals
                    .iter()
                    .rev()
                    .find(|l| matches!(l.kind, LocalKind::View { id: i, .. } if i == id))
                    .map(|l| l.name.clone())
                    .unwrap_or_default(),
            ),
            Dim::N => IntExpr::Var("n".into()),
            Dim::D => IntExpr::Var("d".into()),
            Dim::Nd => IntExpr::times(self.dim_expr(Dim::N), self.dim_expr(Dim::D)),
            Dim::L => IntExpr::Len(
                self.slices()
                    .first()
                    .map(|(s, _)| s.clone())
                    .unwrap_or_default(),
            ),
        }
    }

    /// The slice parameters and their lengths.
    #[must_use]
    pub fn slice_params(&self) -> Vec<(String, Extent)> {
        self.params
            .iter()
            .filter_map(|p| match p.ty {
                ParamTy::Slice(e) => Some((p.name.clone(), e)),
                _ => None,
            })
            .collect()
    }

    /// Everything elements may be read from, with its length: slice and array parameters, and
    /// the runs in scope.
    #[must_use]
    pub fn slices(&self) -> Vec<(String, Extent)> {
        let mut out = Vec::new();
        for p in &self.params {
            match p.ty {
                ParamTy::Slice(e) => out.push((p.name.clone(), e)),
                ParamTy::Array { len, .. } => out.push((
                    p.name.clone(),
                    Extent {
                        dim: Dim::Fixed(len),
                        plus: 0,
                    },
                )),
                _ => {}
            }
        }
        for l in self
            .locals
            .iter()
            .filter(|l| !l.shadowed && self.hide_runs == 0)
        {
            if let LocalKind::View { id, .. } = l.kind {
                let e = Extent {
                    dim: Dim::View(id),
                    plus: 0,
                };
                out.push((l.name.clone(), e));
            }
        }
        out.extend(
            self.arrays()
                .into_iter()
                .filter(|(_, _, writer, typed)| writer.is_none() && *typed)
                .map(|(name, ext, _, _)| (name, ext)),
        );
        out
    }

    /// The local arrays in sight (not hidden as carried: a `break` condition does not see the
    /// arrays its loop body writes): name, length, the index of the loop writing it, and
    /// whether its elements are typed.
    #[must_use]
    pub fn arrays(&self) -> Vec<(String, Extent, Option<String>, bool)> {
        if self.hide_arrays > 0 {
            return Vec::new();
        }
        self.locals
            .iter()
            .filter(|l| !l.shadowed && l.carried == 0)
            .filter_map(|l| match &l.kind {
                LocalKind::Array { ext, writer } => {
                    Some((l.name.clone(), *ext, writer.clone(), l.typed))
                }
                _ => None,
            })
            .collect()
    }

    /// Whether an element of `name` is known to be `f64` (false for a local array rustc still
    /// sees as `{float}`).
    #[must_use]
    pub fn element_typed(&self, name: &str) -> bool {
        self.locals
            .iter()
            .rev()
            .find(|l| l.name == name && !l.shadowed)
            .is_none_or(|l| !matches!(l.kind, LocalKind::Array { .. }) || l.typed)
    }

    /// The run in scope called `name`: how many leading elements it surely has.
    #[must_use]
    pub fn view_fixed(&self, name: &str) -> Option<usize> {
        self.locals
            .iter()
            .rev()
            .find(|l| l.name == name && !l.shadowed)
            .and_then(|l| match l.kind {
                LocalKind::View { fixed, .. } => Some(fixed),
                _ => None,
            })
    }

    /// Whether `name` is an array parameter passed by value (`q: [f64; 3]`: not iterable as
    /// `for &v in q`) or a local array (iterated as `z.iter()`, not moved).
    #[must_use]
    pub fn owned_array(&self, name: &str) -> bool {
        self.params
            .iter()
            .any(|p| p.name == name && matches!(p.ty, ParamTy::Array { by_ref: false, .. }))
            || self.arrays().iter().any(|a| a.0 == name)
    }

    /// The closures in scope: name and parameters (`true`: `&f64`).
    #[must_use]
    pub fn closures(&self) -> Vec<(String, Vec<bool>)> {
        self.locals
            .iter()
            .filter(|l| !l.shadowed)
            .filter_map(|l| match &l.kind {
                LocalKind::Closure(params) => Some((l.name.clone(), params.clone())),
                _ => None,
            })
            .collect()
    }

    /// The integer counters an expression or condition may read here (not those hidden as
    /// carried), with their bounds.
    #[must_use]
    pub fn counters(&self) -> Vec<LoopVar> {
        self.locals
            .iter()
            .filter(|l| l.carried == 0 && !l.shadowed)
            .filter_map(|l| match &l.kind {
                LocalKind::Counter(lv) => Some(lv.clone()),
                _ => None,
            })
            .collect()
    }

    /// The bounds of the counter `name`: a `while` or `loop` counter among the enclosing
    /// loops, or a counter local.
    pub fn counter_mut(&mut self, name: &str) -> Option<&mut LoopVar> {
        if let Some(at) = self.loops.iter().rposition(|l| l.name == name) {
            return Some(&mut self.loops[at]);
        }
        self.visible_mut(name).and_then(|l| match &mut l.kind {
            LocalKind::Counter(lv) => Some(lv),
            _ => None,
        })
    }

    /// The float parameters.
    #[must_use]
    pub fn scalars(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|p| p.ty == ParamTy::Scalar)
            .map(|p| p.name.clone())
            .collect()
    }

    /// The float locals an expression may read here.
    #[must_use]
    pub fn readable(&self) -> Vec<&Local> {
        self.locals
            .iter()
            .filter(|l| l.carried == 0 && !l.shadowed && matches!(l.kind, LocalKind::Float { .. }))
            .collect()
    }

    /// Declares a float local (shadowing any earlier one of the same name).
    pub fn declare(&mut self, name: &str, typed: bool) {
        self.declare_kind(
            name,
            LocalKind::Float {
                by_ref: false,
                item: false,
            },
            typed,
        );
    }

    /// Declares a local of any kind (shadowing any earlier one of the same name).
    pub fn declare_kind(&mut self, name: &str, kind: LocalKind, typed: bool) {
        for l in &mut self.locals {
            if l.name == name {
                l.shadowed = true;
            }
        }
        self.locals.push(Local {
            name: name.into(),
            kind,
            typed,
            carried: 0,
            shadowed: false,
        });
    }

    /// Whether the float local `name` is a `&f64`.
    #[must_use]
    pub fn by_ref(&self, name: &str) -> bool {
        self.locals
            .iter()
            .rev()
            .find(|l| l.name == name && !l.shadowed)
            .is_some_and(|l| matches!(l.kind, LocalKind::Float { by_ref: true, .. }))
    }

    fn visible_mut(&mut self, name: &str) -> Option<&mut Local> {
        self.locals
            .iter_mut()
            .rev()
            .find(|l| l.name == name && !l.shadowed)
    }

    /// Marks a local as carried by one more enclosing loop (`true`) or one fewer (`false`).
    pub fn set_carried(&mut self, name: &str, carried: bool) {
        if let Some(l) = self.visible_mut(name) {
            if carried {
                l.carried += 1;
            } else {
                l.carried -= 1;
            }
        }
    }

    /// Records that `name` now holds an `f64`.
    pub fn set_typed(&mut self, name: &str) {
        if let Some(l) = self.visible_mut(name) {
            l.typed = true;
        }
    }

    /// Whether the float variable `name` is known to be `f64`.
    #[must_use]
    pub fn var_typed(&self, name: &str) -> bool {
        if self.scalars().iter().any(|s| s == name) {
            return true;
        }
        self.locals
            .iter()
            .rev()
            .find(|l| l.name == name && !l.shadowed)
            .is_some_and(|l| l.typed)
    }

    /// Ends a block: forgets the locals declared since `mark` (and un-shadows what they hid).
    /// Loop indices are popped by their owners.
    pub fn truncate(&mut self, mark: usize) {
        let gone: Vec<String> = self.locals.drain(mark..).map(|l| l.name).collect();
        for name in gone {
            if let Some(l) = self.locals.iter_mut().rev().find(|l| l.name == name) {
                l.shadowed = false;
            }
        }
    }
}
