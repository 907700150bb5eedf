//! Read-only root (issue 19): the kiosk's whole filing journey (card read,
//! form, sealed filing in the outbox, sent to the hub, receipt printed) runs
//! in a mount namespace where every file system is read-only except one
//! data directory: what `ProtectSystem=strict` with
//! `ReadWritePaths=/var/lib/cunban` gives the unit. /dev, /proc and /sys
//! keep their own rules, as under systemd (the card simulator's pty lives
//! in /dev/pts). The journey is `journey::files_online_and_the_receipt_carries_the_case_number`,
//! run by this same test binary inside the namespace.
//!
//! Needs `unshare` and `mount` (util-linux, mount; TEST_PACKAGES) and the
//! right to make a mount namespace (root, or unprivileged user namespaces);
//! without them it fails and says why.

use std::process::Command;

const JOURNEY: &str = "journey::files_online_and_the_receipt_carries_the_case_number";

/// ProtectSystem=strict, ReadWritePaths=$DATA, then the journey.
const SCRIPT: &str = r#"
set -e
for m in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do
    case "$m" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/*) continue ;; esac
    mount -o remount,bind,ro "$m" 2>/dev/null || true
done
mount --bind "$DATA" "$DATA"
mount -o remount,bind,rw "$DATA"
for p in / /tmp /etc /var /usr /root "$EXE_DIR" "$WORKSPACE"; do
    if touch "$p/.cunban-rw-probe" 2>/dev/null; then
        rm -f "$p/.cunban-rw-probe"
        echo "still writable: $p"
        exit 97
    fi
done
touch "$DATA/.cunban-rw-probe"
echo "read-only except $DATA"
TMPDIR="$DATA" exec "$EXE" "$JOURNEY" --exact --nocapture --test-threads=1
"#;

#[test]
fn the_kiosk_files_with_only_its_data_directory_writable() {
    let exe = std::env::current_exe().unwrap();
    let data = tempfile::tempdir().unwrap();
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    let mut cmd = Command::new("unshare");
    if !root {
        cmd.arg("--map-root-user");
    }
    cmd.args(["--mount", "--propagation", "private", "sh", "-c", SCRIPT])
        .env("DATA", data.path())
        .env("EXE", &exe)
        .env("EXE_DIR", exe.parent().unwrap())
        .env("WORKSPACE", workspace)
        .env("JOURNEY", JOURNEY);
    let out = cmd.output().expect("unshare is missing: ./dev test installs util-linux (TEST_PACKAGES)");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(log.contains("read-only except"), "could not make the root read-only here (needs a mount namespace):\n{log}");
    assert!(out.status.success(), "the journey failed with only the data directory writable:\n{log}");
    assert!(log.contains(&format!("test {JOURNEY} ... ok")) && log.contains("1 passed"), "{log}");
    // What it wrote is in the data directory (the journey's own tempdir is gone with it; the probe stays).
    assert!(data.path().join(".cunban-rw-probe").exists());
}
