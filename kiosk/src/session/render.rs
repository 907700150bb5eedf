//! View building: the `View` of the current state, screen by screen, and
//! what reading aloud says on it.

use model::catalog::{FieldKind, MaterialSource, Prefill};
use model::identity::nation_name_zh;
use model::{CaseNumber, Lang, ServiceItem};

use super::events::{FilingStage, FilingStatus, Known, RatingTarget};
use super::lookup::printable;
use super::rating::reasons_for;
use super::state::{Delivery, Draft, Filed, LookupPhase, PrintOutcome, Problem, Purpose, RateState, State, DEPARTMENTS, FREQUENT};
// Where the filing journey has always found it.
pub(super) use super::state::BUNDLES;
use super::view::{ChoiceView, MaterialView, PartView, ProgressView, ReasonView, RowView, ThemeView, TileView, View};
use super::Session;
use crate::materials::{self, CaptureKind, ELicenseLookup, Outcome};


/// How many of the most filed items the 常办 chip lists.
const FREQUENT_TILES: usize = 12;

impl Session {
    /// What reading aloud says on the current screen.
    pub fn prompt(&self) -> String {
        if self.idle_left.is_some() {
            return self.say("您还在吗？要继续的话，请点「继续」。不然，您填写的内容会被清除。");
        }
        let v = self.view_without_prompt();
        match &self.state {
            State::Home => self.say("您好！要办事，请点「我要办事」。查进度、打印结果和评价，也在这一页。"),
            State::Services { theme } if theme == DEPARTMENTS => self.say("请选择办事的部门，点一下部门的名字。"),
            State::Services { .. } => self.say("请选择要办的事，点一下事项的名字。"),
            State::Search { .. } if v.search_nothing => self.sentences(&v.search_message, &self.say("可以换个写法，或者按类别、按部门找。")),
            State::Search { typing: true } => self.say("请用下面的键盘打字，要办的事会出现在上面，点一下就行。"),
            State::Search { .. } => self.say("请点一下要办的事。"),
            State::Guide { item, .. } => {
                self.sentences(&self.item_name(item), &self.say("请看办事指南，准备好了请点「开始办理」。"))
            }
            State::Consent { .. } => {
                self.say("办理要读取您的身份证，并把您填写的信息交给政务服务平台。同意的话，请点「同意，继续」。")
            }
            State::IdPrompt { .. } => v.id_message,
            State::Form(d) => {
                if d.errors.is_empty() {
                    self.say("请核对信息，蓝框的请点一下填写，填好后请点「下一步」。")
                } else {
                    self.say_f("有 {} 项要改一改，请看红色的提示。", &[&d.errors.len()])
                }
            }
            State::Materials { .. } => match &v.material {
                Some(m) if !m.problem.is_empty() => m.problem.clone(),
                Some(m) if m.busy => v.busy_message,
                Some(m) if !m.reason.is_empty() => self.sentences(&m.name, &self.sentences(&m.reason, &m.hint)),
                Some(m) => self.sentences(&m.name, &m.hint),
                None => String::new(),
            },
            State::Review(_) => self.say("请核对信息，对的话请点「确认提交」。"),
            State::Submitting { .. } => v.busy_message,
            State::Saved(_) => self.sentences(&v.saved_title, &v.saved_detail),
            State::Receipt(..) => v.receipt_message,
            State::Rate(_) => self.say("这次办得怎么样？请点一个笑脸，再点「提交评价」。"),
            State::Lookup { phase: LookupPhase::Ask(Some(p)), .. } => self.problem_text(p),
            State::Lookup { phase: LookupPhase::Ask(None), .. } => {
                self.say("请把回执上的二维码对准扫码口，或者把身份证放在读卡器上。")
            }
            State::Lookup { phase: LookupPhase::Looking | LookupPhase::LookingCode(_), .. } => self.say("正在查询，请稍等。"),
            State::Lookup { phase: LookupPhase::NeedCard(_, Some(p)), .. } => self.problem_text(p),
            State::Lookup { .. } => v.lookup_message,
            State::Goodbye { .. } => v.goodbye_message,
            State::Error(_) => v.error_message,
        }
    }

