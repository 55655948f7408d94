//! The workspace's only `unsafe` code: two system calls without a safe wrapper, each behind
//! a safe function that checks what the call needs.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;

/// Discards this process's resident pages of the mapping `[start, start + len)`
/// (MADV_DONTNEED).
///
/// Callers pass only private, non-writable file mappings without dirty or anonymous pages
/// (see [`crate::resident`]): discarding them drops copies of the file's content, which the
/// next access faults back in.
pub(crate) fn discard_clean_file_pages(start: usize, len: usize) -> io::Result<()> {
    // SAFETY: for such a mapping MADV_DONTNEED changes no byte any Rust object can observe;
    // a range that is not mapped fails with ENOMEM.
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
