//! Iterator chains, for `for` loops and iterator sums: a base (`(a..b)`, `x`, `x.iter()`,
//! `x[a..b].iter()`, `x.windows(k)`, `x.chunks(k)`, `x.chunks_exact(k)`) and adaptors (`skip`,
//! `take`, `step_by`, `rev`, `enumerate`, `zip`, `copied`), with arguments that reach the edge
//! cases: `skip` and `take` past the end, a step or a window longer than the slice, an empty
//! sub-slice (`x[i + 1..]` at the last `i`), chunks of a length the width does not divide, a
//! `zip` with a shorter side or a literal range (`zip(1..4)`). Each item's pattern binds what the
//! body may read: a float (`&v`, or `v` read as `*v`), an index with what it proves, a run read as
//! `r[0]`, `r[r.len() - 1]`, `r.len()`.
//!
//! Every chain is valid Rust at every size: `step_by`, `windows` and `chunks` get a positive
//! argument, sub-slice bounds are within the slice and in order, and an index bound by a pattern
//! is below the length of the slice (or range) it counts, whatever the adaptors took away.

use super::Gen;
use super::scope::{LocalKind, LoopVar};
use crate::ast::{Adaptor, Base, Chain, Dim, Extent, IntExpr, Pat, Range, RunKind};

/// What one item of a chain is.
#[derive(Debug, Clone)]
pub(super) enum Item {
    /// A float: `&f64`, or `f64` after `.copied()` (or of an array passed by value).
    Float {
        /// A `&f64`.
        by_ref: bool,
    },
    /// An integer and its bounds (named when bound); `index: false` for the `i32` of a literal
    /// range, which is only cast.
    Int(LoopVar),
    /// A run (a window or chunk) whose first `fixed` elements are always there.
    Run {
        /// At least 1.
        fixed: usize,
    },
    /// `enumerate`'s and `zip`'s pairs.
    Pair(Box<Item>, Box<Item>),
}

impl Item {
    fn pair(a: Item, b: Item) -> Item {
        Item::Pair(Box::new(a), Box::new(b))
    }
}

/// A chain being built: the chain, its items, and the bounds of a count of its items (what
/// `enumerate` gives).
pub(super) struct Built {
    pub chain: Chain,
    pub item: Item,
    /// The bounds of a count of its items (the `k`-th item, from 0, has
    /// `k <= size(count.dim) - 1 - count.slack`).
    pub count: LoopVar,
    enumerated: bool,
    zipped: bool,
}

impl Built {
    /// Appends an adaptor (`x` itself becomes `x.iter()`: a slice is not an iterator).
    pub(super) fn push(&mut self, a: Adaptor) {
        if let Base::Bare(x) = &self.chain.base {
            self.chain.base = Base::Iter(x.clone());
        }
        self.chain.adaptors.push(a);
    }

    /// A chain over a slice of extent `e`.
    pub(super) fn of(base: Base, item: Item, e: Extent) -> Self {
        Self::new(base, item, count_of(e))
    }

    fn new(base: Base, item: Item, count: LoopVar) -> Self {
        Self {
            chain: Chain {
                base,
                adaptors: Vec::new(),
            },
            item,
            count,
            enumerated: false,
            zipped: false,
        }
    }
}

/// The bounds of a count below the length of a slice of extent `e`.
fn count_of(e: Extent) -> LoopVar {
    LoopVar::new(String::new(), e.dim, 0, -i64::try_from(e.plus).unwrap_or(0))
}

/// The fewest elements a slice of extent `e` has (every size is at least 1).
fn min_len(e: Extent) -> usize {
    match e.dim {
        Dim::Fixed(k) => k,
        _ => 1 + e.plus,
    }
}

