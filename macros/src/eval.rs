//! The numeric meaning of every operation, stated once: used by constant folding and by the
//! interpreter that tests run generated graphs with.

use crate::graph::{Cmp, Fun, Fun2, IntOp, Op, Pred};
#[cfg(test)]
use crate::graph::{Graph, LoopMask, NodeId};

/// A value of any kind.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Value {
    Float(f64),
    Int(i64),
    Bool(bool),
}

impl Value {
    pub fn float(self) -> f64 {
        match self {
            Value::Float(v) => v,
            Value::Int(v) => v as f64,
            Value::Bool(_) => f64::NAN,
        }
    }
    pub fn int(self) -> i64 {
        match self {
            Value::Int(v) => v,
            // Rust's `as` saturates; so do we.
            #[allow(clippy::cast_possible_truncation)]
            Value::Float(v) => v as i64,
            Value::Bool(b) => i64::from(b),
        }
    }
    pub fn bool(self) -> bool {
        matches!(self, Value::Bool(true))
    }
}

pub fn unary(f: Fun, x: f64) -> f64 {
    match f {
        Fun::Sqrt => x.sqrt(),
        Fun::Cbrt => x.cbrt(),
        Fun::Exp => x.exp(),
        Fun::Exp2 => x.exp2(),
        Fun::ExpM1 => x.exp_m1(),
        Fun::Ln => x.ln(),
        Fun::Log2 => x.log2(),
        Fun::Log10 => x.log10(),
        Fun::Ln1p => x.ln_1p(),
        Fun::Sin => x.sin(),
        Fun::Cos => x.cos(),
        Fun::Tan => x.tan(),
        Fun::Asin => x.asin(),
        Fun::Acos => x.acos(),
        Fun::Atan => x.atan(),
        Fun::Sinh => x.sinh(),
        Fun::Cosh => x.cosh(),
        Fun::Tanh => x.tanh(),
        Fun::Asinh => x.asinh(),
        Fun::Acosh => x.acosh(),
        Fun::Atanh => x.atanh(),
        Fun::Abs => x.abs(),
        Fun::Signum => x.signum(),
        Fun::Sign => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        }
        Fun::Recip => x.recip(),
        Fun::ToDegrees => x.to_degrees(),
        Fun::ToRadians => x.to_radians(),
        Fun::Floor => x.floor(),
        Fun::Ceil => x.ceil(),
        Fun::Round => x.round(),
        Fun::Trunc => x.trunc(),
        Fun::Fract => x.fract(),
    }
}

pub fn binary(f: Fun2, a: f64, b: f64) -> f64 {
    match f {
        Fun2::Powf => a.powf(b),
        Fun2::Log => a.log(b),
        Fun2::Atan2 => a.atan2(b),
        Fun2::Hypot => a.hypot(b),
        Fun2::Max => a.max(b),
        Fun2::Min => a.min(b),
    }
}

pub fn compare<T: PartialOrd + Copy>(op: Cmp, a: T, b: T) -> bool {
    match op {
        Cmp::Lt => a < b,
        Cmp::Le => a <= b,
        Cmp::Gt => a > b,
        Cmp::Ge => a >= b,
        Cmp::Eq => a == b,
        Cmp::Ne => a != b,
    }
}

pub fn predicate(p: Pred, x: f64) -> bool {
    match p {
        Pred::IsNan => x.is_nan(),
        Pred::IsFinite => x.is_finite(),
        Pred::IsInfinite => x.is_infinite(),
        Pred::IsSignPositive => x.is_sign_positive(),
        Pred::IsSignNegative => x.is_sign_negative(),
    }
}

/// Integer arithmetic; `None` where Rust would panic (overflow, division by zero), so folding
/// leaves such expressions for the compiler to report.
pub fn int_op(op: IntOp, a: i64, b: i64) -> Option<i64> {
    match op {
        IntOp::Add => a.checked_add(b),
        IntOp::Sub => a.checked_sub(b),
        IntOp::Mul => a.checked_mul(b),
        IntOp::Div => a.checked_div(b),
        IntOp::Rem => a.checked_rem(b),
    }
}

