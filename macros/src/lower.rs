//! Lowering: the function body (syn) becomes a symbolic [`Graph`].
//!
//! Straight-line code becomes nodes; locals are names for nodes; control flow is *if-converted*:
//!
//! ```text
//! // Input:                          // Graph:
//! let mut y = x * 2.0;               // y₀ = 2·x
//! if x > 1.0 { y = y.ln(); }         // y₁ = select(x > 1, ln y₀, y₀)
//! if y < 0.0 { return 0.0; }         // r  = y₁ < 0
//! y * y                              // out = select(r, 0, y₁·y₁)
//! ```
//!
//! A `Select` evaluates only its taken branch in generated code, so `ln` of a negative number in
//! an untaken branch never poisons the result. Every node remembers the span of the expression
//! it came from ([`Origin`] indexes `spans`). Unsupported constructs are reported to the
//! [`Ctxt`] at their tokens, and lowering goes on, so one pass reports every problem.

mod arrays;
mod buffers;
mod calls;
mod carried;
mod chained;
mod control;
mod exprs;
mod filtered;
mod if_lets;
mod index;
mod iterators;
mod loops;
mod mapped_loops;
mod match_breaks;
mod misplaced;
mod named_closures;
mod places;
mod stmts;
mod strided;
mod syntax;
mod tuple_folds;
mod tuples;

pub use syntax::pretty;

use std::collections::{HashMap, HashSet};

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::Block;

use crate::ctxt::Ctxt;
use crate::graph::{Graph, Kind, NodeId, Op, Origin, SymId};
use crate::signature::{FloatTy, ParamKind, Sig};

/// The result of lowering a function body.
pub struct Lowered {
    pub graph: Graph,
    /// The function's value; for a vector-valued function, its first output (see `outputs`).
    pub output: NodeId,
    /// Every output: the value of a scalar function, or the `M` elements of the array a
    /// vector-valued function (`-> [T; M]`) returns.
    pub outputs: Vec<NodeId>,
    /// The input node of every float parameter, in declaration order.
    pub inputs: Vec<NodeId>,
    /// The tokens of every symbol, by `SymId`.
    pub symbols: Vec<TokenStream>,
    /// The span of every origin, by `Origin`.
    pub spans: Vec<Span>,
    /// The checked alias of each callee whose derivative is called, by the `SymId` of its path
    /// (filled in by `callees::redirect`).
    pub callees: HashMap<u32, TokenStream>,
    /// Where a local array is passed to a call, by the call and the argument's position: the
    /// argument's tokens, for errors about it.
    pub array_args: HashMap<(NodeId, usize), Span>,
    /// The callees (by the `SymId` of their path) whose outputs the body reads as a tuple
    /// (`let (u, v) = f(…);`, `f(…).0`): they return a tuple, which the generated code turns
    /// into an array (see `lower::arrays`).
    pub tuple_calls: HashSet<u32>,
}

/// Lowers `body`; `Err` with the graph as far as it was built if errors were reported.
///
/// First the syntax passes, each writing a form people write as one the lowering takes, in
/// this order: `if let Some(v) = x.last()` as a test of the length, closures given by name written in place (a `fold` of one becomes a loop next),
/// folds to tuples as loops, `map`s of loops as `let`s (a `filter` is then the chain's last
/// adaptor), `filter`s as conditions, `chain`s as their parts, strided fills of zeros as
/// additions, and `break` arms of a `match` as the loop's exit.
pub fn lower(cx: &Ctxt, sig: &Sig, body: &Block) -> Result<Lowered, Box<Lowered>> {
    let mut rewritten = body.clone();
    if_lets::rewrite(&mut rewritten);
    named_closures::rewrite(&mut rewritten);
    tuple_folds::rewrite(&mut rewritten);
    mapped_loops::rewrite(&mut rewritten);
    filtered::rewrite(&mut rewritten);
    chained::rewrite(&mut rewritten);
    strided::rewrite(&mut rewritten);
    match_breaks::rewrite(&mut rewritten);
    let body = &places::index_places(cx, &rewritten);
    let mut l = Lower::new(cx, sig);
    let inputs = l.bind_params();
    let tail = l.block(body, l.returns());
    let output = l.finish(tail, body);
    let outputs = if sig.outputs.is_some() {
        l.outputs(output)
    } else {
        vec![output]
    };
    let lowered = Lowered {
        graph: l.g,
        output: outputs.first().copied().unwrap_or(output),
        outputs,
        inputs,
        symbols: l.symbols,
        spans: l.spans,
        callees: HashMap::new(),
        array_args: l.array_args,
        tuple_calls: l.tuple_calls,
    };
    if cx.has_errors() {
        Err(Box::new(lowered))
    } else {
        Ok(lowered)
    }
}

