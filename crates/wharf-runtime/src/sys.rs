//! The workspace's only `unsafe` code: system calls without a safe wrapper, each behind
//! a safe function that checks what the call needs, or takes a value that proves it, or (the
//! fork) states what its caller must not do.
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

/// Runs `work` in a child process, a fork of this one, and returns the child's pid without
/// waiting for it (nor reaping it: it stays a zombie until this process exits, then its new
/// parent, the nearest subreaper or init, reaps it). The child first closes every file
/// descriptor and opens `/dev/null` as 0, 1 and 2, so that it keeps no pipe, lock or
/// terminal of this process open while it works; takes `title` as its command line and name
/// (what `ps` shows: it is not another copy of this process); and exits when `work` returns.
///
/// `work` must use only descriptors it opens itself. Its bound, `Copy + 'static`, keeps it
/// from capturing an owned one (`File` and `OwnedFd` are not `Copy`), not from reaching one
/// through a static or a `BorrowedFd<'static>`: one numbered above 2 would be closed, or
/// another file that `work` opened. Refused (`Unsupported`) in a process with more than one
/// thread: locks other threads hold would stay locked in the child.
pub fn fork_detached<F: FnOnce() + Copy + 'static>(title: &str, work: F) -> io::Result<i32> {
    if thread_count()? != 1 {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a process with more than one thread cannot fork safely",
        ));
    }
    let title = title.as_bytes();
    // SAFETY: this process has one thread (no other can start meanwhile: only this one
    // could start it), so the child's copy of the heap and of every lock is consistent. The
    // child leaves by `_exit`: it never returns into the caller's frames, nor runs exit
    // handlers or destructors of this process's objects (which would flush or close what
    // the parent still uses).
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => unsafe {
            // Could not close them (a kernel before 5.9): keep nothing of the parent's open
            // for long, and do nothing; the caller must cope with work not done.
            if libc::close_range(0, libc::c_uint::MAX, 0) != 0 {
                libc::_exit(1);
            }
            for _ in 0..3 {
                if libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) < 0 {
                    libc::_exit(1);
                }
            }
            let mut name = [0u8; 16];
            let short = title.len().min(name.len() - 1);
            name[..short].copy_from_slice(&title[..short]);
            libc::prctl(libc::PR_SET_NAME, name.as_ptr());
            if let Ok((start, end)) = command_line_range() {
                let len = end.saturating_sub(start);
                let kept = title.len().min(len.saturating_sub(1));
                // SAFETY: [start, end) holds the strings of this process's argv, on its
                // initial stack, which the kernel reads for /proc/PID/cmdline. The only Rust
                // object that points there is std's copy of argv, which `env::args` reads
                // as NUL-terminated strings: they stay NUL-terminated. This process has one
                // thread.
                let argv = std::slice::from_raw_parts_mut(start as *mut u8, len);
                argv[..kept].copy_from_slice(&title[..kept]);
                argv[kept..].fill(0);
            }
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            libc::_exit(0)
        },
        pid => Ok(pid),
    }
}

/// Where this process's argv strings lie (`arg_start` and `arg_end` of /proc/self/stat).
fn command_line_range() -> io::Result<(usize, usize)> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields 48 and 49, counted from the 3rd, which follows the parenthesised command name.
    let mut fields = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .skip(48 - 3)
        .map(str::parse::<usize>);
    match (fields.next(), fields.next()) {
        (Some(Ok(start)), Some(Ok(end))) if start < end => Ok((start, end)),
        _ => Err(io::Error::other("/proc/self/stat has no argument range")),
    }
}

/// The number of threads of this process (`Threads:` of /proc/self/status).
fn thread_count() -> io::Result<usize> {
    let path = "/proc/self/status";
    let status = std::fs::read_to_string(path)?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|count| count.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("{path} has no Threads: line")))
}

/// The listening socket systemd passed to this process by socket activation (sd_listen_fds(3):
/// `LISTEN_PID` is this process, `LISTEN_FDS` at least 1, the first at descriptor 3), taken
/// once: the variables are removed, so that children do not take it too. `None` without
/// activation, or when descriptor 3 is not a socket. Call before any thread starts (the
/// environment changes).
pub fn take_activation_socket() -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    const SD_LISTEN_FDS_START: i32 = 3;
    let pid: u32 = std::env::var("LISTEN_PID").ok()?.trim().parse().ok()?;
    let count: u32 = std::env::var("LISTEN_FDS").ok()?.trim().parse().ok()?;
    if pid != std::process::id() || count == 0 {
        return None;
    }
    for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        std::env::remove_var(name);
    }
    // What descriptor 3 is, without touching it: /proc names a socket `socket:[inode]`.
    let target = std::fs::read_link(format!("/proc/self/fd/{SD_LISTEN_FDS_START}")).ok()?;
    if !target.to_string_lossy().starts_with("socket:") {
        return None;
    }
    // SAFETY: descriptor 3 is open and a socket (just read), passed to this process (its pid
    // in LISTEN_PID) for it to own by the protocol; the variables naming it are gone, so
    // nothing else in this process takes it.
    let socket = unsafe { std::os::fd::OwnedFd::from_raw_fd(SD_LISTEN_FDS_START) };
    rustix::io::fcntl_setfd(&socket, rustix::io::FdFlags::CLOEXEC).ok()?;
    Some(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_with_threads_does_not_fork() {
        let (stop, parked) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || parked.recv());
        let refused = fork_detached("wharf: never", || {}).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::Unsupported);
        stop.send(()).unwrap();
        thread.join().unwrap().unwrap();
    }
}
