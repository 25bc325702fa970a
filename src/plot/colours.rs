//! The figures' colours: the Okabe–Ito palette and the two greys/blues drawn behind data.

use plotters::style::RGBColor;

/// Okabe–Ito colour-blind-safe palette; yellow last because it is faint on white.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
    RGBColor(0xF0, 0xE4, 0x42), // yellow
];
/// Histogram fill: Okabe–Ito sky blue, light enough for black bars and text on top.
pub(super) const HIST_FILL: RGBColor = PALETTE[5];
/// Reference lines (y = x, expected rank count): dark grey so data stay in front.
pub(super) const REF_GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);
