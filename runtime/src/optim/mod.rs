//! Optimizers: one file each behind the [`Optimizer`] trait.
//!
//! | type | rule | PyTorch twin |
//! |---|---|---|
//! | [`Sgd`] | gradient descent, optional momentum, dampening, Nesterov, L2 weight decay | `torch.optim.SGD` |
//! | [`Adam`] | adaptive moments, optional AMSGrad; [`Adam::keras`] for Keras's variant | `torch.optim.Adam` |
//! | [`AdamW`] | Adam with decoupled weight decay | `torch.optim.AdamW` |
//! | [`RmsProp`] | running average of squared gradients, optional momentum, centered | `torch.optim.RMSprop` |
//! | [`Adagrad`] | accumulated squared gradients, optional learning-rate decay | `torch.optim.Adagrad` |
//!
//! Every rule and every default is PyTorch's, as written in the pseudo-code of the `torch.optim`
//! documentation, with the quantities named as there (`m_hat`, `v_hat`, …); each type's docs state
//! its rule and how Keras differs. The tests compare whole trajectories with an independent Python
//! transcription of that pseudo-code (`runtime/tests/reference/`).
//!
//! ```
//! use symgrad::optim::{Adam, Optimizer};
//!
//! // Minimize (x - 50)², whose gradient is 2(x - 50).
//! let mut x = [3.0_f64];
//! let mut adam = Adam::new(1.0);
//! for _ in 0..200 {
//!     let grad = [2.0 * (x[0] - 50.0)];
//!     adam.step(&mut x, &grad);
//! }
//! assert!((x[0] - 50.0).abs() < 1.0);
//! ```
//!
//! # Element types
//!
//! [`Optimizer<T>`] is generic over the element type `T` ([`Real`]: `f32` or `f64`, default
//! `f64`), so `Box<dyn Optimizer>` means an `f64` optimizer and `Box<dyn Optimizer<f32>>` an `f32`
//! one. Whatever `T`, the update is computed and the state (moments, momentum buffers) kept in
//! `f64`; `f32` parameters are rounded once, when written back.
//!
//! # One optimizer, one parameter vector
//!
//! An optimizer's state belongs to the parameter vector it first stepped: a later step with a
//! different length is an [`OptimError::StateMismatch`] until [`Optimizer::reset`]. To train
//! several arrays, either flatten them into one vector (what the training loop does with a
//! generated `<Name>Grad`) or give each array its own optimizer.

mod adagrad;
mod adam;
mod adamw;
mod array;
mod error;
mod real;
mod rmsprop;
mod sgd;

pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use array::OptimizerExt;
pub use error::OptimError;
pub use real::Real;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

/// An optimizer: updates parameters in place from their gradient, one step at a time.
///
/// Object-safe: pick one at run time as `Box<dyn Optimizer>` (or `Box<dyn Optimizer<f32>>`).
///
/// ```
/// use symgrad::optim::{Adam, Optimizer, Sgd};
///
/// fn pick(name: &str) -> Box<dyn Optimizer> {
///     match name {
///         "adam" => Box::new(Adam::new(0.1)),
///         _ => Box::new(Sgd::new(0.1).momentum(0.9)),
///     }
/// }
///
/// let mut opt = pick("adam");
/// let mut w = [3.0, -1.0];
/// opt.try_step(&mut w, &[1.0, -1.0])?;
/// assert_eq!(opt.step_count(), 1);
///
/// // Lengths that do not match are an error, never a partial update:
/// assert!(opt.try_step(&mut w, &[1.0]).is_err());
/// # Ok::<(), symgrad::optim::OptimError>(())
/// ```
pub trait Optimizer<T: Real = f64> {
    /// Applies one update to `params` given their gradient `grads`.
    ///
    /// Checks everything before touching anything: on error, neither the parameters nor the
    /// optimizer's state have changed.
    ///
    /// # Errors
    ///
    /// [`OptimError::LengthMismatch`] if `params` and `grads` differ in length,
    /// [`OptimError::StateMismatch`] if the state was built for a different number of parameters,
    /// [`OptimError::InvalidHyperParameter`] if a hyper-parameter is out of range (checked here,
    /// since the builder methods cannot fail).
    ///
    /// ```
    /// use symgrad::optim::{OptimError, Optimizer, Sgd};
    ///
    /// let mut sgd = Sgd::new(0.5);
    /// let mut theta = [1.0_f64, 2.0];
    /// sgd.try_step(&mut theta, &[1.0, -1.0])?;
    /// assert_eq!(theta, [0.5, 2.5]);
    ///
    /// // Refused steps change nothing:
    /// assert!(sgd.try_step(&mut theta, &[1.0]).is_err()); // lengths differ
    /// assert!(Sgd::new(-1.0).try_step(&mut theta, &[1.0, 1.0]).is_err()); // lr < 0
    /// assert_eq!(theta, [0.5, 2.5]);
    /// # Ok::<(), OptimError>(())
    /// ```
    fn try_step(&mut self, params: &mut [T], grads: &[T]) -> Result<(), OptimError>;

