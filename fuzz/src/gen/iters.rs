//! Iterator sums and products, which the macro lowers to loops: `(0..n).map(|i| ..)`,
//! `x.iter().map(|&v| ..)`, `x.iter().enumerate().map(|(i, &v)| ..)`,
//! `x.iter().zip(y).map(|(&a, &b)| ..)`, each `.sum::<f64>()` or `.product::<f64>()`. The
//! closure's index is in bounds like a loop's; its body reads what a loop body may.

use super::Gen;
use super::scope::LoopVar;
use crate::ast::{Expr, IterExpr, IterSource};

impl Gen<'_> {
    /// An iterator sum or product (a leaf where there is no slice, or inside another closure).
    pub(super) fn iter_expr(&mut self, depth: u32) -> Expr {
        let slices = self.scope.slices();
        if slices.is_empty() || self.in_closure {
            return self.leaf();
        }
        let (mark, loops) = (self.scope.locals.len(), self.scope.loops.len());
        let source = match self.rng.below(5) {
            0 | 1 => self.range_source(),
            2 => {
                let (slice, _) = self.rng.pick(&slices).clone();
                IterSource::Elems {
                    slice,
                    var: self.element_var("e"),
                }
            }
            3 => {
                let (slice, ext) = self.rng.pick(&slices).clone();
                let index = ["i", "j", "k", "l"][loops.min(3)].to_string();
                let slack = -i64::try_from(ext.plus).unwrap_or(0);
                self.scope.loops.push(LoopVar {
                    name: index.clone(),
                    dim: ext.dim,
                    lo: 0,
                    slack,
                });
                IterSource::Enumerate {
                    slice,
                    index,
                    var: self.element_var("e"),
                }
            }
            _ => {
                let (a, _) = self.rng.pick(&slices).clone();
                let (b, _) = self.rng.pick(&slices).clone();
                IterSource::Zip {
                    a,
                    b,
                    va: self.element_var("za"),
                    vb: self.element_var("zb"),
                }
            }
        };
        let product = self.rng.chance(0.2);
        self.in_closure = true;
        let body = self.typed_expr(depth.saturating_sub(1).max(1));
        self.in_closure = false;
        let body = if product { self.factor(body) } else { body };
        self.scope.truncate(mark);
        self.scope.loops.truncate(loops);
        Expr::Iter(Box::new(IterExpr {
            source,
            body,
            product,
        }))
    }

    /// `(start..end)` over a random range, its index in scope.
    fn range_source(&mut self) -> IterSource {
        let (range, lv) = self.pick_range();
        let var = lv.name.clone();
        self.scope.loops.push(lv);
        IterSource::Range { var, range }
    }

    /// A fresh closure parameter bound to an element (`|&e3|`), in scope as an `f64`.
    fn element_var(&mut self, prefix: &str) -> String {
        let name = self.fresh(prefix);
        self.scope.declare(&name, true);
        name
    }
}
