//! The error accumulator every pass reports to (serde_derive's `Ctxt`): errors are collected, and
//! leave together through one gate, [`Ctxt::check`], before any code is generated.

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// Must be [`check`](Ctxt::check)ed: in tests, dropping it unchecked panics (as serde's does), so
/// a pass that reports an error nobody reads is caught.
pub struct Ctxt {
    /// `None` once checked.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Default for Ctxt {
    fn default() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        let unchecked = self.errors.get_mut().is_some();
        assert!(
            !(cfg!(test) && unchecked && !std::thread::panicking()),
            "internal error: a Ctxt was dropped without check()"
        );
    }
}

impl Ctxt {
    pub fn new() -> Self {
        Ctxt::default()
    }

    /// Reports an error at the span of `tokens`.
    pub fn error_spanned_by<T: ToTokens, M: Display>(&self, tokens: T, message: M) {
        self.push(syn::Error::new_spanned(tokens.into_token_stream(), message));
    }

    /// Reports an error at `span`.
    pub fn error_at<M: Display>(&self, span: proc_macro2::Span, message: M) {
        self.push(syn::Error::new(span, message));
    }

    pub fn push(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("internal error: an error reported after check()")
            .push(error);
    }

    /// How many errors have been reported so far.
    pub fn error_count(&self) -> usize {
        self.errors.borrow().as_ref().map_or(0, Vec::len)
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// The gate: all collected errors combined into one, or `Ok` if there were none.
    pub fn check(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.take().unwrap_or_default().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for rest in errors {
            combined.combine(rest);
        }
        Err(combined)
    }
}

/// Joins a message and its `help` the way every symgrad error reads:
/// "`while` loops cannot be differentiated\n\n= help: …".
pub fn msg(what: impl Display, help: impl Display) -> String {
    format!("{what}\n\n= help: {help}")
}

#[cfg(test)]
mod tests {
    use super::Ctxt;

    #[test]
    #[should_panic(expected = "dropped without check()")]
    fn a_ctxt_dropped_unchecked_panics_in_tests() {
        let cx = Ctxt::new();
        cx.error_at(proc_macro2::Span::call_site(), "an error nobody reads");
    }

    #[test]
    fn check_combines_every_error() {
        let cx = Ctxt::new();
        cx.error_at(proc_macro2::Span::call_site(), "first");
        cx.error_at(proc_macro2::Span::call_site(), "second");
        assert_eq!(cx.error_count(), 2);
        let combined = cx.check().expect_err("two errors were reported");
        assert_eq!(combined.into_iter().count(), 2);
        assert!(Ctxt::new().check().is_ok());
    }
}
