//! The worker strategy of mpm.
