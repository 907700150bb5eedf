//! Opens the kiosk window with a little sample data, for looking at the
//! screens on a real display (or under Xvfb/cage).
//!
//! ```sh
//! cargo run -p ui --example preview -- services
//! ```
//! The optional argument is the screen to show (default: home). Set
//! `PREVIEW_QUIT_AFTER_MS` to close the window by itself (for smoke tests).

use slint::{ComponentHandle, ModelRc, VecModel};
use ui::KioskWindow;

fn main() -> Result<(), slint::PlatformError> {
    let screen = std::env::args().nth(1).and_then(|name| ui::screen_named(&name)).unwrap_or(ui::Screen::Home);
    let ui = KioskWindow::new()?;
    ui.global::<ui::Frame>().set_screen(screen);
    ui.global::<ui::Frame>().set_terminal_label("东乡族自治县锁南镇 红星村 · 终端 GS-0001".into());
    ui.global::<ui::Frame>().set_network_label("网络正常".into());
    ui.global::<ui::Visit>().set_services(ModelRc::new(VecModel::from(ui::testing::sample_services())));
    ui.global::<ui::Visit>().set_item_name("高龄津贴申领".into());
    ui.global::<ui::Visit>().set_id_message("请把身份证放在读卡器上".into());
    ui.global::<ui::Visit>().set_demo_mode(true);
    ui.global::<ui::Visit>().set_busy_message("正在保存您的申请".into());
    ui.global::<ui::Visit>().set_saved_sent(true);
    ui.global::<ui::Visit>().set_saved_title("申请已经交上去了".into());
    ui.global::<ui::Visit>().set_saved_detail("县民政局会在 10 个工作日内办理。".into());
    ui.global::<ui::Visit>().set_case_number("620326250114000123".into());
    ui.global::<ui::Visit>().set_receipt_message("回执已打印，请取走".into());
    ui.global::<ui::Visit>().set_error_message("保存申请时出错了。".into());

    let weak = ui.as_weak();
    ui.global::<ui::Visit>().on_start(move || weak.unwrap().global::<ui::Frame>().set_screen(ui::Screen::Services));
    let weak = ui.as_weak();
    ui.global::<ui::Visit>().on_cancel(move || weak.unwrap().global::<ui::Frame>().set_screen(ui::Screen::Home));
    let weak = ui.as_weak();
    ui.global::<ui::Visit>().on_choose_service(move |_| weak.unwrap().global::<ui::Frame>().set_screen(ui::Screen::IdPrompt));

    if let Some(ms) = std::env::var("PREVIEW_QUIT_AFTER_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        slint::Timer::single_shot(std::time::Duration::from_millis(ms), || {
            let _ = slint::quit_event_loop();
        });
    }
    ui.run()
}
