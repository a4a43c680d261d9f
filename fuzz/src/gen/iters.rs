//! Iterator sums and products, which the macro lowers to loops: `(0..n).map(|i| ..)`,
//! `x.iter().map(|&v| ..)`, `x.iter().enumerate().map(|(i, &v)| ..)`,
//! `x.iter().zip(y).map(|(&a, &b)| ..)`, and the chains of `chains.rs` (runs, sub-slices, more
//! adaptors), each `.sum::<f64>()` or `.product::<f64>()`, mapped by a closure, by a closure
//! bound by `let` (`.map(fc)`), or not at all (`x.iter().skip(1).sum::<f64>()`). The closure's
//! index is in bounds like a loop's; its body reads what a loop body may.

use super::Gen;
use super::chains::{Built, Item};
use crate::ast::{Adaptor, Base, Chain, Expr, Extent, IterExpr, MapFn};

impl Gen<'_> {
    /// An iterator sum or product (a leaf where there is no slice, or inside another closure).
    pub(super) fn iter_expr(&mut self, depth: u32) -> Expr {
        let slices = self.scope.slices();
        if slices.is_empty() || self.in_closure {
            return self.leaf();
        }
        let (mark, loops) = (self.scope.locals.len(), self.scope.loops.len());
        let w = self.w;
        let (mut b, legacy) = match self.x.weighted(&[16, w.iter_runs, w.iter_sub]) {
            1 => (self.runs_base(), false),
            2 => (self.sub_base(), false),
            _ => (self.classic_chain(&slices), true),
        };
        self.adapt(&mut b, w.iter_adaptor);
        let legacy = legacy && classic(&b.chain);
        let map = self.x_map(&mut b);
        let pat = match map {
            Some(_) => None,
            None if legacy => Some(self.bind(&b.item, "e", None)),
            None => Some(self.bind(&b.item, "e", Some(0.6))),
        };
        let product = self.rng.chance(0.2);
        let map = match (map, pat) {
            (Some(map), _) => map,
            (None, Some(pat)) => {
                self.in_closure = true;
                // A product is a recurrence: no local array is built in its closure.
                self.recurrence += usize::from(product);
                let body = self.typed_expr(depth.saturating_sub(1).max(1));
                self.recurrence -= usize::from(product);
                self.in_closure = false;
                let body = if product { self.factor(body) } else { body };
                MapFn::Closure { pat, body }
            }
            (None, None) => MapFn::Items,
        };
        self.scope.truncate(mark);
        self.scope.loops.truncate(loops);
        Expr::Iter(Box::new(IterExpr {
            chain: b.chain,
            map,
            product,
        }))
    }

    /// The four shapes the fuzzer started with, drawn as they were: a range, `x.iter()`,
    /// `x.iter().enumerate()`, `a.iter().zip(b)` (sometimes adapted before `enumerate` or `zip`).
    fn classic_chain(&mut self, slices: &[(String, Extent)]) -> Built {
        match self.rng.below(5) {
            0 | 1 => self.range_base(),
            2 => {
                let (slice, ext) = self.rng.pick(slices).clone();
                Self::iter_of(slice, ext)
            }
            3 => {
                let (slice, ext) = self.rng.pick(slices).clone();
                let mut b = Self::iter_of(slice, ext);
                self.pre_adapt(&mut b);
                Self::enumerate(&mut b);
                b
            }
            _ => {
                let (a, ext) = self.rng.pick(slices).clone();
                let (other, _) = self.rng.pick(slices).clone();
                let mut b = Self::iter_of(a, ext);
                self.pre_adapt(&mut b);
                self.zip_with(&mut b, other);
                b
            }
        }
    }

    /// Sometimes a `skip`, `take`, `step_by` or `rev` before `enumerate` or `zip`.
    fn pre_adapt(&mut self, b: &mut Built) {
        if self.x_tenth(self.w.iter_adaptor / 2) {
            let a = self.simple_adaptor();
            b.push(a);
        }
    }

    /// `.map(fc)` of a closure in scope that takes the items (after `.copied()` for one taking
    /// `f64`), or no `map` at all for float items; `None`: a closure of its own.
    fn x_map(&mut self, b: &mut Built) -> Option<MapFn> {
        let Item::Float { by_ref } = b.item else {
            return None;
        };
        let takes = |params: &[bool], r: bool| params.len() == 1 && params[0] == r;
        let closures = self.scope.closures();
        let fits: Vec<&(String, Vec<bool>)> = closures
            .iter()
            .filter(|(_, p)| takes(p, by_ref) || (by_ref && takes(p, false)))
            .collect();
        if !fits.is_empty() && self.x.chance(0.5) {
            let (name, params) = fits[self.x.below(fits.len())].clone();
            if by_ref && !params[0] {
                b.push(Adaptor::Copied);
                b.item = Item::Float { by_ref: false };
            }
            return Some(MapFn::Named(name));
        }
        if self.x_tenth(self.w.iter_unmapped) {
            return Some(MapFn::Items);
        }
        None
    }

    /// `x.iter()`.
    fn iter_of(slice: String, ext: Extent) -> Built {
        Built::of(Base::Iter(slice), Item::Float { by_ref: true }, ext)
    }
}

/// Whether a chain is one of the first four shapes: a range, `x.iter()`, `x.iter().enumerate()`
/// or `a.iter().zip(b)`.
fn classic(c: &Chain) -> bool {
    match c.adaptors.as_slice() {
        [] | [Adaptor::Enumerate] => true,
        [Adaptor::Zip(other)] => matches!(other.base, Base::Bare(_)) && other.adaptors.is_empty(),
        _ => false,
    }
}