    /// What the screen shows now.
    pub fn view(&self) -> View {
        let mut v = self.view_without_prompt();
        v.prompt = self.prompt();
        // A recorded language may have this prompt recorded or not: the
        // button says "no voice" where it has not.
        v.voice_available = self.settings.can_say(self.settings.lang, &self.prompt_ids(&v.prompt));
        v
    }

    /// The view of the current state, each screen's part built by its own method.
    fn view_without_prompt(&self) -> View {
        let mut v = View::on(self.screen(), &self.settings);
        v.idle_seconds = self.idle_left.unwrap_or(0);
        if !self.banner.is_empty() {
            v.banner = self.t(&self.banner);
        }
        match &self.state {
            State::Home => {}
            State::Error(p) => {
                v.error_message = self.tf(
                    "没有保存成功：{}。您的信息没有留在本机，请稍后再试或联系村代办员。",
                    &[&self.problem_text(p)],
                );
            }
            State::Services { theme } => self.services_view(&mut v, theme),
            State::Search { typing } => self.search_view(&mut v, *typing),
            State::Guide { item, .. } | State::Consent { item, .. } => {
                v.item_name = self.item_name(item);
                if let Some(item) = self.item_by_code(item.as_str()) {
                    if matches!(self.state, State::Guide { .. }) {
                        v.guide_rows = self.guide_rows(item);
                    } else {
                        v.consent_rows = self.consent_rows(item);
                    }
                }
            }
            State::IdPrompt { item, problem, .. } => {
                v.item_name = self.item_name(item);
                match problem {
                    Some(p) => {
                        v.id_message = self.problem_text(p);
                        v.id_error = true;
                    }
                    None => v.id_message = self.say("请把身份证放在读卡器上，不要拿开"),
                }
            }
            State::Form(d) => {
                v.item_name = self.item_name(&d.item);
                v.form_rows = self.rows(d);
            }
            State::Materials { draft, index, busy, problem } => {
                v.item_name = self.item_name(&draft.item);
                v.material = self.material_view(draft, *index, *busy, problem.as_ref());
                if let Some(kind) = busy {
                    v.busy_message = match kind {
                        CaptureKind::Scan => self.say("正在扫描，请不要打开盖子…"),
                        CaptureKind::Photo => self.say("正在拍照，请不要动…"),
                    };
                } else if v.material.as_ref().is_some_and(|m| m.busy) {
                    v.busy_message = self.say("正在电子证照库里查找这份材料，请稍等…");
                }
            }
            State::Review(d) => self.review_view(&mut v, d),
            State::Submitting { draft, saved, .. } => {
                v.item_name = self.item_name(&draft.item);
                v.busy_message = if *saved {
                    self.say("已保存在本机，正在发送到政务服务平台…")
                } else {
                    self.say("正在保存您的申请，请稍候…")
                };
            }
            State::Saved(filed) | State::Receipt(filed, _) => self.filed_view(&mut v, filed),
            State::Rate(r) => self.rate_view(&mut v, r),
            State::Lookup { purpose, phase } => self.lookup_view(&mut v, purpose, phase),
            State::Goodbye { rated } => {
                v.goodbye_message = if *rated {
                    self.say("谢谢您的评价！请带好您的身份证和回执。")
                } else {
                    self.say("请带好您的身份证和回执。")
                };
            }
        }
        v
    }

