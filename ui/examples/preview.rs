//! Opens the kiosk window with a little sample data, for looking at the
//! screens on a real display (or under Xvfb/cage).
//!
//! ```sh
//! cargo run -p ui --example preview -- services
//! ```
//! The optional argument is the screen to show (default: home). Set
//! `PREVIEW_QUIT_AFTER_MS` to close the window by itself (for smoke tests).

use slint::{ComponentHandle, ModelRc, VecModel};
use ui::{KioskWindow, ServiceTile};

fn main() -> Result<(), slint::PlatformError> {
    let screen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| ui::screen::HOME.to_owned());
    let ui = KioskWindow::new()?;
    ui.set_screen(screen.into());
    ui.set_terminal_label("东乡族自治县锁南镇 红星村 · 终端 GS-0001".into());
    ui.set_network_label("网络正常".into());
    let tile = |code: &str, name: &str, department: &str, time_limit: &str| ServiceTile {
        code: code.into(),
        name: name.into(),
        department: department.into(),
        time_limit: time_limit.into(),
        enabled: true,
        note: "".into(),
    };
    ui.set_services(ModelRc::new(VecModel::from(vec![
        tile(
            "620000-MZ-0003",
            "高龄津贴申领",
            "县民政局",
            "承诺 10 个工作日",
        ),
        tile(
            "620000-YB-0002",
            "城乡居民医疗保险参保登记",
            "县医疗保障局",
            "承诺 1 个工作日",
        ),
    ])));
    ui.set_item_name("高龄津贴申领".into());
    ui.set_id_message("请把身份证放在读卡器上".into());
    ui.set_demo_mode(true);
    ui.set_busy_message("正在保存您的申请".into());
    ui.set_saved_sent(true);
    ui.set_saved_title("申请已经交上去了".into());
    ui.set_saved_detail("县民政局会在 10 个工作日内办理。".into());
    ui.set_case_number("620326250114000123".into());
    ui.set_receipt_message("回执已打印，请取走".into());
    ui.set_error_message("保存申请时出错了。".into());

    let weak = ui.as_weak();
    ui.on_start(move || weak.unwrap().set_screen(ui::screen::SERVICES.into()));
    let weak = ui.as_weak();
    ui.on_cancel(move || weak.unwrap().set_screen(ui::screen::HOME.into()));
    let weak = ui.as_weak();
    ui.on_choose_service(move |_| weak.unwrap().set_screen(ui::screen::ID_PROMPT.into()));

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
