//! Every system call that needs `unsafe` lives under this module (fork, mmap, signal
//! handlers, setuid, prctl); the rest of the crate uses only the safe wrappers here.

pub mod shm;
