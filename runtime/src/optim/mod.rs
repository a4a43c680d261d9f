//! Optimizers: one file each behind the [`Optimizer`] trait (work in progress).
