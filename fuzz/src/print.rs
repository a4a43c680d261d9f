//! Printing a program as Rust: the plain `f64` functions under `#[::symgrad::differentiable]`,
//! and the same bodies over the oracle's dual type `D` (every float literal wrapped in `cst(..)`,
//! every float parameter a `D`, integers unchanged).

use std::fmt::Write as _;

use crate::ast::{
    Adaptor, Arg, ArrayInit, AssignOp, Base, BinOp, Chain, ClosureParam, CmpOp, Cond, Expr, Func,
    IntExpr, IterExpr, MapFn, Method, ParamTy, Pat, Program, Range, Stmt,
};

/// How to print a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `f64` code under `#[::symgrad::differentiable]`: what the macro sees.
    Plain,
    /// `f64` code without the attribute (a control build: does the generator's Rust compile?).
    Bare,
    /// The oracle: the same body over the dual type `D`.
    Oracle,
}

/// The program's functions (helpers first), printed in `mode`, each `pub`.
#[must_use]
pub fn functions(program: &Program, mode: Mode) -> String {
    // The helpers returning tuples, whose callers read them as tuples (not in the oracle).
    let tuples: Vec<String> = program
        .helpers
        .iter()
        .filter(|h| h.tuple_return && mode != Mode::Oracle)
        .map(|h| h.name.clone())
        .collect();
    let mut out = String::new();
    for func in program.helpers.iter().chain([&program.main]) {
        let mut p = Printer {
            tuples: tuples.clone(),
            ..Printer::new(mode)
        };
        p.function(func);
        out.push_str(&p.out);
        out.push('\n');
    }
    out
}

/// One function, printed in `mode`.
#[must_use]
pub fn function(func: &Func, mode: Mode) -> String {
    let mut p = Printer::new(mode);
    p.function(func);
    p.out
}

/// An expression in plain `f64` Rust (for reports).
#[must_use]
pub fn expr(e: &Expr) -> String {
    let mut p = Printer::new(Mode::Plain);
    p.expr(e, 0);
    p.out
}

/// A condition in plain `f64` Rust (for reports).
#[must_use]
pub fn cond(c: &Cond) -> String {
    let mut p = Printer::new(Mode::Plain);
    p.cond(c, 0);
    p.out
}

/// The precedence of additive operators and comparisons' operands.
const ADD: u8 = 1;
/// Multiplicative operators.
const MUL: u8 = 2;
/// Unary minus.
const UNARY: u8 = 3;

/// The local array a `for` loop writes at its index `var` over `range`, where it can be
/// written through the elements `iter_mut` lends (`for (c, z_c) in z.iter_mut().enumerate()
/// .take(end)`): the range starts at 0, the body writes the array at `var` and mentions it
/// nowhere else than at `z[var]` (it is lent for the whole loop), and the range does not read
/// it but as its end.
fn lent_array(var: &str, range: &Range, body: &[Stmt]) -> Option<String> {
    if range.start != IntExpr::Const(0) {
        return None;
    }
    let text = format!("{body:?}");
    let marker = "SetElem { array: \"";
    let at = text.find(marker)? + marker.len();
    let z = text[at..].split('"').next()?.to_string();
    let quoted = format!("{z:?}");
    let index = format!("{quoted}, Var({var:?})");
    let mentions = text.matches(quoted.as_str()).count();
    let set = text
        .matches(format!("SetElem {{ array: {quoted}, index: Var({var:?})").as_str())
        .count();
    let read = text.matches(format!("Index({index})").as_str()).count();
    let range_text = format!("{:?}{:?}", range.start, range.end);
    let range_ok = range.end == IntExpr::Len(z.clone()) || !range_text.contains(quoted.as_str());
    (set > 0 && mentions == set + read && range_ok && !range_text.contains(&format!("{var:?}")))
        .then_some(z)
}
/// Method receivers.
const POSTFIX: u8 = 4;
/// Atoms: never parenthesized.
const ATOM: u8 = 5;

#[allow(clippy::struct_excessive_bools)] // independent print flags, each from a `Func` flag of its own
struct Printer {
    mode: Mode,
    out: String,
    /// The helpers that return tuples: their calls' outputs are read as `.k` and bound with
    /// `let (..)`.
    tuples: Vec<String>,
    /// The function printed returns a tuple: its arrays of outputs are printed as tuples.
    tuple: bool,
    /// Locals bound to a call of a helper returning a tuple (`let rv = r(..);`): their outputs
    /// `rv[k]` are printed `rv.k`.
    tuple_locals: Vec<String>,
    /// The function printed writes its arrays through the elements `iter_mut` lends, where it
    /// can (`Func::lent_elements`; not in the oracle).
    lend: bool,
    /// The loops printed over lent elements around the code being printed: the array, the
    /// loop's index and the element's name (`z[c]` is printed `*z_c`).
    lent: Vec<(String, String, String)>,
    /// The function printed writes a loop whose body starts with a `let` of its item as a loop
    /// over the item mapped, where it can (`Func::mapped_items`; not in the oracle).
    map: bool,
    /// The names the function printed binds `mut` (a mapped item's closure may not read them).
    mutables: Vec<String>,
    /// The function printed returns its outputs through a local array (`Func::outputs_local`;
    /// not in the oracle).
    outs_local: bool,
    /// The slice parameters whose adaptor-free `x.iter()` at the top of a loop or an iterator
    /// sum is printed as its two halves chained (`Func::chained_halves`; not in the oracle).
    halves: Vec<String>,
    /// The function printed binds the parts of each `split_at` by two `let`s of runs
    /// (`Func::split_lets`; not in the oracle).
    split_lets: bool,
    /// The function printed fills a new array of zeros, where it can, two elements an
    /// iteration at strided indices (`Func::strided_fills`; not in the oracle); `.1` numbers
    /// the loops so printed.
    strided: (bool, usize),
    /// The function printed tests conditions on items with `filter` where it can
    /// (`Func::filters`; not in the oracle).
    filters: bool,
    /// The function printed writes mapped sums and products as folds (`Func::folded_sums`; not
    /// in the oracle).
    folded_sums: bool,
    /// The slice parameters some of whose element reads are printed through an `Option`
    /// (`Func::option_reads`; not in the oracle), and the reads seen so far.
    options: (Vec<String>, usize),
    /// The function printed binds two `let`s in a row by one array pattern where it can
    /// (`Func::array_lets`; not in the oracle).
    array_lets: bool,
}

impl Printer {
    fn new(mode: Mode) -> Printer {
        Printer {
            mode,
            out: String::new(),
            tuples: Vec::new(),
            tuple: false,
            tuple_locals: Vec::new(),
            lend: false,
            lent: Vec::new(),
            map: false,
            mutables: Vec::new(),
            outs_local: false,
            halves: Vec::new(),
            split_lets: false,
            strided: (false, 0),
            filters: false,
            folded_sums: false,
            options: (Vec::new(), 0),
            array_lets: false,
        }
    }

    fn oracle(&self) -> bool {
        self.mode == Mode::Oracle
    }

    /// Whether `call` calls a helper that returns a tuple.
    fn reads_tuple(&self, call: &Expr) -> bool {
        matches!(call, Expr::Call(name, _) if self.tuples.contains(name))
    }

