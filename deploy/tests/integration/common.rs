//! What the deploy tests share: running the kioskctl binary.

use std::process::{Command, Stdio};

/// Runs kioskctl with `args`: (exit code, stdout, stderr).
pub fn kioskctl(args: &[&str]) -> (i32, String, String) {
    kioskctl_with_stdin(args, "")
}

/// Runs kioskctl with `args`, writing `stdin` to it (PINs are read there).
pub fn kioskctl_with_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kioskctl");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}
