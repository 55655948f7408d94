//! Living beside dockerd: accept rules for this root's bridges in Docker's `DOCKER-USER`
//! chain.
//!
//! dockerd sets the policy of iptables' `filter FORWARD` chain to DROP (and loads
//! `br_netfilter`, so that even traffic between two ports of one bridge passes that chain).
//! A packet must pass every base chain on the forward hook, so an accept in wharf's own table
//! cannot undo that drop: without a rule in Docker's chain, containers on wharf's networks
//! reach neither each other nor the outside, and published ports do not answer.
//!
//! Docker documents `DOCKER-USER` as the place for other software's rules: FORWARD jumps to
//! it first, and dockerd creates it when missing but never flushes it, so the rules stay
//! across dockerd restarts. For each of its bridges a root adds `-i BRIDGE -j ACCEPT` and
//! `-o BRIDGE -j ACCEPT`, with the comment `wharf:<table>` that tells its rules from another
//! root's and the user's. Filtering stays in wharf's own table (isolation between networks,
//! internal networks): an accept there ends only Docker's chain.
//!
//! The rules go through the host's `iptables` command, so that they land in the backend
//! (nf_tables or legacy) that dockerd itself uses. Without dockerd (no `DOCKER-USER` chain,
//! or no `iptables`) nothing is done. Netavark's iptables driver does the same in spirit (it
//! inserts a jump at the top of `FORWARD`); its nftables driver, like wharf's table alone,
//! is dropped by Docker's policy (containers/netavark#977). Writing to FORWARD itself would
//! be undone: dockerd moves its own jump back to the top at every start.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::process::{Command, Stdio};

use crate::error::NetError;
use crate::nft;
use crate::process::run_with_input;

const CHAIN: &str = "DOCKER-USER";

