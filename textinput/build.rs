//! Links the two C engines from Debian: zinnia (`libzinnia-dev`) and librime
//! (`librime-dev`). A missing library stops the build with the package to
//! install, rather than a linker error.

fn main() {
    for (lib, package) in [("zinnia", "libzinnia-dev"), ("rime", "librime-dev")] {
        if let Err(e) = pkg_config::Config::new().probe(lib) {
            panic!("textinput needs {lib} (Debian package {package}; `./dev test` installs it): {e}");
        }
    }
}
