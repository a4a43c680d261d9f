//! Reverse-mode tape on ndarray (work in progress).
