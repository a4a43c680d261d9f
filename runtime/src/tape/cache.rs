//! The per-thread cache of array buffers: what lets a loop that records a fresh [`Tape`] at every
//! step (a training loop, or the `_grad` companion `#[differentiable]` generates for array code)
//! reuse the large arrays of the previous step instead of allocating them again.
//!
//! When a tape is dropped, the buffers of its intermediate values go to a cache owned by the
//! current thread, and so do the buffers of intermediate adjoints as soon as the backward sweep
//! is done with them. Every tape on the thread takes its buffers from that cache first. A large
//! fresh buffer costs more than its allocation: the allocator maps it from the system, and every
//! page of it faults in on first touch. For seed 000's cost at the Coursera size (4778 × 443
//! arrays of 17 MB), that was half the time of an Adam step; a reused buffer is already mapped.
//!
//! - Buffers of at least 16 KiB are cached (smaller ones are cheap to allocate). A request takes
//!   the smallest cached buffer that fits, if it is at most twice the size needed.
//! - The gradients a tape hands out ([`Gradients::take`](super::Gradients::take),
//!   [`Gradients::wrt`](super::Gradients::wrt)) and the values [`Var::value`](super::Var::value)
//!   copies out are yours: they never go back to the cache. Gradients left in a dropped
//!   [`Gradients`](super::Gradients) do.
//! - The cache holds at most [`limit`] bytes per thread (512 MiB unless [`set_limit`] says
//!   otherwise); past that, the buffers cached longest ago are freed. [`clear`] frees this
//!   thread's cached buffers now; [`stats`] tells what the cache holds and how often it served a
//!   request.
//! - Results never depend on the cache: a reused buffer's old contents are overwritten before
//!   they are read, so a gradient computed with a warm cache is bitwise the one a cold cache gives.
//!
//! ```
//! use ndarray::Array2;
//! use symgrad::tape::{Tape, cache};
//!
//! let x0 = Array2::from_elem((300, 200), 0.5_f64); // 480 kB arrays: cached
//! let step = || {
//!     let tape = Tape::new();
//!     let x = tape.watch(&x0);
//!     let loss = (x.exp() * 2.0).sum();
//!     tape.gradient(&loss).wrt(&x)
//! };
//! let first = step();
//! let before = cache::stats();
//! let second = step(); // takes the buffers the first step gave back
//! assert!(cache::stats().hits > before.hits);
//! assert_eq!(first, second);
//! ```

use std::any::Any;
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{ArrayD, ArrayRef, IxDyn, Zip};

use super::float::TapeFloat;
#[cfg(doc)]
use super::graph::Tape;

/// Buffers smaller than this are not cached.
const MIN_BYTES: usize = 16 * 1024;

/// The limit until [`set_limit`] changes it.
const DEFAULT_LIMIT: usize = 512 << 20;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_LIMIT);

/// One cached buffer: a `Vec<T>` for some float type `T`, and its size in bytes.
struct Entry {
    bytes: usize,
    buffer: Box<dyn Any>,
}

/// A thread's cached buffers, oldest first, and its counters.
#[derive(Default)]
struct Cache {
    free: Vec<Entry>,
    bytes: usize,
    hits: u64,
    misses: u64,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// Runs `f` on this thread's cache; `None` while the thread is being torn down.
fn with_cache<R>(f: impl FnOnce(&mut Cache) -> R) -> Option<R> {
    CACHE
        .try_with(|cache| cache.try_borrow_mut().ok().map(|mut cache| f(&mut cache)))
        .ok()
        .flatten()
}

impl Cache {
    /// The smallest cached `Vec<T>` with room for `len` elements, if it is at most twice that.
    fn take<T: 'static>(&mut self, len: usize) -> Option<Vec<T>> {
        let best = self
            .free
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, e.buffer.downcast_ref::<Vec<T>>()?.capacity())))
            .filter(|&(_, capacity)| capacity >= len && capacity / 2 <= len)
            .min_by_key(|&(_, capacity)| capacity)
            .map(|(i, _)| i);
        let Some(i) = best else {
            self.misses += 1;
            return None;
        };
        let entry = self.free.remove(i);
        self.bytes -= entry.bytes;
        self.hits += 1;
        entry.buffer.downcast::<Vec<T>>().ok().map(|v| *v)
    }

    /// Frees the oldest buffers until at most `limit` bytes are cached.
    fn evict(&mut self, limit: usize) {
        let mut n = 0;
        while self.bytes > limit && n < self.free.len() {
            self.bytes -= self.free[n].bytes;
            n += 1;
        }
        self.free.drain(..n);
    }
}

