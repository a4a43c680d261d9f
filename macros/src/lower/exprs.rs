//! Expressions: literals, names, operators, casts, indexing.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, Lit, UnOp};

use super::syntax::{
    ArithOp, Nested, arith_op, comparison, compound_op, describe, loop_error, nested_access,
    pretty, want_of_kind,
};
use super::{Binding, Lower, Tail, Want};
use crate::ctxt::msg;
use crate::graph::{IntOp, Kind, NodeId, Op};
use crate::signature::{float_of, is_int_type};

impl Lower<'_> {
    /// Lowers an expression that must produce a value.
    pub(super) fn expr(&mut self, e: &Expr, want: Want) -> Option<NodeId> {
        let span = e.span();
        self.at(span, |l| l.expr_inner(e, want))
    }

    pub(super) fn expr_inner(&mut self, e: &Expr, want: Want) -> Option<NodeId> {
        match e {
            Expr::Lit(l) => self.literal(&l.lit, want),
            Expr::Path(_) if want == Want::Array && self.local_array(e).is_some() => {
                self.whole_array_returned(e)
            }
            Expr::Path(p) => self.path(p, want),
            Expr::Paren(p) => self.expr(&p.expr, want),
            Expr::Group(g) => self.expr(&g.expr, want),
            Expr::Unary(u) => self.unary(u, want),
            Expr::Binary(b) => self.binary(b, want),
            Expr::MethodCall(m) => self.method_call(m, want),
            Expr::Call(c) if want == Want::Array && Self::is_from_fn(c) => self.returned_array(e),
            Expr::Call(c) if Self::is_from_fn(c) => {
                self.cx.error_spanned_by(
                    c,
                    msg(
                        "`std::array::from_fn` builds a local array here only with its type written, which gives its length",
                        "write `let z: [f64; N] = std::array::from_fn(|i| …);`, or `let z: Vec<f64> = (0..n).map(|i| …).collect();`",
                    ),
                );
                None
            }
            Expr::Call(c) => self.call(c, want),
            Expr::Cast(c) => self.cast(c),
            Expr::If(_) | Expr::Match(_) | Expr::Block(_) => match self.expr_tail(e, want) {
                Tail::Value(v) => Some(v),
                Tail::Diverged => Some(self.g.zero()),
                Tail::Unit => {
                    if !self.cx.has_errors() {
                        self.cx.error_spanned_by(
                            e,
                            msg(
                                "this expression has no value",
                                "give every branch a value (an `if` needs an `else`)",
                            ),
                        );
                    }
                    None
                }
            },
            // `&x[i]`: the element (read through `*` where it is used).
            Expr::Reference(r) if matches!(&*r.expr, Expr::Index(ix) if !matches!(*ix.index, Expr::Range(_))) => {
                self.expr(&r.expr, want)
            }
            Expr::Field(f) => self.field(f, want),
            Expr::Index(i) => self.index(i, want),
            Expr::Unsafe(u) => {
                self.cx.error_spanned_by(u.unsafe_token, msg("`unsafe` blocks cannot be differentiated", "compute the value outside the differentiated function and pass it in as data"));
                None
            }
            Expr::Return(r) => {
                self.cx.error_spanned_by(
                    r,
                    msg(
                        "`return` is only supported as a statement or at the end of a branch",
                        "write `if cond { return value; }`",
                    ),
                );
                None
            }
            Expr::Repeat(_) | Expr::Array(_) if want == Want::Array => self.returned_array(e),
            Expr::Repeat(_) | Expr::Array(_) => self.new_array(e),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => self.new_array(e),
            other => {
                let (tokens, message) = loop_error(other).unwrap_or_else(|| {
                    (other.to_token_stream(), msg(format!("`{}` cannot be differentiated", describe(other)), "supported are arithmetic, float methods, `let`, `if`/`match`, and calls of `#[differentiable]` functions"))
                });
                self.cx.error_spanned_by(tokens, message);
                None
            }
        }
    }

    pub(super) fn literal(&mut self, lit: &Lit, want: Want) -> Option<NodeId> {
        match lit {
            Lit::Float(f) => match f.base10_parse::<f64>() {
                Ok(v) if want == Want::Int => {
                    self.cx.error_spanned_by(
                        f,
                        msg(
                            "expected an integer here, found a float literal",
                            "write an integer",
                        ),
                    );
                    let _ = v;
                    None
                }
                Ok(v) => Some(self.g.constant(v)),
                Err(e) => {
                    self.cx.push(e);
                    None
                }
            },
            Lit::Int(i) => {
                let suffix_float = matches!(i.suffix(), "f32" | "f64");
                if want == Want::Float || suffix_float {
                    // `2f64`, or an integer literal where a float is expected (rustc reports the latter).
                    return i
                        .base10_parse::<f64>()
                        .map_err(|e| self.cx.push(e))
                        .ok()
                        .map(|v| self.g.constant(v));
                }
                match i.base10_parse::<i64>() {
                    Ok(v) => Some(self.g.int(v)),
                    Err(_) => Some(self.sym_node(i.to_token_stream(), Kind::Int)),
                }
            }
            Lit::Bool(b) => Some(self.g.boolean(b.value)),
            other => {
                self.cx.error_spanned_by(
                    other,
                    msg(
                        "only number and `bool` literals can appear in a differentiated function",
                        "use `f64` values",
                    ),
                );
                None
            }
        }
    }

    pub(super) fn path(&mut self, p: &syn::ExprPath, want: Want) -> Option<NodeId> {
        if let Some(id) = p.path.get_ident() {
            match self.lookup(&id.to_string()) {
                Some(Binding::Value(v)) if self.closures.contains_key(&v) => {
                    self.cx.error_spanned_by(
                        id,
                        msg(
                            format!("the closure `{id}` can only be called here"),
                            format!("call it (`{id}(x)`), or write the expression in place"),
                        ),
                    );
                    return None;
                }
                // A window or chunk exists only in the lowering: it is read, not passed on.
                Some(Binding::Value(v)) if self.views.contains_key(&v) => {
                    self.cx.error_spanned_by(
                        id,
                        msg(
                            format!("`{id}` (a run of a slice) can only be indexed, measured or iterated here"),
                            format!("read its elements (`{id}[0]`), its length (`{id}.len()`), or iterate over `{id}.iter()`; to pass it to a function, write the run out as a range of its slice: `f(&x[..k])` for the first part of `x.split_at(k)`, `f(&x[k..])` for the second, `f(&x[j * d..(j + 1) * d])` for a row"),
                        ),
                    );
                    return None;
                }
                Some(Binding::Value(v)) => return Some(v),
                Some(Binding::Uninit) => {
                    self.cx.error_spanned_by(
                        id,
                        msg(
                            format!("`{id}` is used before it is assigned"),
                            "assign it on every path first",
                        ),
                    );
                    return None;
                }
                None => {}
            }
        }
        // A constant the graph does not look into: a `const` item, `PI`, `f64::EPSILON`.
        let kind = match want {
            Want::Int => Kind::Int,
            Want::Bool => Kind::Bool,
            Want::Float | Want::Any | Want::Array => Kind::Float,
        };
        Some(self.sym_node(p.to_token_stream(), kind))
    }

    pub(super) fn unary(&mut self, u: &syn::ExprUnary, want: Want) -> Option<NodeId> {
        match u.op {
            UnOp::Neg(_) => {
                let a = self.expr(&u.expr, want)?;
                Some(match self.g.kind(a) {
                    Kind::Int => self.g.add(Op::IntNeg(a)),
                    _ => self.g.neg(a),
                })
            }
            UnOp::Not(_) => {
                let a = self.expr(&u.expr, Want::Bool)?;
                if self.g.kind(a) != Kind::Bool {
                    self.cx.error_spanned_by(
                        u,
                        msg(
                            "`!` is only supported on conditions",
                            "bitwise operations on integers cannot be differentiated",
                        ),
                    );
                    return None;
                }
                Some(self.g.not(a))
            }
            // `*z.last().unwrap()`: `z[z.len() - 1]` (and `z[0]` for `first`).
            UnOp::Deref(_) if let Some(element) = end_element(&u.expr, false) => {
                self.expr(&element, want)
            }
            // `*a` of a closure's `&f64` item is the item.
            UnOp::Deref(_) => match &*u.expr {
                Expr::Path(p) if p.path.get_ident().is_some_and(|id| {
                    matches!(self.lookup(&id.to_string()), Some(Binding::Value(n)) if self.g.kind(n) == Kind::Float)
                }) =>
                {
                    self.expr(&u.expr, want)
                }
                _ => self.opaque(&Expr::Unary(u.clone()), want),
            },
            _ => {
                self.cx.error_spanned_by(
                    u,
                    msg(
                        "this operator cannot be differentiated",
                        "use arithmetic on floats",
                    ),
                );
                None
            }
        }
    }

    pub(super) fn binary(&mut self, b: &syn::ExprBinary, want: Want) -> Option<NodeId> {
        if let Some(op) = compound_op(&b.op) {
            let _ = op;
            self.cx.error_spanned_by(
                b,
                msg(
                    "compound assignment is a statement, not a value",
                    "write it on its own line: `acc += x;`",
                ),
            );
            return None;
        }
        match &b.op {
            BinOp::And(_) | BinOp::Or(_) => {
                let l = self.expr(&b.left, Want::Bool)?;
                self.lazy += 1;
                let r = self.expr(&b.right, Want::Bool);
                self.lazy -= 1;
                let r = r?;
                Some(if matches!(b.op, BinOp::And(_)) {
                    self.g.and(l, r)
                } else {
                    self.g.or(l, r)
                })
            }
            op => {
                if let Some(cmp) = comparison(op) {
                    let (l, r) = self.operands(&b.left, &b.right, Want::Any)?;
                    return Some(self.g.compare(cmp, l, r));
                }
                let Some(arith) = arith_op(op) else {
                    self.cx.error_spanned_by(
                        b.op,
                        msg(
                            "bitwise operators cannot be differentiated",
                            "use arithmetic on floats",
                        ),
                    );
                    return None;
                };
                let want = if want == Want::Bool { Want::Any } else { want };
                let (l, r) = self.operands(&b.left, &b.right, want)?;
                self.arith(arith, l, r, b.op.span())
            }
        }
    }

    /// Lowers two operands so that they have the same kind (the first one decides).
    pub(super) fn operands(
        &mut self,
        left: &Expr,
        right: &Expr,
        want: Want,
    ) -> Option<(NodeId, NodeId)> {
        let l = self.expr(left, want);
        let want_r = l.map_or(want, |l| want_of_kind(self.g.kind(l)));
        let r = self.expr(right, want_r)?;
        let mut l = l?;
        // `1 < x` or `2 * n as f64`: an integer literal on the left of a float.
        if self.g.kind(l) == Kind::Int && self.g.kind(r) == Kind::Float {
            if let Some(v) = self.g.as_int(l) {
                l = self.g.constant(v as f64);
            }
        }
        Some((l, r))
    }

    pub(super) fn arith(
        &mut self,
        op: ArithOp,
        l: NodeId,
        r: NodeId,
        span: Span,
    ) -> Option<NodeId> {
        let (kl, kr) = (self.g.kind(l), self.g.kind(r));
        if kl != kr || !matches!(kl, Kind::Float | Kind::Int) {
            self.cx.error_at(
                span,
                msg(
                    "mismatched operands: both sides must be floats, or both integers",
                    "convert integers with `as f64`",
                ),
            );
            return None;
        }
        if kl == Kind::Int {
            let op = match op {
                ArithOp::Add => IntOp::Add,
                ArithOp::Sub => IntOp::Sub,
                ArithOp::Mul => IntOp::Mul,
                ArithOp::Div => IntOp::Div,
                ArithOp::Rem => IntOp::Rem,
            };
            return Some(self.g.int_bin(op, l, r));
        }
        Some(match op {
            ArithOp::Add => self.g.plus(l, r),
            ArithOp::Sub => self.g.minus(l, r),
            ArithOp::Mul => self.g.mul(l, r),
            ArithOp::Div => self.g.div(l, r),
            ArithOp::Rem => {
                self.cx.error_at(
                    span,
                    msg(
                        "`%` on floats cannot be differentiated",
                        "use `x - y * (x / y).trunc()` if you need the remainder",
                    ),
                );
                return None;
            }
        })
    }

    pub(super) fn cast(&mut self, c: &syn::ExprCast) -> Option<NodeId> {
        if let Some(f) = float_of(&c.ty) {
            // `data.counts[i] as f64`: the field's element type is unknown, so it is read as an
            // integer and converted (`as f64` of an `f64` field is as valid).
            let want = if self.data_field(&c.expr).is_some() {
                Want::Int
            } else {
                Want::Any
            };
            let a = self.expr(&c.expr, want)?;
            return match self.g.kind(a) {
                Kind::Int => Some(self.g.cast(a)),
                Kind::Float if f == self.float_ty() => Some(a),
                Kind::Float => {
                    self.cx.error_spanned_by(c, msg(format!("casting between `f32` and `f64` is not supported in a `{}` function", self.float_ty().name()), "use one float type throughout"));
                    None
                }
                _ => {
                    self.cx.error_spanned_by(
                        c,
                        msg(
                            "only integers and floats can be cast to a float",
                            "compute the value as a number",
                        ),
                    );
                    None
                }
            };
        }
        if is_int_type(&c.ty) {
            let a = self.expr(&c.expr, Want::Any)?;
            let ty = self.symbol(c.ty.to_token_stream(), pretty(&c.ty.to_token_stream()));
            return match self.g.kind(a) {
                Kind::Float => Some(self.g.add(Op::FloatToInt(a, ty))),
                _ => Some(self.g.add(Op::IntCast(a, ty))),
            };
        }
        self.cx.error_spanned_by(
            &c.ty,
            msg(
                "only casts to number types are supported",
                "cast with `as f64` or `as usize`",
            ),
        );
        None
    }

    /// The error for `z[i] = …` (or `+=`): what it writes into, and the rewrite.
    pub(super) fn element_write(&self, ix: &syn::ExprIndex) -> (String, &'static str) {
        let target = pretty(&ix.to_token_stream());
        let base = match &*ix.expr {
            Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
            _ => None,
        };
        let is_param = base.as_ref().is_some_and(|b| {
            self.param_nodes
                .iter()
                .any(|(n, v)| n == b && self.lookup(b) == Some(Binding::Value(*v)))
        });
        if is_param {
            (
                format!("`{target} = …` writes into a parameter, which cannot be differentiated"),
                "compute the new value in a `let` (`let p0 = x;`) and use that name where the element is read",
            )
        } else {
            (
                format!(
                    "`{target} = …` writes into an element of a local array, which cannot be differentiated yet"
                ),
                "compute the element where it is read: a `let` per element (`let z0 = …; let z1 = …;`), or, for an element of a loop, its expression (`w[c] * x`) inside the loop or sum that reads it",
            )
        }
    }

    /// `xs.len()`, `p.weight`, `data[3]`: an expression over data parameters only, kept as
    /// tokens. It is a constant for the derivative.
    pub(super) fn opaque(&mut self, e: &Expr, want: Want) -> Option<NodeId> {
        if self.mentions_failed_let(e) {
            return None;
        }
        if let Some(local) = self.mentions_local(e) {
            let text = pretty(&e.to_token_stream());
            if let Some(item) = self.outer_item(e) {
                self.cx
                    .error_spanned_by(e, outer_item_message(&text, &item));
                return None;
            }
            let (message, help) = match nested_access(e) {
                Some(Nested::Index) => (
                    format!("`{text}` indexes twice (a slice of arrays or of vectors), which cannot be differentiated yet with an index computed in the body"),
                    "pass the data flat (`inputs: &[f64]`, read as `inputs[2 * k]`, `inputs[2 * k + 1]`) or one slice per column (`xs: &[f64], ys: &[f64]`)".to_string(),
                ),
                Some(Nested::Field) => (
                    format!("`{text}` indexes a field of a data parameter, which cannot be differentiated yet with an index computed in the body"),
                    "pass the field as a parameter of its own (`xs: &[f64]`, called with `&data.xs`)".to_string(),
                ),
                None => (
                    format!("`{text}` cannot be differentiated: it uses the {local}"),
                    "fields, indexing and references work on data parameters; compute floats with arithmetic and float methods".to_string(),
                ),
            };
            self.cx.error_spanned_by(e, msg(message, help));
            return None;
        }
        let kind = match want {
            Want::Int => Kind::Int,
            Want::Bool => Kind::Bool,
            Want::Float | Want::Any | Want::Array => Kind::Float,
        };
        Some(self.sym_node(e.to_token_stream(), kind))
    }

    /// `W` of `W[i]`, where `W` names no local or parameter: an item defined outside the
    /// function (a `const` or a `static`).
    fn outer_item(&self, e: &Expr) -> Option<String> {
        let Expr::Index(ix) = e else { return None };
        let Expr::Path(p) = &*ix.expr else {
            return None;
        };
        match p.path.get_ident() {
            Some(id) => self
                .lookup(&id.to_string())
                .is_none()
                .then(|| id.to_string()),
            None => Some(pretty(&p.to_token_stream())),
        }
    }

    /// `e` reads a local whose `let` was reported (its error says enough).
    pub(super) fn mentions_failed_let(&self, e: &Expr) -> bool {
        let mut f = super::loops::NameFinder(|n: &str| self.failed_lets.contains(n), false);
        syn::visit::Visit::visit_expr(&mut f, e);
        f.1
    }

    /// The first name in `e` bound to a local of the body (parameters are fine: the generated
    /// functions have them too).
    pub(super) fn mentions_local(&self, e: &Expr) -> Option<String> {
        struct Finder<'b, 'a> {
            l: &'b Lower<'a>,
            found: Option<String>,
        }
        impl<'ast> syn::visit::Visit<'ast> for Finder<'_, '_> {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                let Some(id) = p.path.get_ident() else { return };
                let name = id.to_string();
                let Some(binding) = self.l.lookup(&name) else {
                    return;
                };
                // (Data under another name is reported at its `let`; not again at each use.)
                let is_param = self.l.param_nodes.iter().any(|(n, v)| {
                    binding == Binding::Value(*v)
                        && (*n == name || self.l.g.kind(*v) == Kind::Other)
                });
                let is_float_input = matches!(binding, Binding::Value(v) if matches!(self.l.g.op(v), Op::Input(_) | Op::Slice(_)));
                if (!is_param || is_float_input) && self.found.is_none() {
                    self.found = Some(if is_float_input {
                        format!("differentiated parameter `{name}`")
                    } else {
                        format!("local `{name}`")
                    });
                }
            }
        }
        let mut f = Finder {
            l: self,
            found: None,
        };
        syn::visit::Visit::visit_expr(&mut f, e);
        f.found
    }
}

