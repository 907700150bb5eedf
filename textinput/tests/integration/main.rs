//! textinput's integration tests: the real engines with Debian's data. They
//! fail, never skip, when a package is missing (`./dev test` installs them).

mod handwriting;
mod layouts;
mod pinyin;
