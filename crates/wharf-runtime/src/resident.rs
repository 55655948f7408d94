//! A monitor lives as long as its container: after setup it gives back the pages that setup
//! touched and will not touch again.

/// Drops this process's resident pages of clean, read-only, private file mappings: the code
/// and constants that creating and starting the container ran through. Nothing is lost: such
/// a page is read back from the page cache if it is used again. Writable mappings, and
/// mappings with any dirty or anonymous page (relocated constants), are left alone. Best
/// effort: a failure leaves the pages resident.
pub fn release_clean_file_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for mapping in clean_file_mappings(&smaps) {
        let _ = crate::sys::discard_clean_file_pages(&mapping);
    }
}

/// A mapping that [`clean_file_mappings`] found private, not writable, backed by a file and
/// without dirty or anonymous pages: only that function makes one, which is what makes
/// discarding its pages ([`crate::sys::discard_clean_file_pages`]) safe.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct CleanFileMapping {
    start: usize,
    len: usize,
}

impl CleanFileMapping {
    /// (start address, length in bytes).
    pub(crate) fn range(&self) -> (usize, usize) {
        (self.start, self.len)
    }
}

/// The mappings in `smaps` (the format of /proc/PID/smaps) that are private, not writable,
/// backed by a file, resident, and have no dirty or anonymous page.
fn clean_file_mappings(smaps: &str) -> Vec<CleanFileMapping> {
    let mut found = Vec::new();
    let mut current: Option<(usize, usize)> = None;
    let mut resident = false;
    let mut clean = true;
    let mut finish = |current: Option<(usize, usize)>, resident: bool, clean: bool| {
        if let (Some((start, len)), true, true) = (current, resident, clean) {
            found.push(CleanFileMapping { start, len });
        }
    };
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-') {
            // A mapping header: "start-end perms offset dev inode [path]".
            finish(current.take(), resident, clean);
            let perms = fields.next().unwrap_or_default().as_bytes();
            let inode = fields.nth(2).unwrap_or("0");
            let path = fields.next().unwrap_or_default();
            let eligible = perms.len() == 4
                && perms[1] != b'w'
                && perms[3] == b'p'
                && inode != "0"
                && path.starts_with('/');
            let range = usize::from_str_radix(start, 16)
                .ok()
                .zip(usize::from_str_radix(end, 16).ok())
                .filter(|(start, end)| end > start);
            current = range
                .filter(|_| eligible)
                .map(|(start, end)| (start, end - start));
            resident = false;
            clean = true;
            continue;
        }
        let kilobytes = fields
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        match first {
            "Rss:" => resident = kilobytes > 0,
            "Private_Dirty:" | "Shared_Dirty:" | "Anonymous:" if kilobytes > 0 => clean = false,
            _ => {}
        }
    }
    finish(current, resident, clean);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_read_only_file_mappings_are_chosen() {
        let smaps = "\
55d000000000-55d000002000 r--p 00000000 fd:01 42 /usr/bin/wharf
Rss:                   8 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
55d000002000-55d000010000 r-xp 00002000 fd:01 42 /usr/bin/wharf
Rss:                  40 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
55d000010000-55d000011000 r--p 00010000 fd:01 42 /usr/bin/wharf
Rss:                   4 kB
Private_Dirty:         4 kB
Anonymous:             4 kB
55d000011000-55d000012000 rw-p 00011000 fd:01 42 /usr/bin/wharf
Rss:                   4 kB
Private_Dirty:         4 kB
55d000020000-55d000030000 r--p 00000000 fd:01 43 /usr/lib/libc.so.6
Rss:                   0 kB
7f0000000000-7f0000001000 r--p 00000000 00:00 0
Rss:                   4 kB
Private_Dirty:         0 kB
7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0 [vdso]
Rss:                   4 kB
";
        let ranges: Vec<(usize, usize)> = clean_file_mappings(smaps)
            .iter()
            .map(CleanFileMapping::range)
            .collect();
        assert_eq!(
            ranges,
            [(0x55d000000000, 0x2000), (0x55d000002000, 0xe000)],
            "not the relocated constants, the data, a mapping with nothing resident, anonymous memory or the vdso"
        );
    }

    #[test]
    fn the_process_keeps_running_after_its_code_pages_are_dropped() {
        let before: Vec<u64> = (0..1000).map(|n| n * 3).collect();
        release_clean_file_pages();
        let after: Vec<u64> = (0..1000).map(|n| n * 3).collect();
        assert_eq!(before, after);
        assert!(
            !clean_file_mappings(&std::fs::read_to_string("/proc/self/smaps").unwrap()).is_empty()
        );
    }
}
