#!/usr/bin/env python3
"""Kazakh in Cyrillic to the Arabic-script Kazakh used in China (töte jazu).

A drafting aid for translators who write Cyrillic more easily: the result
still needs a native reader. Rules: one Arabic letter per Cyrillic letter;
ә, ө, ү, і share their letter with а, о, ұ, ы and a word with any of them
gets the high hamza (ٴ) in front, unless it already shows it is a front-vowel
word by е, к or г; Chinese-style punctuation becomes Arabic punctuation;
digits, Latin letters and {} placeholders are left as they are.

    python3 kk_cyrillic_to_arabic.py "Сәлеметсіз бе!"
"""
import re
import sys

LETTERS = {
    "а": "ا", "ә": "ا", "б": "ب", "в": "ۆ", "г": "گ", "ғ": "ع", "д": "د", "е": "ە",
    "ё": "يو", "ж": "ج", "з": "ز", "и": "ي", "й": "ي", "к": "ك", "қ": "ق", "л": "ل",
    "м": "م", "н": "ن", "ң": "ڭ", "о": "و", "ө": "و", "п": "پ", "р": "ر", "с": "س",
    "т": "ت", "у": "ۋ", "ұ": "ۇ", "ү": "ۇ", "ф": "ف", "х": "ح", "һ": "ھ", "ц": "تس",
    "ч": "چ", "ш": "ش", "щ": "شش", "ъ": "", "ы": "ى", "і": "ى", "ь": "", "э": "ە",
    "ю": "يۋ", "я": "يا",
}
PUNCT = {",": "،", "?": "؟", ";": "؛"}
HAMZA = "\u0674"

def word(w):
    low = w.lower()
    out = "".join(LETTERS.get(c, c) for c in low)
    if any(c in "әөүі" for c in low) and not any(c in "екгэ" for c in low):
        out = HAMZA + out
    return out

def convert(text):
    parts = re.split(r"(\{\d*\}|[A-Za-z0-9][A-Za-z0-9.\-/]*)", text)
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1:
            out.append(part)
            continue
        part = re.sub(r"[А-Яа-яӘәҒғҚқҢңӨөҰұҮүҺһІіЁё]+", lambda m: word(m.group(0)), part)
        out.append("".join(PUNCT.get(c, c) for c in part))
    return "".join(out)

if __name__ == "__main__":
    print(convert(" ".join(sys.argv[1:])))
