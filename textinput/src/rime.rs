//! Pinyin through librime 1.8.5 from Debian (`librime-dev`,
//! `rime-data-luna-pinyin`). No maintained Rust binding builds against 1.8.5
//! (`librime-sys` generates bindings with bindgen and needs libclang and a
//! newer header), so this is a small FFI of the exported `Rime*` calls.
//!
//! librime keeps one engine per process. [`RimeShared`] does the one-time
//! setup and the "deploy": a copy of Debian's prebuilt `luna_pinyin_simp`
//! schema with the user dictionary switched off, written to a staging
//! directory at package build or first start. Each visit then opens a
//! [`RimePinyin`]: librime initialised with a fresh, private user data
//! directory, one session, and on drop the session destroyed, librime
//! finalised and the directory deleted, so nothing typed outlives the visit.

use std::ffi::{c_char, c_int, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crate::engine::{Composition, Pinyin};
use crate::error::Error;

/// Debian's shared librime data directory.
pub const DEBIAN_RIME_DATA: &str = "/usr/share/rime-data";
/// Simplified characters from the Luna Pinyin dictionary.
const SCHEMA: &str = "luna_pinyin_simp";
/// Candidates per page: a row of big buttons across the screen. The
/// selector takes the digits 1..=PAGE_SIZE.
const PAGE_SIZE: usize = 8;
/// Given names and Gansu places by their initials (`xm` → 小明): the
/// schema's `custom_phrase` table, read from the visit's user directory.
/// Fixed (see `data/name_phrases.txt`); nothing typed is added to it.
const NAME_PHRASES: &str = include_str!("../data/name_phrases.txt");

const XK_BACKSPACE: c_int = 0xff08;
const XK_ESCAPE: c_int = 0xff1b;
const XK_PAGE_UP: c_int = 0xff55;
const XK_PAGE_DOWN: c_int = 0xff56;

type Bool = c_int;
type SessionId = usize;

#[repr(C)]
struct Traits {
    data_size: c_int,
    shared_data_dir: *const c_char,
    user_data_dir: *const c_char,
    distribution_name: *const c_char,
    distribution_code_name: *const c_char,
    distribution_version: *const c_char,
    app_name: *const c_char,
    modules: *const *const c_char,
    min_log_level: c_int,
    log_dir: *const c_char,
    prebuilt_data_dir: *const c_char,
    staging_dir: *const c_char,
}

#[repr(C)]
struct RawComposition {
    length: c_int,
    cursor_pos: c_int,
    sel_start: c_int,
    sel_end: c_int,
    preedit: *mut c_char,
}

#[repr(C)]
struct RawCandidate {
    text: *mut c_char,
    comment: *mut c_char,
    reserved: *mut std::ffi::c_void,
}

#[repr(C)]
struct RawMenu {
    page_size: c_int,
    page_no: c_int,
    is_last_page: Bool,
    highlighted_candidate_index: c_int,
    num_candidates: c_int,
    candidates: *mut RawCandidate,
    select_keys: *mut c_char,
}

#[repr(C)]
struct RawContext {
    data_size: c_int,
    composition: RawComposition,
    menu: RawMenu,
    commit_text_preview: *mut c_char,
    select_labels: *mut *mut c_char,
}

#[repr(C)]
struct RawCommit {
    data_size: c_int,
    text: *mut c_char,
}

#[link(name = "rime")]
extern "C" {
    fn RimeSetup(traits: *mut Traits);
    fn RimeInitialize(traits: *mut Traits);
    fn RimeFinalize();
    fn RimeCreateSession() -> SessionId;
    fn RimeDestroySession(id: SessionId) -> Bool;
    fn RimeSelectSchema(id: SessionId, schema: *const c_char) -> Bool;
    fn RimeProcessKey(id: SessionId, keycode: c_int, mask: c_int) -> Bool;
    fn RimeClearComposition(id: SessionId);
    fn RimeGetContext(id: SessionId, ctx: *mut RawContext) -> Bool;
    fn RimeFreeContext(ctx: *mut RawContext) -> Bool;
    fn RimeGetCommit(id: SessionId, commit: *mut RawCommit) -> Bool;
    fn RimeFreeCommit(commit: *mut RawCommit) -> Bool;
}

/// `data_size` as RIME_STRUCT_INIT sets it: the struct's size less the field itself.
fn data_size<T>() -> c_int {
    (std::mem::size_of::<T>() - std::mem::size_of::<c_int>()) as c_int
}

fn c_path(p: &Path) -> Result<CString, Error> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| Error::BadPath(p.to_owned()))
}

