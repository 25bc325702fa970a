//! The embedded DejaVu Sans: registered with plotters under one family name, and its
//! horizontal metrics (advances and left side bearings, read from its cmap, hhea and
//! hmtx tables) for placing bitmap text glyph by glyph.

use std::sync::OnceLock;

use anyhow::{ensure, Result};
use plotters::style::FontStyle;

/// Font family used for every piece of text (registered from the embedded TTF).
pub(super) const FONT: &str = "sans-serif";
/// DejaVu Sans, shipped in the repository (see data/fonts/DejaVuSans.LICENSE).
const FONT_BYTES: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

/// Registers the embedded font once per process; plotters has no other font source here.
pub(super) fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    ensure!(ok, "the embedded DejaVu Sans font could not be loaded");
    Ok(())
}

/// Where the embedded font's tables live, for left side bearings (see
/// `render::Backend`). Read here rather than through ab_glyph, whose numbers agree for
/// every BMP character but U+0000 and U+FFFF (mapped to .notdef here, missing there) and
/// which also maps characters beyond the BMP: either would move glyphs in some PNGs.
pub(super) struct FontMetrics {
    /// cmap format-4 subtable (BMP, Unicode) offset.
    cmap4: usize,
    hmtx: usize,
    n_hmetrics: usize,
    /// ascent - descent in font units: ab_glyph scales a font of size s by s / this.
    height_units: f64,
}

fn be16(d: &[u8], o: usize) -> Option<u16> {
    d.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn be32(d: &[u8], o: usize) -> Option<usize> {
    d.get(o..o + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

impl FontMetrics {
    pub(super) fn get() -> Option<&'static FontMetrics> {
        static METRICS: OnceLock<Option<FontMetrics>> = OnceLock::new();
        METRICS
            .get_or_init(|| FontMetrics::parse(FONT_BYTES))
            .as_ref()
    }

    fn parse(d: &[u8]) -> Option<FontMetrics> {
        let table = |tag: &[u8]| {
            (0..be16(d, 4)? as usize).find_map(|i| {
                let r = 12 + 16 * i;
                (d.get(r..r + 4)? == tag).then(|| be32(d, r + 8)).flatten()
            })
        };
        let hhea = table(b"hhea")?;
        let cmap = table(b"cmap")?;
        let ascent = be16(d, hhea + 4)? as i16 as f64;
        let descent = be16(d, hhea + 6)? as i16 as f64;
        let cmap4 = (0..be16(d, cmap + 2)? as usize).find_map(|i| {
            let rec = cmap + 4 + 8 * i;
            let (platform, encoding) = (be16(d, rec)?, be16(d, rec + 2)?);
            let sub = cmap + be32(d, rec + 4)?;
            ((platform == 3 && encoding == 1 || platform == 0) && be16(d, sub)? == 4).then_some(sub)
        })?;
        Some(FontMetrics {
            cmap4,
            hmtx: table(b"hmtx")?,
            n_hmetrics: be16(d, hhea + 34)? as usize,
            height_units: ascent - descent,
        })
    }

    fn glyph(&self, c: char) -> Option<u16> {
        let d = FONT_BYTES;
        let c = u16::try_from(u32::from(c)).ok()?;
        let s = self.cmap4;
        let seg2 = be16(d, s + 6)? as usize;
        let ends = s + 14;
        let starts = ends + seg2 + 2;
        let deltas = starts + seg2;
        let ranges = deltas + seg2;
        let i = (0..seg2 / 2).find(|i| be16(d, ends + 2 * i).is_some_and(|e| e >= c))?;
        let start = be16(d, starts + 2 * i)?;
        if start > c {
            return None;
        }
        let delta = be16(d, deltas + 2 * i)?;
        let range = be16(d, ranges + 2 * i)? as usize;
        if range == 0 {
            return Some(c.wrapping_add(delta));
        }
        let g = be16(d, ranges + 2 * i + range + 2 * (c - start) as usize)?;
        (g != 0).then(|| g.wrapping_add(delta))
    }

    /// (advance, left side bearing) of `c` in pixels at font size `size`, as ab_glyph
    /// scales them; None for characters the font lacks.
    pub(super) fn h_metrics_px(&self, c: char, size: f64) -> Option<(f64, f64)> {
        let g = self.glyph(c)? as usize;
        let last = self.n_hmetrics.checked_sub(1)?;
        let advance = be16(FONT_BYTES, self.hmtx + 4 * g.min(last))?;
        let lsb_at = if g < self.n_hmetrics {
            self.hmtx + 4 * g + 2
        } else {
            self.hmtx + 4 * self.n_hmetrics + 2 * (g - self.n_hmetrics)
        };
        let lsb = be16(FONT_BYTES, lsb_at)? as i16;
        let px = size / self.height_units;
        Some((advance as f64 * px, lsb as f64 * px))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_metrics_match_dejavu() {
        let m = FontMetrics::get().expect("embedded font parses");
        // DejaVu Sans digits are tabular; '1' has a wide left bearing, '.' a narrow advance.
        let (a0, _) = m.h_metrics_px('0', 100.0).unwrap();
        let (a1, lsb1) = m.h_metrics_px('1', 100.0).unwrap();
        let (a_dot, _) = m.h_metrics_px('.', 100.0).unwrap();
        assert_eq!(a0, a1);
        assert!(lsb1 > 5.0 && a_dot < a0 / 2.0, "{lsb1} {a_dot} {a0}");
        assert!(m.glyph('θ').is_some());
        assert!(m.glyph('\u{10FFFF}').is_none());
    }
}
