//! gradcheck (work in progress).
