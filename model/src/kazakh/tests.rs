use super::*;

/// Words written both ways (Cyrillic, töte jazu), each reversible: the
/// Arabic spelling of the Cyrillic, and the Cyrillic reading of the Arabic.
/// Hamza words (ٴ), ۋ/ۇ, ي as и and й, ە and the back-consonant words.
const BOTH_WAYS: [(&str, &str); 62] = [
    ("бала", "بالا"), ("қала", "قالا"), ("ата", "اتا"), ("ана", "انا"), ("әке", "اكە"),
    ("сәлем", "سالەم"), ("үй", "ٴۇي"), ("күн", "كۇن"), ("түн", "ٴتۇن"), ("су", "سۋ"),
    ("көз", "كوز"), ("бір", "ٴبىر"), ("екі", "ەكى"), ("үш", "ٴۇش"), ("төрт", "ٴتورت"),
    ("бес", "بەس"), ("алты", "التى"), ("жеті", "جەتى"), ("сегіз", "سەگىز"), ("тоғыз", "توعىز"),
    ("он", "ون"), ("жүз", "ٴجۇز"), ("мың", "مىڭ"), ("ауыл", "اۋىل"), ("аудан", "اۋدان"),
    ("басты", "باستى"), ("бет", "بەت"), ("үлкен", "ۇلكەن"), ("әріп", "ٴارىپ"), ("айқын", "ايقىن"),
    ("түс", "ٴتۇس"), ("дауыстап", "داۋىستاپ"), ("оқу", "وقۋ"), ("ескерту", "ەسكەرتۋ"), ("қазақ", "قازاق"),
    ("тіл", "ٴتىل"), ("білім", "ٴبىلىم"), ("өмір", "ٴومىر"), ("жол", "جول"), ("ақша", "اقشا"),
    ("сұрақ", "سۇراق"), ("жауап", "جاۋاپ"), ("құжат", "قۇجات"), ("нөмір", "ٴنومىر"), ("күту", "كۇتۋ"),
    ("тексеру", "تەكسەرۋ"), ("дұрыс", "دۇرىس"), ("қате", "قاتە"), ("кешіріңіз", "كەشىرىڭىز"), ("рақмет", "راقمەت"),
    ("өтініш", "ٴوتىنىش"), ("қызмет", "قىزمەت"), ("жұмыс", "جۇمىس"), ("ақпарат", "اقپارات"), ("мемлекет", "مەملەكەت"),
    ("иә", "ٴيا"), ("сиыр", "سيىر"), ("әкім", "اكىم"), ("зейнетақы", "زەينەتاقى"), ("дәрігер", "دارىگەر"),
    ("уақыт", "ۋاقىت"), ("оқиға", "وقيعا"),
];

#[test]
fn the_table_reads_both_ways() {
    let mut wrong = Vec::new();
    for (cyr, arab) in BOTH_WAYS {
        if cyrillic_to_arabic(cyr) != arab {
            wrong.push(format!("{cyr} → {} (want {arab})", cyrillic_to_arabic(cyr)));
        }
        if arabic_to_cyrillic(arab) != cyr {
            wrong.push(format!("{arab} → {} (want {cyr})", arabic_to_cyrillic(arab)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn sentences_keep_spaces_punctuation_digits_and_placeholders() {
    assert_eq!(cyrillic_to_arabic("Сәлеметсіз бе, {} ауыл?"), "سالەمەتسىز بە، {} اۋىل؟");
    assert_eq!(arabic_to_cyrillic("سالەمەتسىز بە، {} اۋىل؟"), "сәлеметсіз бе, {} ауыл?");
    // Arabic-Indic digits are read as numbers; Chinese and Latin pass through.
    assert_eq!(arabic_to_cyrillic("٣ ٴبىر 620000 村"), "3 бір 620000 村");
}

#[test]
fn russian_only_letters_and_loans_are_not_reversible_but_readable() {
    // Spelled out one way, read as the sounds the other way.
    assert_eq!(cyrillic_to_arabic("цех"), "تسەح");
    assert_eq!(arabic_to_cyrillic("تسەح"), "тсех");
    assert_eq!(cyrillic_to_arabic("я"), "يا");
    // A loan mixing back and front vowels comes back with front vowels.
    assert_eq!(arabic_to_cyrillic(&cyrillic_to_arabic("газет")), "гәзет");
}

#[test]
fn a_redundant_or_plain_hamza_reads_the_same() {
    // ء typed instead of ٴ, and a hamza on a word already marked by ك.
    assert_eq!(arabic_to_cyrillic("ءبىر"), "бір");
    assert_eq!(arabic_to_cyrillic("ٴاكىم"), "әкім");
}