static SETUP: Once = Once::new();
static VISIT_OPEN: AtomicBool = AtomicBool::new(false);

/// librime's shared, read-only side: Debian's data and the prepared schema.
#[derive(Debug, Clone)]
pub struct RimeShared {
    shared: PathBuf,
    staging: PathBuf,
}

impl RimeShared {
    /// Checks the Debian data in `shared` and prepares `staging` (the
    /// "deploy", run at package build or first start; cheap when already done).
    pub fn prepare(shared: &Path, staging: &Path) -> Result<Self, Error> {
        let prebuilt = shared.join("build");
        let schema = prebuilt.join(format!("{SCHEMA}.schema.yaml"));
        let needed = [schema.clone(), prebuilt.join(format!("{SCHEMA}.prism.bin")), prebuilt.join("luna_pinyin.table.bin")];
        if needed.iter().any(|p| !p.is_file()) {
            return Err(Error::PinyinData { path: shared.to_owned() });
        }
        let source = std::fs::read_to_string(&schema)?;
        let patched = without_learning(&source).ok_or(Error::PinyinData { path: shared.to_owned() })?;
        std::fs::create_dir_all(staging)?;
        let target = staging.join(format!("{SCHEMA}.schema.yaml"));
        if std::fs::read_to_string(&target).ok().as_deref() != Some(patched.as_str()) {
            // Written whole then renamed: a crash mid-write leaves the old copy.
            let tmp = staging.join(format!(".{SCHEMA}.schema.yaml.new"));
            std::fs::write(&tmp, &patched)?;
            std::fs::rename(&tmp, &target)?;
        }
        Ok(RimeShared { shared: shared.to_owned(), staging: staging.to_owned() })
    }

    /// Debian's data with the staging directory in a per-user cache
    /// (`$XDG_CACHE_HOME/cunban/rime`), for tests and the benchmark.
    pub fn debian_default() -> Result<Self, Error> {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        Self::prepare(Path::new(DEBIAN_RIME_DATA), &cache.join("cunban").join("rime"))
    }

