//! The province's deployment files (hub/deploy/) are the ones checked: the
//! instance unit verifies and is confined (systemd's own exposure score),
//! the nginx site passes `nginx -t` with a real certificate, and the hub's
//! .deb holds them with the binary. Each fails when its tool is missing
//! (./dev test installs systemd, nginx-light, openssl and cargo-deb).

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
    let nginx = testkit::nginx::binary().unwrap(); // fails naming nginx-light when missing
    let (ok, log) = run(Command::new(&nginx).arg("-t").arg("-p").arg(d).arg("-c").arg(d.join("nginx.conf")), "nginx");
    assert!(ok && log.contains("test is successful"), "nginx -t:\n{log}");
}

/// `./dev package` makes the hub's .deb too; here from the debug binary this
/// test run built (`--no-build --profile dev`), so it costs seconds.
#[test]
fn the_hub_package_holds_the_binary_the_unit_and_the_nginx_site() {
    let profile_dir = PathBuf::from(env!("CARGO_BIN_EXE_hub")).parent().unwrap().to_owned();
    let target_dir = profile_dir.parent().unwrap().to_owned();
    let (has_deb, _) = run(Command::new("cargo").args(["deb", "--version"]), "cargo");
    assert!(has_deb, "cargo-deb is missing: ./dev test installs it (cargo install cargo-deb --locked --version 3.8.0)");
    let out = tempfile::tempdir().unwrap();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let (ok, log) = run(
        Command::new("cargo")
            .current_dir(workspace)
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["deb", "-p", "hub", "--no-build", "--profile", "dev", "--fast", "--no-strip", "-o"])
            .arg(out.path()),
        "cargo-deb",
    );
    assert!(ok, "cargo deb failed:\n{log}");
    let deb = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "deb")).expect("a .deb");
    let (ok, control) = run(Command::new("dpkg-deb").arg("-f").arg(&deb), "dpkg-deb");
    assert!(ok && control.contains("Package: cunban-hub"), "{control}");
    let (ok, listing) = run(Command::new("dpkg-deb").arg("-c").arg(&deb), "dpkg-deb");
    assert!(ok, "{listing}");
    for path in [
        "./usr/bin/hub",
        "./usr/lib/systemd/system/cunban-hub@.service",
        "./usr/share/cunban-hub/nginx-cunban-hub.conf",
        "./usr/share/cunban-hub/hub.env.example",
        "./usr/share/doc/cunban-hub/README.md",
    ] {
        assert!(listing.lines().any(|l| l.ends_with(path)), "{path} missing from the package:\n{listing}");
    }
    // Root-owned, nothing group- or world-writable.
    for line in listing.lines() {
        let mode = line.split_whitespace().next().unwrap_or_default();
        assert!(line.split_whitespace().nth(1) == Some("0/0") && mode.as_bytes().get(5) != Some(&b'w') && mode.as_bytes().get(8) != Some(&b'w'), "{line}");
    }
}