    /// The services screen: theme chips and the tiles of the chosen theme.
    fn services_view(&self, v: &mut View, theme: &str) {
        let lang = self.settings.lang;
        let frequent = self.catalog.frequent(&self.filed, FREQUENT_TILES);
        let frequent_chip = (!frequent.is_empty() && theme != BUNDLES)
            .then(|| ThemeView { id: FREQUENT.to_owned(), name: self.t("常办"), selected: theme == FREQUENT });
        // 一件事一次办 while it is the list shown (from the home tile); the
        // other lists reach the bundles through their themes.
        let bundle_chip = (theme == BUNDLES)
            .then(|| ThemeView { id: BUNDLES.to_owned(), name: self.t("一件事一次办"), selected: theme == BUNDLES });
        v.themes = std::iter::once(ThemeView {
            id: String::new(),
            name: self.t("全部"),
            selected: theme.is_empty(),
        })
        .chain(frequent_chip)
        .chain(bundle_chip)
        .chain(self.departments_chip(theme))
        // The bundles' list shows 全部 and its own chip only: one line, room for the tiles.
        .chain(self.catalog.themes.iter().filter(|t| theme != BUNDLES && self.catalog.items_in_theme(&t.id).next().is_some()).map(
            |t| ThemeView { id: t.id.clone(), name: t.name.get(lang).to_owned(), selected: *theme == t.id },
        ))
        .collect();
        if let Some(tiles) = self.department_tiles(v, theme) {
            v.services = tiles;
            return;
        }
        // Bundles before items on a theme's list; 全部 keeps the items where
        // villagers know them (the bundles have their chip and home tile).
        let bundles: Vec<&model::catalog::Bundle> = match theme {
            FREQUENT | "" => Vec::new(),
            BUNDLES => self.catalog.bundles.iter().collect(),
            t => self.catalog.bundles_in_theme(t).collect(),
        };
        let items: Vec<&model::ServiceItem> = match theme {
            FREQUENT => frequent,
            BUNDLES => Vec::new(),
            "" => self.catalog.items.iter().collect(),
            t => self.catalog.items_in_theme(t).collect(),
        };
        let bundle_tiles = bundles.into_iter().filter_map(|b| Some((self.item_by_code(b.code.as_str())?, Some(b.items.len()))));
        v.services = bundle_tiles.chain(items.into_iter().map(|i| (i, None))).map(|(item, parts)| self.tile(item, parts)).collect();
    }

    /// One tile: an item, or a bundle (as its item) of `parts` items.
    pub(super) fn tile(&self, item: &ServiceItem, parts: Option<usize>) -> TileView {
        let lang = self.settings.lang;
        let problem = self.tile_problem(item);
        TileView {
            code: item.implement_code.to_string(),
            name: item.name.get(lang).to_owned(),
            department: match parts {
                Some(n) => self.tf("{} 件事，一次办好", &[&n]),
                None => item.department.get(lang).to_owned(),
            },
            time_limit: self.tf("承诺{}办结", &[&self.time_limit(&item.promised_time_limit)]),
            enabled: problem.is_none(),
            note: problem.map(|p| self.t(p)).unwrap_or_default(),
        }
    }

    /// The review: what was entered, then each material and how it stands.
    fn review_view(&self, v: &mut View, d: &Draft) {
        let lang = self.settings.lang;
        v.item_name = self.item_name(&d.item);
        v.review_rows = self
            .rows(d)
            .into_iter()
            .map(|r| {
                // Show the chosen option's words, not its code.
                let shown = r.options.iter().find(|o| o.value == r.value).map(|o| o.label.clone());
                (r.label, shown.unwrap_or(r.value))
            })
            .collect();
        // Each material and how it stands.
        for m in self.item_of(d).materials.iter().filter(|m| m.source != MaterialSource::IdCard) {
            let status = match d.materials.get(&m.code) {
                Some(Outcome::Captured(c)) => self.captured_words(c),
                Some(Outcome::ELicense(r)) => self.e_license_words(r),
                Some(Outcome::Skipped) => self.t("没有提交（可以不交）"),
                Some(Outcome::Paper) | None => self.t("请把纸质材料交给村代办员"),
            };
            v.review_rows.push((m.name.get(lang).to_owned(), status));
        }
    }

    /// The saved and receipt screens: sent or waiting, and how printing went.
    fn filed_view(&self, v: &mut View, filed: &Filed) {
        v.item_name = self.item_name(&filed.item);
        v.can_rate = true;
        match &filed.delivery {
            Delivery::Sent(case) => {
                v.saved_sent = true;
                v.saved_title = self.say("已提交");
                v.saved_detail = self.say("您的申请已送到政务服务平台。请记好办件编号，可凭回执查询进度。");
                v.case_number = case.to_string();
            }
            Delivery::Waiting(_) => {
                v.saved_sent = false;
                v.saved_title = self.say("已保存，网络恢复后自动发送");
                v.saved_detail = self.say(
                    "现在没有网络。您的申请已安全保存在本机，网络恢复后会自动发送，不用再跑一趟。",
                );
                v.case_number = filed.receipt.reference.clone();
            }
        }
        if let State::Receipt(_, outcome) = &self.state {
            match outcome {
                PrintOutcome::Printing => {
                    v.receipt_message = self.say("正在打印回执…");
                    v.receipt_busy = true;
                }
                PrintOutcome::Printed => v.receipt_message = self.say("回执已打印，请从出纸口取走"),
                PrintOutcome::Failed(msg) => {
                    v.receipt_message =
                        self.tf("回执没有打印出来：{}。请记下上面的编号。", &[&self.t(msg)]);
                    v.receipt_failed = true;
                }
            }
        }
    }

