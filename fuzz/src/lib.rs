//! A differential fuzzer for `#[differentiable]`: random programs within the language the
//! README promises, built with the real macro in a throwaway crate, and the emitted `_grad`
//! checked against an independent oracle (forward-mode dual numbers over a copy of the same
//! body) at random points.
//!
//! - [`rng`]: the deterministic PRNG.
//! - [`ast`]: the program AST.
//! - `gen` (`r#gen` in paths: `gen` is a keyword in Rust 2024): the random generator and its
//!   [`Weights`].
//! - [`print`](mod@print): a program as plain Rust and as the oracle.
//! - [`dual`], [`check_support`]: the oracle's dual type and the checks' printing, compiled here
//!   and copied into every generated crate.
//! - [`harness`]: writing, building and running a batch, and the [`Report`].
//! - [`second_order`]: which programs can have their `_hvp` checked.
//! - [`shrink`]: reducing a failing program while it still fails the same way.
//!
//! ```text
//! cargo test -p symgrad-fuzz --test sample                      # the fixed-seed sample (300)
//! cargo run -p symgrad-fuzz --release -- --seed 1 --programs 10000 --batch 400
//! cargo run -p symgrad-fuzz --release -- --seed 1 --first 157 --programs 1 --shrink 1
//! cargo run -p symgrad-fuzz --release -- --help
//! ```
//!
//! Everything goes under the workspace's `target/symgrad-fuzz/`: the batch crates
//! (`batch-<seed>/`), their target directory (`target/`, shared between batches so symgrad and
//! its dependencies build once), and each failing program with what failed and where
//! (`failures/seed<seed>-p<id>.rs`, shrunk ones `.min.rs`). Program `k` of seed `s` is the same
//! on every machine and in every batch size, so `--first k --programs 1` reproduces it.

pub mod ast;
pub mod check_support;
pub mod dual;
pub mod r#gen;
pub mod harness;
pub mod print;
pub mod rng;
pub mod second_order;
pub mod shrink;

pub use r#gen::Weights;
pub use harness::{Class, Config, Report, run};