/// A buffer of `len` elements from the cache, its old contents still in it; `None` when the
/// cache has none that fits (or `len` is too small to be cached).
fn take<T: TapeFloat>(len: usize) -> Option<Vec<T>> {
    if len * size_of::<T>() < MIN_BYTES {
        return None;
    }
    let mut v = with_cache(|c| c.take::<T>(len)).flatten()?;
    if v.len() >= len {
        v.truncate(len);
    } else {
        v.resize(len, T::zero());
    }
    Some(v)
}

/// Gives `v`'s buffer to this thread's cache (or frees it, if it is small or over the limit).
fn give<T: TapeFloat>(v: Vec<T>) {
    let bytes = v.capacity() * size_of::<T>();
    let limit = LIMIT.load(Ordering::Relaxed);
    if bytes < MIN_BYTES || bytes > limit {
        return;
    }
    let buffer: Box<dyn Any> = Box::new(v);
    with_cache(|c| {
        c.free.push(Entry { bytes, buffer });
        c.bytes += bytes;
        c.evict(limit);
    });
}

/// An array of `shape` whose elements are left over from an earlier array: the caller
/// overwrites every one of them before anything reads it.
pub(crate) fn scratch<T: TapeFloat>(shape: &[usize]) -> ArrayD<T> {
    let len = shape.iter().product();
    let buffer = take(len).unwrap_or_else(|| vec![T::zero(); len]);
    ArrayD::from_shape_vec(IxDyn(shape), buffer).expect("internal error: cached buffer length")
}

/// An array of `shape` filled with `value`.
pub(crate) fn filled<T: TapeFloat>(shape: &[usize], value: T) -> ArrayD<T> {
    let len = shape.iter().product();
    let buffer = match take(len) {
        Some(mut v) => {
            v.fill(value);
            v
        }
        None => vec![value; len],
    };
    ArrayD::from_shape_vec(IxDyn(shape), buffer).expect("internal error: cached buffer length")
}

/// An array of zeros of `shape`.
pub(crate) fn zeros<T: TapeFloat>(shape: &[usize]) -> ArrayD<T> {
    filled(shape, T::zero())
}

/// `f` applied to every element of `x`, in a cached buffer (ndarray's `mapv`).
pub(crate) fn map<T: TapeFloat>(x: &ArrayRef<T, IxDyn>, f: impl Fn(T) -> T) -> ArrayD<T> {
    let mut out = scratch(x.shape());
    Zip::from(&mut out).and(x).for_each(|o, &x| *o = f(x));
    out
}

/// A copy of `x` in a cached buffer, in standard (row-major) layout.
pub(crate) fn copy<T: TapeFloat>(x: &ArrayRef<T, IxDyn>) -> ArrayD<T> {
    let mut out = scratch(x.shape());
    out.assign(x);
    out
}

/// Gives `a`'s buffer back to the cache.
pub(crate) fn recycle<T: TapeFloat>(a: ArrayD<T>) {
    give(a.into_raw_vec_and_offset().0);
}

/// Puts `new` in `slot`, and gives the array `slot` held back to the cache: a generated
/// `_grad_into` of array code, called again with the same gradient, hands its old arrays to the
/// next call's tape instead of freeing them.
///
/// ```
/// use ndarray::Array2;
///
/// let mut slot = Array2::from_elem((300, 200), 1.0_f64);
/// symgrad::tape::cache::store(&mut slot, Array2::zeros((300, 200)));
/// assert_eq!(slot.sum(), 0.0);
/// ```
#[doc(hidden)]
pub fn store<T: TapeFloat, D: ndarray::Dimension>(
    slot: &mut ndarray::Array<T, D>,
    new: ndarray::Array<T, D>,
) {
    recycle(std::mem::replace(slot, new).into_dyn());
}

/// An owned array whose buffer goes back to the cache when it is dropped (the owned values and
/// saved derivatives of tape nodes).
pub(crate) struct Buffer<T> {
    array: ArrayD<T>,
    // A function pointer rather than a `T: TapeFloat` bound, so that `Node` and `Tape` need
    // none: a `Drop` impl must repeat its type's bounds.
    give_back: fn(ArrayD<T>),
}

impl<T: TapeFloat> Buffer<T> {
    pub(crate) fn new(array: ArrayD<T>) -> Self {
        Self {
            array,
            give_back: recycle::<T>,
        }
    }
}

impl<T> Buffer<T> {
    /// The array, which then no longer goes back to the cache when `self` is dropped.
    pub(crate) fn into_inner(mut self) -> ArrayD<T> {
        std::mem::replace(&mut self.array, empty())
    }
}

fn empty<T>() -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(&[0]), Vec::new()).expect("internal error: an empty array")
}

impl<T> Deref for Buffer<T> {
    type Target = ArrayD<T>;
    fn deref(&self) -> &ArrayD<T> {
        &self.array
    }
}