/// Makes this root's rules in `DOCKER-USER` accept exactly `bridges`, given the chain's
/// `listing` from [`list_chain`] (nothing to do without the chain).
pub(crate) fn sync(listing: Option<String>, table: &str, bridges: &[&str]) -> Result<(), NetError> {
    let Some(listing) = listing else {
        return Ok(());
    };
    let mark = mark(table);
    let present = our_rules(&listing, &mark);
    let wanted: BTreeSet<Rule> = bridges
        .iter()
        .flat_map(|bridge| {
            [Direction::In, Direction::Out].map(|direction| Rule {
                direction,
                bridge: (*bridge).to_owned(),
            })
        })
        .collect();
    let script = changes(&present, &wanted, &mark);
    if script.is_empty() {
        return Ok(());
    }
    let script = format!("*filter\n{script}COMMIT\n");
    let output = run_with_input("iptables-restore", &["-w", "--noflush"], &script)?;
    if !output.status.success() {
        return Err(NetError::DockerUser {
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(())
}

/// The `iptables-restore` lines that turn the rules `present` into `wanted`. Only what
/// differs changes: a change that deletes rules makes the machine's next netfilter change
/// wait (see [`crate::nft::apply`]). A rule listed twice goes once.
fn changes(present: &[Rule], wanted: &BTreeSet<Rule>, mark: &str) -> String {
    let mut seen = BTreeSet::new();
    let mut lines = String::new();
    for rule in present {
        if !wanted.contains(rule) || !seen.insert(rule) {
            lines.push_str(&rule.line("-D", mark));
        }
    }
    for rule in wanted.difference(&present.iter().cloned().collect()) {
        lines.push_str(&rule.line("-I", mark));
    }
    lines
}

/// `iptables -S DOCKER-USER`, or `None` where there is no such chain (dockerd has not run
/// since boot, or runs with `--iptables=false`) or no `iptables` at all. Asked before an
/// nft change, not after: a netfilter socket closed after one that deleted rules waits
/// until the kernel has freed them (see [`crate::nft::apply`]).
pub(crate) fn list_chain() -> Result<Option<String>, NetError> {
    if !chain_may_exist() {
        return Ok(None);
    }
    let output = match Command::new("iptables")
        .args(["-w", "-t", "filter", "-S", CHAIN])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    {
        Ok(output) => output,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(crate::error::io_error("run", "iptables")(error)),
    };
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// Whether `DOCKER-USER` may exist, asked without running a program (a connect asks at
/// every container start; `iptables` takes 1-3 ms): nf_tables is asked for the chain in
/// table `ip filter` (where iptables-nft keeps it); where it has none, a loaded legacy
/// `filter` table (`/proc/net/ip_tables_names`) may hold it. When in doubt, yes.
fn chain_may_exist() -> bool {
    match nft::exists(nft::Object::Chain, "filter", CHAIN) {
        Ok(true) | Err(_) => true,
        Ok(false) => fs::read_to_string("/proc/net/ip_tables_names")
            .is_ok_and(|tables| tables.lines().any(|table| table == "filter")),
    }
}

fn mark(table: &str) -> String {
    format!("wharf:{table}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    In,
    Out,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rule {
    direction: Direction,
    bridge: String,
}

impl Rule {
    /// The rule as an `iptables-restore` line with `verb` (`-I` or `-D`).
    fn line(&self, verb: &str, mark: &str) -> String {
        let flag = match self.direction {
            Direction::In => "-i",
            Direction::Out => "-o",
        };
        format!(
            "{verb} {CHAIN} {flag} {} -m comment --comment \"{mark}\" -j ACCEPT\n",
            self.bridge
        )
    }
}

/// The rules of `listing` (as `iptables -S` prints them) that carry `mark`.
fn our_rules(listing: &str, mark: &str) -> Vec<Rule> {
    let quoted = format!("--comment \"{mark}\"");
    let bare = format!("--comment {mark}");
    listing
        .lines()
        .filter(|line| line.starts_with(&format!("-A {CHAIN} ")))
        .filter(|line| {
            line.split_once(&quoted)
                .or_else(|| line.split_once(&bare))
                .is_some_and(|(_, rest)| rest.is_empty() || rest.starts_with(' '))
        })
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.windows(2).find_map(|pair| {
                let direction = match pair[0] {
                    "-i" => Direction::In,
                    "-o" => Direction::Out,
                    _ => return None,
                };
                Some(Rule {
                    direction,
                    bridge: pair[1].to_owned(),
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: &str = "-N DOCKER-USER
-A DOCKER-USER -o wh-1 -m comment --comment \"wharf:wharf\" -j ACCEPT
-A DOCKER-USER -i wh-1 -m comment --comment \"wharf:wharf\" -j ACCEPT
-A DOCKER-USER -i wharf-abc -m comment --comment \"wharf:wharf_abc\" -j ACCEPT
-A DOCKER-USER -i eth9 -m comment --comment \"wharf:wharfish\" -j ACCEPT
-A DOCKER-USER -i eth1 -j ACCEPT
-A DOCKER-USER -j RETURN
";

    #[test]
    fn finds_only_the_rules_of_its_own_root() {
        let ours = our_rules(LISTING, &mark("wharf"));
        assert_eq!(
            ours,
            [
                Rule {
                    direction: Direction::Out,
                    bridge: "wh-1".into()
                },
                Rule {
                    direction: Direction::In,
                    bridge: "wh-1".into()
                },
            ]
        );
        assert_eq!(our_rules(LISTING, &mark("wharf_abc")).len(), 1);
        assert!(our_rules(LISTING, &mark("wharf_zzz")).is_empty());
    }

    #[test]
    fn changes_only_what_differs() {
        let rule = |direction, bridge: &str| Rule {
            direction,
            bridge: bridge.into(),
        };
        let mark = mark("wharf");
        let present = [
            rule(Direction::In, "wh-1"),
            rule(Direction::Out, "wh-1"),
            rule(Direction::In, "wh-1"),
            rule(Direction::In, "wh-2"),
        ];
        let wanted = BTreeSet::from([
            rule(Direction::In, "wh-1"),
            rule(Direction::Out, "wh-1"),
            rule(Direction::In, "wh-3"),
        ]);
        assert_eq!(
            changes(&present, &wanted, &mark),
            "-D DOCKER-USER -i wh-1 -m comment --comment \"wharf:wharf\" -j ACCEPT\n\
             -D DOCKER-USER -i wh-2 -m comment --comment \"wharf:wharf\" -j ACCEPT\n\
             -I DOCKER-USER -i wh-3 -m comment --comment \"wharf:wharf\" -j ACCEPT\n"
        );
        let same = BTreeSet::from([rule(Direction::In, "wh-1"), rule(Direction::Out, "wh-1")]);
        assert_eq!(changes(&present[..2], &same, &mark), "");
    }

    #[test]
    fn a_rule_is_one_line_iptables_restore_reads() {
        let rule = Rule {
            direction: Direction::Out,
            bridge: "wharf0".into(),
        };
        assert_eq!(
            rule.line("-I", &mark("wharf")),
            "-I DOCKER-USER -o wharf0 -m comment --comment \"wharf:wharf\" -j ACCEPT\n"
        );
    }
}