    /// [`try_step`](Optimizer::try_step) for code that knows its lengths match, like
    /// [`slice::copy_from_slice`].
    ///
    /// # Panics
    ///
    /// With the error's message, when [`try_step`](Optimizer::try_step) would return an error.
    /// Use `try_step` (or the training loop) wherever the lengths come from user input.
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, Sgd};
    ///
    /// let mut theta = [1.0_f64];
    /// Sgd::new(0.25).step(&mut theta, &[2.0]);
    /// assert_eq!(theta, [0.5]);
    /// ```
    ///
    /// ```should_panic
    /// use symgrad::optim::{Optimizer, Sgd};
    ///
    /// // Panics: "optimizer step failed: params and grads differ in length: …"
    /// Sgd::new(0.25).step(&mut [1.0_f64, 2.0], &[2.0]);
    /// ```
    fn step(&mut self, params: &mut [T], grads: &[T]) {
        if let Err(error) = self.try_step(params, grads) {
            panic!("optimizer step failed: {error}");
        }
    }

    /// The learning rate the next step will use.
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// let adam: Adam = Adam::new(0.1);
    /// assert_eq!(adam.lr(), 0.1);
    /// assert_eq!(Adam::<f64>::default().lr(), 1e-3); // PyTorch's default
    /// ```
    fn lr(&self) -> f64;

    /// Sets the learning rate of the next steps (what a [schedule](crate::schedule) drives).
    ///
    /// ```
    /// use symgrad::optim::{Optimizer, Sgd};
    ///
    /// let mut sgd = Sgd::new(0.1);
    /// let mut theta = [1.0_f64];
    /// sgd.set_lr(0.5);
    /// sgd.step(&mut theta, &[1.0]);
    /// assert_eq!((sgd.lr(), theta[0]), (0.5, 0.5));
    /// ```
    fn set_lr(&mut self, lr: f64);

    /// Number of steps taken since creation or the last [`reset`](Optimizer::reset).
    ///
    /// ```
    /// use symgrad::optim::{Adagrad, Optimizer};
    ///
    /// let mut adagrad = Adagrad::new(0.1);
    /// let mut theta = [1.0_f64];
    /// for _ in 0..3 {
    ///     adagrad.step(&mut theta, &[1.0]);
    /// }
    /// assert_eq!(adagrad.step_count(), 3);
    /// assert!(adagrad.try_step(&mut theta, &[]).is_err()); // a refused step does not count
    /// assert_eq!(adagrad.step_count(), 3);
    /// ```
    fn step_count(&self) -> u64;

    /// Forgets all state (moments, buffers, step count), keeping the hyper-parameters: the next
    /// step behaves like the first, and may use a parameter vector of another length.
    ///
    /// ```
    /// use symgrad::optim::{Adam, Optimizer};
    ///
    /// let mut adam = Adam::new(0.1);
    /// let mut first = [1.0_f64];
    /// adam.step(&mut first, &[3.0]);
    ///
    /// // The state now belongs to a 1-parameter vector; a 2-parameter one needs a reset.
    /// let mut other = [1.0_f64, 1.0];
    /// assert!(adam.try_step(&mut other, &[3.0, 3.0]).is_err());
    /// adam.reset();
    /// assert_eq!(adam.step_count(), 0);
    /// adam.step(&mut other, &[3.0, 3.0]);
    /// assert_eq!(other, [first[0], first[0]]); // a first step again
    /// ```
    fn reset(&mut self);
}

