//! Buffers the diagnostics reuse on a thread: a methylation run summarises millions of
//! quantities of a few hundred draws, and each took a dozen allocations of a few KB (above
//! malloc's per-thread cache, so each went to its shared bins).

use std::cell::RefCell;

/// Most buffers of one type a thread keeps.
const MAX_KEPT: usize = 8;
/// Largest buffer kept, in elements: small sets of draws only, so a thread keeps at most
/// MAX_KEPT x 4,096 x 16 bytes (512 KiB) of a type; larger ones are freed as usual.
const MAX_KEPT_LEN: usize = 4096;

/// A type whose buffers are kept: each has its own store per thread.
pub(super) trait Kept: Sized + 'static {
    fn with_store<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R;
}

macro_rules! kept {
    ($t:ty, $store:ident) => {
        thread_local! {
            static $store: RefCell<Vec<Vec<$t>>> = const { RefCell::new(Vec::new()) };
        }
        impl Kept for $t {
            fn with_store<R>(f: impl FnOnce(&mut Vec<Vec<Self>>) -> R) -> R {
                $store.with(|s| f(&mut s.borrow_mut()))
            }
        }
    };
}
kept!(f64, F64_BUFFERS);
kept!(u64, WORD_BUFFERS);
kept!((f64, usize), PAIR_BUFFERS);

/// An empty buffer with room for `len`: a kept one where the thread has one.
pub(super) fn take<T: Kept>(len: usize) -> Vec<T> {
    match T::with_store(|s| s.pop()) {
        Some(mut v) => {
            v.reserve(len);
            v
        }
        None => Vec::with_capacity(len),
    }
}

/// Keeps `v` for a later `take` on this thread, unless the thread has enough or it is large.
pub(super) fn give<T: Kept>(mut v: Vec<T>) {
    if v.capacity() == 0 || v.capacity() > MAX_KEPT_LEN {
        return;
    }
    v.clear();
    T::with_store(|s| {
        if s.len() < MAX_KEPT {
            s.push(v);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_and_large_ones_are_freed() {
        let mut v: Vec<f64> = take(10);
        v.extend([1.0, 2.0]);
        let at = v.as_ptr();
        give(v);
        let again: Vec<f64> = take(5);
        assert!(again.is_empty() && again.as_ptr() == at);
        give(again);
        let large: Vec<f64> = Vec::with_capacity(MAX_KEPT_LEN + 1);
        give(large);
        let kept = F64_BUFFERS.with(|s| s.borrow().len());
        assert_eq!(kept, 1);
    }
}
