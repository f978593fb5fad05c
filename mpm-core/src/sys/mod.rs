//! Every system call that needs `unsafe` lives under this module (fork, mmap, signal
//! handlers, descriptors); the rest of the crate uses only the safe wrappers here.

pub mod fd;
pub mod privileges;
pub mod process;
pub mod recv;
pub mod rlimit;
pub mod shm;
pub mod signal;
