//! A loop filling a new array of zeros at strided indices (`z[2 * i] = a; z[2 * i + 1] = b;`,
//! interleaved pairs as least-squares residuals are often laid out), as additions into it: a
//! syntax pass run before lowering. Each element the loop writes is written once, into a zero,
//! so writing it is adding to it, which the lowering takes at any index.
//!
//! ```text
//! let mut z = vec![0.0; 2 * n];            let mut z = vec![0.0; 2 * n];
//! for i in 0..n {                     =>   for i in 0..n {
//!     z[2 * i] = x[i] * w;                     z[2 * i] += x[i] * w;
//!     z[2 * i + 1] = x[i] + w;                 z[2 * i + 1] += x[i] + w;
//! }                                        }
//! ```
//!
//! Taken only where that holds by the text: the array is `vec![0.0; n]` or `[0.0; N]`, bound
//! `let mut` in the block of the loop with no statement between them mentioning it; the loop is
//! `for i in a..b` or `for i in (a..b).rev()` (no label; its body binds no other `i`); it mentions the array only in writes `z[k * i + c] = e;` (also
//! `i * k + c`, `c + k * i`, `k * i`) with `k` an integer literal, each `c` a different literal
//! below `k`, at the top of the body or under `if`/`else` (not in a loop or closure inside, which
//! could run a write twice), and `e` not mentioning the array. Different `i` and `c` are then
//! different elements. Anything else stays as written, for the lowering to take or report.

use syn::visit_mut::VisitMut;
use syn::{Expr, Stmt};

use super::loops::stmt_mentions_any;

/// Writes every strided fill of a new array of zeros in `body` as additions.
pub(super) fn rewrite(body: &mut syn::Block) {
    Strided.visit_block_mut(body);
}

struct Strided;

impl VisitMut for Strided {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        syn::visit_mut::visit_block_mut(self, block);
        for at in 0..block.stmts.len() {
            let Some(name) = zeros(&block.stmts[at]) else {
                continue;
            };
            let names = [name.clone()];
            let Some(next) =
                (at + 1..block.stmts.len()).find(|&q| stmt_mentions_any(&block.stmts[q], &names))
            else {
                continue;
            };
            if let Stmt::Expr(Expr::ForLoop(f), _) = &mut block.stmts[next]
                && f.label.is_none()
                && let syn::Pat::Ident(p) = &*f.pat
                && distinct_values(&f.expr)
            {
                let index = p.ident.to_string();
                if super::loops::let_names(&f.body).contains(&index) {
                    continue;
                }
                let mut writes = Vec::new();
                if strided_writes(&f.body.stmts, &name, &index, &mut writes)
                    && !writes.is_empty()
                    && distinct(&writes)
                {
                    as_additions(&mut f.body.stmts, &name);
                }
            }
        }
    }
}

/// Whether a loop over `e` sees each index once: a range, or a range reversed.
fn distinct_values(e: &Expr) -> bool {
    match strip(e) {
        Expr::Range(_) => true,
        Expr::MethodCall(m) if m.method == "rev" && m.args.is_empty() => {
            matches!(strip(&m.receiver), Expr::Range(_))
        }
        _ => false,
    }
}

/// The name `let mut z = vec![0.0; n];` or `let mut z = [0.0; N];` (also typed) binds.
fn zeros(stmt: &Stmt) -> Option<String> {
    let Stmt::Local(l) = stmt else { return None };
    let mut pat = &l.pat;
    if let syn::Pat::Type(t) = pat {
        pat = &t.pat;
    }
    let syn::Pat::Ident(p) = pat else { return None };
    p.mutability?;
    let init = &l.init.as_ref()?.expr;
    let value = match &**init {
        Expr::Repeat(r) => (*r.expr).clone(),
        Expr::Macro(m) if m.mac.path.is_ident("vec") => super::syntax::vec_repeat(&m.mac)?.0,
        _ => return None,
    };
    let zero = matches!(&value, Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(f), .. })
        if f.base10_parse::<f64>().is_ok_and(|v| v == 0.0));
    zero.then(|| p.ident.to_string())
}

