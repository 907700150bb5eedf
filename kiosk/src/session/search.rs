//! Finding an item without reading lists (issue 15): the search screen,
//! where the villager types on the on-screen keyboard (pinyin, initials
//! such as `ylbx`, characters written by hand, an item code) and the
//! results follow every key, ranked by the catalog's search model and this
//! village's 常办 counts; and browsing by department, a list of the
//! catalog's departments on the services screen.
//!
//! The query is typed text: it lives in `Session::search_query` only until
//! the visit goes home (zeroised then) and is never logged.

use model::catalog::SearchHit;

use super::events::Event;
use super::state::{State, Stepped, DEPARTMENT, DEPARTMENTS, FROM_SEARCH};
use super::view::{ThemeView, TileView, View};
use super::Session;

/// At most this many results (the full list pages them).
const RESULTS: usize = 30;

impl Session {
    /// The search screen's rules, and the ways back to it and to the departments.
    pub(super) fn step_search(&self, state: State, event: Event) -> Stepped {
        use Event as E;
        Ok(match (state, event) {
            (State::Home, E::Search) => (State::Search { typing: true }, vec![]),
            (State::Search { .. }, E::SearchKeyboard(typing)) => (State::Search { typing }, vec![]),
            (State::Search { .. }, E::Back) => (State::Home, vec![]),
            // Nothing found: browse instead, by theme or by department.
            (State::Search { .. }, E::Start) => (State::Services { theme: String::new() }, vec![]),
            (State::Search { .. }, E::ChooseTheme(theme)) => (State::Services { theme }, vec![]),
            (State::Search { typing }, E::ChooseService(code) | E::CodeEntered(code)) => match self.item_by_code(code.trim()) {
                Some(item) if self.tile_problem(item).is_none() => {
                    (State::Guide { item: item.implement_code.clone(), theme: FROM_SEARCH.to_owned() }, vec![])
                }
                _ => (State::Search { typing }, vec![]),
            },
            (State::Guide { theme, .. }, E::Back) if theme == FROM_SEARCH => (State::Search { typing: false }, vec![]),
            // A department's tile opens its list; 返回 from there is the departments.
            (State::Services { .. }, E::ChooseService(code)) if code.starts_with(DEPARTMENT) => {
                (State::Services { theme: code }, vec![])
            }
            (State::Services { theme }, E::Back) if theme.starts_with(DEPARTMENT) => {
                (State::Services { theme: DEPARTMENTS.to_owned() }, vec![])
            }
            (state, event) => return Err((state, event)),
        })
    }

    /// The search screen: what was typed, the results (tiles), and what to
    /// say about them.
    pub(super) fn search_view(&self, v: &mut View, typing: bool) {
        let query = self.search_query.trim();
        v.search_query = self.search_query.to_string();
        v.search_typing = typing;
        let hits = self.search_index.search(query, &self.filed, RESULTS);
        v.services = hits
            .iter()
            .filter_map(|hit| match hit {
                SearchHit::Item(code) => Some(self.tile(self.catalog.item(code.as_str())?, None)),
                SearchHit::Bundle(code) => {
                    let parts = self.bundle_of(code.as_str())?.items.len();
                    Some(self.tile(self.item_by_code(code.as_str())?, Some(parts)))
                }
            })
            .collect();
        v.search_nothing = !query.is_empty() && v.services.is_empty();
        v.search_message = if query.is_empty() {
            self.t("打拼音、拼音首字母（比如 ylbx）、汉字或事项编码")
        } else if v.services.is_empty() {
            self.tf("没有找到「{}」", &[&query])
        } else {
            self.tf("找到 {} 项", &[&v.services.len()])
        };
    }

    /// The 按部门 chip: on every list but the bundles'.
    pub(super) fn departments_chip(&self, theme: &str) -> Option<ThemeView> {
        (theme != super::state::BUNDLES).then(|| ThemeView {
            id: DEPARTMENTS.to_owned(),
            name: self.t("按部门"),
            selected: theme == DEPARTMENTS || theme.starts_with(DEPARTMENT),
        })
    }

    /// The departments' list (a tile per department, with how many items it
    /// handles) or one department's items; None for any other list.
    pub(super) fn department_tiles(&self, v: &mut View, theme: &str) -> Option<Vec<TileView>> {
        let lang = self.settings.lang;
        let departments = self.catalog.departments();
        if theme == DEPARTMENTS {
            v.services_heading = self.t("请选择办事的部门");
            return Some(
                departments
                    .iter()
                    .map(|(name, items)| TileView {
                        code: format!("{DEPARTMENT}{}", name.get(model::Lang::ZhCn)),
                        name: name.get(lang).to_owned(),
                        department: self.tf("{} 项事项", &[&items.len()]),
                        time_limit: String::new(),
                        enabled: true,
                        note: String::new(),
                    })
                    .collect(),
            );
        }
        let wanted = theme.strip_prefix(DEPARTMENT)?;
        let (name, items) = departments.iter().find(|(name, _)| name.get(model::Lang::ZhCn) == wanted)?;
        v.services_heading = name.get(lang).to_owned();
        Some(items.iter().map(|item| self.tile(item, None)).collect())
    }
}