/// What the context of an expression expects.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Want {
    Float,
    Int,
    Bool,
    Any,
    /// The value of a vector-valued function: an array expression (`[a, b]`,
    /// `std::array::from_fn(|k| …)`), in tail position or after `return`.
    Array,
}

/// How a block ended.
#[derive(Clone, Copy, Debug)]
enum Tail {
    Value(NodeId),
    Unit,
    /// Every path through it returned.
    Diverged,
}

/// A construct around a statement that changes what `return` means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Enclosing {
    Loop,
    Closure,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Binding {
    Value(NodeId),
    /// `let x;` before its first assignment.
    Uninit,
}

/// The names in scope: innermost scope last; in a scope, later entries shadow earlier ones.
type Scopes = Vec<Vec<(String, Binding)>>;

#[derive(Clone)]
struct State {
    /// Innermost scope last; in a scope, later entries shadow earlier ones.
    scopes: Scopes,
    /// Has the function returned on the current path? (a boolean node)
    returned: NodeId,
    /// The value it returned, where it has.
    ret_val: NodeId,
}

struct Lower<'a> {
    cx: &'a Ctxt,
    sig: &'a Sig,
    g: Graph,
    symbols: Vec<TokenStream>,
    /// The integers and conditions of data the function reads (`x.len()`, `k + 1` of
    /// parameters), by their text: one node for each (they read parameters, which no statement
    /// changes), so two spellings of one length are one length (`x.to_vec()` and `vec![0.0;
    /// x.len()]` in the two branches of an `if`).
    data_values: HashMap<(String, Kind), NodeId>,
    spans: Vec<Span>,
    state: State,
    /// Names of the parameters of kind `Other`, which opaque expressions may mention.
    data_params: Vec<String>,
    /// Every parameter's name and node.
    param_nodes: Vec<(String, NodeId)>,
    /// The data parameters that hold integers (`&[usize]`: indices), by node.
    int_slices: Vec<NodeId>,
    /// The float slice parameters taken as data (not differentiated).
    data_slices: Vec<NodeId>,
    /// The `for` loops and closures around the statement being lowered, innermost last, where a
    /// `return` cannot be differentiated (in a closure it would not even return from the function).
    enclosing: Vec<Enclosing>,
    /// The condition of each `break` (by its `Op::Until`), for an error found once the
    /// enclosing loop is done.
    until_conds: HashMap<NodeId, TokenStream>,
    /// The loops whose bodies are being lowered, innermost last (recorded with each new loop:
    /// see `Graph::loop_nest`).
    loop_stack: Vec<u32>,
    /// Locals whose `let` was reported: their uses are not reported again.
    failed_lets: HashSet<String>,
    /// The runs of a slice bound to names (windows, chunks), by the node the name is bound to.
    views: HashMap<NodeId, iterators::View>,
    /// Closures bound by `let`, by the node their name is bound to: the closure and the scopes
    /// at its definition (what it captures).
    closures: HashMap<NodeId, (syn::ExprClosure, Scopes)>,
    /// The arrays a vector-valued function returns, by the node standing for each: its
    /// elements (see `lower::arrays`).
    arrays: HashMap<NodeId, arrays::Elements>,
    /// How many outputs a vector-valued function has: its return type's length if that is a
    /// literal, else the length of the first array it returns.
    output_count: Option<usize>,
    /// The placeholders a loop body reads in place of a call bound before the loop, with the
    /// call (or the outer loop's placeholder): its outputs can still be read (`r[0]`).
    carried_calls: HashMap<NodeId, NodeId>,
    /// The placeholders whose call's outputs were read: the loop must not assign them.
    read_calls: HashSet<NodeId>,
    /// The `for` loops around the statement being lowered, innermost last, with the elements
    /// of local arrays they write (see `lower::buffers`).
    array_loops: Vec<buffers::ArrayLoop>,
    /// The arrays loops nested in a loop's body write that the loop does not carry, by the
    /// loop's number, and why (see `lower::carried`).
    uncarried: Vec<(u32, String, carried::Uncarried)>,
    /// How many branches (`if`, `match` arms) are open around the statement being lowered.
    conditional: u32,
    /// The conditions of the branches being lowered, outermost first (`Not(c)` in an `else`):
    /// `conditional` of them. What is added into an array in loops is added only where the
    /// conditions since the outermost of those loops hold.
    path: Vec<NodeId>,
    /// The same conditions as `(c, side)`: `c` as the branch's `if` tests it, and which side
    /// is being lowered (for [`Graph::evaluated`]).
    sides: Vec<(NodeId, bool)>,
    /// How many right operands of `&&` or `||` are being lowered (evaluated only where the
    /// left one does not decide).
    lazy: u32,
    /// Where each local array was last written outside a loop, for errors.
    array_writes: HashMap<String, TokenStream>,
    /// Where a local array is passed to a call (see [`Lowered::array_args`]).
    array_args: HashMap<(NodeId, usize), Span>,
    /// See [`Lowered::tuple_calls`].
    tuple_calls: HashSet<u32>,
}

