//! A recurrence nested in another's loop (a layer loop in a time loop) whose saved rows, trace
//! and value the outer forward loop keeps per iteration, so that the outer reverse sweep reads
//! them back instead of running the inner loop forward again (`Stmt::Reverse::nested`).
//!
//! ```text
//! // Outer forward loop (and a recomputed stretch):  // Outer reverse sweep, per iteration:
//! for t in lo..hi {                                   __nest_at2 -= 1;
//!     …the layer loop, saving __rows2…                let (__n0, __s3) = __nest_marks2[__nest_at2];
//!     let __t7 = (__s2, __s3);                        let __rows2 = &__nest_rows2[e - __n0..e];
//!     __nest_rows2.extend_from_slice(&__rows2);       e -= __n0; …
//!     __nest_marks2.push((__rows2.len(), __t7.1));    let __t7 = (restored __s2, __s3);
//! }                                                   …the layer loop's sweep, reading __rows2…
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use super::{Emitter, carry_name, rows_name, trace_name};
use crate::graph::{Kind, NodeId, Op};
use crate::printer::Style;
use crate::schedule::tree::{Storage, Vector};

/// What inner recurrence `x` (coupled state carrying arrays) keeps per outer iteration: its
/// first member `c`, the members of its value (`d`, an array or not), the array members whose
/// rows its sweep reads, whether it saves a trace of floats, and the array members of its
/// value kept (`out`): those the outer sweep reads (`Schedule::swept_values`) and those whose
/// rows are read (their length reads them); the others are read back empty.
struct Nested {
    c: u32,
    members: Vec<(u32, bool)>,
    rows: Vec<u32>,
    trace: bool,
    out: Vec<u32>,
}

/// A table's name: `__nest_{what}{d}`.
fn table(what: &str, d: u32) -> proc_macro2::Ident {
    format_ident!("__nest_{}{}", what, d, span = Span::mixed_site())
}

/// Where a table's part not yet read back ends: `__nest_end_{what}{d}`.
fn end(what: &str, d: u32) -> proc_macro2::Ident {
    format_ident!("__nest_end_{}{}", what, d, span = Span::mixed_site())
}

/// The length of an iteration's part of a table, read from its mark.
fn len(what: &str, d: u32) -> proc_macro2::Ident {
    format_ident!("__nest_len_{}{}", what, d, span = Span::mixed_site())
}