    /// The rating screen: what is rated, the level and its reasons.
    fn rate_view(&self, v: &mut View, r: &RateState) {
        v.item_name = match (&r.item, &r.target) {
            (Some(code), _) => self.item_name(code),
            (None, RatingTarget::Case(c)) => self.tf("办件编号 {}", &[c]),
            (None, RatingTarget::Submission(_)) => String::new(),
        };
        v.rating = r.rating;
        if let Some(rating) = r.rating {
            v.reasons = reasons_for(rating)
                .iter()
                .map(|(value, label)| ReasonView {
                    value: (*value).to_owned(),
                    label: self.t(label),
                    selected: r.reasons.contains(*value),
                })
                .collect();
        }
    }

    /// The progress and result screens: ask, looking, found, printing.
    fn lookup_view(&self, v: &mut View, purpose: &Purpose, phase: &LookupPhase) {
        match phase {
            LookupPhase::Ask(problem) => {
                v.lookup_phase = ui::LookupPhase::Ask;
                if let Some(p) = problem {
                    v.lookup_message = self.problem_text(p);
                    v.lookup_error = true;
                } else if *purpose == Purpose::Rate {
                    v.lookup_message = self.say("先找到要评价的那件事。");
                }
            }
            LookupPhase::Looking | LookupPhase::LookingCode(_) => v.lookup_phase = ui::LookupPhase::Looking,
            LookupPhase::NeedCard(_, problem) => {
                v.lookup_phase = ui::LookupPhase::Ask;
                v.lookup_card_only = true;
                if let Some(p) = problem {
                    v.lookup_message = self.problem_text(p);
                    v.lookup_error = true;
                } else {
                    v.lookup_message = self.say(
                        "这台机器上没有这张回执。请把办这件事时用的身份证放在读卡器上，证明是您的事，再到政务服务平台去查。",
                    );
                }
            }
            LookupPhase::NotFound => {
                v.lookup_phase = ui::LookupPhase::Nothing;
                v.lookup_message = self.say(
                    "这台机器上没有查到。在别处办的事，请扫回执上的二维码或输入回执上的号码，再放身份证来查。",
                );
            }
            LookupPhase::NotFoundOnPlatform => {
                v.lookup_phase = ui::LookupPhase::Nothing;
                v.lookup_message = self.say(
                    "政务服务平台上没有查到：回执上的号码不对，或者这件事不是用这张身份证办的。请核对回执，或者请村代办员帮忙。",
                );
            }
            LookupPhase::NotFoundOffline => {
                v.lookup_phase = ui::LookupPhase::Nothing;
                v.lookup_message = self.say(
                    "现在连不上政务服务平台，这台机器上也没有这件事的记录。请等网络好了再来查，或者请村代办员帮忙。",
                );
            }
            LookupPhase::Found(found) => {
                v.lookup_phase = ui::LookupPhase::Found;
                v.lookup_rows = found.iter().map(|f| self.progress_rows(f)).collect();
                let offline = found.iter().any(|f| f.known == Known::HereOffline);
                v.lookup_message = if offline {
                    self.tf("现在连不上政务服务平台。下面是这台机器知道的 {} 件，可能不是最新的：", &[&found.len()])
                } else if *purpose == Purpose::Result {
                    if printable(found).is_some() {
                        v.result_printable = true;
                        self.say("有办结的事，结果文件可以在这里打印。请点「打印结果文件」。")
                    } else if found.iter().any(|f| f.stage == FilingStage::Done) {
                        self.say("有办结的事，但这里没有可以打印的结果文件，请带上回执到乡镇便民服务中心领取。")
                    } else if self.paths.sms {
                        self.say("还没有可以打印的结果。办结以后，会有短信告诉您。")
                    } else {
                        self.say("还没有可以打印的结果。办结以后，可以带上回执再来这里查询和打印。")
                    }
                } else if found.iter().any(|f| matches!(f.known, Known::Platform(_))) {
                    self.tf("在政务服务平台上查到 {} 件：", &[&found.len()])
                } else {
                    self.tf("查到 {} 件：", &[&found.len()])
                };
            }
            LookupPhase::Printing(found, outcome) => {
                v.lookup_phase = ui::LookupPhase::Found;
                v.lookup_rows = found.iter().map(|f| self.progress_rows(f)).collect();
                v.result_printable = true;
                match outcome {
                    PrintOutcome::Printing => {
                        v.result_busy = true;
                        v.lookup_message = self.say("正在打印结果文件，请稍等…");
                    }
                    PrintOutcome::Printed => v.lookup_message = self.say("结果文件已打印，请从打印机取走。"),
                    PrintOutcome::Failed(msg) => {
                        v.lookup_error = true;
                        v.lookup_message = self.tf(
                            "结果文件没有打印出来：{}。请带上回执到乡镇便民服务中心领取。",
                            &[&self.t(msg)],
                        );
                    }
                }
            }
        }
    }