    /// Opens the pinyin engine for one visit. Fails with [`Error::Busy`] while
    /// another visit's engine is open.
    pub fn open_visit(&self) -> Result<RimePinyin, Error> {
        if VISIT_OPEN.swap(true, Ordering::SeqCst) {
            return Err(Error::Busy);
        }
        match self.start() {
            Ok(p) => Ok(p),
            Err(e) => {
                VISIT_OPEN.store(false, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    fn start(&self) -> Result<RimePinyin, Error> {
        let user_dir = tempfile::Builder::new().prefix("cunban-rime-").tempdir()?;
        // Read by the schema's `table_translator@custom_phrase` at session start.
        std::fs::write(user_dir.path().join("custom_phrase.txt"), NAME_PHRASES)?;
        let shared = c_path(&self.shared)?;
        let prebuilt = c_path(&self.shared.join("build"))?;
        let staging = c_path(&self.staging)?;
        let user = c_path(user_dir.path())?;
        let app = c"rime.cunban";
        let dist = c"Cunban";
        // Logging: FATAL only, to stderr (an empty log_dir), so nothing
        // typed can reach a log file.
        let no_dir = c"";
        let mut traits = Traits {
            data_size: data_size::<Traits>(),
            shared_data_dir: shared.as_ptr(),
            user_data_dir: user.as_ptr(),
            distribution_name: dist.as_ptr(),
            distribution_code_name: dist.as_ptr(),
            distribution_version: c"1".as_ptr(),
            app_name: app.as_ptr(),
            modules: std::ptr::null(),
            min_log_level: 3,
            log_dir: no_dir.as_ptr(),
            prebuilt_data_dir: prebuilt.as_ptr(),
            staging_dir: staging.as_ptr(),
        };
        // SAFETY: every pointer in `traits` outlives the calls (librime copies
        // the strings); RimeSetup runs once per process, as librime requires.
        unsafe {
            SETUP.call_once(|| RimeSetup(&mut traits));
            RimeInitialize(&mut traits);
        }
        // SAFETY: librime is initialised above.
        let session = unsafe { RimeCreateSession() };
        if session == 0 {
            // SAFETY: balances RimeInitialize.
            unsafe { RimeFinalize() };
            return Err(Error::Rime("could not create a session"));
        }
        let schema = CString::new(SCHEMA).map_err(|_| Error::Rime("schema name"))?;
        // SAFETY: `session` is live; the name is NUL-terminated.
        if unsafe { RimeSelectSchema(session, schema.as_ptr()) } == 0 {
            // SAFETY: balances the calls above.
            unsafe {
                RimeDestroySession(session);
                RimeFinalize();
            }
            return Err(Error::PinyinData { path: self.shared.clone() });
        }
        Ok(RimePinyin { session, user_dir: Some(user_dir), current: Composition::default() })
    }
}

/// The schema text with `translator/enable_user_dict: false`, so librime
/// learns nothing from what is typed, and [`PAGE_SIZE`] candidates a page.
/// `None` if the schema lacks either block.
fn without_learning(schema: &str) -> Option<String> {
    let mut out = String::with_capacity(schema.len() + 64);
    let (mut translator, mut menu) = (false, false);
    let mut block = "";
    for line in schema.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            block = line;
        }
        // Existing settings in the two blocks are dropped and replaced.
        let key = line.trim_start();
        if (block == "translator:" && key.starts_with("enable_user_dict:"))
            || (block == "menu:" && key.starts_with("page_size:"))
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line == "translator:" {
            out.push_str("  enable_user_dict: false\n");
            translator = true;
        } else if line == "menu:" {
            out.push_str(&format!("  page_size: {PAGE_SIZE}\n"));
            menu = true;
        }
    }
    (translator && menu).then_some(out)
}

/// One visit's pinyin engine. Dropping it forgets everything typed.
pub struct RimePinyin {
    session: SessionId,
    user_dir: Option<tempfile::TempDir>,
    current: Composition,
}

impl std::fmt::Debug for RimePinyin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The composition is what the villager typed: never printed.
        f.debug_struct("RimePinyin").field("session", &self.session).finish_non_exhaustive()
    }
}

impl RimePinyin {
    /// The per-visit user data directory (deleted on drop), for tests.
    pub fn user_dir(&self) -> Option<&Path> {
        self.user_dir.as_ref().map(|d| d.path())
    }

    fn key(&mut self, code: c_int) -> Result<Composition, Error> {
        // SAFETY: `session` is live for as long as `self`.
        unsafe { RimeProcessKey(self.session, code, 0) };
        self.refresh();
        Ok(self.current.clone())
    }