impl Emitter<'_> {
    fn nested(&self, x: NodeId) -> Option<Nested> {
        let (Op::Coupled { c, .. }, Some((inits, _))) = (self.g.op(x), self.g.coupled_parts(x))
        else {
            return None;
        };
        let members: Vec<(u32, bool)> = (*c..)
            .zip(inits)
            .map(|(d, m)| (d, self.g.kind(*m) == Kind::Array))
            .collect();
        let saved = |d: &u32| self.s.traced.contains(d);
        let rows = members
            .iter()
            .filter(|(d, array)| *array && saved(d))
            .map(|(d, _)| *d)
            .collect();
        let trace = members.iter().any(|(d, array)| !*array && saved(d));
        let read = |d: u32| {
            self.g
                .find(&Op::Component(x, d - *c))
                .is_some_and(|m| self.s.swept_values.contains(&m))
        };
        let out = members
            .iter()
            .filter(|(d, array)| *array && (saved(d) || read(*d)))
            .map(|(d, _)| *d)
            .collect();
        Some(Nested {
            c: *c,
            members,
            rows,
            trace,
            out,
        })
    }

    /// The tables (`what`, member or recurrence number), with whether each holds floats.
    fn nest_tables_of(x: &Nested) -> Vec<(&'static str, u32)> {
        let mut t: Vec<(&'static str, u32)> = x.rows.iter().map(|d| ("rows", *d)).collect();
        if x.trace {
            t.push(("trace", x.c));
        }
        t.extend(x.out.iter().map(|d| ("out", *d)));
        t
    }

    /// Runs `f` with the inner recurrences `nested` printed as kept by the loop around
    /// (`keep`: `Some(its iterations)`) or read back (`None`).
    pub(super) fn with_nest<T>(
        &self,
        nested: &[NodeId],
        keep: Option<&TokenStream>,
        f: impl FnOnce() -> T,
    ) -> T {
        for x in nested {
            self.nest.borrow_mut().insert(*x, keep.cloned());
        }
        let out = f();
        for x in nested {
            self.nest.borrow_mut().remove(x);
        }
        out
    }

    /// Whether vector `v` is one an inner recurrence read back from the tables does not take
    /// from its pool (its rows and trace are slices of the tables).
    pub(super) fn read_back(&self, v: Vector) -> bool {
        let nest = self.nest.borrow();
        nest.iter()
            .filter(|(_, keep)| keep.is_none())
            .any(|(x, _)| {
                self.nested(*x).is_some_and(|n| match v {
                    Vector::Rows(d) => n.rows.contains(&d),
                    Vector::Trace(c) | Vector::States(c, _) => c == n.c,
                    _ => false,
                })
            })
    }

    /// Before the outer forward loop: the tables, empty (allocated by the first iteration for
    /// all, see `nest_keep`), and the marks, one per iteration of `steps`.
    pub(super) fn nest_tables(&self, nested: &[NodeId], steps: &TokenStream) -> TokenStream {
        let ty = self.float_ty();
        let mut out = TokenStream::new();
        for x in nested.iter().filter_map(|x| self.nested(*x)) {
            for (what, d) in Self::nest_tables_of(&x) {
                let t = table(what, d);
                out.extend(if what == "trace" {
                    quote! { let mut #t = ::std::vec::Vec::new(); }
                } else {
                    quote! { let mut #t: ::std::vec::Vec<#ty> = ::std::vec::Vec::new(); }
                });
            }
            let marks = table("marks", x.c);
            out.extend(quote! { let mut #marks = ::std::vec::Vec::with_capacity(#steps); });
        }
        out
    }

    /// The tables emptied (at a checkpoint: they hold one stretch).
    pub(super) fn nest_clear(&self, nested: &[NodeId]) -> TokenStream {
        let mut out = TokenStream::new();
        for x in nested.iter().filter_map(|x| self.nested(*x)) {
            for (what, d) in Self::nest_tables_of(&x) {
                let t = table(what, d);
                out.extend(quote! { #t.clear(); });
            }
            let marks = table("marks", x.c);
            out.extend(quote! { #marks.clear(); });
        }
        out
    }

    /// Before the outer reverse sweep (of a stretch): where the tables end.
    pub(super) fn nest_ends(&self, nested: &[NodeId]) -> TokenStream {
        let mut out = TokenStream::new();
        for x in nested.iter().filter_map(|x| self.nested(*x)) {
            for (what, d) in Self::nest_tables_of(&x) {
                let (t, e) = (table(what, d), end(what, d));
                out.extend(quote! { let mut #e = #t.len(); });
            }
            let (marks, at) = (table("marks", x.c), end("marks", x.c));
            out.extend(quote! { let mut #at = #marks.len(); });
        }
        out
    }

    /// After inner recurrence `n`'s forward loop in an outer loop keeping it (`steps`: the
    /// outer loop's iterations kept at most): its rows, trace and value added to the tables,
    /// their lengths and the value's floats to the marks.
    pub(super) fn nest_keep(&self, n: NodeId, steps: &TokenStream) -> TokenStream {
        let Some(x) = self.nested(n) else {
            return self.internal_error("not a nested recurrence");
        };
        let name = self.name(n);
        let (mut adds, mut lens, mut reserve) = (Vec::new(), Vec::new(), Vec::new());
        for (what, d) in Self::nest_tables_of(&x) {
            let t = table(what, d);
            let from = match what {
                "rows" => {
                    let r = rows_name(d);
                    quote!(#r)
                }
                "trace" => {
                    let r = trace_name(d);
                    quote!(#r)
                }
                _ => {
                    let k = syn::Index::from(d.wrapping_sub(x.c) as usize);
                    quote!(#name.#k)
                }
            };
            adds.push(quote! { #t.extend_from_slice(&#from[..]); });
            lens.push(quote!(#from.len()));
            reserve.push(quote! { #t.reserve(#steps * #from.len()); });
        }
        let floats = x.members.iter().filter(|m| !m.1).map(|(d, _)| {
            let k = syn::Index::from(d.wrapping_sub(x.c) as usize);
            quote!(#name.#k)
        });
        let marks = table("marks", x.c);
        // Allocated once, at the first iteration, for every iteration kept (as long as the
        // first: a longer one grows them).
        quote! {
            if #marks.is_empty() {
                #(#reserve)*
            }
            #(#adds)*
            #marks.push((#(#lens,)* #(#floats,)*));
        }
    }

    /// In the outer reverse sweep, instead of inner recurrence `n`'s forward loop: its rows and
    /// trace, slices of the tables, and its value, its arrays copied into vectors of `storage`.
    pub(super) fn nest_read_back(&self, n: NodeId, storage: Storage) -> TokenStream {
        let Some(x) = self.nested(n) else {
            return self.internal_error("not a nested recurrence");
        };
        let name = self.name(n);
        let (marks, at) = (table("marks", x.c), end("marks", x.c));
        let mut names: Vec<proc_macro2::Ident> = Vec::new();
        let mut out = TokenStream::new();
        for (what, d) in Self::nest_tables_of(&x) {
            let (t, e, l) = (table(what, d), end(what, d), len(what, d));
            names.push(l.clone());
            let part = quote!(&#t[#e - #l..#e]);
            out.extend(match what {
                "rows" => {
                    let r = rows_name(d);
                    quote! { let #r = #part; }
                }
                "trace" => {
                    let r = trace_name(d);
                    quote! { let #r = #part; }
                }
                _ => {
                    let s = carry_name(d);
                    if storage == Storage::Pooled {
                        let keep = format_ident!("{}_pool", s, span = Span::mixed_site());
                        quote! {
                            let mut #s = ::core::mem::take(&mut #keep);
                            #s.clear();
                            #s.extend_from_slice(#part);
                        }
                    } else {
                        quote! { let #s = ::std::vec::Vec::from(#part); }
                    }
                }
            });
            out.extend(quote! { #e -= #l; });
        }
        // The arrays not kept: empty (their pooled vectors, given back at the iteration's end).
        for (d, _) in x.members.iter().filter(|(d, a)| *a && !x.out.contains(d)) {
            let s = carry_name(*d);
            out.extend(if storage == Storage::Pooled {
                let keep = format_ident!("{}_pool", s, span = Span::mixed_site());
                quote! { let mut #s = ::core::mem::take(&mut #keep); #s.clear(); }
            } else {
                let ty = self.float_ty();
                quote! { let #s: ::std::vec::Vec<#ty> = ::std::vec::Vec::new(); }
            });
        }
        names.extend(
            x.members
                .iter()
                .filter(|m| !m.1)
                .map(|(d, _)| carry_name(*d)),
        );
        let states = x.members.iter().map(|(d, _)| carry_name(*d));
        quote! {
            #at -= 1;
            let (#(#names,)*) = #marks[#at];
            #out
            let #name = (#(#states,)*);
        }
    }
}