    fn guide_rows(&self, item: &ServiceItem) -> Vec<(String, String)> {
        let lang = self.settings.lang;
        let materials: Vec<String> = item
            .materials
            .iter()
            .map(|m| {
                let name = m.name.get(lang);
                if m.required {
                    name.to_owned()
                } else {
                    self.tf("{}（没有也可以）", &[&name])
                }
            })
            .collect();
        let mut rows = Vec::new();
        if let Some(parts) = self.bundle_of(item.implement_code.as_str()).and_then(|b| self.catalog.bundle_parts(b)) {
            let names: Vec<String> = parts.iter().map(|p| p.name.get(lang).to_owned()).collect();
            rows.push((self.t("一次办好这几件事"), self.join_list(&names)));
        }
        rows.extend([
            (self.t("谁可以办"), item.conditions.get(lang).to_owned()),
            (self.t("要带的材料"), self.join_list(&materials)),
            (self.t("多久办好"), self.tf("承诺{}办结", &[&self.time_limit(&item.promised_time_limit)])),
            (self.t("收费"), self.fee(&item.fee)),
            (self.t("办理部门"), item.department.get(lang).to_owned()),
        ]);
        let paper = item.materials.iter().any(|m| matches!(m.source, MaterialSource::Scan | MaterialSource::ELicense));
        if paper && (self.caps.scanner || self.caps.camera) {
            rows.push((self.t("请注意"), self.t("纸质材料在填完表以后，在这台机器上扫描或拍照，请准备好。")));
        } else if paper || item.needs(MaterialSource::Signature) {
            rows.push((
                self.t("请注意"),
                self.t("要交的纸质材料，这台机器现在还不能扫描，请交给村代办员，或者带到乡镇便民服务中心。"),
            ));
        }
        rows
    }

    fn consent_rows(&self, item: &ServiceItem) -> Vec<(String, String)> {
        let lang = self.settings.lang;
        vec![
            (
                self.t("要用哪些信息"),
                self.t("身份证上的姓名、号码、性别、民族、出生日期、住址，和您在这里填写的内容。身份证照片不保存。"),
            ),
            (
                self.t("用来做什么"),
                self.tf("只用来办理「{}」，交给{}。", &[&item.name.get(lang), &item.department.get(lang)]),
            ),
            (
                self.t("保存多久"),
                self.tf(
                    "在这台机器上加密保存，送到政务服务平台办结后 {} 天删除。屏幕上和回执上的号码会遮住一部分。",
                    &[&self.retention_days],
                ),
            ),
            (self.t("谁能看到"), self.t("只有办理这件事的政府工作人员。村代办员和别的村民看不到。")),
        ]
    }

