// Compiles the .slint files into Rust. Debug info is always on: it lets tests
// (ours and the kiosk's) find elements with i-slint-backend-testing, and costs
// only a little binary size.
fn main() {
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_debug_info(true);
    slint_build::compile_with_config("ui/kiosk.slint", config).expect("Slint compilation failed");
}
