//! A lossy, rate-capped link for `sync-faults --netns`: the terminal runs in
//! its own network namespace, joined to the host by a veth pair that carries
//! a 50 Mbit/s cap and random packet loss both ways.
//!
//! Loss and rate come from `tc netem` where the kernel has it; where it has
//! not (this workplace's kernels lack `sch_netem`), the rate is a `tbf`
//! qdisc and the loss an nftables rule dropping packets at random — the same
//! effect on TCP: retransmits, stalls, congestion-window collapse.
//!
//! Needs root, `ip` (iproute2), `tc` and, without netem, `nft` (nftables).
//! Everything made is removed when the [`LossyLink`] is dropped.

use std::net::Ipv4Addr;
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The host's end of the link.
pub const HOST_ADDR: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 1);
/// The terminal's end, inside the namespace.
pub const TERMINAL_ADDR: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 2);

/// How the loss is made, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shaping {
    /// `tc netem` on both ends of the veth pair: loss and rate in one qdisc.
    Netem,
    /// Where netem is missing: `tbf` rate caps and random loss from nftables.
    TbfAndNftables,
}

/// A network namespace joined to the host by a veth pair with loss and a rate
/// cap, for the terminal under test; needs root. Made by [`LossyLink::create`].
pub struct LossyLink {
    /// The namespace's name, for `ip netns exec`.
    pub namespace: String,
    host_if: String,
    /// How the loss is made.
    pub shaping: Shaping,
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program).args(args).output().with_context(|| format!("cannot run {program} (is it installed?)"))?;
    if !out.status.success() {
        bail!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn in_ns(ns: &str, program: &str, args: &[&str]) -> Result<()> {
    let mut all = vec!["netns", "exec", ns, program];
    all.extend_from_slice(args);
    run("ip", &all)
}

impl LossyLink {
    /// Makes the namespace and the shaped veth pair. `loss_percent` applies to
    /// each direction.
    pub fn create(loss_percent: f64, rate_mbit: u32) -> Result<LossyLink> {
        if !(0.0..50.0).contains(&loss_percent) {
            bail!("--loss-percent must be in 0..50");
        }
        let tag = std::process::id() % 100_000;
        let link = LossyLink { namespace: format!("cunban-sf-{tag}"), host_if: format!("cbsf{tag}h"), shaping: Shaping::Netem };
        let term_if = format!("cbsf{tag}t");
        run("ip", &["netns", "add", &link.namespace]).context("creating a network namespace (needs root)")?;
        // From here on, Drop cleans up whatever was made.
        let mut link = link;
        run("ip", &["link", "add", &link.host_if, "type", "veth", "peer", "name", &term_if])?;
        run("ip", &["link", "set", &term_if, "netns", &link.namespace])?;
        run("ip", &["addr", "add", &format!("{HOST_ADDR}/30"), "dev", &link.host_if])?;
        run("ip", &["link", "set", &link.host_if, "up"])?;
        in_ns(&link.namespace, "ip", &["addr", "add", &format!("{TERMINAL_ADDR}/30"), "dev", &term_if])?;
        in_ns(&link.namespace, "ip", &["link", "set", &term_if, "up"])?;
        in_ns(&link.namespace, "ip", &["link", "set", "lo", "up"])?;

        let rate = format!("{rate_mbit}mbit");
        let loss = format!("{loss_percent}%");
        let netem_host = run("tc", &["qdisc", "add", "dev", &link.host_if, "root", "netem", "loss", &loss, "rate", &rate]);
        if netem_host.is_ok() {
            in_ns(&link.namespace, "tc", &["qdisc", "add", "dev", &term_if, "root", "netem", "loss", &loss, "rate", &rate])?;
        } else {
            link.shaping = Shaping::TbfAndNftables;
            // Egress caps on both ends: one per direction.
            let tbf = ["root", "tbf", "rate", rate.as_str(), "burst", "64kb", "latency", "200ms"];
            run("tc", &[&["qdisc", "add", "dev", link.host_if.as_str()][..], &tbf[..]].concat())?;
            in_ns(&link.namespace, "tc", &[&["qdisc", "add", "dev", term_if.as_str()][..], &tbf[..]].concat())?;
            // Random loss in the namespace, on what leaves and what arrives.
            let per_mille = (loss_percent * 10.0).round() as u32;
            let rules = format!(
                "table inet lossy {{\n\
                 chain out {{ type filter hook output priority 0; oifname \"{term_if}\" numgen random mod 1000 < {per_mille} counter drop; }}\n\
                 chain inp {{ type filter hook input priority 0; iifname \"{term_if}\" numgen random mod 1000 < {per_mille} counter drop; }}\n\
                 }}\n"
            );
            let file = std::env::temp_dir().join(format!("{}.nft", link.namespace));
            std::fs::write(&file, rules)?;
            let applied = in_ns(&link.namespace, "nft", &["-f", &file.to_string_lossy()]);
            let _ = std::fs::remove_file(&file);
            applied.context("no netem in this kernel, and nftables could not drop packets instead")?;
        }
        Ok(link)
    }
}

impl LossyLink {
    /// Packets dropped so far by the nftables rules (None under netem, whose
    /// drops `tc -s qdisc` reports instead).
    pub fn dropped_packets(&self) -> Option<u64> {
        if self.shaping != Shaping::TbfAndNftables {
            return None;
        }
        let out = Command::new("ip").args(["netns", "exec", &self.namespace, "nft", "list", "table", "inet", "lossy"]).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        // "... counter packets 123 bytes 4567 drop"
        let words: Vec<&str> = text.split_whitespace().collect();
        Some(words.windows(2).filter(|w| w[0] == "packets").filter_map(|w| w[1].parse::<u64>().ok()).sum())
    }
}

impl Drop for LossyLink {
    fn drop(&mut self) {
        // Deleting the namespace deletes its veth end, and with it the pair.
        let _ = run("ip", &["netns", "del", &self.namespace]);
        let _ = run("ip", &["link", "del", &self.host_if]);
    }
}