    fn material_view(
        &self,
        d: &Draft,
        index: usize,
        busy: Option<CaptureKind>,
        problem: Option<&Problem>,
    ) -> Option<MaterialView> {
        let list = self.screen_materials(d);
        let m = *list.get(index)?;
        let (fits_scan, fits_photo) = materials::fits(m);
        let (can_scan, can_photo) = (fits_scan && self.caps.scanner, fits_photo && self.caps.camera);
        let captured = match d.materials.get(&m.code) {
            Some(Outcome::Captured(c)) => Some(c),
            _ => None,
        };
        let name = m.name.get(self.settings.lang).to_owned();
        // The e-license library, when this terminal has one: what it said.
        let library = if m.source == MaterialSource::ELicense && self.paths.e_license { d.e_licenses.get(&m.code).copied() } else { None };
        if let Some(Outcome::ELicense(r)) = d.materials.get(&m.code) {
            return Some(MaterialView {
                name,
                step: self.tf("第 {} 项，共 {} 项", &[&(index + 1), &list.len()]),
                hint: self.e_license_words(r),
                required: m.required,
                can_scan: false,
                can_photo: false,
                can_skip: false,
                can_next: true,
                busy: false,
                problem: String::new(),
                preview: None,
                captured: self.t("已从电子证照库调取，不用扫描"),
                captured_by_scan: false,
                reason: String::new(),
            });
        }
        let asking = library == Some(ELicenseLookup::Asking);
        // Why a scan is needed after all, in front of how to make it.
        let reason = match library {
            Some(ELicenseLookup::NotFound) => self.t("电子证照库里没有找到，要扫描"),
            Some(ELicenseLookup::NotAnswering) => self.t("电子证照库没有回应，要扫描"),
            Some(ELicenseLookup::NoNetwork) => self.t("没有网络，不能调取电子证照，要扫描"),
            _ => String::new(),
        };
        let hint = if captured.is_some() {
            self.t("请看一下是否清楚。不清楚的话可以重新来；清楚的话请点「下一步」。")
        } else if asking {
            self.t("正在电子证照库里查找这份材料，请稍等…")
        } else if !can_scan && !can_photo {
            self.t("本机现在不能扫描或拍照，请把纸质材料交给村代办员。")
        } else if m.source == MaterialSource::FacePhoto {
            self.t("请正对摄像头，摘下帽子和眼镜，再点「拍照」。")
        } else if m.source == MaterialSource::Photo {
            self.t("请把照片放在摄像头下面，再点「拍照」。")
        } else if can_scan && !reason.is_empty() {
            // Shorter, under the reason: the screen holds both in every language.
            self.t("请把材料面朝下放进扫描仪，再点「扫描」。")
        } else if can_scan {
            self.t("请把材料打开，面朝下放在扫描仪玻璃上，盖好盖子，再点「扫描」。")
        } else {
            self.t("请把材料平放在摄像头下面，再点「拍照」。")
        };
        // Once captured, the reason is past.
        let reason = if captured.is_none() && (can_scan || can_photo) { reason } else { String::new() };
        Some(MaterialView {
            name,
            step: self.tf("第 {} 项，共 {} 项", &[&(index + 1), &list.len()]),
            hint,
            required: m.required,
            can_scan,
            can_photo,
            can_skip: !m.required,
            can_next: !asking && (captured.is_some() || (!can_scan && !can_photo)),
            busy: busy.is_some() || asking,
            problem: problem.map(|p| self.problem_text(p)).unwrap_or_default(),
            preview: captured.map(|c| c.preview.clone()),
            captured: captured.map(|c| self.captured_words(c)).unwrap_or_default(),
            captured_by_scan: captured.is_some_and(|c| c.kind == CaptureKind::Scan),
            reason,
        })
    }

    /// A filing's row; a bundle's lists its items: each its own case as
    /// the hub reported it, or (before the hub has said) the bundle's stage.
    fn progress_rows(&self, f: &FilingStatus) -> ProgressView {
        let mut row = self.progress_row(f);
        row.parts = if !f.parts.is_empty() {
            f.parts.iter().map(|p| self.part_view(&p.item_code, p.stage, p.case_number.to_string(), p.reason.as_deref())).collect()
        } else {
            let parts = self.bundle_of(f.item_code.as_str()).map(|b| b.items.clone()).unwrap_or_default();
            parts.iter().map(|code| self.part_view(code, f.stage, String::new(), None)).collect()
        };
        row
    }