impl Gen<'_> {
    /// The iterator of a `for` loop: over elements, runs, a sub-slice, or an adapted range.
    pub(super) fn loop_chain(&mut self) -> Built {
        let w = self.w;
        let mut b = match self.rng.weighted(&[2, 5, w.iter_runs, w.iter_sub]) {
            0 => {
                let mut b = self.range_base();
                // A plain range is a `for i in a..b` loop: adapt it.
                let a = self.simple_adaptor();
                b.push(a);
                b
            }
            2 => self.runs_base(),
            3 => self.sub_base(),
            _ => self.slice_base(true),
        };
        self.adapt(&mut b, w.iter_adaptor);
        b
    }

    /// `(a..b)` over a random range.
    pub(super) fn range_base(&mut self) -> Built {
        let (range, lv) = self.pick_range();
        let count = LoopVar::new(String::new(), lv.dim, 0, lv.slack);
        Built::new(Base::Range(range), Item::Int(lv), count)
    }

    /// `x.iter()`, or `x` itself where `bare` allows (not an array passed by value: its items
    /// are not references).
    pub(super) fn slice_base(&mut self, bare: bool) -> Built {
        let (slice, ext) = self.rng.pick(&self.scope.slices()).clone();
        let base = if bare && !self.scope.owned_array(&slice) && self.rng.chance(0.5) {
            Base::Bare(slice)
        } else {
            Base::Iter(slice)
        };
        Built::new(base, Item::Float { by_ref: true }, count_of(ext))
    }

    /// `x.windows(k)`, `x.chunks(k)`, `x.chunks_exact(k)`.
    pub(super) fn runs_base(&mut self) -> Built {
        let (slice, ext) = self.rng.pick(&self.scope.slices()).clone();
        let kind = *self
            .rng
            .pick(&[RunKind::Windows, RunKind::Chunks, RunKind::ChunksExact]);
        let k = self.positive_arg();
        let fixed = match (kind, &k) {
            (RunKind::Windows | RunKind::ChunksExact, IntExpr::Const(c)) => *c,
            _ => 1,
        };
        Built::new(
            Base::Runs(kind, slice, k),
            Item::Run { fixed },
            count_of(ext),
        )
    }

    /// `x[a..b].iter()` with `a <= b <= x.len()` at every size; empty at some (`x[i + 1..]` at
    /// the last `i`, `x[..x.len() - 1]` of one element).
    pub(super) fn sub_base(&mut self) -> Built {
        let (slice, ext) = self.rng.pick(&self.scope.slices()).clone();
        let m = min_len(ext);
        let plus = i64::try_from(ext.plus).unwrap_or(0);
        let len = IntExpr::Len(slice.clone());
        let last = IntExpr::minus(len.clone(), IntExpr::Const(1));
        let mut options: Vec<(Option<IntExpr>, Option<IntExpr>)> = vec![
            (Some(IntExpr::Const(1)), None),
            (Some(IntExpr::Const(self.rng.range(0, m.min(3)))), None),
            (None, Some(last.clone())),
        ];
        if m >= 2 {
            options.push((Some(IntExpr::Const(1)), Some(last)));
        }
        let indices: Vec<LoopVar> = self
            .scope
            .loops
            .iter()
            .filter(|l| l.index && l.dim == ext.dim)
            .cloned()
            .collect();
        for lv in indices {
            let i = IntExpr::Var(lv.name.clone());
            let i1 = IntExpr::plus(i.clone(), IntExpr::Const(1));
            // `i <= x.len()` and `i + 1 <= x.len()`.
            if lv.slack >= -1 - plus {
                options.push((Some(i.clone()), None));
                options.push((None, Some(i.clone())));
                options.push((Some(IntExpr::Const(0)), Some(i.clone())));
                options.push((Some(i.clone()), Some(len.clone())));
            }
            if lv.slack >= -plus {
                options.push((Some(i1.clone()), None));
                options.push((None, Some(i1.clone())));
                options.push((Some(i), Some(i1)));
            }
        }
        let (start, end) = self.rng.pick(&options).clone();
        Built::new(
            Base::Sub { slice, start, end },
            Item::Float { by_ref: true },
            count_of(ext),
        )
    }

    /// Up to three more adaptors, the first with probability `weight` out of 10, each further
    /// one half as likely.
    pub(super) fn adapt(&mut self, b: &mut Built, weight: u32) {
        let mut weight = weight;
        for _ in 0..3 {
            if !self.x_tenth(weight) {
                return;
            }
            weight /= 2;
            // Not `x.iter().enumerate()` or `x.iter().zip(y)` themselves: the first shapes are
            // drawn as they always were (`iters.rs`), not through this stream.
            let plain = b.chain.adaptors.is_empty() && matches!(b.chain.base, Base::Iter(_));
            let enumerate = if b.enumerated || plain { 0 } else { 2 };
            let zip = if b.zipped || plain { 0 } else { 2 };
            let copied = u32::from(matches!(b.item, Item::Float { by_ref: true }));
            match self.rng.weighted(&[5, enumerate, zip, copied]) {
                1 => Self::enumerate(b),
                2 => self.zip(b),
                3 => {
                    b.push(Adaptor::Copied);
                    b.item = Item::Float { by_ref: false };
                }
                _ => {
                    let a = self.simple_adaptor();
                    b.push(a);
                }
            }
        }
    }

    /// `.enumerate()`: the count is below the number of items, so below the base's length.
    pub(super) fn enumerate(b: &mut Built) {
        b.push(Adaptor::Enumerate);
        let item = std::mem::replace(&mut b.item, Item::Float { by_ref: true });
        b.item = Item::pair(Item::Int(b.count.clone()), item);
        b.enumerated = true;
    }

    /// `.zip(other)`: a slice, a shifted iterator (`x.iter().skip(1)`), or a range.
    pub(super) fn zip(&mut self, b: &mut Built) {
        let other = self.zip_arg();
        b.push(Adaptor::Zip(Box::new(other.chain)));
        let item = std::mem::replace(&mut b.item, Item::Float { by_ref: true });
        b.item = Item::pair(item, other.item);
        b.zipped = true;
    }

    /// `.zip(other)` of the slice `other` itself (`other.iter()` of an array passed by value,
    /// whose items are not references).
    pub(super) fn zip_with(&mut self, b: &mut Built, other: String) {
        let base = if self.scope.owned_array(&other) {
            Base::Iter(other)
        } else {
            Base::Bare(other)
        };
        let chain = Chain {
            base,
            adaptors: Vec::new(),
        };
        b.push(Adaptor::Zip(Box::new(chain)));
        let item = std::mem::replace(&mut b.item, Item::Float { by_ref: true });
        b.item = Item::pair(item, Item::Float { by_ref: true });
        b.zipped = true;
    }

    /// What a chain is zipped with.
    pub(super) fn zip_arg(&mut self) -> Built {
        match self.rng.weighted(&[5, 2, 1, 1, 1]) {
            1 => {
                let mut b = self.slice_base(false);
                b.push(Adaptor::Skip(IntExpr::Const(1)));
                b
            }
            2 => self.range_base(),
            3 => {
                // `1..4`: an `i32`, only cast.
                let start = self.rng.range(0, 2);
                let end = start + self.rng.range(1, 5);
                let lv = LoopVar {
                    index: false,
                    ..LoopVar::new(String::new(), Dim::N, 0, 0)
                };
                let range = Range {
                    start: IntExpr::Const(start),
                    end: IntExpr::Const(end),
                };
                Built::new(Base::Range(range), Item::Int(lv.clone()), lv)
            }
            4 => {
                let mut b = self.slice_base(false);
                let a = self.simple_adaptor();
                b.push(a);
                b
            }
            _ => self.slice_base(true),
        }
    }

    /// `skip(k)`, `take(k)`, `step_by(k)` or `rev()`: the same items, fewer or in another order.
    pub(super) fn simple_adaptor(&mut self) -> Adaptor {
        match self.rng.weighted(&[3, 2, 3, 3]) {
            0 => Adaptor::Skip(self.count_arg()),
            1 => Adaptor::Take(self.count_arg()),
            2 => Adaptor::StepBy(self.positive_arg()),
            _ => Adaptor::Rev,
        }
    }

    /// The indices in scope that may bound or count (`usize`).
    fn index_vars(&self) -> Vec<String> {
        self.scope
            .loops
            .iter()
            .filter(|l| l.index)
            .map(|l| l.name.clone())
            .collect()
    }

    /// A count for `skip` or `take`: small, past the end, a size, a length or an index.
    fn count_arg(&mut self) -> IntExpr {
        let indices = self.index_vars();
        let sizes = self.sizes();
        match self.rng.weighted(&[
            5,
            1,
            u32::from(!sizes.is_empty()) * 2,
            1,
            u32::from(!indices.is_empty()) * 2,
        ]) {
            1 => IntExpr::Const(self.rng.range(4, 7)),
            2 => self.rng.pick(&sizes).clone(),
            3 => self.any_len(),
            4 => IntExpr::Var(self.rng.pick(&indices).clone()),
            _ => IntExpr::Const(self.rng.range(0, 3)),
        }
    }

    /// A positive count for `step_by`, `windows`, `chunks`: small, larger than most slices, a
    /// size, a length, or an index plus one.
    fn positive_arg(&mut self) -> IntExpr {
        let indices = self.index_vars();
        let sizes = self.sizes();
        match self.rng.weighted(&[
            5,
            1,
            u32::from(!sizes.is_empty()) * 2,
            1,
            u32::from(!indices.is_empty()) * 2,
        ]) {
            1 => IntExpr::Const(self.rng.range(4, 6)),
            2 => self.rng.pick(&sizes).clone(),
            3 => self.any_len(),
            4 => IntExpr::plus(
                IntExpr::Var(self.rng.pick(&indices).clone()),
                IntExpr::Const(1),
            ),
            _ => IntExpr::Const(self.rng.range(1, 3)),
        }
    }

    /// The sizes in scope as expressions (`n`, `d`, `u.len()`), all at least 1.
    fn sizes(&self) -> Vec<IntExpr> {
        self.scope
            .dims()
            .into_iter()
            .filter(|d| *d != Dim::Nd)
            .map(|d| self.scope.dim_expr(d))
            .collect()
    }

    /// `x.len()` of a slice, array or run in scope (at least 1).
    fn any_len(&mut self) -> IntExpr {
        let slices = self.scope.slices();
        IntExpr::Len(self.rng.pick(&slices).0.clone())
    }

    /// The pattern binding `item`, its names declared: a float `&e` (by value) or, one time in
    /// `1 - deref`, `e` (a `&f64`, read as `*e`); an index named by depth; a run `r`. The floats
    /// of a pair of two are named `za`, `zb`. `deref: None` binds as the first four shapes did
    /// (always `&e`, drawing nothing, the names plain locals).
    pub(super) fn bind(&mut self, item: &Item, prefix: &str, deref: Option<f64>) -> Pat {
        match item {
            Item::Float { by_ref: true } => {
                let name = self.fresh(prefix);
                let Some(deref) = deref else {
                    self.scope.declare(&name, true);
                    return Pat::Deref(name);
                };
                let by_value = self.rng.chance(deref);
                self.declare_item(&name, !by_value);
                if by_value {
                    Pat::Deref(name)
                } else {
                    Pat::Bind(name)
                }
            }
            Item::Float { by_ref: false } => {
                let name = self.fresh(prefix);
                self.declare_item(&name, false);
                Pat::Bind(name)
            }
            Item::Int(lv) => {
                let name = self.index_name();
                self.scope.loops.push(LoopVar {
                    name: name.clone(),
                    ..lv.clone()
                });
                Pat::Bind(name)
            }
            Item::Run { fixed } => {
                let name = self.fresh("r");
                let id = self.counter;
                let kind = LocalKind::View { id, fixed: *fixed };
                self.scope.declare_kind(&name, kind, false);
                Pat::Bind(name)
            }
            Item::Pair(a, b) => {
                let floats = matches!(**a, Item::Float { .. }) && matches!(**b, Item::Float { .. });
                let (pa, pb) = if floats {
                    ("za", "zb")
                } else {
                    (prefix, prefix)
                };
                let left =
                    if deref.is_some() && matches!(**a, Item::Int(_)) && self.rng.chance(0.05) {
                        Pat::Wild
                    } else {
                        self.bind(a, pa, deref)
                    };
                let right = self.bind(b, pb, deref);
                Pat::Pair(Box::new(left), Box::new(right))
            }
        }
    }

    /// Declares an item's float (read more often than other locals).
    fn declare_item(&mut self, name: &str, by_ref: bool) {
        let kind = LocalKind::Float { by_ref, item: true };
        self.scope.declare_kind(name, kind, true);
    }
}
