// Compiles the .slint files into Rust, with the gettext translations in
// translations/<lang>/LC_MESSAGES/ui.po bundled into the binary (no files to
// install; `slint::select_bundled_translation` switches live).
//
// Debug info is always on: it lets tests (ours and the kiosk's) find elements
// with i-slint-backend-testing, and costs only a little binary size.
//
// No default translation context: a sentence is translated once, wherever it
// appears, which is what translators of a small kiosk want. The same .po files
// also hold the kiosk's Rust-side sentences (see src/i18n.rs).
//
// The translations directory is read from the environment at run time, not
// with `env!`: cargo reuses a build script compiled in another checkout of
// the same workspace (same relative path, same hash), and a path baked in
// there would point at that checkout.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for build scripts");
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_debug_info(true)
        .with_bundled_translations(format!("{dir}/translations"))
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("Slint compilation failed");
    println!("cargo:rerun-if-changed=translations");
}
