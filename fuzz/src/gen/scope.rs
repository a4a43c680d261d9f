//! What the generator knows while writing a function: its parameters, the float locals in scope
//! (which are readable, which are typed `f64` rather than a bare `{float}`), and the enclosing
//! loops' index ranges (what makes every element read in bounds).

use crate::ast::{Dim, Extent, IntExpr, Param, ParamTy};

/// A float local.
#[derive(Debug, Clone)]
pub struct Local {
    /// Its name.
    pub name: String,
    /// Whether rustc knows it is `f64` (a method may be called on it).
    pub typed: bool,
    /// How many enclosing loops update it: only its own update may read it there.
    pub carried: u32,
    /// Hidden by a later `let` of the same name.
    pub shadowed: bool,
}

/// An enclosing loop's index `var`, with `lo <= var <= size(dim) - 1 - slack`.
#[derive(Debug, Clone)]
pub struct LoopVar {
    /// The index variable.
    pub name: String,
    /// The size its bound is made of.
    pub dim: Dim,
    /// Its smallest value.
    pub lo: i64,
    /// How far below `size(dim) - 1` its largest value is (negative: above).
    pub slack: i64,
}

/// The generator's view of one function being written.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The function's parameters.
    pub params: Vec<Param>,
    /// The float locals, innermost last.
    pub locals: Vec<Local>,
    /// The enclosing loops, innermost last.
    pub loops: Vec<LoopVar>,
}

impl Scope {
    /// A scope over these parameters.
    #[must_use]
    pub fn new(params: Vec<Param>) -> Self {
        Self {
            params,
            ..Self::default()
        }
    }

    /// The sizes loops may run over.
    #[must_use]
    pub fn dims(&self) -> Vec<Dim> {
        let mut dims = Vec::new();
        for p in &self.params {
            match p.ty {
                ParamTy::Size(d) => dims.push(d),
                ParamTy::Slice(Extent { dim: Dim::L, .. }) if !dims.contains(&Dim::L) => {
                    dims.push(Dim::L);
                }
                _ => {}
            }
        }
        if dims.contains(&Dim::N) && dims.contains(&Dim::D) {
            dims.push(Dim::Nd);
        }
        dims
    }

    /// The integer expression of a size: `n`, `d`, `n * d`, `u.len()`.
    #[must_use]
    pub fn dim_expr(&self, dim: Dim) -> IntExpr {
        match dim {
            Dim::N => IntExpr::Var("n".into()),
            Dim::D => IntExpr::Var("d".into()),
            Dim::Nd => IntExpr::times(self.dim_expr(Dim::N), self.dim_expr(Dim::D)),
            Dim::L => IntExpr::Len(
                self.slices()
                    .first()
                    .map(|(s, _)| s.clone())
                    .unwrap_or_default(),
            ),
        }
    }

    /// The slice parameters and their lengths.
    #[must_use]
    pub fn slices(&self) -> Vec<(String, Extent)> {
        self.params
            .iter()
            .filter_map(|p| match p.ty {
                ParamTy::Slice(e) => Some((p.name.clone(), e)),
                _ => None,
            })
            .collect()
    }

    /// The float parameters.
    #[must_use]
    pub fn scalars(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|p| p.ty == ParamTy::Scalar)
            .map(|p| p.name.clone())
            .collect()
    }

    /// The float locals an expression may read here.
    #[must_use]
    pub fn readable(&self) -> Vec<&Local> {
        self.locals
            .iter()
            .filter(|l| l.carried == 0 && !l.shadowed)
            .collect()
    }

    /// Declares a local (shadowing any earlier one of the same name).
    pub fn declare(&mut self, name: &str, typed: bool) {
        for l in &mut self.locals {
            if l.name == name {
                l.shadowed = true;
            }
        }
        self.locals.push(Local {
            name: name.into(),
            typed,
            carried: 0,
            shadowed: false,
        });
    }

    fn visible_mut(&mut self, name: &str) -> Option<&mut Local> {
        self.locals
            .iter_mut()
            .rev()
            .find(|l| l.name == name && !l.shadowed)
    }

    /// Marks a local as carried by one more enclosing loop (`true`) or one fewer (`false`).
    pub fn set_carried(&mut self, name: &str, carried: bool) {
        if let Some(l) = self.visible_mut(name) {
            if carried {
                l.carried += 1;
            } else {
                l.carried -= 1;
            }
        }
    }

    /// Records that `name` now holds an `f64`.
    pub fn set_typed(&mut self, name: &str) {
        if let Some(l) = self.visible_mut(name) {
            l.typed = true;
        }
    }

    /// Whether the float variable `name` is known to be `f64`.
    #[must_use]
    pub fn var_typed(&self, name: &str) -> bool {
        if self.scalars().iter().any(|s| s == name) {
            return true;
        }
        self.locals
            .iter()
            .rev()
            .find(|l| l.name == name && !l.shadowed)
            .is_some_and(|l| l.typed)
    }

    /// Ends a block: forgets the locals declared since `mark` (and un-shadows what they hid).
    pub fn truncate(&mut self, mark: usize) {
        let gone: Vec<String> = self.locals.drain(mark..).map(|l| l.name).collect();
        for name in gone {
            if let Some(l) = self.locals.iter_mut().rev().find(|l| l.name == name) {
                l.shadowed = false;
            }
        }
    }
}
