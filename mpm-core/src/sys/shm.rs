//! Anonymous shared memory (`mmap(MAP_SHARED | MAP_ANONYMOUS)`) with safe, typed access.
//!
//! A [`SharedMemory`] is created by the master before it forks; children inherit the
//! mapping, so every process sees the same bytes. The memory is zero-filled by the kernel and
//! is only ever accessed through records made of atomics (see [`ShmRecord`]), so concurrent
//! access from several processes and threads is data-race free without locks.
//!
//! Clones share one mapping (an `Arc` inside); it is unmapped when the last clone in a
//! process is dropped. A forked child holds its own copy of the `Arc` (the whole address
//! space is copied), so dropping it in the child unmaps only the child's view.

use std::io;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;
use std::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
};
use std::sync::Arc;

/// A type that may be viewed in place inside a [`SharedMemory`] mapping.
///
/// # Safety
///
/// Implementors promise that:
/// * every bit pattern of all-zero bytes is a valid value of the type;
/// * every byte of the type that is ever read is read through an atomic (the type is
///   made only of atomics, arrays of atomics, and other `ShmRecord` types, laid out with
///   `#[repr(C)]`), so that concurrent writes from other processes are never data races;
/// * the type has no `Drop` glue and owns no pointers (it lives in memory that is shared
///   with other address spaces).
///
/// Do not implement this by hand for structs: use the crate-internal `shm_record!` macro,
/// which checks every field at compile time.
pub unsafe trait ShmRecord: Sync + Sized {}

macro_rules! impl_shm_record_for_atomics {
    ($($t:ty),* $(,)?) => {
        $(
            // SAFETY: an atomic integer/bool is valid when all-zero (0 / false), is only
            // accessed atomically, is address-free (lock-free on every supported target) and
            // has no drop glue.
            unsafe impl ShmRecord for $t {}
        )*
    };
}

impl_shm_record_for_atomics!(
    AtomicBool,
    AtomicU8,
    AtomicU16,
    AtomicU32,
    AtomicU64,
    AtomicI32,
    AtomicI64,
    AtomicUsize,
);

// SAFETY: an array of `ShmRecord`s is all-zero valid and atomic-only element by element,
// with no padding between elements and no drop glue.
unsafe impl<T: ShmRecord, const N: usize> ShmRecord for [T; N] {}

/// Declare a `#[repr(C)]` struct whose fields are all [`ShmRecord`]s and implement
/// [`ShmRecord`] for it. Every field type is checked at compile time, which is what makes the
/// implementation sound. Extra attributes (docs, `#[repr(align(N))]`) are passed through.
macro_rules! shm_record {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $fty ),*
        }

        const _: () = {
            fn assert_shm_record<T: $crate::sys::shm::ShmRecord>() {}
            #[allow(dead_code)]
            fn check_fields() {
                $( assert_shm_record::<$fty>(); )*
            }
        };

        // SAFETY: the struct is `#[repr(C)]` and every field is itself a `ShmRecord`
        // (checked by `check_fields` above), so all-zero bytes are valid, every read goes
        // through an atomic, and there is no drop glue; padding bytes are never read.
        unsafe impl $crate::sys::shm::ShmRecord for $name {}
    };
}
pub(crate) use shm_record;

/// The mapping itself; unmapped on drop.
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory that is only accessed through `ShmRecord` types, i.e.
// through atomics, so sharing or sending the owner across threads cannot cause data races.
unsafe impl Send for Mapping {}
// SAFETY: see `Send` above; `&Mapping` only hands out `&T` where `T: ShmRecord` (atomics).
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what `mmap` returned and this is the last owner in
        // this process (the `Arc` is dropping it); no `&T` borrowed from it can outlive the
        // `SharedMemory` it came from, so nothing refers to the range any more.
        let rc = unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
        debug_assert_eq!(rc, 0, "munmap failed: {}", io::Error::last_os_error());
    }
}