    fn float_ty(&self) -> &'static str {
        if self.oracle() { "D" } else { "f64" }
    }

    fn function(&mut self, func: &Func) {
        if self.mode == Mode::Plain {
            self.attribute(func);
        }
        let ft = self.float_ty();
        let params: Vec<String> = func
            .params
            .iter()
            .map(|p| match p.ty {
                ParamTy::Size(_) => format!("{}: usize", p.name),
                ParamTy::Slice(_) => format!("{}: &[{ft}]", p.name),
                ParamTy::Array { len, by_ref } => {
                    let r = if by_ref { "&" } else { "" };
                    format!("{}: {r}[{ft}; {len}]", p.name)
                }
                ParamTy::Scalar => format!("{}: {ft}", p.name),
            })
            .collect();
        let vec_return = func.vec_return && !self.oracle();
        self.tuple = func.tuple_return && !self.oracle();
        self.lend = func.spellings.lent_elements && !self.oracle();
        self.map = func.spellings.mapped_items && !self.oracle();
        self.outs_local = func.spellings.outputs_local && !self.oracle() && !self.tuple;
        self.split_lets = func.spellings.split_lets && !self.oracle();
        self.strided = (func.spellings.strided_fills && !self.oracle(), 0);
        self.filters = func.spellings.filters && !self.oracle();
        self.folded_sums = func.spellings.folded_sums && !self.oracle();
        self.options = (Vec::new(), 0);
        self.array_lets = func.spellings.array_lets && !self.oracle();
        if func.spellings.option_reads && !self.oracle() {
            self.options.0.extend(
                func.params
                    .iter()
                    .filter(|p| matches!(p.ty, ParamTy::Slice(_)))
                    .map(|p| p.name.clone()),
            );
        }
        self.halves.clear();
        if func.spellings.chained_halves && !self.oracle() {
            self.halves.extend(
                func.params
                    .iter()
                    .filter(|p| matches!(p.ty, ParamTy::Slice(_)))
                    .map(|p| p.name.clone()),
            );
        }
        self.mutables.clear();
        mutable_names(&func.body, &mut self.mutables);
        self.tuple_locals.clear();
        let ret = match func.outputs() {
            Some(_) if vec_return => format!("Vec<{ft}>"),
            Some(m) if self.tuple => format!("({})", vec![ft; m].join(", ")),
            Some(m) => format!("[{ft}; {m}]"),
            None => ft.to_string(),
        };
        let _ = writeln!(
            self.out,
            "pub fn {}({}) -> {ret} {{",
            func.name,
            params.join(", ")
        );
        self.block_body(&func.body, 1);
        self.indent(1);
        match &func.ret {
            Expr::Array(items) if vec_return => self.vec_outputs(items),
            Expr::Array(items) if self.outs_local => self.local_outputs(items),
            ret => self.expr(ret, 0),
        }
        self.out.push_str("\n}\n");
    }

    /// The outputs written into a local array returned by its name: `let mut outs = [0.0; M];`,
    /// then `outs[0] = e0; outs[1] = e1;` (an even number of outputs) or `for kout in 0..M {
    /// outs[kout] = if kout == 0 { e0 } else if … { e1 } else { e2 }; }` (an odd one), then
    /// `outs`.
    fn local_outputs(&mut self, items: &[Expr]) {
        let m = items.len();
        let _ = writeln!(self.out, "let mut outs = [0.0; {m}];");
        if m % 2 == 0 {
            for (o, e) in items.iter().enumerate() {
                self.indent(1);
                let _ = write!(self.out, "outs[{o}] = ");
                self.expr(e, 0);
                self.out.push_str(";\n");
            }
        } else {
            self.indent(1);
            let _ = writeln!(self.out, "for kout in 0..{m} {{");
            self.indent(2);
            self.out.push_str("outs[kout] = ");
            for (o, e) in items.iter().enumerate() {
                if o + 1 < m {
                    let _ = write!(self.out, "if kout == {o} {{ ");
                    self.expr(e, 0);
                    self.out.push_str(" } else ");
                } else if m > 1 {
                    self.out.push_str("{ ");
                    self.expr(e, 0);
                    self.out.push_str(" }");
                } else {
                    self.expr(e, 0);
                }
            }
            self.out.push_str(";\n");
            self.indent(1);
            self.out.push_str("}\n");
        }
        self.indent(1);
        self.out.push_str("outs");
    }

    /// `(0..M).map(|__o| if __o == 0 { e0 } else if __o == 1 { e1 } else { e2 }).collect()`.
    fn vec_outputs(&mut self, items: &[Expr]) {
        let _ = write!(self.out, "(0..{}).map(|__o| ", items.len());
        for (o, e) in items.iter().enumerate() {
            if o + 1 < items.len() {
                let _ = write!(self.out, "if __o == {o} {{ ");
                self.expr(e, 0);
                self.out.push_str(" } else ");
            } else if items.len() > 1 {
                self.out.push_str("{ ");
                self.expr(e, 0);
                self.out.push_str(" }");
            } else {
                self.expr(e, 0);
            }
        }
        self.out.push_str(").collect()");
    }

    fn attribute(&mut self, func: &Func) {
        let mut args = Vec::new();
        if let Some(names) = &func.wrt {
            args.push(format!("wrt({})", names.join(", ")));
        }
        if func.hessian {
            args.push("hessian".to_string());
        }
        if let Some(k) = func.checkpoint {
            args.push(format!("checkpoint = {k}"));
        }
        if args.is_empty() {
            self.out.push_str("#[::symgrad::differentiable]\n");
        } else {
            let _ = writeln!(
                self.out,
                "#[::symgrad::differentiable({})]",
                args.join(", ")
            );
        }
    }

    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str("    ");
        }
    }

    fn block_body(&mut self, stmts: &[Stmt], level: usize) {
        let mut k = 0;
        while k < stmts.len() {
            if let Some((a, b)) = self.let_pair(&stmts[k..]) {
                // `let a = ea; let b = eb;` as `let [a, b] = [ea, eb];`.
                self.indent(level);
                let _ = write!(self.out, "let [{}, {}] = [", a.0, b.0);
                self.expr(a.1, 0);
                self.out.push_str(", ");
                self.expr(b.1, 0);
                self.out.push_str("];\n");
                k += 2;
                continue;
            }
            // `if <matched c> { break; } let v = e;` as `let v = match … { <c> => break, _ => e
            // };` (the `match_tuple` weight).
            if let [
                Stmt::If {
                    cond: Cond::Matched(c),
                    then,
                    els: None,
                },
                Stmt::Let {
                    name,
                    mutable: false,
                    value,
                },
                ..,
            ] = &stmts[k..]
                && matches!(then.as_slice(), [Stmt::Break])
                && !self.oracle()
                && !self.reads_tuple(value)
            {
                self.indent(level);
                let _ = write!(self.out, "let {name} = ");
                self.tuple_match(c);
                self.out.push_str(" => break, _ => ");
                self.expr(value, 0);
                self.out.push_str(" };\n");
                k += 2;
                continue;
            }
            self.stmt(&stmts[k], level);
            if self.strided.0
                && let Some(next) = stmts.get(k + 1)
                && let Some(fill) = strided_fill(&stmts[k], next)
            {
                self.indent(level);
                self.strided_loop(&fill, level);
                k += 2;
            } else {
                k += 1;
            }
        }
    }

    /// Two `let`s of floats in a row, the second not reading the first, where
    /// `Func::array_lets` prints them as one array pattern (neither reading a call that returns
    /// a tuple).
    #[allow(clippy::type_complexity)] // the two names and values
    fn let_pair<'a>(
        &self,
        stmts: &'a [Stmt],
    ) -> Option<((&'a str, &'a Expr), (&'a str, &'a Expr))> {
        let [
            Stmt::Let {
                name: a,
                mutable: false,
                value: ea,
            },
            Stmt::Let {
                name: b,
                mutable: false,
                value: eb,
            },
            ..,
        ] = stmts
        else {
            return None;
        };
        let ok = self.array_lets
            && !self.reads_tuple(ea)
            && !self.reads_tuple(eb)
            && !format!("{eb:?}").contains(&format!("{a:?}"));
        ok.then_some(((a.as_str(), ea), (b.as_str(), eb)))
    }

    /// `for c in 0..len { body }` filling `z` (a new array of zeros) at `c`, as
    /// `for sk in 0..(len + 1) / 2 { if 2 * sk < len { let c = 2 * sk; body } if 2 * sk + 1 <
    /// len { let c = 2 * sk + 1; body } }`, the write in each `z[2 * sk] = e` (`+ 1`): the same
    /// elements written with the same values in the same order, at strided indices.
    fn strided_loop(&mut self, fill: &Fill<'_>, level: usize) {
        self.strided.1 += 1;
        let sk = format!("sk{}", self.strided.1);
        let _ = write!(self.out, "for {sk} in 0..(");
        self.int(fill.len, 0);
        self.out.push_str(" + 1) / 2 {\n");
        for half in 0..2 {
            let mut at = IntExpr::times(IntExpr::Const(2), IntExpr::Var(sk.clone()));
            if half == 1 {
                at = IntExpr::plus(at, IntExpr::Const(1));
            }
            self.indent(level + 1);
            self.out.push_str("if ");
            self.int(&at, 0);
            self.out.push_str(" < ");
            self.int(fill.len, 0);
            self.out.push_str(" {\n");
            self.indent(level + 2);
            let _ = write!(self.out, "let {} = ", fill.var);
            self.int(&at, 0);
            self.out.push_str(";\n");
            let body: Vec<Stmt> = fill
                .body
                .iter()
                .map(|s| match s {
                    Stmt::SetElem {
                        array, op, value, ..
                    } if array == fill.array => Stmt::SetElem {
                        array: array.clone(),
                        index: at.clone(),
                        op: *op,
                        value: value.clone(),
                    },
                    other => other.clone(),
                })
                .collect();
            self.block_body(&body, level + 2);
            self.indent(level + 1);
            self.out.push_str("}\n");
        }
        self.indent(level);
        self.out.push_str("}\n");
    }

    #[allow(clippy::too_many_lines)] // one arm per statement kind
    fn stmt(&mut self, s: &Stmt, level: usize) {
        self.indent(level);
        match s {
            Stmt::Let {
                name,
                mutable,
                value,
            } => {
                let m = if *mutable { "mut " } else { "" };
                if self.reads_tuple(value) {
                    self.tuple_locals.push(name.clone());
                }
                let _ = write!(self.out, "let {m}{name} = ");
                self.expr(value, 0);
                self.out.push_str(";\n");
            }
            Stmt::Assign { name, op, value } => {
                let _ = write!(self.out, "{name} {} ", assign_op(*op));
                self.expr(value, 0);
                self.out.push_str(";\n");
            }
            Stmt::For { var, range, body } => {
                match lent_array(var, range, body).filter(|_| self.lend) {
                    Some(z) => {
                        let elem = format!("{z}_{var}");
                        let _ = write!(
                            self.out,
                            "for ({var}, {elem}) in {z}.iter_mut().enumerate()"
                        );
                        if range.end != IntExpr::Len(z.clone()) {
                            self.out.push_str(".take(");
                            self.int(&range.end, 0);
                            self.out.push(')');
                        }
                        self.out.push_str(" {\n");
                        self.lent.push((z, var.clone(), elem));
                        self.close_block(body, level);
                        self.lent.pop();
                    }
                    None => {
                        let _ = write!(self.out, "for {var} in ");
                        self.range(range);
                        self.out.push_str(" {\n");
                        self.close_block(body, level);
                    }
                }
                self.out.push('\n');
            }
            Stmt::Fold {
                members,
                var,
                range,
                body,
            } => {
                let names: Vec<&str> = members.iter().map(|(m, _)| m.as_str()).collect();
                let bound = names
                    .iter()
                    .map(|m| format!("mut {m}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = write!(self.out, "let ({bound}) = (");
                self.range(range);
                self.out.push_str(").fold((");
                for (k, (_, init)) in members.iter().enumerate() {
                    if k > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(init, 0);
                }
                let _ = writeln!(self.out, "), |({bound}), {var}| {{");
                self.block_body(body, level + 1);
                self.indent(level + 1);
                let _ = writeln!(self.out, "({})", names.join(", "));
                self.indent(level);
                self.out.push_str("});\n");
            }
            Stmt::ForIter { pat, chain, body } => {
                if let Some((name, value, rest)) = self.mappable(pat, chain, body) {
                    let _ = write!(self.out, "for {name} in ");
                    self.top_chain(chain, true, !exits(body));
                    self.out.push_str(".map(|");
                    self.pat(pat);
                    self.out.push_str("| ");
                    self.expr(value, 0);
                    self.out.push_str(") {\n");
                    self.close_block(rest, level);
                } else if let Some((skip, rest)) = self.filterable(chain, body) {
                    // `for p in chain { if c { continue; } rest }` as `for p in
                    // chain.filter(|&p| !(c)) { rest }`.
                    self.out.push_str("for ");
                    self.pat(pat);
                    self.out.push_str(" in ");
                    self.top_chain(chain, true, false);
                    self.out.push_str(".filter(|&");
                    self.pat(pat);
                    self.out.push_str("| !(");
                    self.cond(skip, 0);
                    self.out.push_str(")) {\n");
                    self.close_block(rest, level);
                } else {
                    self.out.push_str("for ");
                    self.pat(pat);
                    self.out.push_str(" in ");
                    self.top_chain(chain, false, !exits(body));
                    self.out.push_str(" {\n");
                    self.close_block(body, level);
                }
                self.out.push('\n');
            }
            Stmt::Closure {
                name,
                moved,
                params,
                body,
            } => self.closure(name, *moved, params, body),
            Stmt::LetArray {
                names,
                rest,
                array,
                deref,
            } => {
                let mut parts: Vec<&str> =
                    names.iter().map(|n| n.as_deref().unwrap_or("_")).collect();
                if let Some(k) = rest {
                    parts.insert(*k, "..");
                }
                let star = if *deref { "*" } else { "" };
                let _ = writeln!(self.out, "let [{}] = {star}{array};", parts.join(", "));
            }
            Stmt::If { cond, then, els } => self.if_stmt(cond, then, els.as_deref(), level),
            Stmt::Return(e) => {
                self.out.push_str("return ");
                self.expr(e, 0);
                self.out.push_str(";\n");
            }
            Stmt::LetInt {
                name,
                mutable,
                value,
            } => {
                let mutable = if *mutable { "mut " } else { "" };
                let _ = write!(self.out, "let {mutable}{name} = ");
                self.int(value, 0);
                self.out.push_str(";\n");
            }
            Stmt::SetInt { name, value } => {
                let _ = write!(self.out, "{name} = ");
                self.int(value, 0);
                self.out.push_str(";\n");
            }
            Stmt::Step {
                name,
                by,
                down,
                spelled,
            } => {
                let op = if *down { "-" } else { "+" };
                if *spelled {
                    let _ = write!(self.out, "{name} = {name} {op} ");
                    self.int(by, MUL);
                } else {
                    let _ = write!(self.out, "{name} {op}= ");
                    self.int(by, 0);
                }
                self.out.push_str(";\n");
            }
            Stmt::While { cond, body } => {
                self.out.push_str("while ");
                self.cond(cond, 0);
                self.out.push_str(" {\n");
                self.close_block(body, level);
                self.out.push('\n');
            }
            Stmt::Loop(body) => {
                self.out.push_str("loop {\n");
                self.close_block(body, level);
                self.out.push('\n');
            }
            Stmt::LetOutputs { names, call } if self.reads_tuple(call) => {
                let _ = write!(self.out, "let ({}) = ", names.join(", "));
                self.expr(call, 0);
                self.out.push_str(";\n");
            }
            Stmt::LetOutputs { names, call } => {
                let _ = write!(self.out, "let [{}] = ", names.join(", "));
                self.expr(call, 0);
                self.out.push_str(";\n");
            }
            Stmt::Continue => self.out.push_str("continue;\n"),
            Stmt::Break => self.out.push_str("break;\n"),
            Stmt::NewArray { .. } | Stmt::SetElem { .. } => self.array_stmt(s),
            Stmt::SplitAt {
                left,
                right,
                of,
                at,
            } if self.split_lets => {
                // `let a = &x[..k]; let b = &x[k..];` (a part named `_` is not bound).
                let mut k = String::new();
                std::mem::swap(&mut self.out, &mut k);
                self.int(at, 0);
                std::mem::swap(&mut self.out, &mut k);
                if left != "_" {
                    let _ = writeln!(self.out, "let {left} = &{of}[..{k}];");
                    if right != "_" {
                        self.indent(level);
                    }
                }
                if right != "_" {
                    let _ = writeln!(self.out, "let {right} = &{of}[{k}..];");
                }
                if left == "_" && right == "_" {
                    self.out.push_str(";\n");
                }
            }
            Stmt::SplitAt {
                left,
                right,
                of,
                at,
            } => {
                let _ = write!(self.out, "let ({left}, {right}) = {of}.split_at(");
                self.int(at, 0);
                self.out.push_str(");\n");
            }
            Stmt::Push { array, value } => {
                let _ = write!(self.out, "{array}.push(");
                self.expr(value, 0);
                self.out.push_str(");\n");
            }
        }
    }

    /// A local array's `let` or element write.
    fn array_stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::NewArray {
                name,
                mutable,
                vec,
                typed,
                init,
            } => self.new_array(name, *mutable, *vec, *typed, init),
            Stmt::SetElem {
                array,
                index,
                op,
                value,
            } => self.set_element(array, index, *op, value),
            _ => {}
        }
    }

    /// The name of the element `iter_mut` lends for `array[index]` in a loop around, if any.
    fn lent_element(&self, array: &str, index: &str) -> Option<String> {
        self.lent
            .iter()
            .rev()
            .find(|(z, i, _)| z == array && i == index)
            .map(|(_, _, e)| e.clone())
    }

    /// `z[i] op value;`; in the oracle, `z[i] = z[i] op value;` (on `D`, `z[i] += ..` is a
    /// method call borrowing `z` mutably before the right-hand side, which may read `z`); in a
    /// loop over lent elements, `*z_i op value;`.
    fn set_element(&mut self, array: &str, index: &IntExpr, op: AssignOp, value: &Expr) {
        let lent = match index {
            IntExpr::Var(i) => self.lent_element(array, i),
            _ => None,
        };
        let element = |p: &mut Self| match &lent {
            Some(elem) => {
                let _ = write!(p.out, "*{elem}");
            }
            None => {
                let _ = write!(p.out, "{array}[");
                p.int(index, 0);
                p.out.push(']');
            }
        };
        element(self);
        let binary = match op {
            AssignOp::Set => None,
            AssignOp::Add => Some((" + ", ADD)),
            AssignOp::Sub => Some((" - ", ADD)),
            AssignOp::Mul => Some((" * ", MUL)),
            AssignOp::Div => Some((" / ", MUL)),
        };
        match binary {
            Some((text, prec)) if self.oracle() => {
                self.out.push_str(" = ");
                element(self);
                self.out.push_str(text);
                self.expr(value, prec + 1);
            }
            _ => {
                let _ = write!(self.out, " {} ", assign_op(op));
                self.expr(value, 0);
            }
        }
        self.out.push_str(";\n");
    }

    /// `let [mut] z[: Vec<f64>] = vec![v; n];`, `[a, b, c]`, ...
    fn new_array(&mut self, name: &str, mutable: bool, vec: bool, typed: bool, init: &ArrayInit) {
        let m = if mutable { "mut " } else { "" };
        let _ = write!(self.out, "let {m}{name}");
        if typed {
            let ft = self.float_ty();
            if vec {
                let _ = write!(self.out, ": Vec<{ft}>");
            } else {
                let _ = write!(self.out, ": [{ft}; ");
                self.fixed_len(init);
                self.out.push(']');
            }
        }
        self.out.push_str(" = ");
        self.array_init(vec, init);
        self.out.push_str(";\n");
    }

    /// The length of an array of a fixed length so built.
    fn fixed_len(&mut self, init: &ArrayInit) {
        match init {
            ArrayInit::Repeat { len, .. } => self.int(len, 0),
            ArrayInit::List(items) => {
                let _ = write!(self.out, "{}", items.len());
            }
            ArrayInit::Copy { len, .. } => {
                let _ = write!(self.out, "{}", len.unwrap_or(0));
            }
            ArrayInit::Chosen { then, .. } => self.fixed_len(then),
            ArrayInit::Empty { .. } | ArrayInit::Run { .. } => self.out.push('0'),
        }
    }

    /// The expression building a new array: `vec![v; n]`, `[a, b, c]`, `x[..k].to_vec()`, ...
    fn array_init(&mut self, vec: bool, init: &ArrayInit) {
        match init {
            ArrayInit::Run { of, start, end } => {
                let _ = write!(self.out, "{of}[");
                if let Some(a) = start {
                    self.int(a, 0);
                }
                self.out.push_str("..");
                if let Some(b) = end {
                    self.int(b, 0);
                }
                self.out.push_str("].to_vec()");
            }
            ArrayInit::Empty { capacity } => match capacity {
                Some(k) => {
                    self.out.push_str("Vec::with_capacity(");
                    self.int(k, 0);
                    self.out.push(')');
                }
                None => self.out.push_str("Vec::new()"),
            },
            ArrayInit::Copy { of, len } => {
                let _ = match len {
                    Some(k) => write!(self.out, "{of}[..{k}].to_vec()"),
                    None => write!(self.out, "{of}.clone()"),
                };
            }
            ArrayInit::Chosen { cond, then, other } => {
                self.out.push_str("if ");
                self.cond(cond, 0);
                self.out.push_str(" { ");
                self.array_init(vec, then);
                self.out.push_str(" } else { ");
                self.array_init(vec, other);
                self.out.push_str(" }");
            }
            ArrayInit::Repeat { value, len } => {
                self.out.push_str(if vec { "vec![" } else { "[" });
                self.expr(value, 0);
                self.out.push_str("; ");
                self.int(len, 0);
                self.out.push(']');
            }
            ArrayInit::List(items) => {
                self.out.push_str(if vec { "vec![" } else { "[" });
                for (k, e) in items.iter().enumerate() {
                    if k > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(e, 0);
                }
                self.out.push(']');
            }
        }
    }

    fn closure(&mut self, name: &str, moved: bool, params: &[ClosureParam], body: &Expr) {
        let ft = self.float_ty();
        let params: Vec<String> = params
            .iter()
            .map(|p| {
                let r = if p.by_ref { "&" } else { "" };
                format!("{}: {r}{ft}", p.name)
            })
            .collect();
        let m = if moved { "move " } else { "" };
        let _ = write!(self.out, "let {name} = {m}|{}| ", params.join(", "));
        self.expr(body, 0);
        self.out.push_str(";\n");
    }

    /// Whether `for pat in chain { let v = e; rest }` is printed `for v in chain.map(|pat| e) {
    /// rest }` (`Func::mapped_items`): `e` reads nothing bound `mut` (the closure borrows what
    /// it reads while the body runs), `rest` does not read `pat`'s names, and the chain has a
    /// method to call (not `x` or `&z` alone).
    fn mappable<'a>(
        &self,
        pat: &Pat,
        chain: &Chain,
        body: &'a [Stmt],
    ) -> Option<(&'a str, &'a Expr, &'a [Stmt])> {
        let Some((
            Stmt::Let {
                name,
                mutable: false,
                value,
            },
            rest,
        )) = body.split_first()
        else {
            return None;
        };
        let quoted = |n: &str| format!("{n:?}");
        let read = format!("{value:?}");
        let after = format!("{rest:?}");
        let mut bound = Vec::new();
        pattern_names(pat, &mut bound);
        let mappable = self.map
            && !matches!(chain.base, Base::Bare(_) | Base::Borrow(_))
            && !self.mutables.iter().any(|m| read.contains(&quoted(m)))
            && !bound.iter().any(|b| after.contains(&quoted(b)));
        mappable.then_some((name.as_str(), value, rest))
    }

    /// The condition of `if c { continue; }` first in a loop's body (reading nothing bound
    /// `mut`: the filter's closure borrows what it reads while the body runs; no `break` in the
    /// body) and the rest, where `Func::filters` prints the loop with `filter`.
    fn filterable<'a>(&self, chain: &Chain, body: &'a [Stmt]) -> Option<(&'a Cond, &'a [Stmt])> {
        let (
            Stmt::If {
                cond,
                then,
                els: None,
            },
            rest,
        ) = body.split_first()?
        else {
            return None;
        };
        let read = format!("{cond:?}");
        let ok = self.filters
            && matches!(then.as_slice(), [Stmt::Continue])
            && !exits(rest)
            && !matches!(chain.base, Base::Bare(_) | Base::Borrow(_))
            && !self
                .mutables
                .iter()
                .any(|m| read.contains(&format!("{m:?}")));
        ok.then_some((cond, rest))
    }

    /// Of a map's body `if c { e } else { 0.0 }` (`1.0` in a product, or the other way round),
    /// where `Func::filters` prints it as a `filter`: the condition, whether it keeps the item
    /// where it holds, and the value kept.
    fn kept<'a>(&self, body: &'a Expr, product: bool) -> Option<((&'a Cond, bool), &'a Expr)> {
        let Expr::If(c, a, b) = body else {
            return None;
        };
        let unit = Expr::Lit(if product { 1.0 } else { 0.0 });
        if !self.filters {
            return None;
        }
        if **b == unit {
            Some(((c, true), a))
        } else if **a == unit {
            Some(((c, false), b))
        } else {
            None
        }
    }

    fn pat(&mut self, p: &Pat) {
        match p {
            Pat::Bind(v) => self.out.push_str(v),
            Pat::Deref(v) => {
                let _ = write!(self.out, "&{v}");
            }
            Pat::Wild => self.out.push('_'),
            Pat::Pair(a, b) => {
                self.out.push('(');
                self.pat(a);
                self.out.push_str(", ");
                self.pat(b);
                self.out.push(')');
            }
        }
    }

    /// A chain at the top of a loop (`allow`: one without `break`) or an iterator sum: an
    /// adaptor-free `x.iter()` of a slice parameter `Func::chained_halves` names printed as its
    /// halves chained, `x[..x.len() / 2].iter().chain(&x[x.len() / 2..])` (the same items in the
    /// same order); any other as [`Printer::chain`] prints it.
    fn top_chain(&mut self, c: &Chain, paren: bool, allow: bool) {
        if allow
            && c.adaptors.is_empty()
            && let Base::Iter(x) = &c.base
            && self.halves.contains(x)
        {
            let _ = write!(
                self.out,
                "{x}[..{x}.len() / 2].iter().chain(&{x}[{x}.len() / 2..])"
            );
            return;
        }
        self.chain(c, paren);
    }

    /// An iterator chain; a range base is parenthesized when adapted, or when `paren` (the
    /// receiver of `.map`).
    fn chain(&mut self, c: &Chain, paren: bool) {
        match &c.base {
            Base::Range(r) => {
                let p = paren || !c.adaptors.is_empty();
                if p {
                    self.out.push('(');
                }
                self.range(r);
                if p {
                    self.out.push(')');
                }
            }
            Base::Bare(x) => self.out.push_str(x),
            Base::Borrow(x) => {
                let _ = write!(self.out, "&{x}");
            }
            Base::Iter(x) => {
                let _ = write!(self.out, "{x}.iter()");
            }
            Base::Sub { slice, start, end } => {
                let _ = write!(self.out, "{slice}[");
                if let Some(s) = start {
                    self.int(s, ADD);
                }
                self.out.push_str("..");
                if let Some(e) = end {
                    self.int(e, ADD);
                }
                self.out.push_str("].iter()");
            }
            Base::Runs(kind, x, k) => {
                let _ = write!(self.out, "{x}.{}(", kind.name());
                self.int(k, 0);
                self.out.push(')');
            }
        }
        for a in &c.adaptors {
            match a {
                Adaptor::Skip(k) => self.adaptor("skip", k),
                Adaptor::Take(k) => self.adaptor("take", k),
                Adaptor::StepBy(k) => self.adaptor("step_by", k),
                Adaptor::Rev => self.out.push_str(".rev()"),
                Adaptor::Enumerate => self.out.push_str(".enumerate()"),
                Adaptor::Copied => self.out.push_str(".copied()"),
                Adaptor::Zip(other) => {
                    self.out.push_str(".zip(");
                    self.chain(other, false);
                    self.out.push(')');
                }
            }
        }
    }

    fn adaptor(&mut self, name: &str, k: &IntExpr) {
        let _ = write!(self.out, ".{name}(");
        self.int(k, 0);
        self.out.push(')');
    }

    fn if_stmt(&mut self, cond: &Cond, then: &[Stmt], els: Option<&[Stmt]>, level: usize) {
        // (An `if` whose branch ends its loop is a `match` when the `break` ends the branch and
        // there is no `else`, as the macro takes it; otherwise it stays an `if`, its condition
        // the `match` as a `bool`.)
        let breaks_last = |then: &[Stmt]| matches!(then.split_last(), Some((Stmt::Break, before)) if !exits(before));
        if let Cond::Matched(c) = cond
            && (!exits(then) || (els.is_none() && breaks_last(then)))
            && !els.is_some_and(exits)
        {
            self.tuple_match(c);
            self.out.push_str(" => {\n");
            self.block_body(then, level + 2);
            self.indent(level + 1);
            self.out.push_str("}\n");
            self.indent(level + 1);
            self.out.push_str("_ => {\n");
            self.block_body(els.unwrap_or_default(), level + 2);
            self.indent(level + 1);
            self.out.push_str("}\n");
            self.indent(level);
            self.out.push_str("}\n");
            return;
        }
        self.out.push_str("if ");
        self.cond(cond, 0);
        self.out.push_str(" {\n");
        self.close_block(then, level);
        if let Some(els) = els {
            self.out.push_str(" else {\n");
            self.close_block(els, level);
        }
        self.out.push('\n');
    }

    /// The statements of a `{ ... }` whose opening brace is printed, then `}`.
    fn close_block(&mut self, body: &[Stmt], level: usize) {
        self.block_body(body, level + 1);
        self.indent(level);
        self.out.push('}');
    }

    fn range(&mut self, r: &Range) {
        self.int(&r.start, ADD);
        self.out.push_str("..");
        self.int(&r.end, ADD);
    }

    fn int(&mut self, e: &IntExpr, min: u8) {
        let own = match e {
            IntExpr::Add(..) | IntExpr::Sub(..) => ADD,
            IntExpr::Mul(..) | IntExpr::Div(..) | IntExpr::Rem(..) => MUL,
            _ => ATOM,
        };
        let paren = own < min;
        if paren {
            self.out.push('(');
        }
        match e {
            IntExpr::Var(v) => self.out.push_str(v),
            IntExpr::Const(c) => {
                let _ = write!(self.out, "{c}");
            }
            IntExpr::Len(s) => {
                let _ = write!(self.out, "{s}.len()");
            }
            IntExpr::Add(a, b) => self.int_bin(a, " + ", b, ADD),
            IntExpr::Sub(a, b) => self.int_bin(a, " - ", b, ADD),
            IntExpr::Mul(a, b) => self.int_bin(a, " * ", b, MUL),
            IntExpr::Div(a, b) => self.int_bin(a, " / ", b, MUL),
            IntExpr::Rem(a, b) => self.int_bin(a, " % ", b, MUL),
        }
        if paren {
            self.out.push(')');
        }
    }

    fn int_bin(&mut self, a: &IntExpr, op: &str, b: &IntExpr, prec: u8) {
        self.int(a, prec);
        self.out.push_str(op);
        self.int(b, prec + 1);
    }

    fn cond(&mut self, c: &Cond, min: u8) {
        match c {
            Cond::Float(op, a, b) => {
                self.expr(a, ADD);
                let _ = write!(self.out, " {} ", cmp_op(*op));
                self.expr(b, ADD);
            }
            Cond::Int(op, a, b) => {
                self.int(a, ADD);
                let _ = write!(self.out, " {} ", cmp_op(*op));
                self.int(b, ADD);
            }
            Cond::And(a, b) => self.logic(a, " && ", b, 2, min),
            Cond::Or(a, b) => self.logic(a, " || ", b, 1, min),
            Cond::Not(a) => {
                self.out.push_str("!(");
                self.cond(a, 0);
                self.out.push(')');
            }
            Cond::Matched(a) => {
                self.out.push('(');
                self.tuple_match(a);
                self.out.push_str(" => true, _ => false })");
            }
        }
    }

    /// `match (e0, e1, ..) { (p0, _, ..) | (_, p1, ..) | …` of `c` (the arms follow): one
    /// element per comparison of `c` (an integer compared with a constant matched by a literal
    /// or a range, anything else as a `bool` matched by `true`), and `c` in disjunctive form,
    /// an `||` being `|` and an `&&` both elements in one tuple. Each element is evaluated
    /// (no `&&` to skip one): the generator makes each comparison valid alone.
    fn tuple_match(&mut self, c: &Cond) {
        let mut elems = Vec::new();
        let alts = self.alternatives(c, &mut elems);
        let n = elems.len();
        self.out.push_str("match (");
        self.out.push_str(&elems.join(", "));
        if n == 1 {
            self.out.push(',');
        }
        self.out.push_str(") { ");
        let rendered: Vec<String> = alts
            .iter()
            .map(|alt| {
                let parts: Vec<&str> = (0..n)
                    .map(|i| alt.get(i).and_then(|p| p.as_deref()).unwrap_or("_"))
                    .collect();
                if n == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            })
            .collect();
        self.out.push_str(&rendered.join(" | "));
    }

    /// The alternatives of `c` over its comparisons, each a pattern per element (`None`: `_`),
    /// the elements' text pushed to `elems` as they are met.
    fn alternatives(&mut self, c: &Cond, elems: &mut Vec<String>) -> Vec<Vec<Option<String>>> {
        match c {
            Cond::And(a, b) => {
                let left = self.alternatives(a, elems);
                let right = self.alternatives(b, elems);
                let mut out = Vec::new();
                for x in &left {
                    for y in &right {
                        let len = x.len().max(y.len());
                        out.push(
                            (0..len)
                                .map(|i| {
                                    x.get(i)
                                        .cloned()
                                        .flatten()
                                        .or_else(|| y.get(i).cloned().flatten())
                                })
                                .collect(),
                        );
                    }
                }
                out
            }
            Cond::Or(a, b) => {
                let mut out = self.alternatives(a, elems);
                out.extend(self.alternatives(b, elems));
                out
            }
            leaf => {
                let saved = std::mem::take(&mut self.out);
                let pattern = match leaf {
                    // (`..0` matches nothing, which Rust rejects.)
                    Cond::Int(op, lhs, IntExpr::Const(k))
                        if *op != CmpOp::Ne && !(*op == CmpOp::Lt && *k == 0) =>
                    {
                        self.int(lhs, 0);
                        match op {
                            CmpOp::Lt => format!("..{k}"),
                            CmpOp::Le => format!("..={k}"),
                            CmpOp::Gt => format!("{}..", k + 1),
                            CmpOp::Ge => format!("{k}.."),
                            _ => format!("{k}"),
                        }
                    }
                    other => {
                        self.out.push('(');
                        self.cond(other, 0);
                        self.out.push(')');
                        "true".to_string()
                    }
                };
                elems.push(std::mem::replace(&mut self.out, saved));
                let mut alt = vec![None; elems.len()];
                alt[elems.len() - 1] = Some(pattern);
                vec![alt]
            }
        }
    }

    fn logic(&mut self, a: &Cond, op: &str, b: &Cond, prec: u8, min: u8) {
        let paren = prec < min;
        if paren {
            self.out.push('(');
        }
        self.cond(a, prec);
        self.out.push_str(op);
        self.cond(b, prec + 1);
        if paren {
            self.out.push(')');
        }
    }

    fn expr(&mut self, e: &Expr, min: u8) {
        let own = self.precedence(e);
        let paren = own < min;
        if paren {
            self.out.push('(');
        }
        self.expr_inner(e);
        if paren {
            self.out.push(')');
        }
    }

    fn precedence(&self, e: &Expr) -> u8 {
        match e {
            Expr::Lit(v) if *v < 0.0 || v.is_sign_negative() => {
                if self.oracle() {
                    ATOM
                } else {
                    UNARY
                }
            }
            Expr::Bin(BinOp::Add | BinOp::Sub, ..) => ADD,
            Expr::Bin(BinOp::Mul | BinOp::Div, ..) => MUL,
            Expr::Neg(_) | Expr::Deref(_) => UNARY,
            Expr::Index(s, IntExpr::Var(i)) if self.lent_element(s, i).is_some() => UNARY,
            Expr::Method(..) | Expr::Iter(_) | Expr::Output(..) => POSTFIX,
            Expr::If(..) => 0,
            _ => ATOM,
        }
    }

    fn expr_inner(&mut self, e: &Expr) {
        match e {
            Expr::Lit(v) => self.literal(*v),
            Expr::NegInf => self.wrapped("f64::NEG_INFINITY"),
            Expr::Var(v) => self.out.push_str(v),
            Expr::Deref(v) => {
                let _ = write!(self.out, "*{v}");
            }
            Expr::Index(s, IntExpr::Const(k)) if self.tuple_locals.contains(s) => {
                let _ = write!(self.out, "{s}.{k}");
            }
            Expr::Index(s, IntExpr::Var(i)) if let Some(elem) = self.lent_element(s, i) => {
                let _ = write!(self.out, "*{elem}");
            }
            Expr::Index(s, i) if self.option_read(s) => self.option_element(s, i),
            Expr::Index(s, i) => {
                let _ = write!(self.out, "{s}[");
                self.int(i, 0);
                self.out.push(']');
            }
            Expr::Cast(i) => {
                self.out.push_str(if self.oracle() { "cst(" } else { "(" });
                self.int(i, ATOM);
                self.out.push_str(" as f64)");
            }
            Expr::Neg(a) => {
                self.out.push('-');
                self.expr(a, UNARY + 1);
            }
            Expr::Bin(op, a, b) => self.binary(*op, a, b),
            Expr::Method(m, recv, args) => self.method(*m, recv, args),
            Expr::Call(name, args) => self.call(name, args),
            Expr::Iter(it) => self.iterator(it),
            Expr::Array(items) if self.tuple => {
                self.out.push('(');
                for e in items {
                    self.expr(e, 0);
                    self.out.push_str(", ");
                }
                self.out.truncate(self.out.len() - 2);
                if items.len() == 1 {
                    self.out.push(',');
                }
                self.out.push(')');
            }
            Expr::Array(items) => {
                self.out.push('[');
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(e, 0);
                }
                self.out.push(']');
            }
            Expr::Output(call, k) if self.reads_tuple(call) => {
                self.expr(call, POSTFIX);
                let _ = write!(self.out, ".{k}");
            }
            Expr::Output(call, k) => {
                self.expr(call, POSTFIX);
                let _ = write!(self.out, "[{k}]");
            }
            Expr::If(c, a, b) if matches!(**c, Cond::Matched(_)) => {
                let Cond::Matched(inner) = &**c else {
                    return;
                };
                self.tuple_match(inner);
                self.out.push_str(" => ");
                self.expr(a, 0);
                self.out.push_str(", _ => ");
                self.expr(b, 0);
                self.out.push_str(" }");
            }
            Expr::If(c, a, b) => {
                self.out.push_str("if ");
                self.cond(c, 0);
                self.out.push_str(" { ");
                self.expr(a, 0);
                self.out.push_str(" } else { ");
                self.expr(b, 0);
                self.out.push_str(" }");
            }
        }
    }

    fn iterator(&mut self, it: &IterExpr) {
        self.top_chain(&it.chain, true, true);
        match &it.map {
            // `.map(|p| if c { e } else { 0.0 }).sum()` (`1.0` for a product, or the branches
            // the other way round) as `.filter(|&p| c).map(|p| e).sum()`.
            MapFn::Closure { pat, body }
                if let Some((keep, value)) = self.kept(body, it.product) =>
            {
                self.out.push_str(".filter(|&");
                self.pat(pat);
                self.out.push_str("| ");
                if keep.1 {
                    self.cond(keep.0, 0);
                } else {
                    self.out.push_str("!(");
                    self.cond(keep.0, 0);
                    self.out.push(')');
                }
                self.out.push_str(").map(|");
                self.pat(pat);
                self.out.push_str("| ");
                self.expr(value, 0);
                self.out.push(')');
            }
            MapFn::Closure { pat, body } => {
                self.out.push_str(".map(|");
                self.pat(pat);
                self.out.push_str("| ");
                self.expr(body, 0);
                self.out.push(')');
            }
            MapFn::Named(f) => {
                let _ = write!(self.out, ".map({f})");
            }
            MapFn::Items => {}
        }
        // (A mapped sum as the fold it is, `.fold(0.0, |facc, fv| facc + fv)`.)
        if self.folded_sums && matches!(it.map, MapFn::Closure { .. }) {
            let (start, op) = if it.product {
                ("1.0", "*")
            } else {
                ("0.0", "+")
            };
            let _ = write!(self.out, ".fold({start}, |facc, fv| facc {op} fv)");
            return;
        }
        let reduce = if it.product { "product" } else { "sum" };
        let _ = write!(self.out, ".{reduce}::<{}>()", self.float_ty());
    }

    /// Whether this read of `s` is printed through an `Option` (`Func::option_reads`: one read
    /// of a slice parameter in 3).
    fn option_read(&mut self, s: &str) -> bool {
        if !self.options.0.iter().any(|p| p == s) {
            return false;
        }
        self.options.1 += 1;
        self.options.1 % 3 == 1
    }

    /// `s[i]` as `(if let Some(&ov) = s.get(i) { ov } else { 0.0 })` (`first()` for `0`,
    /// `last()` for `s.len() - 1`): the same value wherever the read does not panic.
    fn option_element(&mut self, s: &str, i: &IntExpr) {
        let v = format!("ov{}", self.options.1);
        let _ = write!(self.out, "(if let Some(&{v}) = {s}.");
        let last = IntExpr::minus(IntExpr::Len(s.to_string()), IntExpr::Const(1));
        if *i == IntExpr::Const(0) {
            self.out.push_str("first()");
        } else if *i == last {
            self.out.push_str("last()");
        } else {
            self.out.push_str("get(");
            self.int(i, 0);
            self.out.push(')');
        }
        let _ = write!(self.out, " {{ {v} }} else {{ 0.0 }})");
    }

    fn literal(&mut self, v: f64) {
        self.wrapped(&format!("{v:?}"));
    }

    /// A float constant: as is in plain code, `cst(..)` in the oracle.
    fn wrapped(&mut self, text: &str) {
        if self.oracle() {
            let _ = write!(self.out, "cst({text})");
        } else {
            self.out.push_str(text);
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr) {
        let (prec, text) = match op {
            BinOp::Add => (ADD, " + "),
            BinOp::Sub => (ADD, " - "),
            BinOp::Mul => (MUL, " * "),
            BinOp::Div => (MUL, " / "),
        };
        self.expr(a, prec);
        self.out.push_str(text);
        self.expr(b, prec + 1);
    }

    fn method(&mut self, m: Method, recv: &Expr, args: &[Expr]) {
        self.expr(recv, POSTFIX);
        let _ = write!(self.out, ".{}(", m.name());
        if let Method::Powi(k) = m {
            let _ = write!(self.out, "{k}");
        }
        self.args(&args.iter().cloned().map(Arg::Float).collect::<Vec<_>>());
        self.out.push(')');
    }

    fn call(&mut self, name: &str, args: &[Arg]) {
        let _ = write!(self.out, "{name}(");
        self.args(args);
        self.out.push(')');
    }

    fn args(&mut self, args: &[Arg]) {
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            match a {
                Arg::Float(e) => self.expr(e, 0),
                Arg::Slice(s) => self.out.push_str(s),
                Arg::LocalArray(s) => {
                    let _ = write!(self.out, "&{s}");
                }
                Arg::LocalRun(s, 0) => {
                    let _ = write!(self.out, "&{s}[..]");
                }
                Arg::LocalRun(s, k) => {
                    let _ = write!(self.out, "&{s}[{k}..]");
                }
                Arg::ArrayLit(items) => {
                    self.out.push_str("&[");
                    for (k, e) in items.iter().enumerate() {
                        if k > 0 {
                            self.out.push_str(", ");
                        }
                        self.expr(e, 0);
                    }
                    self.out.push(']');
                }
                Arg::Run {
                    slice,
                    start,
                    end,
                    inclusive,
                } => {
                    let _ = write!(self.out, "&{slice}[");
                    if let Some(a) = start {
                        self.int(a, ADD);
                    }
                    self.out.push_str(if *inclusive { "..=" } else { ".." });
                    if let Some(b) = end {
                        self.int(b, ADD);
                    }
                    self.out.push(']');
                }
            }
        }
    }
}