impl<'a> Lower<'a> {
    fn new(cx: &'a Ctxt, sig: &'a Sig) -> Self {
        let mut g = Graph::with_rewrite(crate::simplify::rewrite);
        let returned = g.boolean(false);
        let ret_val = g.zero();
        Lower {
            cx,
            sig,
            g,
            symbols: Vec::new(),
            data_values: HashMap::new(),
            spans: Vec::new(),
            state: State {
                scopes: vec![Vec::new()],
                returned,
                ret_val,
            },
            data_params: Vec::new(),
            param_nodes: Vec::new(),
            failed_lets: HashSet::new(),
            views: HashMap::new(),
            closures: HashMap::new(),
            arrays: HashMap::new(),
            output_count: sig.outputs.as_ref().and_then(|o| o.count),
            carried_calls: HashMap::new(),
            read_calls: HashSet::new(),
            array_loops: Vec::new(),
            uncarried: Vec::new(),
            conditional: 0,
            path: Vec::new(),
            sides: Vec::new(),
            lazy: 0,
            array_writes: HashMap::new(),
            array_args: HashMap::new(),
            tuple_calls: HashSet::new(),
            int_slices: Vec::new(),
            data_slices: Vec::new(),
            enclosing: Vec::new(),
            loop_stack: Vec::new(),
            until_conds: HashMap::new(),
        }
    }

    fn float_ty(&self) -> FloatTy {
        self.sig.float
    }

    // ---------------------------------------------------------------- symbols, spans, names

    fn origin(&mut self, span: Span) -> Origin {
        self.spans.push(span);
        Origin(u32::try_from(self.spans.len() - 1).expect("internal error: too many spans"))
    }

    /// Nodes built inside `f` remember `span`.
    fn at<T>(&mut self, span: Span, f: impl FnOnce(&mut Self) -> T) -> T {
        let o = self.origin(span);
        let saved = self.g.current_origin.replace(o);
        let out = f(self);
        self.g.current_origin = saved;
        out
    }

    fn symbol(&mut self, tokens: TokenStream, name: String) -> SymId {
        self.symbols.push(tokens);
        self.g.new_symbol(name)
    }

    fn sym_node(&mut self, tokens: TokenStream, kind: Kind) -> NodeId {
        let name = pretty(&tokens);
        let data = matches!(kind, Kind::Int | Kind::Bool);
        if data && let Some(&n) = self.data_values.get(&(name.clone(), kind)) {
            return n;
        }
        let s = self.symbol(tokens, name.clone());
        let n = self.g.add(Op::Sym(s, kind));
        if data {
            self.data_values.insert((name, kind), n);
        }
        n
    }

    fn bind_params(&mut self) -> Vec<NodeId> {
        let mut inputs = Vec::new();
        for p in &self.sig.params {
            let name = p.ident.to_string();
            let node = match p.kind {
                ParamKind::Float => {
                    let n = self.g.new_input(name.clone());
                    inputs.push(n);
                    n
                }
                ParamKind::Int => self.sym_node(p.ident.to_token_stream(), Kind::Int),
                ParamKind::Bool => self.sym_node(p.ident.to_token_stream(), Kind::Bool),
                ParamKind::Slice if p.differentiated => self.g.new_slice(name.clone()),
                ParamKind::Other | ParamKind::Array | ParamKind::Slice => {
                    self.data_params.push(name.clone());
                    let n = self.sym_node(p.ident.to_token_stream(), Kind::Other);
                    if crate::signature::holds_integers(&p.ty) {
                        self.int_slices.push(n);
                    }
                    if p.kind == ParamKind::Slice {
                        self.data_slices.push(n);
                    }
                    n
                }
            };
            self.param_nodes.push((name.clone(), node));
            self.state.scopes[0].push((name, Binding::Value(node)));
        }
        inputs
    }

    fn lookup(&self, name: &str) -> Option<Binding> {
        self.state
            .scopes
            .iter()
            .rev()
            .find_map(|s| s.iter().rev().find(|(n, _)| n == name).map(|(_, b)| *b))
    }

    fn declare(&mut self, name: String, b: Binding) {
        self.state
            .scopes
            .last_mut()
            .expect("internal error: no scope")
            .push((name, b));
    }

    /// Rebinds an existing name (assignment); `false` if there is no such local.
    fn assign_name(&mut self, name: &str, value: NodeId) -> bool {
        for scope in self.state.scopes.iter_mut().rev() {
            if let Some(entry) = scope.iter_mut().rev().find(|(n, _)| n == name) {
                entry.1 = Binding::Value(value);
                return true;
            }
        }
        false
    }
}
