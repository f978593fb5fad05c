//! The prefork strategy of mpm.