fn assign_op(op: AssignOp) -> &'static str {
    match op {
        AssignOp::Set => "=",
        AssignOp::Add => "+=",
        AssignOp::Sub => "-=",
        AssignOp::Mul => "*=",
        AssignOp::Div => "/=",
    }
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
    }
}

/// A loop `Printer::strided_loop` prints strided: its index, its length, its body and the array
/// it fills.
struct Fill<'a> {
    var: &'a str,
    len: &'a IntExpr,
    body: &'a [Stmt],
    array: &'a str,
}

/// `let mut z = vec![0.0; n];` (or `[0.0; K]`) followed by `for c in 0..len { .. }` whose body
/// mentions `z` only in one statement, `z[c] = e;` (or `+=`, `-=`; `e` not reading `z`), and neither breaks nor
/// continues (a `continue` in a half would skip the other).
fn strided_fill<'a>(decl: &'a Stmt, next: &'a Stmt) -> Option<Fill<'a>> {
    let Stmt::NewArray {
        name,
        mutable: true,
        init: ArrayInit::Repeat { value, .. },
        ..
    } = decl
    else {
        return None;
    };
    if *value != Expr::Lit(0.0) {
        return None;
    }
    let Stmt::For { var, range, body } = next else {
        return None;
    };
    if range.start != IntExpr::Const(0) {
        return None;
    }
    let quoted = format!("{name:?}");
    let text = format!("{body:?}");
    // (Nor a length read from `z`: the halves' conditions would read the array.)
    if text.contains("Break")
        || text.contains("Continue")
        || format!("{:?}", range.end).contains(&quoted)
    {
        return None;
    }
    let mentions: Vec<&Stmt> = body
        .iter()
        .filter(|s| format!("{s:?}").contains(&quoted))
        .collect();
    // (`+=` and `-=` add into a zero too; the lowering takes them at any index.)
    let [
        Stmt::SetElem {
            array,
            index: IntExpr::Var(i),
            op: AssignOp::Set | AssignOp::Add | AssignOp::Sub,
            value,
        },
    ] = mentions.as_slice()
    else {
        return None;
    };
    (array == name && i == var && !format!("{value:?}").contains(&quoted)).then_some(Fill {
        var,
        len: &range.end,
        body,
        array: name,
    })
}

