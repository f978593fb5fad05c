//! The event strategy of mpm.
