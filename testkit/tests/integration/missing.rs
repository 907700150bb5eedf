//! A missing tool is an error that says what to install.

#[test]
fn no_postgresql_names_the_debian_package() {
    let empty = tempfile::tempdir().unwrap();
    let e = testkit::pg::bin_dir_in(empty.path()).unwrap_err().to_string();
    assert!(e.contains("PostgreSQL is not installed") && e.contains("`postgresql`"), "{e}");
}

#[test]
fn no_nginx_names_the_debian_package() {
    let e = testkit::nginx::binary_among(&["/nonexistent/nginx"]).unwrap_err().to_string();
    assert!(e.contains("nginx is not installed") && e.contains("nginx-light"), "{e}");
}

#[test]
fn no_garage_says_how_to_install_it() {
    let e = testkit::garage::binary_at("/nonexistent/garage".into()).unwrap_err();
    let text = format!("{e:?}"); // what `unwrap()` would print
    assert!(text.contains("Garage is not installed") && text.contains("./dev test") && text.contains(testkit::garage::VERSION), "{text}");
}

/// Where the installed tools are: these are what the other tests start.
#[test]
fn the_tools_of_this_machine_are_found() {
    assert!(testkit::pg::bin_dir().unwrap().join("pg_ctl").is_file());
    assert!(testkit::pg::tool("psql").unwrap().is_file());
    assert!(testkit::nginx::binary().unwrap().is_file());
    assert!(testkit::garage::binary().unwrap().is_file());
}