/// The names `p` binds.
fn pattern_names(p: &Pat, out: &mut Vec<String>) {
    match p {
        Pat::Bind(v) | Pat::Deref(v) => out.push(v.clone()),
        Pat::Wild => {}
        Pat::Pair(a, b) => {
            pattern_names(a, out);
            pattern_names(b, out);
        }
    }
}

/// The names `body` binds `mut` (floats, integers and arrays), in loops and branches too.
fn mutable_names(body: &[Stmt], out: &mut Vec<String>) {
    for s in body {
        match s {
            Stmt::Let {
                name,
                mutable: true,
                ..
            }
            | Stmt::LetInt {
                name,
                mutable: true,
                ..
            }
            | Stmt::NewArray {
                name,
                mutable: true,
                ..
            } => out.push(name.clone()),
            Stmt::Fold { members, body, .. } => {
                // (The accumulators are the closure's, assigned in its body.)
                out.extend(members.iter().map(|(m, _)| m.clone()));
                mutable_names(body, out);
            }
            Stmt::For { body, .. }
            | Stmt::ForIter { body, .. }
            | Stmt::While { body, .. }
            | Stmt::Loop(body) => mutable_names(body, out),
            Stmt::If { then, els, .. } => {
                mutable_names(then, out);
                if let Some(els) = els {
                    mutable_names(els, out);
                }
            }
            _ => {}
        }
    }
}

