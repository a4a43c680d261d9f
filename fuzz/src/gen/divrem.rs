//! Indices written with integer `/` and `%`, as ADBench's LSTM gathers its state
//! (`hidden[k] = state[2 * b * (k / b) + k % b]`), each in bounds by construction:
//!
//! ```text
//! y[i]            →  y[(i + 1) % n], y[i % n], y[i / 2]      (any loop index; `/ 2` of one in bounds)
//! y[..], w[..]    →  y[k / d], w[k % d], x[d * (k / d) + k % d]   (`k` in `0..n * d`)
//! y[..], w[..]    →  y[(i * d + j) / d], w[(i * d + j) % d]       (`i` over `n`, `j` over `d`)
//! ```
//!
//! for reads of slices and of local arrays no loop is writing, and for additions into a local
//! array in a loop nest (`z[k % d] += e`). A loop writing an array with `=` must write it at its
//! own index (the macro refuses `z[d * (k / d) + k % d] = e`, truly: that is not the index's
//! spelling it reads), so no such write is generated. From a stream of its own, drawn only where
//! `index_div_rem` is not 0: at 0 (the default) the programs are unchanged.

use super::Gen;
use crate::ast::{Dim, Extent, IntExpr};

/// From `k` in `0..n * d`, the index of an array of length `ext`: `k / d` (its row) for `n`
/// (or `n + 1`), `k % d` (its column) for `d`, `d * (k / d) + k % d` (`k` itself) for `n · d`.
fn of_flat(k: &IntExpr, ext: Extent) -> Option<IntExpr> {
    let d = IntExpr::Var("d".into());
    let row = IntExpr::over(k.clone(), d.clone());
    let col = IntExpr::modulo(k.clone(), d.clone());
    match ext.dim {
        Dim::N => Some(row),
        Dim::D => Some(col),
        Dim::Nd => Some(IntExpr::plus(IntExpr::times(d, row), col)),
        _ => None,
    }
}

impl Gen<'_> {
    /// `index` of an array of length `ext`, or (`index_div_rem` out of 10) another index of it
    /// written with `/` or `%` (see the module's docs).
    pub(super) fn maybe_div_rem(&mut self, ext: Extent, index: IntExpr) -> IntExpr {
        let weight = self.w.index_div_rem as usize;
        if weight == 0 || self.r.below(10) >= weight {
            return index;
        }
        let options = self.div_rem_indices(ext);
        if options.is_empty() {
            return index;
        }
        options[self.r.below(options.len())].clone()
    }

    /// `name[index]` read, `index` maybe respelled with `/` or `%` where `name` is a slice or a
    /// local array no loop is writing (one that is is read at its writer's index only).
    pub(super) fn div_rem_read(&mut self, name: &str, index: IntExpr) -> IntExpr {
        let slice = self.scope.slices().into_iter().find(|(s, _)| s == name);
        let array = || {
            self.scope
                .arrays()
                .into_iter()
                .find(|(a, _, writer, _)| a == name && writer.is_none())
                .map(|(_, ext, _, _)| ext)
        };
        match slice.map(|(_, ext)| ext).or_else(array) {
            Some(ext) => self.maybe_div_rem(ext, index),
            None => index,
        }
    }

    /// Every index of an array of length `ext` written with `/` or `%` from the enclosing
    /// loops: `v % len`, `(v + 1) % len` (`len`, a size or a literal, is never 0), `v / 2` where
    /// `v` is in bounds itself, and the row, column or whole of a flat index `k` in `0..n * d`
    /// or `i * d + j`.
    fn div_rem_indices(&self, ext: Extent) -> Vec<IntExpr> {
        if matches!(ext.dim, Dim::View(_)) {
            return Vec::new();
        }
        let len = self.scope.dim_expr(ext.dim);
        let plus = i64::try_from(ext.plus).unwrap_or(0);
        let loops: Vec<_> = self.scope.loops.iter().filter(|l| l.index).collect();
        let mut out = Vec::new();
        for lv in &loops {
            let v = IntExpr::Var(lv.name.clone());
            out.push(IntExpr::modulo(v.clone(), len.clone()));
            let next = IntExpr::plus(v.clone(), IntExpr::Const(1));
            out.push(IntExpr::modulo(next, len.clone()));
            if lv.dim == ext.dim && lv.lo >= 0 && lv.slack + plus >= 0 {
                out.push(IntExpr::over(v.clone(), IntExpr::Const(2)));
            }
            if lv.dim == Dim::Nd && lv.slack >= 0 {
                out.extend(of_flat(&v, ext));
            }
        }
        let rows = loops.iter().filter(|l| l.dim == Dim::N && l.slack >= 0);
        for i in rows {
            let cols = loops.iter().filter(|l| l.dim == Dim::D && l.slack >= 0);
            for j in cols {
                let row = IntExpr::times(IntExpr::Var(i.name.clone()), IntExpr::Var("d".into()));
                let flat = IntExpr::plus(row, IntExpr::Var(j.name.clone()));
                if ext.dim != Dim::Nd {
                    out.extend(of_flat(&flat, ext));
                }
            }
        }
        out
    }
}
