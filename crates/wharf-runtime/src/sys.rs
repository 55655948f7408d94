//! The workspace's only `unsafe` code: two system calls without a safe wrapper, each behind
//! a safe function that checks what the call needs, or takes a value that proves it.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;

use crate::resident::CleanFileMapping;

/// Discards this process's resident pages of `mapping` (MADV_DONTNEED): copies of a file's
/// content, which the next access faults back in.
pub(crate) fn discard_clean_file_pages(mapping: &CleanFileMapping) -> io::Result<()> {
    let (start, len) = mapping.range();
    // SAFETY: a CleanFileMapping is a private, non-writable file mapping without dirty or
    // anonymous pages, as /proc/self/smaps listed it (resident.rs makes them, nothing else):
    // MADV_DONTNEED changes no byte any Rust object can observe there. The callers are
    // single-threaded monitors, so nothing maps over the range in between; a range that is
    // no longer mapped fails with ENOMEM.
    unsafe { rustix::mm::madvise(start as *mut c_void, len, rustix::mm::Advice::LinuxDontNeed) }
        .map_err(io::Error::from)
}

/// One instruction of a classic BPF program.
pub(crate) use libc::sock_filter as BpfInstruction;

/// Installs `program` as a seccomp filter on the calling thread (`PR_SET_SECCOMP`, mode
/// filter). Needs no_new_privs or CAP_SYS_ADMIN, as the kernel checks.
pub(crate) fn install_seccomp_filter(program: &[BpfInstruction]) -> io::Result<()> {
    let len = u16::try_from(program.len())
        .ok()
        .filter(|&len| len > 0)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let fprog = libc::sock_fprog {
        len,
        // The kernel only reads through it.
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `fprog` points at `len` initialised instructions with the kernel's layout,
    // alive for the call; the kernel copies the program and keeps no pointer to it.
    let ret = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &fprog as *const libc::sock_fprog,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