/// Whether `body` has a `break` of the loop around it (not of a loop inside).
fn exits(body: &[Stmt]) -> bool {
    body.iter().any(|s| match s {
        Stmt::Break => true,
        Stmt::If { then, els, .. } => exits(then) || els.as_deref().is_some_and(exits),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::{Mode, function};
    use crate::ast::{
        AssignOp, BinOp, Dim, Expr, Extent, Func, IntExpr, Method, Param, ParamTy, Range, Stmt,
    };

    fn sample() -> Func {
        let x = Expr::Index("x".into(), IntExpr::Var("i".into()));
        let body = vec![
            Stmt::Let {
                name: "s".into(),
                mutable: true,
                value: Expr::Lit(0.0),
            },
            Stmt::For {
                var: "i".into(),
                range: Range {
                    start: IntExpr::Const(0),
                    end: IntExpr::Len("x".into()),
                },
                body: vec![Stmt::Assign {
                    name: "s".into(),
                    op: AssignOp::Add,
                    value: Expr::bin(
                        BinOp::Mul,
                        Expr::Lit(-0.5),
                        Expr::method(Method::Exp, x, vec![]),
                    ),
                }],
            },
        ];
        Func {
            name: "f".into(),
            params: vec![
                Param {
                    name: "x".into(),
                    ty: ParamTy::Slice(Extent {
                        dim: Dim::N,
                        plus: 0,
                    }),
                },
                Param {
                    name: "a".into(),
                    ty: ParamTy::Scalar,
                },
            ],
            wrt: Some(vec!["a".into()]),
            hessian: false,
            spellings: crate::ast::Spellings::default(),
            checkpoint: None,
            vec_return: false,
            tuple_return: false,
            body,
            ret: Expr::bin(
                BinOp::Sub,
                Expr::var("s"),
                Expr::bin(BinOp::Sub, Expr::var("a"), Expr::var("s")),
            ),
        }
    }

    #[test]
    fn plain_and_oracle_print_the_same_body() {
        let f = sample();
        assert_eq!(
            function(&f, Mode::Plain),
            "#[::symgrad::differentiable(wrt(a))]\npub fn f(x: &[f64], a: f64) -> f64 {\n    \
             let mut s = 0.0;\n    for i in 0..x.len() {\n        s += -0.5 * x[i].exp();\n    \
             }\n    s - (a - s)\n}\n"
        );
        assert_eq!(
            function(&f, Mode::Oracle),
            "pub fn f(x: &[D], a: D) -> D {\n    let mut s = cst(0.0);\n    for i in 0..x.len() \
             {\n        s += cst(-0.5) * x[i].exp();\n    }\n    s - (a - s)\n}\n"
        );
    }

    /// Integer `/` and `%` bind as `*` does, left to right: `d * (k / d) + k % d`, `(i + 1) %
    /// (n * d)`, `k / d * d`, both printings.
    #[test]
    fn integer_division_and_remainder_are_parenthesized() {
        let (k, d) = (|| IntExpr::Var("k".into()), || IntExpr::Var("d".into()));
        let flat = IntExpr::plus(
            IntExpr::times(d(), IntExpr::over(k(), d())),
            IntExpr::modulo(k(), d()),
        );
        let next = IntExpr::modulo(
            IntExpr::plus(k(), IntExpr::Const(1)),
            IntExpr::times(IntExpr::Var("n".into()), d()),
        );
        let row = IntExpr::times(IntExpr::over(k(), d()), d());
        for (index, want) in [
            (flat, "x[d * (k / d) + k % d]"),
            (next, "x[(k + 1) % (n * d)]"),
            (row, "x[k / d * d]"),
        ] {
            assert_eq!(super::expr(&Expr::Index("x".into(), index)), want);
        }
    }
}
