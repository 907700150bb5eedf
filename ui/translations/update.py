#!/usr/bin/env python3
"""Brings the kiosk's gettext catalogs up to date with the source.

Message ids are the Chinese source texts. They come from:
  - every @tr("...") in ui/ui/**/*.slint (Slint translates these itself);
  - the villager-facing sentences the kiosk words in Rust (kiosk/src/session/,
    and the device and storage sentences of devices.rs, app.rs, ports.rs, visit.rs,
    capture.rs (scanner and camera), materials.rs,
    which the session translates when it shows them), looked up by
    ui::i18n from the same files.

For each ui/translations/<lang>/LC_MESSAGES/ui.po: existing translations and
translator comments are kept, new ids are added untranslated, ids no longer
in the source are kept at the end as obsolete (#~) so no work is lost.

Run from anywhere: python3 ui/translations/update.py
Then translate the empty msgstr entries (any gettext editor works: Poedit,
Lokalize, Weblate). Do not mark entries "#, fuzzy" to flag drafts: Slint and
gettext skip fuzzy entries, so the screen would fall back to Chinese. Drafts
are flagged in the header (X-Review-Status) instead.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LANGS = ["bo", "kk", "en"]
CJK = re.compile(r"[\u4e00-\u9fff]")

def slint_ids():
    ids = []
    for base, _, files in sorted(os.walk(os.path.join(ROOT, "ui", "ui"))):
        for f in sorted(files):
            if f.endswith(".slint"):
                path = os.path.join(base, f)
                text = open(path, encoding="utf-8").read()
                for m in re.finditer(r'@tr\(\s*"((?:[^"\\]|\\.)*)"', text):
                    ids.append((unescape(m.group(1)), os.path.relpath(path, ROOT)))
    return ids

def rust_ids():
    ids = []
    session = sorted(os.path.join("session", n) for n in os.listdir(os.path.join(ROOT, "kiosk", "src", "session"))
                     if n.endswith(".rs"))
    for name in session + ["devices.rs", "app.rs", "ports.rs", "visit.rs", "capture.rs", "materials.rs"]:
        path = os.path.join(ROOT, "kiosk", "src", name)
        text = open(path, encoding="utf-8").read()
        # Code only: the tests below quote sentences to check them.
        cut = text.find("#[cfg(test)]\nmod tests {")
        if cut >= 0:
            text = text[:cut]
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', text):
            s = unescape(m.group(1))
            if CJK.search(s) and not s.startswith("#"):
                ids.append((s, os.path.relpath(path, ROOT)))
    # Shown through the session from model: rating levels, genders, nations.
    for s in ["非常满意", "满意", "基本满意", "不满意", "非常不满意", "男", "女", "未说明",
              "汉", "蒙古", "回", "藏", "维吾尔", "土家", "哈萨克", "东乡", "土", "撒拉", "保安", "裕固"]:
        ids.append((s, "model/src"))
    return ids

def unescape(s):
    return s.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")

def escape(s):
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

def parse_po(path):
    """Returns (header_lines, entries) where entries maps msgid -> (comments, msgstr)."""
    if not os.path.exists(path):
        return [], {}
    header, entries, order = [], {}, []
    comments, msgid, msgstr, part, in_header = [], None, None, None, True
    def flush():
        nonlocal comments, msgid, msgstr
        if msgid is not None:
            if msgid == "":
                header.extend(comments)
                header.append(("HEADER", msgstr))
            else:
                entries[msgid] = (comments, msgstr or "")
                order.append(msgid)
        comments, msgid, msgstr = [], None, None
    for line in open(path, encoding="utf-8").read().splitlines():
        if line.startswith("#~"):
            continue  # obsolete entries are rebuilt from `entries`
        if line.startswith("#"):
            if msgstr is not None:
                flush()
            if not line.startswith("#:"):
                comments.append(line)
        elif line.startswith("msgid "):
            if msgstr is not None:
                flush()
            msgid, part = unescape(line[7:-1]), "id"
        elif line.startswith("msgstr "):
            msgstr, part = unescape(line[8:-1]), "str"
        elif line.startswith('"'):
            if part == "id":
                msgid += unescape(line[1:-1])
            elif part == "str":
                msgstr += unescape(line[1:-1])
        elif not line.strip() and msgstr is not None:
            flush()
    flush()
    return header, entries

def write_po(path, lang, header, entries, ids):
    seen, out = set(), []
    head = None
    for h in header:
        if isinstance(h, tuple):
            head = h[1]
    if head is None:
        head = (f"Project-Id-Version: cunban-kiosk\nLanguage: {lang}\n"
                "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
                "Content-Transfer-Encoding: 8bit\nPlural-Forms: nplurals=1; plural=0;\n"
                "X-Review-Status: draft - machine-assisted, awaiting review by a native speaker\n")
    header_comments = [h for h in header if not isinstance(h, tuple)]
    out.extend(header_comments or ["# Cunban kiosk (村办) - villager screens.", "# SPDX-License-Identifier: GPL-3.0-or-later"])
    out.append('msgid ""')
    out.append('msgstr ""')
    for line in head.splitlines(keepends=True):
        out.append('"' + escape(line) + '"')
    by_id = {}
    for msgid, ref in ids:
        by_id.setdefault(msgid, []).append(ref)
    for msgid, refs in by_id.items():
        comments, msgstr = entries.get(msgid, ([], ""))
        out.append("")
        out.extend(comments)
        out.append("#: " + " ".join(sorted(set(refs))))
        out.append('msgid "' + escape(msgid) + '"')
        out.append('msgstr "' + escape(msgstr) + '"')
        seen.add(msgid)
    for msgid, (comments, msgstr) in entries.items():
        if msgid not in seen and msgstr:
            out.append("")
            out.append('#~ msgid "' + escape(msgid) + '"')
            out.append('#~ msgstr "' + escape(msgstr) + '"')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")

def main():
    ids = slint_ids() + rust_ids()
    for lang in LANGS:
        path = os.path.join(ROOT, "ui", "translations", lang, "LC_MESSAGES", "ui.po")
        header, entries = parse_po(path)
        write_po(path, lang, header, entries, ids)
        missing = [i for i, _ in ids if not entries.get(i, ([], ""))[1]]
        print(f"{lang}: {len(set(i for i, _ in ids))} messages, {len(set(missing))} untranslated")
    return 0

if __name__ == "__main__":
    sys.exit(main())