/// `x.powi(n)` for an `i64` exponent, the way `f64::powi` computes it for `i32`.
#[allow(clippy::cast_possible_truncation)]
pub fn powi(x: f64, n: i64) -> f64 {
    x.powi(n.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// Evaluates an operation whose children have the given values. `None` for operations that
/// need the outside world (inputs, symbols, calls).
pub fn apply(op: &Op, args: &[Value]) -> Option<Value> {
    let f = |i: usize| args[i].float();
    let n = |i: usize| args[i].int();
    let b = |i: usize| args[i].bool();
    Some(match op {
        Op::Const(bits) => Value::Float(f64::from_bits(*bits)),
        Op::IntConst(v) => Value::Int(*v),
        Op::BoolConst(v) => Value::Bool(*v),
        // Inputs, symbols and calls need the outside world; integer casts, the target type.
        Op::Input(_)
        | Op::Sym(..)
        | Op::Call(..)
        | Op::CallOutput(..)
        // The function by its path: `symgrad::stop_gradient` is the identity; folding a constant
        // through it would assume so of any function of that name.
        | Op::StopGradient(..)
        | Op::Partial(..)
        | Op::Partial2(..)
        | Op::CallJvp(..)
        | Op::JvpPartial(..)
        | Op::CallHvp(..)
        | Op::IntCast(..)
        | Op::FloatToInt(..)
        | Op::LoopVar(_)
        | Op::Sum { .. }
        | Op::Index(..)
        | Op::IntIndex(..)
        | Op::Element(..)
        | Op::Slice(_)
        | Op::SliceArg(..)
        | Op::DataRun(..)
        | Op::Scatter(..)
        | Op::Effects(..)
        | Op::NoEffect
        | Op::CallVjp(..)
        | Op::Carry { .. }
        | Op::Fold { .. }
        | Op::Adjoint { .. }
        | Op::RevFold { .. }
        | Op::Coupled { .. }
        | Op::Component(..)
        | Op::RevCoupled { .. }
        | Op::Until { .. }
        | Op::Table { .. }
        | Op::Scanned { .. }
        | Op::CoupledScan { .. }
        | Op::Alloc { .. }
        | Op::Filled { .. }
        | Op::ArrayLen(_)
        | Op::At(..)
        | Op::AdjAt(..)
        | Op::Cleared { .. }
        | Op::Accumulate { .. }
        | Op::ArrayVjp { .. }
        | Op::Seeds(_)
        | Op::Rebound { .. }
        | Op::VjpRows { .. } => return None,
        Op::Cast(_) => Value::Float(n(0) as f64),
        Op::Neg(_) => Value::Float(-f(0)),
        Op::Add(..) => Value::Float(f(0) + f(1)),
        Op::Sub(..) => Value::Float(f(0) - f(1)),
        Op::Mul(..) => Value::Float(f(0) * f(1)),
        Op::Div(..) => Value::Float(f(0) / f(1)),
        Op::Unary(fun, _) => Value::Float(unary(*fun, f(0))),
        Op::Powi(..) => Value::Float(powi(f(0), n(1))),
        Op::Binary(fun, ..) => Value::Float(binary(*fun, f(0), f(1))),
        Op::Clamp(..) => Value::Float(if f(1) <= f(2) {
            f(0).clamp(f(1), f(2))
        } else {
            return None; // Rust panics: leave it to run time.
        }),
        Op::MulAdd(..) => Value::Float(f(0).mul_add(f(1), f(2))),
        Op::Select(..) => {
            if b(0) {
                args[1]
            } else {
                args[2]
            }
        }
        Op::IntBin(o, ..) => Value::Int(int_op(*o, n(0), n(1))?),
        Op::IntNeg(_) => Value::Int(n(0).checked_neg()?),
        Op::Compare(c, ..) => Value::Bool(match args[0] {
            Value::Int(_) => compare(*c, n(0), n(1)),
            _ => compare(*c, f(0), f(1)),
        }),
        Op::Predicate(p, _) => Value::Bool(predicate(*p, f(0))),
        Op::And(..) => Value::Bool(b(0) && b(1)),
        Op::Or(..) => Value::Bool(b(0) || b(1)),
        Op::Not(_) => Value::Bool(!b(0)),
    })
}

/// An interpreter for graphs, used by tests as an independent way to run what the macro built.
#[cfg(test)]
pub struct Interpreter<'g> {
    graph: &'g Graph,
    inputs: Vec<f64>,
    /// Values for symbols, by symbol index.
    pub symbols: Vec<Value>,
    /// Contents of data slices (by symbol index) and of differentiated slices (by slice number).
    pub data: std::collections::HashMap<u32, Vec<f64>>,
    pub slices: Vec<Vec<f64>>,
    /// What `Scatter` effects accumulated, by slice number.
    pub scattered: Vec<Vec<f64>>,
    loop_index: Vec<i64>,
    cache: Vec<Option<Value>>,
    /// The value of each recurrence's carry and adjoint inside its own forward or reverse loop.
    carry: std::collections::HashMap<u32, f64>,
    lambda: std::collections::HashMap<u32, f64>,
    /// Forward and reverse sweeps already run, by recurrence and the indices of the loops
    /// around it: the saved values `sᵢ`, the adjoints `λᵢ₊₁` and the final `λ`.
    sweeps: std::collections::HashMap<(u32, Vec<i64>), Sweep>,
    /// The tables' adjoints, by buffer number, as last filled.
    buffers: std::collections::HashMap<u32, Vec<f64>>,
}

/// One recurrence's sweeps, as the interpreter ran them.
#[cfg(test)]
#[derive(Clone)]
struct Sweep {
    lo: i64,
    values: Vec<f64>,
    adjoints: Vec<f64>,
    last: f64,
}

#[cfg(test)]
impl<'g> Interpreter<'g> {
    pub fn new(graph: &'g Graph, inputs: &[f64]) -> Self {
        Interpreter {
            graph,
            inputs: inputs.to_vec(),
            symbols: Vec::new(),
            data: std::collections::HashMap::new(),
            slices: Vec::new(),
            scattered: Vec::new(),
            loop_index: vec![0; LoopMask::BITS as usize],
            cache: vec![None; graph.len()],
            carry: std::collections::HashMap::new(),
            lambda: std::collections::HashMap::new(),
            sweeps: std::collections::HashMap::new(),
            buffers: std::collections::HashMap::new(),
        }
    }

    /// Runs the forward loop of recurrence `fold`: its final value, and `sᵢ` per iteration.
    fn forward(&mut self, fold: NodeId) -> (i64, Vec<f64>, f64) {
        let Op::Fold {
            c,
            v,
            lo,
            hi,
            init,
            body,
        } = *self.graph.op(fold)
        else {
            return (0, Vec::new(), f64::NAN);
        };
        let (lo, hi) = (self.eval(lo).int(), self.eval(hi).int());
        let mut s = self.eval(init).float();
        let outer = self.loop_index[v as usize];
        let mut values = Vec::new();
        for i in lo..hi {
            self.loop_index[v as usize] = i;
            self.carry.insert(c, s);
            values.push(s);
            s = self.eval(body).float();
        }
        self.carry.remove(&c);
        self.loop_index[v as usize] = outer;
        (lo, values, s)
    }

    /// The sweeps of recurrence `c` (over loop `v`, varying with the loops of `mask`), run once
    /// per iteration of the loops around it.
    fn sweep(&mut self, sweep: u32, v: u32, mask: LoopMask) -> Option<Sweep> {
        let key: Vec<i64> = (0..LoopMask::BITS)
            .filter(|b| *b != v && mask & (1 << b) != 0)
            .map(|b| self.loop_index[b as usize])
            .collect();
        if let Some(s) = self.sweeps.get(&(sweep, key.clone())) {
            return Some(s.clone());
        }
        let reverse = self.graph.reverse_sweep_of(sweep)?;
        let c = self.graph.recurrence_of_sweep(reverse)?;
        let Op::RevFold {
            fold, seed, step, ..
        } = *self.graph.op(reverse)
        else {
            return None;
        };
        let (lo, values, _) = self.forward(fold);
        let mut lam = self.eval(seed).float();
        let outer = self.loop_index[v as usize];
        let mut adjoints = vec![0.0; values.len()];
        for k in (0..values.len()).rev() {
            self.loop_index[v as usize] = lo + i64::try_from(k).unwrap_or(0);
            self.carry.insert(c, values[k]);
            self.lambda.insert(sweep, lam);
            adjoints[k] = lam;
            lam = self.eval(step).float();
        }
        self.carry.remove(&c);
        self.lambda.remove(&sweep);
        self.loop_index[v as usize] = outer;
        let swept = Sweep {
            lo,
            values,
            adjoints,
            last: lam,
        };
        self.sweeps.insert((sweep, key), swept.clone());
        Some(swept)
    }

    /// Entry `loop_index[v] − lo` of a sweep's values or adjoints.
    fn at(&self, sweep: Option<&Sweep>, v: u32, adjoint: bool) -> f64 {
        let Some(s) = sweep else { return f64::NAN };
        let k = usize::try_from(self.loop_index[v as usize] - s.lo).unwrap_or(usize::MAX);
        let list = if adjoint { &s.adjoints } else { &s.values };
        list.get(k).copied().unwrap_or(f64::NAN)
    }

    /// The length of a local array.
    fn len_of(&mut self, array: NodeId) -> i64 {
        match *self.graph.op(array) {
            Op::Table { lo, hi, .. } => self.eval(hi).int() - self.eval(lo).int(),
            Op::Alloc { like, .. } => self.len_of(like),
            Op::Filled { alloc, .. } => self.len_of(alloc),
            _ => 0,
        }
    }

    /// Element `i` of a local array: a table's body at index `lo + i`, or what a buffer holds
    /// once filled.
    fn element_of(&mut self, array: NodeId, i: i64) -> f64 {
        if i < 0 || i >= self.len_of(array) {
            return f64::NAN;
        }
        match *self.graph.op(array) {
            Op::Table { v, lo, body, .. } => {
                let lo = self.eval(lo).int();
                let outer = self.loop_index[v as usize];
                self.loop_index[v as usize] = lo + i;
                let x = self.eval(body).float();
                self.loop_index[v as usize] = outer;
                x
            }
            Op::Filled { alloc, .. } => {
                let Op::Alloc { buf, .. } = *self.graph.op(alloc) else {
                    return f64::NAN;
                };
                self.eval(array);
                let at = usize::try_from(i).unwrap_or(usize::MAX);
                self.buffers
                    .get(&buf)
                    .and_then(|b| b.get(at))
                    .copied()
                    .unwrap_or(f64::NAN)
            }
            _ => f64::NAN,
        }
    }

    /// The value of a node. Only the taken branch of a `Select` is evaluated, as in generated code.
    #[allow(clippy::too_many_lines)] // one arm per operation that needs the interpreter
    pub fn eval(&mut self, id: NodeId) -> Value {
        // Values inside loops change with the iteration: only loop-free values are cached.
        // Effects run every time they are reached.
        let cacheable = self.graph.loops_of(id) == 0 && !self.graph.is_effect(id);
        if let (true, Some(v)) = (cacheable, self.cache[id.index()]) {
            return v;
        }
        let op = self.graph.op(id).clone();
        let v = match &op {
            Op::Input(i) => Value::Float(self.inputs[*i as usize]),
            Op::Sym(s, _) => self
                .symbols
                .get(s.0 as usize)
                .copied()
                .unwrap_or(Value::Float(f64::NAN)),
            Op::Select(c, a, b) => {
                if self.eval(*c).bool() {
                    self.eval(*a)
                } else {
                    self.eval(*b)
                }
            }
            // As `symgrad::stop_gradient`: the identity.
            Op::IntCast(a, _) | Op::StopGradient(_, a) => self.eval(*a),
            Op::FloatToInt(a, _) => Value::Int(self.eval(*a).int()),
            Op::Call(..)
            | Op::CallOutput(..)
            | Op::Partial(..)
            | Op::Partial2(..)
            | Op::Slice(_)
                // A table is only read element by element: its element `i` is its body at `lo + i`.
            | Op::Table { .. } => Value::Float(f64::NAN),
            Op::LoopVar(v) => Value::Int(self.loop_index[*v as usize]),
            // Inside its own loops, the running value; elsewhere (a gradient sum over the same
            // loop), the value the sweep saved for this iteration.
            Op::Carry { c, v, .. } => match self.carry.get(c) {
                Some(s) => Value::Float(*s),
                None => {
                    // The latest fold of the recurrence (lowering may have rebuilt it).
                    let fold = (0..self.graph.len()).rev().find_map(|k| {
                        let n = NodeId(u32::try_from(k).ok()?);
                        matches!(self.graph.op(n), Op::Fold { c: d, .. } if d == c).then_some(n)
                    });
                    let saved = fold.map(|f| self.forward(f));
                    let at = saved.and_then(|(lo, values, _)| {
                        let k = usize::try_from(self.loop_index[*v as usize] - lo).ok()?;
                        values.get(k).copied()
                    });
                    Value::Float(at.unwrap_or(f64::NAN))
                }
            },
            Op::Adjoint { sweep: c, v, mask } => match self.lambda.get(c) {
                Some(l) => Value::Float(*l),
                None => {
                    let sweep = self.sweep(*c, *v, *mask);
                    Value::Float(self.at(sweep.as_ref(), *v, true))
                }
            },
            Op::Fold { .. } => Value::Float(self.forward(id).2),
            Op::Until { v, lo, hi, cond } => {
                let (lo, hi) = (self.eval(*lo).int(), self.eval(*hi).int());
                let outer = self.loop_index[*v as usize];
                let mut end = hi;
                for i in lo..hi {
                    self.loop_index[*v as usize] = i;
                    if self.eval(*cond).bool() {
                        end = i;
                        break;
                    }
                }
                self.loop_index[*v as usize] = outer;
                Value::Int(end)
            }
            Op::RevFold {
                sweep: c, v, fold, ..
            } => {
                let mask = self.graph.loops_of(*fold) | 1 << v;
                Value::Float(self.sweep(*c, *v, mask).map_or(f64::NAN, |s| s.last))
            }
            Op::Index(s, i) => {
                let i = self.eval(*i).int();
                Value::Float(
                    self.data
                        .get(&s.0)
                        .and_then(|d| d.get(usize::try_from(i).ok()?))
                        .copied()
                        .unwrap_or(f64::NAN),
                )
            }
            Op::IntIndex(s, i) => {
                let i = self.eval(*i).int();
                #[allow(clippy::cast_possible_truncation)]
                let v = self
                    .data
                    .get(&s.0)
                    .and_then(|d| d.get(usize::try_from(i).ok()?))
                    .map(|v| *v as i64);
                Value::Int(v.unwrap_or(0))
            }
            Op::Element(k, i) => {
                let i = self.eval(*i).int();
                Value::Float(
                    self.slices
                        .get(*k as usize)
                        .and_then(|d| d.get(usize::try_from(i).ok()?))
                        .copied()
                        .unwrap_or(f64::NAN),
                )
            }
            Op::Sum { v, lo, hi, body } => {
                let (lo, hi) = (self.eval(*lo).int(), self.eval(*hi).int());
                // A loop nested in another over the same index (a gradient loop inside a value
                // loop) shadows it, as in generated code: restore the outer index afterwards.
                let outer = self.loop_index[*v as usize];
                let mut acc = 0.0;
                for i in lo..hi {
                    self.loop_index[*v as usize] = i;
                    acc += self.eval(*body).float();
                }
                self.loop_index[*v as usize] = outer;
                Value::Float(acc)
            }
            Op::Scatter(k, i, x) => {
                let (i, x) = (self.eval(*i).int(), self.eval(*x).float());
                let k = *k as usize;
                if self.scattered.len() <= k {
                    self.scattered.resize(k + 1, Vec::new());
                }
                let i = usize::try_from(i).unwrap_or(0);
                if self.scattered[k].len() <= i {
                    self.scattered[k].resize(i + 1, 0.0);
                }
                self.scattered[k][i] += x;
                Value::Float(0.0)
            }
            Op::At(t, i) => {
                let i = self.eval(*i).int();
                Value::Float(self.element_of(*t, i))
            }
            Op::ArrayLen(a) => Value::Int(self.len_of(*a)),
            // A vector is filled afresh wherever it is read (loop-free ones once, cached).
            Op::Filled { alloc, fill } => {
                let Op::Alloc {
                    buf, like, zero, ..
                } = *self.graph.op(*alloc)
                else {
                    return Value::Float(f64::NAN);
                };
                let n = self.len_of(like);
                let start: Vec<f64> = if zero {
                    vec![0.0; usize::try_from(n).unwrap_or(0)]
                } else {
                    (0..n).map(|k| self.element_of(like, k)).collect()
                };
                self.buffers.insert(buf, start);
                self.eval(*fill);
                Value::Float(0.0)
            }
            Op::Alloc { .. } => Value::Float(0.0),
            Op::AdjAt(adjoint, i) => {
                let Op::Filled { alloc, .. } = *self.graph.op(*adjoint) else {
                    return Value::Float(f64::NAN);
                };
                let Op::Alloc { buf, .. } = *self.graph.op(alloc) else {
                    return Value::Float(f64::NAN);
                };
                self.eval(*adjoint);
                let i = self.eval(*i).int();
                let x = self
                    .buffers
                    .get(&buf)
                    .and_then(|b| b.get(usize::try_from(i).ok()?))
                    .copied();
                Value::Float(x.unwrap_or(f64::NAN))
            }
            Op::Accumulate { alloc, i, value } => {
                let Op::Alloc { buf, .. } = *self.graph.op(*alloc) else {
                    return Value::Float(f64::NAN);
                };
                let (i, x) = (self.eval(*i).int(), self.eval(*value).float());
                if let Some(slot) = self
                    .buffers
                    .get_mut(&buf)
                    .and_then(|b| b.get_mut(usize::try_from(i).ok()?))
                {
                    *slot += x;
                }
                Value::Float(0.0)
            }
            Op::Effects(a, b) => {
                self.eval(*a);
                self.eval(*b);
                Value::Float(0.0)
            }
            _ => {
                let args: Vec<Value> = op.children().iter().map(|c| self.eval(*c)).collect();
                apply(&op, &args).unwrap_or(Value::Float(f64::NAN))
            }
        };
        if cacheable {
            self.cache[id.index()] = Some(v);
        }
        v
    }
}
