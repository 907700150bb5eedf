#!/usr/bin/env bash
# Brings the kiosk's translation files up to date with the source, with the
# standard tools: Slint's own extractor for the .slint files, xgettext for
# the Rust side (marked calls, not a list of files), msgmerge into each
# language. Run it after adding or changing any villager- or staff-visible
# text, and at every merge:
#
#     ui/translations/extract.sh           # update ui.pot, the .po files, the prompt list
#     ui/translations/extract.sh --check   # change nothing; exit 1 if anything is out of date
#
# Needs: slint-tr-extractor 1.18.1 (`cargo install --locked slint-tr-extractor
# --version 1.18.1`, ./dev installs it; or set SLINT_TR_EXTRACTOR), gettext
# (xgettext, msgcat, msgmerge, msgattrib, msgexec; Debian package gettext).
#
# What is extracted:
#   - @tr("…") in ui/ui/**/*.slint (slint-tr-extractor, no default context:
#     build.rs uses none either);
#   - in kiosk/src/**/*.rs, the first argument of t, tf, say, say_f (the
#     session's wording), n_ (ui::i18n::n_: a sentence translated later, when
#     shown) and the second of tr / tr_args (ui::i18n::tr(lang, msgid));
#   - n_("…") in model/src (the names model gives: genders, nations, ratings).
# Sentences marked `say` are also the prompts a recorded voice pack may
# hold: they are listed in model/data/spoken_prompts.txt (kioskctl voice missing).
#
# Existing translations are kept; new messages are added untranslated;
# messages no longer in the source become obsolete (#~), so no work is lost.
# Fuzzy matching is off: a guessed translation would not be shown (Slint
# skips fuzzy entries) and would hide that the message needs a translator.
set -euo pipefail
cd "$(dirname "$0")/../.."
# xgettext reads the sources as UTF-8 only in a UTF-8 locale.
export LC_ALL=C.UTF-8

check=false
[ "${1:-}" = "--check" ] && check=true

extractor="${SLINT_TR_EXTRACTOR:-slint-tr-extractor}"
command -v "$extractor" >/dev/null || { echo "extract.sh: $extractor not found (cargo install --locked slint-tr-extractor --version 1.18.1)" >&2; exit 2; }
for tool in xgettext msgcat msgmerge msgattrib msgexec msguniq; do
    command -v "$tool" >/dev/null || { echo "extract.sh: $tool not found (Debian package gettext)" >&2; exit 2; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# 1. Slint. The extractor repeats a location line per use; msguniq tidies it.
find ui/ui -name '*.slint' -print0 | sort -z | xargs -0 "$extractor" --no-default-translation-context -o "$tmp/slint.pot"

# 2. Rust. xgettext has no Rust parser in Debian 12's gettext 0.21; its C
# lexer reads Rust's string literals and calls the same way (lifetimes
# such as 'a make it warn, which is harmless: they end at the line's end).
rust_sources() { find kiosk/src -name '*.rs' -not -path '*/tests/*' -not -name 'tests.rs' | sort; }
rust_sources | xargs xgettext -L C --from-code=UTF-8 --no-wrap \
    --keyword= --keyword=t --keyword=tf --keyword=say --keyword=say_f --keyword=n_ --keyword=tr:2 --keyword=tr_args:2 \
    -o "$tmp/rust.pot" 2> >(grep -v 'unterminated character constant' >&2 || true)
rust_sources | xargs xgettext -L C --from-code=UTF-8 --no-wrap --keyword= --keyword=say \
    -o "$tmp/say.pot" 2>/dev/null

# 3. model's names (genders, nations, ratings), marked with n_ there too.
find model/src -name '*.rs' -not -name 'tests.rs' -print0 | sort -z | xargs -0 xgettext -L C --from-code=UTF-8 --no-wrap \
    --keyword= --keyword=n_ -o "$tmp/model.pot" 2>/dev/null

# 4. One template, then each language.
msgcat --use-first --no-wrap --add-location=file "$tmp/slint.pot" "$tmp/rust.pot" "$tmp/model.pot" | msguniq --no-wrap --add-location=file -o "$tmp/ui.pot"
# The date in the header would make every run a change.
sed -i '/^"POT-Creation-Date:/d' "$tmp/ui.pot"

# Prompts read aloud whole (no {} placeholder: a recording cannot say a number).
: > "$tmp/spoken_prompts.txt"
if [ -s "$tmp/say.pot" ]; then
    # shellcheck disable=SC2016
    msgexec -i "$tmp/say.pot" sh -c 'case "$MSGEXEC_MSGID" in ""|*"{"*) ;; *) printf "%s\n" "$MSGEXEC_MSGID";; esac' \
        | LC_ALL=C sort -u > "$tmp/spoken_prompts.txt"
fi

status=0
for lang in bo kk en; do
    po="ui/translations/$lang/LC_MESSAGES/ui.po"
    msgmerge --quiet --no-fuzzy-matching --no-wrap --add-location=file --previous -o "$tmp/$lang.po" "$po" "$tmp/ui.pot"
    if $check; then
        # Where a message is used may move; what the file holds may not.
        if ! cmp -s <(grep -v '^#:' "$tmp/$lang.po") <(grep -v '^#:' "$po"); then
            echo "extract.sh: $po is out of date with the source (run ui/translations/extract.sh):" >&2
            diff -u "$po" "$tmp/$lang.po" | grep '^[-+]msgid' | head -20 >&2 || true
            status=1
        fi
    else
        cp "$tmp/$lang.po" "$po"
    fi
    total=$(msgattrib --no-obsolete "$tmp/$lang.po" | grep -c '^msgid ' || true)
    untranslated=$(msgattrib --untranslated --no-obsolete "$tmp/$lang.po" | grep -c '^msgid ' || true)
    fuzzy=$(msgattrib --only-fuzzy --no-obsolete "$tmp/$lang.po" | grep -c '^msgid ' || true)
    # Each count includes the header entry when there is anything at all.
    echo "$lang: $((total > 0 ? total - 1 : 0)) messages, $((untranslated > 0 ? untranslated - 1 : 0)) untranslated, $((fuzzy > 0 ? fuzzy - 1 : 0)) fuzzy"
done

for pair in "ui.pot:ui/translations/ui.pot" "spoken_prompts.txt:model/data/spoken_prompts.txt"; do
    src="$tmp/${pair%%:*}" dst="${pair#*:}"
    if $check; then
        cmp -s <(grep -v '^#:' "$src") <(grep -v '^#:' "$dst") || { echo "extract.sh: $dst is out of date (run ui/translations/extract.sh)" >&2; status=1; }
    else
        cp "$src" "$dst"
    fi
done
exit $status