/// Forwards to the optimizer in the box, so a `Box<dyn Optimizer>` goes wherever an optimizer
/// does (e.g. [`Minimizer::new`](crate::train::Minimizer::new)).
impl<T: Real, O: Optimizer<T> + ?Sized> Optimizer<T> for Box<O> {
    fn try_step(&mut self, params: &mut [T], grads: &[T]) -> Result<(), OptimError> {
        (**self).try_step(params, grads)
    }
    fn lr(&self) -> f64 {
        (**self).lr()
    }
    fn set_lr(&mut self, lr: f64) {
        (**self).set_lr(lr);
    }
    fn step_count(&self) -> u64 {
        (**self).step_count()
    }
    fn reset(&mut self) {
        (**self).reset();
    }
}

/// Forwards to the borrowed optimizer, so a run can borrow an optimizer it does not own.
impl<T: Real, O: Optimizer<T> + ?Sized> Optimizer<T> for &mut O {
    fn try_step(&mut self, params: &mut [T], grads: &[T]) -> Result<(), OptimError> {
        (**self).try_step(params, grads)
    }
    fn lr(&self) -> f64 {
        (**self).lr()
    }
    fn set_lr(&mut self, lr: f64) {
        (**self).set_lr(lr);
    }
    fn step_count(&self) -> u64 {
        (**self).step_count()
    }
    fn reset(&mut self) {
        (**self).reset();
    }
}

/// The step counter and the parameter count every optimizer's state is tied to.
#[derive(Debug, Clone, Default)]
struct Steps {
    t: u64,
    len: Option<usize>,
}

impl Steps {
    /// Checks the lengths of one step, then counts it; returns `t`, the 1-based step number.
    fn begin(&mut self, params: usize, grads: usize) -> Result<u64, OptimError> {
        if params != grads {
            return Err(OptimError::LengthMismatch { params, grads });
        }
        if let Some(state) = self.len.filter(|&state| state != params) {
            return Err(OptimError::StateMismatch { params, state });
        }
        self.len = Some(params);
        self.t += 1;
        Ok(self.t)
    }
}

/// `Ok` when `ok`, else the error naming the hyper-parameter (NaN fails every range check).
fn require(
    ok: bool,
    optimizer: &'static str,
    name: &'static str,
    value: f64,
    requirement: &'static str,
) -> Result<(), OptimError> {
    if ok {
        Ok(())
    } else {
        Err(OptimError::InvalidHyperParameter {
            optimizer,
            name,
            value,
            requirement,
        })
    }
}

/// [`require`] for the most common range, `value >= 0` (so NaN fails too).
fn non_negative(optimizer: &'static str, name: &'static str, value: f64) -> Result<(), OptimError> {
    require(value >= 0.0, optimizer, name, value, ">= 0")
}

/// Applies `rule(θ, g, state) -> θ'` to every coordinate (lengths already checked equal).
fn apply<T: Real, S>(
    params: &mut [T],
    grads: &[T],
    state: &mut [S],
    mut rule: impl FnMut(f64, f64, &mut S) -> f64,
) {
    for ((theta, g), s) in params.iter_mut().zip(grads).zip(state) {
        *theta = T::from_f64(rule(theta.to_f64(), g.to_f64(), s));
    }
}

/// Implements the bookkeeping methods of [`Optimizer`] for a type with `steps`, `state` and its
/// learning rate at `hyper.lr` (or at the field path given, e.g. `hyper.adam.lr`).
macro_rules! bookkeeping {
    () => {
        bookkeeping!(hyper.lr);
    };
    ($($lr:ident).+) => {
        fn lr(&self) -> f64 {
            self.$($lr).+
        }

        fn set_lr(&mut self, lr: f64) {
            self.$($lr).+ = lr;
        }

        fn step_count(&self) -> u64 {
            self.steps.t
        }

        fn reset(&mut self) {
            self.steps = super::Steps::default();
            self.state.clear();
        }
    };
}
use bookkeeping;

#[cfg(test)]
mod tests {
    use super::{Adagrad, Adam, AdamW, OptimError, Optimizer, RmsProp, Sgd};

