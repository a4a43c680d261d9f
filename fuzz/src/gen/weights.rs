//! The generator's knobs: relative weights of the productions, settable by name from the CLI.

/// Declares [`Weights`] with its defaults, and the by-name table.
macro_rules! weights {
    ($($(#[doc = $doc:literal])* $name:ident = $default:literal,)*) => {
        /// Relative weights of the grammar's productions (a weight of 0 turns one off). The
        /// defaults lean on the loop shapes where gradients have gone wrong: nested loops,
        /// sums inside nonlinear functions inside sums, recurrences, invariant terms.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Weights {
            $($(#[doc = $doc])* pub $name: u32,)*
        }

        impl Default for Weights {
            fn default() -> Self {
                Self { $($name: $default,)* }
            }
        }

        impl Weights {
            /// Every weight's name and current value.
            #[must_use]
            pub fn table(&self) -> Vec<(&'static str, u32)> {
                vec![$((stringify!($name), self.$name),)*]
            }

            /// Sets the weight called `name`.
            pub fn set(&mut self, name: &str, value: u32) -> Result<(), String> {
                match name {
                    $(stringify!($name) => self.$name = value,)*
                    _ => return Err(format!("unknown weight `{name}`")),
                }
                Ok(())
            }
        }
    };
}

weights! {
    /// Top level: a loop nest with its accumulators.
    block_loop = 10,
    /// Top level: a deep shared chain `let a2 = (a1 * a1).sin() + a1; ...`.
    block_chain = 2,
    /// Top level: `let` chains with shadowing.
    block_lets = 2,
    /// Top level: `if`/`else` assigning a variable, or an `if` expression.
    block_if = 2,
    /// Top level: `if cond { return e; }`.
    block_return = 1,
    /// Top level: `let k = helper(...)`.
    block_call = 2,
    /// Top level: a closure bound by `let` (`let fc = |v: f64| ..;`, `|v: &f64|` for
    /// `.map(fc)`, `move` with the captured variable assigned after), and its first use.
    block_closure = 2,
    /// Top level: `let [a, b, ..] = *p;` of an array parameter, and a value reading it.
    block_array = 2,
    /// Loop blocks: coupled state instead, 2–3 variables one loop updates together, each
    /// reading another's value (`t = a; a = b; b = c·t + e`, `a = (c·a + c'·b + e).tanh()`,
    /// `a = a.max(c·b + e)`, `a += c·b·e`), with `let`s, `if`s, a loss summed along the way, in
    /// an outer loop or not, out of 10 (`loops.rs`).
    loop_coupled = 1,
    /// Coupled state not in an outer loop written as a fold to a tuple instead, `let (mut a,
    /// mut b) = (lo..hi).fold((a0, b0), |(mut a, mut b), i| { …; (a, b) });`, out of 10
    /// (`loops.rs`).
    fold_tuple = 0,
    /// Coupled state not in an outer loop (not folded) whose loop also writes a local array at
    /// its index from the members (`zc[i] = a;`, `zc[i] = (a * b + e).sin();`), before, between
    /// or after their updates, the array read after the loop (an AR(2) process, an
    /// integrator's trajectory), out of 10, on the coupled stream only where the weight is not
    /// 0: at 0 (the default) the programs are unchanged.
    coupled_into_arrays = 0,
    /// Conditions written as a `match` on a tuple of 2–3 comparisons instead, `match (i, x[i] >
    /// 0.5) { (..2, true) | (4.., _) => …, _ => … }`, out of 10 (`expr.rs`).
    match_tuple = 0,
    /// Top level: arrays carried from one iteration of a loop to the next (a hidden-state
    /// vector, and sometimes a second updating it), updated in place element by element, a loss
    /// summed along the way, sometimes inside an outer loop, out of 20 (`carried.rs`).
    carried_array = 1,
    /// Arrays carried across a loop's iterations started from a copy (`let mut hs =
    /// z[..K].to_vec();` where a slice is long enough, `let mut cs = hs.clone();`), out of 10
    /// blocks, on a stream of its own.
    carried_array_copy = 3,
    /// Beside arrays carried across a loop's iterations, an array added into in the loop over
    /// their elements, reading the state (`acc[j] += hs[j] * 0.7;`, `-=`), read after the loop,
    /// out of 10 blocks not inside an outer loop, on a stream of its own.
    carried_array_add = 3,
    /// Top level: layers × time as ADBench's LSTM writes it (state arrays of `L·K` elements,
    /// each layer updating its stretch in place at an offset, `hs[K * ly + j]`, an input handed
    /// up through the layers), out of 20 (`layers.rs`). From a stream of its own, drawn only
    /// where the weight is not 0: at 0 (the default) the programs are unchanged.
    carried_layers = 0,
    /// In the layers' bodies (`carried_layers`), out of 10, the offsets bound by `let`, as
    /// ADBench's LSTM writes them: `let s = K * ly;` then `hs[s + j]` (or `j + s`), and the
    /// weights read from a local array of `2·L·K` filled from the data before the time loop at a
    /// bound weight offset, `let wo = 2 * K * ly;` then `wt[wo + j]`, `wt[wo + K + j]`. On the
    /// layers' stream, drawn only where this weight is not 0: at 0 (the default) the programs
    /// are unchanged.
    layers_bound_offset = 0,
    /// Top level: a local array written in a loop nested in another, the outer body not
    /// reading it (a table filled row by row at `B * i + j`, a cube at `(B * i + j) * C + k`,
    /// or the whole array rewritten by every iteration of a loop over a size), sometimes under
    /// `if`, read after the loops, out of 20 (`fills.rs`). From a stream of its own, drawn only
    /// where the weight is not 0: at 0 (the default) the programs are unchanged.
    nested_fill = 0,
    /// Indices written with integer `/` and `%`, in bounds by construction, out of 10 element
    /// reads (of slices and of local arrays not being written) and additions into a local
    /// array in a loop nest (`z[k] += e`): `v % len` and `(v + c) % len` for a loop index `v`,
    /// `v / 2` of an index in bounds, `k / d` and `d * (k / d) + k % d` of `k` in `0..n * d`,
    /// `(i * d + j) / d` and `(i * d + j) % d`; and out of 10 layered blocks (`carried_layers`),
    /// the state gathered from a flat array as ADBench's LSTM does (`hs[k] = st[2 * K * (k / K) +
    /// k % K]`, `cs[k] = st[2 * K * (k / K) + K + k % K]`). From a stream of its own, drawn only
    /// where the weight is not 0: at 0 (the default) the programs are unchanged. (The macro
    /// refuses `=` at such an index in a loop, "a loop can write `z` only at its own index": not
    /// generated.)
    index_div_rem = 0,
    /// Top level: a `Vec` grown with `push` (`Vec::new()`, `Vec::with_capacity(n)`, a few
    /// pushes outside loops and one loop pushing once an iteration), then read (elements in
    /// bounds, `len()`, iteration, sums, passed to a helper taking slices), out of 20
    /// (`pushes.rs`). From a stream of its own, drawn only where the weight is not 0: at 0 (the
    /// default) the programs are unchanged.
    buffer_push = 0,
    /// Top level: `let (a, b) = x.split_at(k);` of a slice, an array or a local array, the
    /// runs then read at indices in bounds, iterated, zipped, measured and passed to helpers
    /// taking slices, out of 20 (`splits.rs`). From a stream of its own, drawn only where the
    /// weight is not 0: at 0 (the default) the programs are unchanged.
    split_at = 0,
    /// Points: one more input point where the size `n`, `d` or both is 0, so that the loops
    /// over them run zero times (and what the function computes only inside them is never
    /// computed: `1.0 / y` at `y = 0`, `x[0]` of an empty slice), out of 10 programs; skipped
    /// where the function itself panics there, and for a program with a `loop` (written for a
    /// range that never runs empty). From a stream of its own: at 0 (the default) the programs
    /// and their points are unchanged.
    empty_loops = 0,
    /// Loop nests one deep.
    depth1 = 3,
    /// Loop nests two deep.
    depth2 = 5,
    /// Loop nests three deep.
    depth3 = 2,
    /// Ranges `0..n`, `0..d`.
    range_plain = 6,
    /// Ranges `0..x.len()`.
    range_len = 2,
    /// Ranges `1..n`, `0..n - 1`.
    range_offset = 2,
    /// Ranges `0..n * d`.
    range_nd = 1,
    /// Ranges over an enclosing index: `0..i`, `0..i + 1`, `i..n`, `i + 1..n`.
    range_triangular = 3,
    /// Loops over an iterator instead of a range (`for &v in x`, `for (i, v) in
    /// x.iter().enumerate()`, `for r in x.windows(2)`, `for i in (0..n).rev()`, ...), out of
    /// 10.
    loop_iter = 2,
    /// A loop nest (or an inner loop) under an `if` on data or sizes, out of 10.
    loop_guarded = 1,
    /// Iterator chains: another adaptor (`skip`, `take`, `step_by`, `rev`, ...), out of 10
    /// (half that for each one after the first).
    iter_adaptor = 4,
    /// Iterator chains: runs as the base (`windows`, `chunks`, `chunks_exact`).
    iter_runs = 2,
    /// Iterator chains: a sub-slice as the base (`x[1..].iter()`, `x[..i].iter()`).
    iter_sub = 1,
    /// Iterator sums of float items without `map` (`x.iter().skip(1).sum::<f64>()`), out of 10.
    iter_unmapped = 1,
    /// Carried variables: sums `s += e`, `s -= e`.
    kind_sum = 8,
    /// Carried variables: products `p *= e`, `p /= (1.0 + e * e)`.
    kind_product = 2,
    /// Carried variables: `h = c * h + e`.
    kind_linear = 3,
    /// Carried variables: `h = (c * h + e).tanh()`.
    kind_tanh = 2,
    /// Carried variables: `m = m.max(e)` / `m = m.min(e)`.
    kind_minmax = 2,
    /// Carried variables: `if e > m { m = e; }`.
    kind_ifmax = 1,
    /// Loop bodies: an accumulator declared per outer iteration for the inner loop
    /// (`let mut q = 0.0; for j .. { q += .. } s += q.exp();`), out of 10.
    row_local = 6,
    /// Loop bodies: a second inner loop after the first, out of 10.
    second_inner = 2,
    /// Loop bodies: an outer accumulator also updated inside the inner loop, out of 10.
    pass_down = 4,
    /// Loop bodies: an update under `if` on data, out of 10.
    loop_if = 2,
    /// Loop bodies: an update under `if` on indices (`if j < i`), out of 10.
    int_if = 2,
    /// Loop bodies: loop-local `let`s, out of 10 (each).
    loop_let = 3,
    /// Loop bodies: a loop-local closure (capturing the indices), out of 20.
    loop_closure = 1,
    /// Loops: one or two integer counters declared before the loop and stepped once per
    /// iteration at the top level of its body, before any `continue` (`let mut ct = 0; for ..
    /// { ..; ct += 1; }`, `ct -= 1` from a size, `ct += 2`, `ct += d`), read as indices, in
    /// conditions and after the loop, out of 10.
    loop_counter = 2,
    /// Loops: `if c { [update;] continue; }` as a statement of the body (one, sometimes two),
    /// `c` on data, parameters, indices, counters or sizes, out of 10.
    loop_continue = 2,
    /// Loops (not `loop`): `if c { [update;] break; }` as a statement of the body, `c` on what
    /// the loop does not assign (data, parameters, indices, its counters, earlier values), out
    /// of 10.
    loop_break = 2,
    /// Of `for` loops over a range with a `break`, those whose `break`'s branch sets an integer
    /// declared before the loop (`let mut at = 0; for i in .. { if c { at = i; break; } .. }`,
    /// to the index or one past it), read after the loop in conditions and casts, out of 10. On
    /// the flow's stream, drawn only where this weight is not 0: at 0 (the default) the programs
    /// are unchanged.
    break_found = 0,
    /// Loops over a range written `let mut ct = a; while ct < b { ..; ct += 1; }` (also `<=`,
    /// `b > ct`, a step of 2, counting down with `>`/`>=` and `-=`), out of 10.
    loop_while = 1,
    /// Loops over a range that never runs empty written `let mut ct = a; loop { ..; ct += 1; if
    /// ct >= b { break; } }` (also `>`, `==`, counting down), out of 10.
    loop_loop = 1,
    /// Whether a `break` may come after a `continue` in a body (`if c { continue; } .. if e {
    /// break; }`: the exit is not tested in the iterations the `continue` skips): 1 lets it, 0
    /// places the `break` before any `continue`. 0: the macro rejects that shape ("`break`
    /// cannot be differentiated here").
    exit_after_continue = 0,
    /// Whether a `break` may come after a counter's step (its condition then sees the stepped
    /// value): 1 lets it, 0 places the `break` before every step.
    exit_after_step = 1,
    /// Whether the condition of a `break` in a loop inside another loop may compare floats
    /// (`a > 0.5`, `x[k] < 0.0`): 1 lets it, 0 keeps it to integers (indices, counters, sizes;
    /// a counter stepped in a loop under an `if` on floats still depends on floats). The
    /// condition reads no float the loops change (see `flow.rs`), which the macro
    /// differentiates; 0 (the default) keeps the programs of the seeds run before it did.
    inner_exit_floats = 0,
    /// Expressions: leaves.
    expr_leaf = 6,
    /// Expressions: `+ - * /`.
    expr_binary = 6,
    /// Expressions: float methods.
    expr_method = 4,
    /// Expressions: unary minus.
    expr_neg = 1,
    /// Expressions: helper calls.
    expr_call = 1,
    /// Expressions: `if c { a } else { b }`.
    expr_if = 1,
    /// Expressions: iterator sums and products (`(0..n).map(|i| ..).sum::<f64>()`, `iter()`,
    /// `enumerate()`, `zip`).
    expr_iter = 2,
    /// Expressions: calls of closures in scope.
    expr_closure = 2,
    /// Leaves: slice elements.
    leaf_element = 6,
    /// Leaves: float variables.
    leaf_var = 4,
    /// Leaves: literals.
    leaf_literal = 2,
    /// Leaves: `(i as f64)`, `(n as f64)`.
    leaf_cast = 1,
    /// Programs with a scalar helper `h(a, b)`, out of 10.
    helper_scalar = 3,
    /// Programs with a slice helper `dot(u, v)`, out of 10.
    helper_slice = 3,
    /// Main functions with `wrt(...)`, out of 10.
    wrt = 3,
    /// Main functions with a `d` (matrices `x[i * d + j]`), out of 10.
    with_d = 8,
    /// Main functions with an array parameter (`p: &[f64; 2]`, `q: [f64; 3]`), out of 10.
    array_param = 2,
    /// Calls of the slice helper: each slice argument a run of a slice instead of a whole one
    /// (`dot(&z[1..], y)`, `&y[0..=y.len() - 1]`, `&z[..z.len() - 1]`, a row `&x[i * d..(i + 1)
    /// * d]`, `&x[(n - 1) * d..]`), as long as the helper's other slices, out of 10.
    call_sub_slice = 0,
    /// Programs with a vector-valued helper `r(a, b) -> [f64; M]` (M = 2 or 3, early `return
    /// [..]`), called as `let [r1, r2] = r(..);` and read as `r(..)[k]`, out of 10.
    helper_vector = 0,
    /// Vector-valued helpers that take a slice (`r(u: &[f64], b: f64) -> [f64; M]`, its body
    /// reading `u` in loops and at indices as any function's), called with a slice parameter
    /// or a run of one (`call_sub_slice`), out of 10 vector-valued helpers.
    helper_vector_slice = 0,
    /// Vector-valued helpers without an early `return` that return `Vec<f64>` (their outputs as
    /// `vector_main_vec`'s), out of 10 vector-valued helpers: callers read them by index only
    /// (`let r1 = r(..)[0];`, `r(..)[k]`), through the helper's hidden `__vjp` and `__jacobian`.
    helper_vector_vec = 0,
    /// Vector-valued helpers (not `Vec`-valued) that return a tuple, `-> (f64, f64)`, ending
    /// with `(e1, e2)` and returning `(..)` early, read by their callers as `let (r1, r2) =
    /// r(..);` and `r(..).k`, out of 10 vector-valued helpers.
    helper_vector_tuple = 3,
    /// Main functions that are vector-valued (`-> [f64; M]`, M = 1 to 3, early `return [..]`),
    /// checked through `_jacobian`, `_vjp` and `_jvp` instead of `_grad`, out of 10. They may
    /// pass slices on to the slice helper and the vector-valued one.
    vector_main = 0,
    /// Vector-valued main functions without an early `return` that return `Vec<f64>`, their
    /// outputs `(0..M).map(|__o| if __o == 0 { e0 } else { e1 }).collect()`, out of 10; checked
    /// as the `[f64; M]` ones are.
    vector_main_vec = 0,
    /// Top level: a local array (`vec![0.0; n]`, `[0.0; 3]`, `vec![a, b, c]`, typed or not),
    /// its writes (loops at their index over all of it or part, with `=`, `+=`, .., a `break`,
    /// a nest computing the element; writes outside loops at any index) and reads (elements,
    /// loops, iteration), out of 20 blocks (`arrays.rs`).
    local_array = 1,
    /// Loop bodies: a local array of their own, written and read by the rest of the body
    /// (GMM's per-point scores), out of 20.
    local_array_loop = 1,
    /// Scans: a local array written in a loop from the element the previous iteration wrote
    /// (`z[i] = f(z[i - 1], ..)` in `for i in a..b`, `a` 1, 2 or a size), with `continue`,
    /// `break`, conditional writes, read after the loop; a top-level block, or in a loop body
    /// (a scan per row), out of 20 (`scans.rs`). From a stream of its own, drawn only where the
    /// weight is not 0: at 0 (the default) the programs are unchanged.
    array_scan = 0,
    /// Scans reversed, out of 10: `z[i] = f(z[i + 1], ..)` in `for i in (0..len - 1).rev()`, or
    /// over the whole array reading `if i + 1 < z.len() { z[i + 1] } else { 0.0 }`.
    array_scan_rev = 3,
    /// Scans reading two elements back too, out of 10: `z[i - 2]` in `for i in 2..b` (or
    /// `3..b`), `if i + 2 < z.len() { z[i + 2] } else { 0.0 }` reversed (an AR(2) process, a
    /// biquad filter). On the scans' stream, drawn only where this weight is not 0: at 0 (the
    /// default) the programs are unchanged.
    array_scan_two_back = 0,
    /// Of the scans, those written at `enumerate`'s count (`for (i, _) in
    /// (0..end).enumerate().skip(start)`, `(0..end).enumerate().rev()`), out of 10, drawn from the
    /// scans' stream only where this weight is not 0.
    array_scan_enumerate = 0,
    /// Scans read in the loop that writes them, out of 10: a float declared before the loop
    /// (`let mut sr = 0.0;`) summing or recurring on the element the iteration wrote or the
    /// previous one (`sr += z[i] * e;`, `sr = c * sr + z[i - 1];`), read after the loop. On the
    /// scans' stream, drawn only where this weight is not 0: at 0 (the default) the programs
    /// are unchanged.
    array_scan_read = 0,
    /// Loops writing a local array at their index that also update a float they carry (a sum
    /// or recurrence of the data) whose value the element reads before or after the update
    /// (`h = h * 0.5 + e; z[c] = .. + h;`, generalized advantage estimation's `last = delta +
    /// c * last; adv[t] = last;`), out of 10. On the arrays' stream, drawn only where this
    /// weight is not 0: at 0 (the default) the programs are unchanged.
    array_reads_carried = 0,
    /// Main functions whose loops writing a local array at their index (and mentioning it
    /// nowhere else) are printed over the elements `iter_mut` lends, `for (c, z_c) in
    /// z.iter_mut().enumerate().take(end).skip(start) { *z_c = ..; }`, out of 10 (the oracle
    /// keeps the index loops). From a stream of its own, drawn only where the weight is not 0:
    /// at 0 (the default) the programs are unchanged.
    lent_elements = 0,
    /// Main functions whose loops over an iterator starting with a `let` of the item (reading
    /// nothing bound `mut`) are printed over the item mapped, `for v in x.iter().map(|&e| e * w)
    /// { .. }`, out of 10 (the oracle keeps the `let`). From a stream of its own, drawn only where
    /// the weight is not 0: at 0 (the default) the programs are unchanged.
    mapped_items = 0,
    /// Vector-valued main functions printed with their outputs written into a local array
    /// returned by its name (`let mut outs = [0.0; M]; outs[0] = e0; … outs`, or a loop writing
    /// `outs[kout]` for an odd number of outputs), out of 10 (the oracle returns the array of
    /// outputs). From a stream of its own, drawn only where the weight is not 0: at 0 (the
    /// default) the programs are unchanged.
    outputs_local = 0,
    /// Main functions whose loops (without `break`) and iterator sums over a slice parameter's
    /// `x.iter()` are printed over its halves chained, `x[..x.len() / 2].iter().chain(&x[x.len()
    /// / 2..])`, out of 10 (the oracle keeps `x.iter()`). From a stream of its own, drawn only
    /// where the weight is not 0: at 0 (the default) the programs are unchanged.
    chained_halves = 0,
    /// Main functions whose `split_at`s are printed as two `let`s of runs (`let a = &x[..k];
    /// let b = &x[k..];`), out of 10 (the oracle keeps `split_at`). From a stream of its own,
    /// drawn only where the weight is not 0: at 0 (the default) the programs are unchanged.
    split_as_lets = 0,
    /// Main functions whose loops filling a new array of zeros at their index (the array
    /// mentioned nowhere else in the body, no `break` or `continue`) are printed two elements an
    /// iteration at strided indices (`z[2 * sk] = e; .. z[2 * sk + 1] = e;`, each under `if`),
    /// out of 10 (the oracle keeps the loop). From a stream of its own, drawn only where the
    /// weight is not 0: at 0 (the default) the programs are unchanged.
    strided_fills = 0,
    /// New local arrays of `len` copies of a value that start at zero, and loops filling an
    /// array without `break` or a carried target, out of 10 each (so that `strided_fills` has
    /// loops to print). On the arrays' stream, drawn only where the weight is not 0: at 0 (the
    /// default) the programs are unchanged.
    zero_fills = 0,
    /// Main functions whose loops starting with `if c { continue; }` (`c` reading nothing bound
    /// `mut`, no `break`) and sums mapping to `if c { e } else { 0.0 }` are printed with
    /// `filter`, out of 10 (the oracle keeps the `if`s). From a stream of its own, drawn only
    /// where the weight is not 0: at 0 (the default) the programs are unchanged.
    filters = 0,
    /// Main functions whose mapped iterator sums and products are printed as folds
    /// (`.fold(0.0, |facc, fv| facc + fv)`), out of 10 (the oracle keeps `sum`). From a stream
    /// of its own, drawn only where the weight is not 0: at 0 (the default) the programs are
    /// unchanged.
    folded_sums = 0,
    /// Main functions printing one read in 3 of a slice parameter's element through an `Option`
    /// (`(if let Some(&v) = x.get(i) { v } else { 0.0 })`, `first()`, `last()`), out of 10 (the
    /// oracle reads `x[i]`). From a stream of its own, drawn only where the weight is not 0: at
    /// 0 (the default) the programs are unchanged.
    option_reads = 0,
    /// Main functions printing two `let`s of floats in a row (the second not reading the first)
    /// as one array pattern, `let [a, b] = [ea, eb];`, out of 10 (the oracle keeps the `let`s).
    /// From a stream of its own, drawn only where the weight is not 0: at 0 (the default) the
    /// programs are unchanged.
    array_lets = 0,
    /// Loops writing a local array at their index written reversed, `for c in (lo..hi).rev()`
    /// (with their `break`, writing from the end), out of 10, on a stream of its own.
    local_array_rev = 2,
    /// Of those reversed loops over `0..hi`, the ones written `for (c, _) in
    /// (0..hi).enumerate().rev()` (the write at `enumerate`'s count), out of 10, on the same
    /// stream, drawn only where this weight is not 0.
    local_array_enumerate_rev = 0,
    /// Loops writing a local array: an `if c { break; }` before or after the write, out of 10.
    local_array_break = 2,
    /// Loops writing a local array: a loop nest computing the element (`let mut q = 0.0; for j
    /// .. { q += .. } z[c] = q.tanh();`), out of 10.
    local_array_nest = 3,
    /// Reads of a local array by iteration (`for &v in &z`, `z.iter()` with adaptors,
    /// `z.windows(2)`, `z.iter().map(..).sum::<f64>()`), out of 10 reads.
    local_array_iter = 4,
    /// Writes into a local array that add into it in a loop nest (`for i .. { for j .. {
    /// z[k] += e; } }`, at any index in bounds, one or two loops deep), out of 10 writes; each
    /// addition, and the inner loop, under `if c { .. }` per `local_array_cond`.
    local_array_add = 2,
    /// Local arrays (`local_array`, `local_array_loop`) chosen by a condition as a whole, out of
    /// 10: `let z = if c { [a, b] } else { [v; 2] };`, both branches of one length. From the
    /// arrays' stream, drawn only where the weight is not 0: at 0 (the default) the programs
    /// are unchanged.
    local_array_chosen = 0,
    /// Writes into a local array (in loops and outside them) under `if c { .. }`, sometimes
    /// with another write under `else`, out of 10 writes: the element keeps its value where
    /// no branch writes it.
    local_array_cond = 3,
    /// Whether the `if c { break; }` after a loop's write into a local array may read the
    /// arrays (`z[c] = e; if z[c] > 0.5 { break; }`): 1 lets it, 0 keeps them out of the
    /// condition. 0: the macro rejects a `break` reading an element written before it ("this
    /// `break` reads `z`, which the loop writes before it").
    local_array_break_reads = 0,
    /// Whether a loop body updating a recurrence (`p *= e`, `m = m.max(e)`, `h = c * h + e`),
    /// or a loop inside one, may build a local array: 1 lets it, 0 keeps arrays out of them.
    /// 0: the macro rejects that shape ("a local array built inside a loop recurrence cannot
    /// be differentiated yet").
    local_array_in_recurrence = 0,
    /// Whether the arguments of a call to a helper may read a run (`dot(x, x, r[2])` in
    /// `x.chunks_exact(3).map(|r| ..)`): 1 lets them, 0 keeps runs out of them (the macro
    /// rejected that before it read a run's element as its slice's).
    call_run_args = 1,
    /// Local arrays passed to helpers in place of a slice: a top-level block, out of 20, builds
    /// one (`let la = [e0, e1];`, `vec![0.0; n]` filled by a loop at its index, `[0.0; K]` set
    /// element by element, or a vector-valued helper's outputs written in the call, `&[r1,
    /// r2]`, `&[rv[0], rv[1]]`) and passes it to a helper taking slices, scalar or
    /// vector-valued; and out of 10 calls of such a helper elsewhere pass `&[e0, e1]` written
    /// in the call, or a local array in scope (`local_args.rs`). From a stream of its own,
    /// drawn only where the weight is not 0: at 0 (the default) the programs are unchanged.
    helper_local_array = 0,
    /// Of the local arrays `helper_local_array` passes by name, those passed as a run of
    /// themselves, out of 10: `&z[1..]` of a `z` one longer than the call needs, else
    /// `&z[..]`. From the arrays' stream, drawn only where the weight is not 0: at 0 (the
    /// default) the programs are unchanged.
    helper_local_run = 0,
    /// Of the early returns (`block_return`), those on a size (`if n <= 2 { return e; }`, a
    /// guard clause with loops after it, where `_grad` computes each side's gradient in its
    /// own block), out of 10. From the control-flow stream, drawn only where the weight is not
    /// 0: at 0 (the default) the programs are unchanged.
    return_size_guard = 0,
    /// Main functions with `hessian`, out of 10, among those `second_order` finds eligible
    /// (no local array added into, set under a condition or in a loop nest but for a scan's
    /// (`array_scan`), no recurrence nested in another's loop; their helpers get `hessian`
    /// too, scalar and vector-valued, calls being differentiated twice through them): their
    /// `_hvp` is checked against central differences of `_grad` along the direction. 0 by
    /// default: each such program builds a second pass of the macro.
    hvp = 0,
    /// Functions (the main one and each helper) with `checkpoint = K`, K from 2 to 5, out of
    /// 10: their recurrences save every Kth state, and their reverse sweeps recompute the
    /// stretches in between. From a stream of its own: the programs are otherwise unchanged.
    checkpoint = 2,
}

#[cfg(test)]
mod tests {
    use super::Weights;

    #[test]
    fn weights_are_set_by_name() {
        let mut w = Weights::default();
        w.set("depth3", 9).unwrap();
        assert_eq!(w.depth3, 9);
        assert!(w.set("nope", 1).is_err());
        assert!(w.table().iter().any(|&(n, v)| n == "depth3" && v == 9));
    }
}
