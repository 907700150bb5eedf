//! The province's deployment files (hub/deploy/) are the ones checked: the
//! instance unit verifies and is confined (systemd's own exposure score),
//! and the nginx site passes `nginx -t` with a real certificate. Both fail
//! when the tool is missing (./dev test installs systemd, nginx-light and
//! openssl).

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(file)
}

fn run(cmd: &mut Command, what: &str) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what} is missing ({e}): ./dev test installs it (TEST_PACKAGES)"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The template as instance 8081, running the hub built for these tests.
fn instance_unit(dir: &Path) -> PathBuf {
    let unit = std::fs::read_to_string(deploy("cunban-hub@.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/bin/hub "), "{unit}");
    let path = dir.join("cunban-hub@8081.service");
    std::fs::write(&path, unit.replace("ExecStart=/usr/bin/hub ", &format!("ExecStart={} ", env!("CARGO_BIN_EXE_hub")))).unwrap();
    path
}

#[test]
fn the_hub_instance_unit_verifies_and_is_confined() {
    let dir = tempfile::tempdir().unwrap();
    let unit = instance_unit(dir.path());
    let (ok, log) = run(Command::new("systemd-analyze").arg("verify").arg(&unit), "systemd-analyze");
    assert!(ok && !log.contains("Unknown key") && !log.contains("Unknown lvalue"), "systemd-analyze verify:\n{log}");
    let (_, report) = run(Command::new("systemd-analyze").args(["security", "--offline=true", "--no-pager"]).arg(&unit), "systemd-analyze");
    let figure: f64 = report
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .and_then(|l| l.rsplit_once(": "))
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|f| f.parse().ok())
        .unwrap_or_else(|| panic!("no exposure figure in:\n{report}"));
    println!("systemd-analyze security --offline=true cunban-hub@8081.service: {figure:.1}");
    assert!(figure < 2.0, "the hub instance is less confined than it was written (exposure {figure}):\n{report}");
}

#[test]
fn the_nginx_site_passes_nginx_t_with_a_real_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, log) = run(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=hub.example.gov.cn"])
            .arg("-keyout")
            .arg(d.join("hub.key"))
            .arg("-out")
            .arg(d.join("hub.crt")),
        "openssl",
    );
    assert!(ok, "openssl req:\n{log}");
    // The shipped site as it is, but for where the certificate lies.
    let site = std::fs::read_to_string(deploy("nginx-cunban-hub.conf")).unwrap();
    assert!(site.contains("/etc/cunban/tls/hub.crt") && site.contains("/etc/cunban/tls/hub.key"), "{site}");
    let site = site.replace("/etc/cunban/tls/", &format!("{}/", d.display()));
    std::fs::write(d.join("site.conf"), site).unwrap();
    // The http {} around it that Debian's nginx.conf gives, with temp paths here.
    let main = format!(
        "pid {d}/nginx.pid; error_log {d}/error.log;\nevents {{}}\nhttp {{\n  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n",
        d = d.display()
    );
    std::fs::write(d.join("nginx.conf"), main).unwrap();
    let nginx = ["/usr/sbin/nginx", "nginx"].into_iter().find(|n| Command::new(n).arg("-v").output().is_ok()).unwrap_or("nginx");
    let (ok, log) = run(Command::new(nginx).arg("-t").arg("-p").arg(d).arg("-c").arg(d.join("nginx.conf")), "nginx");
    assert!(ok && log.contains("test is successful"), "nginx -t:\n{log}");
}