/// An anonymous shared (`MAP_SHARED`) zero-filled mapping, inherited across `fork`.
#[derive(Clone)]
pub struct SharedMemory {
    inner: Arc<Mapping>,
}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory")
            .field("ptr", &self.inner.ptr)
            .field("len", &self.inner.len)
            .finish()
    }
}

impl SharedMemory {
    /// Map `len` bytes (rounded up by the kernel to whole pages) of zero-filled anonymous
    /// shared memory. `len == 0` is an `InvalidInput` error.
    pub fn anonymous(len: usize) -> io::Result<SharedMemory> {
        if len == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "shared memory of zero bytes",
            ));
        }
        // SAFETY: a fresh anonymous mapping with a null hint cannot alias any existing Rust
        // object; the arguments are valid constants and the result is checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null mapping"))?;
        Ok(SharedMemory {
            inner: Arc::new(Mapping { ptr, len }),
        })
    }

    /// The size of the mapping in bytes, as requested.
    pub fn len(&self) -> usize {
        self.inner.len
    }

    /// The record of type `T` at byte `offset`, or `None` when it would not lie wholly
    /// inside the mapping or `offset` is not aligned for `T`.
    pub fn try_record<T: ShmRecord>(&self, offset: usize) -> Option<&T> {
        let end = offset.checked_add(size_of::<T>())?;
        if end > self.inner.len {
            return None;
        }
        let addr = (self.inner.ptr.as_ptr() as usize).checked_add(offset)?;
        if addr % align_of::<T>() != 0 {
            return None;
        }
        // SAFETY: `offset..offset+size_of::<T>()` lies inside the live mapping (checked
        // above) and is aligned for `T`. The mapping is zero-initialised by the kernel and
        // `T: ShmRecord` is valid for all-zero bytes and for any bytes written through
        // other `ShmRecord` views (only atomics are ever written). All access is atomic, so
        // shared `&T`s from any number of threads/processes cannot race. The returned
        // reference borrows `self`, which keeps the mapping alive.
        Some(unsafe { &*self.inner.ptr.as_ptr().add(offset).cast::<T>() })
    }

    /// The record of type `T` at byte `offset`.
    ///
    /// # Panics
    ///
    /// When the record would not lie wholly inside the mapping or `offset` is misaligned
    /// for `T` — a programming error in the caller's layout computation.
    pub fn record<T: ShmRecord>(&self, offset: usize) -> &T {
        match self.try_record(offset) {
            Some(r) => r,
            None => panic!(
                "shared memory record of {} bytes (align {}) at offset {} does not fit a \
                 mapping of {} bytes",
                size_of::<T>(),
                align_of::<T>(),
                offset,
                self.inner.len
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Relaxed;

    shm_record! {
        /// A test record.
        struct Pair {
            a: AtomicU32,
            b: [AtomicU64; 2],
        }
    }

    #[test]
    fn zeroed_and_shared_between_clones() {
        let shm = SharedMemory::anonymous(4096).unwrap();
        let other = shm.clone();
        let p: &Pair = shm.record(8);
        assert_eq!(p.a.load(Relaxed), 0);
        assert_eq!(p.b[1].load(Relaxed), 0);
        p.b[1].store(7, Relaxed);
        drop(shm);
        assert_eq!(other.record::<Pair>(8).b[1].load(Relaxed), 7);
    }

    #[test]
    fn bounds_and_alignment_checked() {
        let shm = SharedMemory::anonymous(64).unwrap();
        assert!(shm.try_record::<Pair>(0).is_some());
        assert!(shm.try_record::<Pair>(4).is_none()); // misaligned
        assert!(shm.try_record::<Pair>(48).is_none()); // past the end
        assert!(shm.try_record::<Pair>(usize::MAX - 2).is_none()); // overflow
        assert!(SharedMemory::anonymous(0).is_err());
    }

    #[test]
    #[should_panic(expected = "does not fit")]
    fn record_panics_out_of_bounds() {
        let shm = SharedMemory::anonymous(16).unwrap();
        let _ = shm.record::<Pair>(8);
    }
}