/// `W[i]` of a `const W: [f64; 3]` outside the function, `i` a local (`text` the whole read).
fn outer_item_message(text: &str, item: &str) -> String {
    let last = item.rsplit("::").next().unwrap_or(item);
    msg(
        format!(
            "`{text}` reads `{item}`, defined outside this function (a `const` or `static`), at an index computed in the body, which cannot be differentiated yet"
        ),
        format!(
            "declare it in the function's body (`const {last}: [f64; N] = [...];` there is a local array, read at any index), or pass it as a data parameter (`{lower}: &[f64]`, left out of `wrt(…)`, called with `&{item}`)",
            lower = last.to_lowercase()
        ),
    )
}

/// The element `z.last().unwrap()` (`first`) reads, written as an index: `z[z.len() - 1]`
/// (`z[0]`), which panics where it does (an empty `z`). `copied` says whether a `.copied()` or
/// `.cloned()` stands before `unwrap` (not under `*`).
pub(super) fn end_element(e: &Expr, copied: bool) -> Option<Expr> {
    let Expr::MethodCall(unwrap) = e else {
        return None;
    };
    if unwrap.method != "unwrap" || !unwrap.args.is_empty() {
        return None;
    }
    let mut inner = &*unwrap.receiver;
    if copied {
        let Expr::MethodCall(c) = inner else {
            return None;
        };
        if !(c.method == "copied" || c.method == "cloned") || !c.args.is_empty() {
            return None;
        }
        inner = &c.receiver;
    }
    let Expr::MethodCall(end) = inner else {
        return None;
    };
    if !end.args.is_empty() {
        return None;
    }
    let z = &end.receiver;
    let span = end.method.span();
    match end.method.to_string().as_str() {
        "last" => Some(syn::parse_quote_spanned!(span=> #z[#z.len() - 1])),
        "first" => Some(syn::parse_quote_spanned!(span=> #z[0])),
        _ => None,
    }
}
