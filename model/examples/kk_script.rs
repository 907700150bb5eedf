//! Kazakh between its two alphabets, for translators and for checking what
//! the kiosk's Kazakh voice will read (the same code, `model::kazakh`):
//!
//!     cargo run -p model --example kk_script -- --to-arabic "Сәлеметсіз бе!"
//!     cargo run -p model --example kk_script -- --to-cyrillic "سالەمەتسىز بە!"

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, text) = match args.split_first() {
        Some((mode, rest)) if !rest.is_empty() => (mode.as_str(), rest.join(" ")),
        _ => {
            eprintln!("usage: kk_script --to-arabic|--to-cyrillic TEXT");
            std::process::exit(2);
        }
    };
    match mode {
        "--to-arabic" => println!("{}", model::kazakh::cyrillic_to_arabic(&text)),
        "--to-cyrillic" => println!("{}", model::kazakh::arabic_to_cyrillic(&text)),
        _ => {
            eprintln!("usage: kk_script --to-arabic|--to-cyrillic TEXT");
            std::process::exit(2);
        }
    }
}