impl<T> DerefMut for Buffer<T> {
    fn deref_mut(&mut self) -> &mut ArrayD<T> {
        &mut self.array
    }
}

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        let array = std::mem::replace(&mut self.array, empty());
        (self.give_back)(array);
    }
}

/// What this thread's buffer cache holds, and how often it served a request; see [`stats`].
///
/// ```
/// use ndarray::Array2;
/// use symgrad::tape::{Tape, cache};
///
/// let x0 = Array2::from_elem((200, 200), 0.1_f64); // 320 kB
/// let before = cache::stats();
/// for _ in 0..2 {
///     let tape = Tape::new();
///     let x = tape.watch(&x0);
///     let _ = tape.gradient(&x.tanh().sum());
/// }
/// let after = cache::stats();
/// // The second tape found in the cache what the first one gave back.
/// assert!(after.hits > before.hits);
/// assert_eq!(after.bytes, after.buffers * 320_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Number of cached buffers.
    pub buffers: usize,
    /// Their total size in bytes.
    pub bytes: usize,
    /// Requests for a buffer of a cacheable size that a cached buffer served, since the thread
    /// started.
    pub hits: u64,
    /// Requests for a buffer of a cacheable size that needed a fresh allocation.
    pub misses: u64,
}

/// What this thread's buffer cache holds now, and its hit and miss counts so far.
///
/// ```
/// use ndarray::Array1;
/// use symgrad::tape::{Tape, cache};
///
/// let x0 = Array1::from_elem(100_000, 1.0_f64); // 800 kB
/// for _ in 0..3 {
///     let tape = Tape::new();
///     let x = tape.watch(&x0);
///     let _ = tape.gradient(&x.powi(3).sum());
/// }
/// let stats = cache::stats();
/// assert!(stats.hits >= 2 && stats.bytes >= 800_000);
/// assert!(stats.bytes <= cache::limit());
/// ```
#[must_use]
pub fn stats() -> CacheStats {
    with_cache(|c| CacheStats {
        buffers: c.free.len(),
        bytes: c.bytes,
        hits: c.hits,
        misses: c.misses,
    })
    .unwrap_or_default()
}

/// Frees every buffer this thread's cache holds (other threads' caches are untouched). Call it
/// after training to give the memory back; a later tape simply allocates again.
///
/// ```
/// use ndarray::Array1;
/// use symgrad::tape::{Tape, cache};
///
/// let x0 = Array1::from_elem(100_000, 1.0_f64);
/// {
///     let tape = Tape::new();
///     let x = tape.watch(&x0);
///     let _ = tape.gradient(&x.exp().sum());
/// } // the tape's buffers go to the cache here
/// assert!(cache::stats().buffers > 0);
/// cache::clear();
/// assert_eq!(cache::stats().bytes, 0);
/// ```
pub fn clear() {
    with_cache(|c| c.evict(0));
}

/// Sets the most bytes the cache of each thread may hold (512 MiB by default), for every thread;
/// this thread's cache is trimmed at once, the others' when they next give a buffer back.
/// `set_limit(0)` turns caching off.
///
/// ```
/// use symgrad::tape::cache;
///
/// let before = cache::limit();
/// cache::set_limit(2 << 30); // 2 GiB: a working set larger than the default
/// assert_eq!(cache::limit(), 2 << 30);
/// cache::set_limit(before);
/// ```
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
    with_cache(|c| c.evict(bytes));
}

/// The most bytes the cache of each thread may hold; see [`set_limit`].
///
/// ```
/// use symgrad::tape::cache;
///
/// assert!(cache::limit() >= cache::stats().bytes);
/// ```
#[must_use]
pub fn limit() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_is_taken_back_and_a_small_or_oversized_one_is_not() {
        clear();
        give(vec![1.0_f64; 10_000]);
        assert_eq!(stats().buffers, 1);
        assert!(take::<f32>(10_000).is_none(), "another element type");
        assert!(
            take::<f64>(4_000).is_none(),
            "more than twice the size needed"
        );
        let v = take::<f64>(6_000).expect("fits");
        assert_eq!((v.len(), v.capacity()), (6_000, 10_000));
        assert_eq!(stats().buffers, 0);
        give(vec![1.0_f64; 100]);
        assert_eq!(stats().buffers, 0, "too small to cache");
    }

    #[test]
    fn the_oldest_buffers_go_first_past_the_limit() {
        clear();
        give(vec![1.0_f64; 10_000]);
        give(vec![2.0_f64; 20_000]);
        assert_eq!(stats().bytes, 240_000);
        // A limit below both buffers keeps the newer one only.
        with_cache(|c| c.evict(200_000));
        assert_eq!(stats().buffers, 1);
        assert_eq!(take::<f64>(20_000).map(|v| v[0]), Some(2.0));
    }
}
