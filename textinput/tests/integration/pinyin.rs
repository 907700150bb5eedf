//! librime with Debian's Luna Pinyin data: letters to candidates.

use textinput::{Error, Pinyin, RimeShared};

fn type_letters(p: &mut impl Pinyin, letters: &str) -> textinput::Composition {
    p.clear();
    let mut last = p.composition();
    for ch in letters.chars() {
        last = p.push(ch).expect("a key");
    }
    last
}

/// Full pinyin and initials (简拼) to a candidate expected on the first page.
const TABLE: &[(&str, &str)] = &[
    ("zhang", "张"),
    ("wang", "王"),
    ("li", "李"),
    ("liu", "刘"),
    ("chen", "陈"),
    ("yang", "杨"),
    ("zhao", "赵"),
    ("huang", "黄"),
    ("zhou", "周"),
    ("wu", "吴"),
    ("ma", "马"),
    ("ming", "明"),
    ("hua", "华"),
    ("hong", "红"),
    ("ying", "英"),
    ("lan", "兰"),
    ("fang", "芳"),
    ("xiuying", "秀英"),
    ("jianguo", "建国"),
    ("zhangsan", "张三"),
    ("xiaoming", "小明"),
    ("lanzhou", "兰州"),
    ("gansu", "甘肃"),
    ("chusheng", "出生"),
    ("dengji", "登记"),
    ("cunweihui", "村委会"),
    ("bj", "北京"),
    ("zg", "中国"),
    ("sj", "时间"),
    ("xian", "县"),
    ("xi'an", "西安"),
    // Names and Gansu places by initials: the kiosk's phrase list
    // (data/name_phrases.txt) brings them onto the first page.
    ("xm", "小明"),
    ("jg", "建国"),
    ("gl", "桂兰"),
    ("zm", "卓玛"),
    ("lz", "兰州"),
    ("gs", "甘肃"),
    ("dx", "东乡"),
    ("sn", "锁南"),
    ("lx", "临夏"),
];

#[test]
fn syllables_and_initials_give_the_expected_candidates_on_the_first_page() {
    let _rime = crate::rime_lock();
    assert!(TABLE.len() >= 30);
    let shared = RimeShared::debian_default().expect("install rime-data-luna-pinyin");
    let mut p = shared.open_visit().expect("librime starts");
    let mut missed = Vec::new();
    for (letters, want) in TABLE {
        let c = type_letters(&mut p, letters);
        assert_eq!(c.page, 0);
        if !c.candidates.iter().any(|t| t == want) {
            missed.push(format!("{letters} → {:?} (wanted {want})", c.candidates));
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
}

#[test]
fn picking_commits_pages_move_and_backspace_edits() {
    let _rime = crate::rime_lock();
    let shared = RimeShared::debian_default().expect("install rime-data-luna-pinyin");
    let mut p = shared.open_visit().expect("librime starts");
    let c = type_letters(&mut p, "zhang");
    let first_page = c.candidates.clone();
    assert!(c.has_next_page);
    let next = p.page(true).expect("page");
    assert_eq!(next.page, 1);
    assert_ne!(next.candidates, first_page);
    let back = p.page(false).expect("page");
    assert_eq!(back.candidates, first_page);
    let i = first_page.iter().position(|t| t == "张").expect("张 on page one");
    assert_eq!(p.pick(i).expect("pick"), "张");
    assert!(p.composition().candidates.is_empty());

    // A name the dictionary lacks (桂兰), picked a character at a time: the
    // first pick commits nothing yet, the second commits both.
    let c = type_letters(&mut p, "guilan");
    let i = c.candidates.iter().position(|t| t == "桂").expect("桂 on page one");
    assert_eq!(p.pick(i).expect("pick"), "");
    let c = p.composition();
    let i = c.candidates.iter().position(|t| t == "兰").expect("兰 on page one");
    assert_eq!(p.pick(i).expect("pick"), "桂兰");

    let c = type_letters(&mut p, "xiaoming");
    assert!(c.preedit.contains("xiao"), "{}", c.preedit);
    let c = p.backspace().expect("backspace");
    assert!(!c.preedit.contains("ming"), "{}", c.preedit);
    p.clear();
    assert!(p.composition().preedit.is_empty());
}

#[test]
fn a_visit_leaves_nothing_behind_and_only_one_is_open_at_a_time() {
    let _rime = crate::rime_lock();
    let shared = RimeShared::debian_default().expect("install rime-data-luna-pinyin");
    let dir = {
        let mut p = shared.open_visit().expect("librime starts");
        assert!(matches!(shared.open_visit(), Err(Error::Busy)));
        type_letters(&mut p, "xiaoming");
        p.pick(0).expect("pick");
        p.user_dir().expect("a user dir").to_owned()
    };
    assert!(!dir.exists(), "the visit's user data dir is deleted");
    // A new visit starts clean and opens fine.
    let p = shared.open_visit().expect("a second visit");
    assert!(p.composition().preedit.is_empty());
}

#[test]
fn missing_data_is_a_clear_error() {
    let _rime = crate::rime_lock();
    let staging = tempfile::tempdir().expect("tempdir");
    let err = RimeShared::prepare(std::path::Path::new("/nonexistent/rime-data"), staging.path()).expect_err("no data");
    assert!(matches!(err, Error::PinyinData { .. }), "{err}");
    assert!(err.to_string().contains("rime-data-luna-pinyin"));
}

/// The page (0-based) on which `want` shows for `letters`, looking at up to 10 pages.
fn page_of(p: &mut impl Pinyin, letters: &str, want: &str) -> Option<usize> {
    let mut c = type_letters(p, letters);
    for _ in 0..10 {
        if c.candidates.iter().any(|t| t == want) {
            return Some(c.page);
        }
        if !c.has_next_page {
            return None;
        }
        c = p.page(true).expect("page");
    }
    None
}

#[test]
fn names_lead_the_first_page_and_general_words_keep_theirs() {
    let _rime = crate::rime_lock();
    let shared = RimeShared::debian_default().expect("install rime-data-luna-pinyin");
    let mut p = shared.open_visit().expect("librime starts");
    // The given name first: the villager typing initials is typing a name.
    assert_eq!(type_letters(&mut p, "xm").candidates.first().map(String::as_str), Some("小明"));
    // The phrase list adds, it does not take away: 北京 is still on page one for bj.
    assert_eq!(page_of(&mut p, "bj", "北京"), Some(0));
    assert_eq!(page_of(&mut p, "zhang", "张"), Some(0));
}