/// Whether `stmts` mention `name` only in strided writes of it at `index` (each `(k, c)` pushed
/// to `writes`), at their top level or under `if`/`else`.
fn strided_writes(stmts: &[Stmt], name: &str, index: &str, writes: &mut Vec<(u64, u64)>) -> bool {
    let names = [name.to_string()];
    for stmt in stmts {
        if !stmt_mentions_any(stmt, &names) {
            continue;
        }
        let Stmt::Expr(expr, _) = stmt else {
            return false;
        };
        match expr {
            Expr::Assign(a) => {
                let Expr::Index(ix) = &*a.left else {
                    return false;
                };
                let target = matches!(&*ix.expr, Expr::Path(p) if p.path.is_ident(name));
                if !target || super::loops::mentions_any(&a.right, &names) {
                    return false;
                }
                let Some(kc) = stride(&ix.index, index) else {
                    return false;
                };
                writes.push(kc);
            }
            Expr::If(i) => {
                if super::loops::mentions_any(&i.cond, &names)
                    || !strided_writes(&i.then_branch.stmts, name, index, writes)
                {
                    return false;
                }
                let ok = match i.else_branch.as_ref().map(|(_, e)| &**e) {
                    None => true,
                    Some(Expr::Block(b)) => strided_writes(&b.block.stmts, name, index, writes),
                    Some(e @ Expr::If(_)) => {
                        let stmt = Stmt::Expr(e.clone(), None);
                        strided_writes(std::slice::from_ref(&stmt), name, index, writes)
                    }
                    Some(_) => false,
                };
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

/// `(k, c)` of `k * i + c` (`i * k + c`, `c + k * i`, `k * i`, `i * k`), `k` and `c` integer
/// literals, `c < k`, `k ≥ 2`, `i` the loop's index.
fn stride(e: &Expr, index: &str) -> Option<(u64, u64)> {
    let lit = |e: &Expr| match strip(e) {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) => n.base10_parse::<u64>().ok(),
        _ => None,
    };
    let is_index = |e: &Expr| matches!(strip(e), Expr::Path(p) if p.path.is_ident(index));
    let times = |e: &Expr| match strip(e) {
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Mul(_)) => {
            if is_index(&b.right) {
                lit(&b.left)
            } else if is_index(&b.left) {
                lit(&b.right)
            } else {
                None
            }
        }
        _ => None,
    };
    let (k, c) = match strip(e) {
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
            match (times(&b.left), times(&b.right)) {
                (Some(k), None) => (k, lit(&b.right)?),
                (None, Some(k)) => (k, lit(&b.left)?),
                _ => return None,
            }
        }
        other => (times(other)?, 0),
    };
    (k >= 2 && c < k).then_some((k, c))
}

fn strip(e: &Expr) -> &Expr {
    super::loops::strip_parens(e)
}

/// Every write has the same stride and its own offset.
fn distinct(writes: &[(u64, u64)]) -> bool {
    let k = writes[0].0;
    writes.iter().all(|w| w.0 == k)
        && writes
            .iter()
            .enumerate()
            .all(|(a, w)| writes[..a].iter().all(|v| v.1 != w.1))
}

/// Each `name[…] = e` of `stmts` (and of their `if`s) as `name[…] += e`.
fn as_additions(stmts: &mut [Stmt], name: &str) {
    struct Add<'a>(&'a str);
    impl VisitMut for Add<'_> {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::Assign(a) = e
                && let Expr::Index(ix) = &*a.left
                && matches!(&*ix.expr, Expr::Path(p) if p.path.is_ident(self.0))
            {
                let (left, right) = (&a.left, &a.right);
                *e = syn::parse_quote_spanned!(syn::spanned::Spanned::span(&a.eq_token)=> #left += #right);
                return;
            }
            syn::visit_mut::visit_expr_mut(self, e);
        }
    }
    for stmt in stmts {
        Add(name).visit_stmt_mut(stmt);
    }
}
