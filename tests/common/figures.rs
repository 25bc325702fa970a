//! What a figure file states: an SVG's texts and declared size, a PNG's size.

use std::path::Path;

use super::cli::print_rounding;

/// The text of every `<text>` element of an SVG.
pub fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap();
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1;
            Some(body.split_once("</text>")?.0.trim().to_string())
        })
        .collect()
}

/// An SVG's declared (width, height).
pub fn svg_size(path: &Path) -> (u32, u32) {
    let svg = std::fs::read_to_string(path).unwrap();
    let head = svg.split_once('>').unwrap().0;
    let attribute = |name: &str| -> u32 {
        let value = head.split(&format!(" {name}=\"")).nth(1).unwrap();
        value.split('"').next().unwrap().parse().unwrap()
    };
    (attribute("width"), attribute("height"))
}

/// A PNG's (width, height) from its IHDR chunk, after checking the signature.
pub fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR",
        "{}: not a PNG",
        path.display()
    );
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

/// The number a figure prints after `label` (e.g. "mean = 0.145"), and the print's rounding.
pub fn figure_value(texts: &[String], label: &str) -> (f64, f64) {
    let text = texts
        .iter()
        .find_map(|t| t.strip_prefix(label))
        .unwrap_or_else(|| panic!("no text {label:?} in {texts:?}"));
    (text.parse().unwrap(), print_rounding(text))
}