    fn all() -> Vec<Box<dyn Optimizer>> {
        vec![
            Box::new(Sgd::new(0.1).momentum(0.9)),
            Box::new(Adam::new(0.1)),
            Box::new(AdamW::new(0.1)),
            Box::new(RmsProp::new(0.1)),
            Box::new(Adagrad::new(0.1)),
        ]
    }

    #[test]
    fn a_refused_step_changes_nothing() {
        for mut opt in all() {
            let mut params = [1.0, 2.0];
            let error = opt.try_step(&mut params, &[1.0]).unwrap_err();
            assert_eq!(
                error,
                OptimError::LengthMismatch {
                    params: 2,
                    grads: 1
                }
            );
            assert_eq!(params, [1.0, 2.0]);
            assert_eq!(opt.step_count(), 0);
        }
    }

    #[test]
    fn state_is_tied_to_the_first_length_until_reset() {
        for mut opt in all() {
            opt.try_step(&mut [1.0, 2.0], &[0.5, 0.5]).unwrap();
            let mut three = [1.0, 2.0, 3.0];
            let error = opt.try_step(&mut three, &[0.5; 3]).unwrap_err();
            assert_eq!(
                error,
                OptimError::StateMismatch {
                    params: 3,
                    state: 2
                }
            );
            assert_eq!(three, [1.0, 2.0, 3.0]);
            opt.reset();
            assert_eq!(opt.step_count(), 0);
            opt.try_step(&mut three, &[0.5; 3]).unwrap();
            assert_eq!(opt.step_count(), 1);
        }
    }

    #[test]
    fn reset_makes_the_next_step_a_first_step() {
        let mut adam = Adam::new(0.1);
        let mut first = [1.0];
        adam.step(&mut first, &[3.0]);
        adam.step(&mut [5.0], &[-7.0]);
        adam.reset();
        let mut again = [1.0];
        adam.step(&mut again, &[3.0]);
        assert_eq!(first, again);
    }

    #[test]
    fn learning_rate_can_be_read_and_set() {
        for mut opt in all() {
            assert_eq!(opt.lr(), 0.1);
            opt.set_lr(0.0);
            let mut params = [1.0];
            opt.try_step(&mut params, &[2.0]).unwrap();
            // lr = 0: no move (AdamW's decay is scaled by lr too).
            assert_eq!(params, [1.0]);
        }
    }

    #[test]
    fn invalid_hyper_parameters_are_errors_not_panics() {
        let cases: Vec<(Box<dyn Optimizer>, &str)> = vec![
            (Box::new(Sgd::new(-1.0)), "lr"),
            (Box::new(Sgd::new(0.1).nesterov(true)), "momentum"),
            (
                Box::new(Sgd::new(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                "dampening",
            ),
            (Box::new(Adam::new(0.1).betas(1.0, 0.999)), "betas.0"),
            (Box::new(Adam::new(f64::NAN)), "lr"),
            (Box::new(AdamW::new(0.1).betas(0.9, -0.5)), "betas.1"),
            (Box::new(RmsProp::new(0.1).momentum(-1.0)), "momentum"),
            (Box::new(Adagrad::new(0.1).lr_decay(-1.0)), "lr_decay"),
        ];
        for (mut opt, expected) in cases {
            let mut params = [1.0];
            match opt.try_step(&mut params, &[1.0]) {
                Err(OptimError::InvalidHyperParameter { name, .. }) => assert_eq!(name, expected),
                other => panic!("expected an invalid `{expected}`, got {other:?}"),
            }
            assert_eq!(params, [1.0]);
        }
    }

    #[test]
    fn f32_parameters_follow_the_f64_trajectory() {
        let (mut x32, mut x64) = ([3.0_f32], [3.0_f64]);
        let (mut adam32, mut adam64) = (Adam::<f32>::new(0.5), Adam::<f64>::new(0.5));
        for _ in 0..20 {
            let (g32, g64) = ([2.0 * (x32[0] - 50.0)], [2.0 * (x64[0] - 50.0)]);
            adam32.step(&mut x32, &g32);
            adam64.step(&mut x64, &g64);
        }
        assert!((f64::from(x32[0]) - x64[0]).abs() < 1e-4);
    }

    #[test]
    #[should_panic(expected = "optimizer step failed: params and grads differ in length")]
    fn step_panics_with_the_error_message() {
        Sgd::new(0.1).step(&mut [1.0, 2.0], &[1.0]);
    }
}