    fn refresh(&mut self) {
        let mut ctx: RawContext = unsafe_zeroed_context();
        ctx.data_size = data_size::<RawContext>();
        let mut comp = Composition::default();
        // SAFETY: `ctx` is a zeroed, size-tagged context as librime expects;
        // its strings are copied before RimeFreeContext releases them.
        unsafe {
            if RimeGetContext(self.session, &mut ctx) != 0 {
                if !ctx.composition.preedit.is_null() {
                    comp.preedit = CStr::from_ptr(ctx.composition.preedit).to_string_lossy().into_owned();
                }
                let menu = &ctx.menu;
                if !menu.candidates.is_null() {
                    for i in 0..menu.num_candidates.max(0) as usize {
                        let c = &*menu.candidates.add(i);
                        if !c.text.is_null() {
                            comp.candidates.push(CStr::from_ptr(c.text).to_string_lossy().into_owned());
                        }
                    }
                }
                comp.page = menu.page_no.max(0) as usize;
                comp.has_next_page = menu.num_candidates > 0 && menu.is_last_page == 0;
                RimeFreeContext(&mut ctx);
            }
        }
        self.current = comp;
    }

    fn take_commit(&mut self) -> String {
        let mut commit = RawCommit { data_size: data_size::<RawCommit>(), text: std::ptr::null_mut() };
        // SAFETY: as for the context: copied, then freed by librime.
        unsafe {
            if RimeGetCommit(self.session, &mut commit) == 0 {
                return String::new();
            }
            let text = if commit.text.is_null() { String::new() } else { CStr::from_ptr(commit.text).to_string_lossy().into_owned() };
            RimeFreeCommit(&mut commit);
            text
        }
    }
}

fn unsafe_zeroed_context() -> RawContext {
    // SAFETY: RawContext is plain C data (ints and nullable pointers), for
    // which all-zero is the valid "empty" value librime's RIME_STRUCT uses.
    unsafe { std::mem::zeroed() }
}

impl Pinyin for RimePinyin {
    fn push(&mut self, ch: char) -> Result<Composition, Error> {
        match ch {
            'a'..='z' | '\'' => self.key(ch as c_int),
            _ => Ok(self.current.clone()),
        }
    }

    fn backspace(&mut self) -> Result<Composition, Error> {
        self.key(XK_BACKSPACE)
    }

    fn pick(&mut self, index: usize) -> Result<String, Error> {
        if index >= self.current.candidates.len() || index >= PAGE_SIZE {
            return Ok(String::new());
        }
        // The selector's keys are the digits 1..=page size.
        self.key(b'1' as c_int + index as c_int)?;
        Ok(self.take_commit())
    }

    fn page(&mut self, forward: bool) -> Result<Composition, Error> {
        self.key(if forward { XK_PAGE_DOWN } else { XK_PAGE_UP })
    }

    fn clear(&mut self) {
        // SAFETY: `session` is live.
        unsafe { RimeClearComposition(self.session) };
        self.current = Composition::default();
    }

    fn composition(&self) -> Composition {
        self.current.clone()
    }
}

impl Drop for RimePinyin {
    fn drop(&mut self) {
        // Escape first: librime drops the composition without committing it.
        // SAFETY: `session` is live until destroyed here, once; RimeFinalize
        // balances the visit's RimeInitialize.
        unsafe {
            RimeProcessKey(self.session, XK_ESCAPE, 0);
            RimeDestroySession(self.session);
            RimeFinalize();
        }
        self.current = Composition::default();
        if let Some(dir) = self.user_dir.take() {
            // Best effort; a leftover empty temp dir holds nothing typed.
            let _ = dir.close();
        }
        VISIT_OPEN.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::without_learning;

    #[test]
    fn learning_is_switched_off_in_the_translator_block() {
        let src = "menu:\n  page_size: 5\ntranslator:\n  dictionary: luna_pinyin\n  enable_user_dict: true\nz:\n  a: 1\n";
        let out = without_learning(src).expect("has a translator and a menu");
        assert!(out.contains("translator:\n  enable_user_dict: false\n  dictionary: luna_pinyin\nz:"), "{out}");
        assert!(out.starts_with("menu:\n  page_size: 8\ntranslator:"), "{out}");
        assert!(!out.contains("enable_user_dict: true") && !out.contains("page_size: 5"));
        assert!(without_learning("menu:\n  page_size: 5\n").is_none());
    }
}