    /// A part the back office rejected says so and why, in its words (as a
    /// single case's history does), not the words for a failed sending.
    fn part_view(&self, code: &model::ImplementCode, stage: FilingStage, number: String, reason: Option<&str>) -> PartView {
        let (status, tone) = match (stage, reason) {
            (FilingStage::Problem, Some(reason)) => {
                (self.sentences(&self.t(model::CaseStatus::Rejected.label_zh()), &self.tf("原因：{}", &[&reason])), ui::ProgressTone::Problem)
            }
            _ => self.stage_words(stage),
        };
        PartView { item: self.item_name(code), status, number, tone }
    }

    fn stage_words(&self, stage: FilingStage) -> (String, ui::ProgressTone) {
        match stage {
            FilingStage::Waiting => (self.t("已保存在本机，等网络好了就发送"), ui::ProgressTone::Waiting),
            FilingStage::Delivered => (self.t("已交到政务服务平台，正在办理"), ui::ProgressTone::Working),
            FilingStage::Done => (self.t("已经办结"), ui::ProgressTone::Done),
            FilingStage::Problem => (self.t("发送遇到问题，请找村代办员"), ui::ProgressTone::Problem),
        }
    }

    fn progress_row(&self, f: &FilingStatus) -> ProgressView {
        let (status, tone) = self.stage_words(f.stage);
        let china = time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC);
        let (history, reply) = match &f.known {
            Known::Platform(news) => {
                let steps: Vec<String> = news
                    .history
                    .iter()
                    .map(|(status, at)| {
                        let at = at.to_offset(china);
                        format!("{} {:02}-{:02}", self.t(status.label_zh()), u8::from(at.month()), at.day())
                    })
                    .collect();
                let mut history = steps.join(" → ");
                if let Some(reason) = &news.reason {
                    history = self.sentences(&history, &self.tf("原因：{}", &[reason]));
                }
                let reply = news.reply.as_ref().map(|r| self.tf("对您评价的答复：{}", &[r])).unwrap_or_default();
                (history, reply)
            }
            Known::Here | Known::HereOffline => (String::new(), String::new()),
        };
        ProgressView {
            item: self.item_name(&f.item_code),
            date: f.created_at.to_offset(china).date().to_string(),
            status,
            number: f.case_number.as_ref().map(CaseNumber::to_string).unwrap_or_default(),
            tone,
            history,
            reply,
            parts: Vec::new(),
        }
    }

    fn rows(&self, d: &Draft) -> Vec<RowView> {
        let lang = self.settings.lang;
        self.form_fields(d)
            .iter()
            .map(|f| {
                let raw = d.values.get(&f.key).cloned().unwrap_or_default();
                // The session's own fields (delivery) are worded by the .po files.
                let own = super::place::is_own(&f.key);
                let word = |text: &model::LocalizedText| if own { self.t(text.get(Lang::ZhCn)) } else { text.get(lang).to_owned() };
                let (kind, options) = match &f.kind {
                    FieldKind::Text { .. } => (ui::FieldKind::Text, vec![]),
                    FieldKind::Digits { .. } => (ui::FieldKind::Digits, vec![]),
                    FieldKind::Phone => (ui::FieldKind::Phone, vec![]),
                    FieldKind::Date => (ui::FieldKind::Date, vec![]),
                    FieldKind::Place { .. } => (ui::FieldKind::Place, vec![]),
                    FieldKind::Choice { options } => (
                        ui::FieldKind::Choice,
                        options
                            .iter()
                            .map(|o| ChoiceView { value: o.value.clone(), label: word(&o.label) })
                            .collect(),
                    ),
                };
                let value = match f.prefill {
                    Some(Prefill::IdNumber) => d.identity.id_number.masked(),
                    Some(Prefill::Nation) => nation_name_zh(&raw).map(|n| self.t(n)).unwrap_or(raw),
                    Some(Prefill::Gender) => self.t(d.identity.gender.label_zh()),
                    _ if matches!(f.kind, FieldKind::Place { .. }) => super::place::shown(&raw),
                    _ => raw,
                };
                RowView {
                    key: f.key.clone(),
                    label: word(&f.label),
                    value,
                    kind,
                    readonly: self.from_card(d, &f.key),
                    error: d.errors.get(&f.key).map(|e| self.field_error(e)).unwrap_or_default(),
                    options,
                }
            })
            .collect()
    }
}
