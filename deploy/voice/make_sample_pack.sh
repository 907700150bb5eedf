#!/usr/bin/env bash
# A sample voice pack, so the recorded-prompt path can be tested end to end
# without committing audio: every prompt the kiosk reads aloud whole
# (model/data/spoken_prompts.txt) read by espeak-ng's Chinese voice, signed
# with the given catalog key by `kioskctl voice pack`.
#
#     deploy/voice/make_sample_pack.sh CATALOG_KEY_FILE OUT.tar
#
# KIOSKCTL names the kioskctl binary (default: kioskctl on PATH). Only
# Chinese: the prompt ids are Chinese text, and it is not a human voice.
# Tibetan has no speech engine at all; a Tibetan pack needs a Tibetan
# speaker to record these prompts (kioskctl voice missing --lang bo).
set -euo pipefail
key="$1" out="$2"
kioskctl="${KIOSKCTL:-kioskctl}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
command -v espeak-ng >/dev/null || { echo "make_sample_pack.sh: espeak-ng not found (Debian package espeak-ng)" >&2; exit 2; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
n=0
while IFS= read -r id; do
    [ -n "$id" ] || continue
    file="$(printf 'p%03d.wav' "$n")"
    espeak-ng -v cmn-latn-pinyin -s 140 -w "$dir/$file" -- "$id"
    printf '%s\t%s\n' "$file" "$id" >> "$dir/prompts.tsv"
    n=$((n + 1))
done < "$root/model/data/spoken_prompts.txt"
"$kioskctl" voice pack --lang zh-CN --version "${VERSION:-1}" \
    --speaker "espeak-ng cmn-latn-pinyin (sample, not a human voice)" \
    --key "$key" --recordings "$dir" --out "$out"
