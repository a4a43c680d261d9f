//! train (work in progress).
