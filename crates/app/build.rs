//! Embeds every language file in `locales/` (one `<code>.toml` per language), so a language is
//! added by adding its file: no code names the languages.

use std::fmt::Write;

fn main() {
    let dir = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("locales");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("crates/app/locales")
        .map(|e| e.expect("a readable locales folder").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("/// Each language file: its code (the file's name) and its text.\n");
    out.push_str("pub(crate) const LOCALES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let code = f.file_stem().and_then(|s| s.to_str()).expect("a file name in UTF-8");
        assert!(
            code.len() >= 2 && code.len() <= 3 && code.chars().all(|c| c.is_ascii_lowercase()),
            "locales/{code}.toml: a language file is named by its ISO 639 code, e.g. fi.toml"
        );
        writeln!(out, "    ({code:?}, include_str!({:?})),", f.display().to_string()).expect("to a String");
    }
    out.push_str("];\n");
    let target = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets it")).join("locales.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
