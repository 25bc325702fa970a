//! Text on figures: styles, placement (glyph by glyph on bitmaps, see
//! `render::Backend`), corner notes and the number formats printed on labels.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font::{FontMetrics, FONT};
use super::render::Backend;

/// Draws `s` at `pos` (backend pixels relative to `area`) with `style`'s anchor and
/// rotation; on bitmaps glyph by glyph at pen + left bearing (see `Backend`). `pos` must
/// lie inside `area`: plotters clamps an element's anchor into the area it is drawn on.
pub(super) fn put_text<DB: Backend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    pos: (i32, i32),
    style: &TextStyle,
) -> Result<()> {
    let metrics = FontMetrics::get();
    let Some(metrics) = metrics.filter(|_| DB::PER_GLYPH) else {
        area.draw(&Text::new(s.to_string(), pos, style.clone()))?;
        return Ok(());
    };
    let (w, h) = area.estimate_text_size(s, style)?;
    let (w, h) = (w as i32, h as i32);
    let dx = match style.pos.h_pos {
        HPos::Left => 0,
        HPos::Right => -w,
        HPos::Center => -w / 2,
    };
    let dy = match style.pos.v_pos {
        VPos::Top => 0,
        VPos::Bottom => -h,
        VPos::Center => -h / 2,
    };
    let transform = style.font.get_transform();
    let size = style.font.get_size();
    let glyph_style = style.pos(Pos::new(HPos::Left, VPos::Top));
    // Fractional pen position from the font's advances (kerning ignored: at most a
    // pixel here and there). Each glyph is rasterised with its sub-pixel bearing inside
    // its first pixel, so it goes at round(pen) + floor(bearing).
    let mut pen = 0.0;
    for (i, c) in s.char_indices() {
        let glyph = &s[i..i + c.len_utf8()];
        let (advance, lsb) = match metrics.h_metrics_px(c, size) {
            Some(m) => m,
            None => {
                let w = area.estimate_text_size(glyph, style)?.0 as f64;
                (w, 0.0)
            }
        };
        let here = pen;
        pen += advance;
        if c.is_whitespace() {
            continue;
        }
        let offset = here.round() as i32 + lsb.floor() as i32;
        let (tx, ty) = transform.transform(dx + offset, dy);
        area.draw(&Text::new(
            glyph.to_string(),
            (pos.0 + tx, pos.1 + ty),
            glyph_style.clone(),
        ))?;
    }
    Ok(())
}

pub(super) fn text(size: f64) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal).color(&BLACK)
}

pub(super) fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// Number with about three significant digits, for labels printed on figures.
pub(super) fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x.fract() == 0.0 && x.abs() < 1e5 {
        return format!("{x:.0}"); // counts and other whole numbers print as such
    }
    let mag = x.abs().log10().floor();
    if !(-3.0..5.0).contains(&mag) {
        return format!("{x:.2e}");
    }
    let decimals = (2.0 - mag).max(0.0) as usize;
    format!("{x:.decimals$}")
}

/// Posterior predictive p-value: two decimals, but never a misleading "0.00" or "1.00".
pub(super) fn fmt_p(p: f64) -> String {
    if !p.is_finite() {
        "p = n/a".to_string()
    } else if p == 0.0 || p == 1.0 {
        format!("p = {p:.0}")
    } else if p < 0.01 {
        "p < 0.01".to_string()
    } else if p > 0.99 {
        "p > 0.99".to_string()
    } else {
        format!("p = {p:.2}")
    }
}

/// Draws `lines` in the top-left or top-right corner of a chart's plotting area.
pub(super) fn corner_text<DB, CT>(
    plot: &DrawingArea<DB, CT>,
    lines: &[String],
    left: bool,
) -> Result<()>
where
    DB: Backend,
    CT: plotters::coord::CoordTranslate,
{
    let screen = plot.use_screen_coord();
    let (xr, yr) = plot.get_pixel_range();
    let (x, h) = if left {
        (xr.start + 6, HPos::Left)
    } else {
        (xr.end - 6, HPos::Right)
    };
    for (i, line) in lines.iter().enumerate() {
        let style = anchored(text(13.0), h, VPos::Top);
        put_text(&screen, line, (x, yr.start + 4 + 17 * i as i32), &style)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_about_three_digits() {
        assert_eq!(fmt_num(0.26347), "0.263");
        assert_eq!(fmt_num(27.0), "27");
        assert_eq!(fmt_num(12.345), "12.3");
        assert_eq!(fmt_p(0.0), "p = 0");
        assert_eq!(fmt_p(0.004), "p < 0.01");
        assert_eq!(fmt_p(0.431), "p = 0.43");
    }
}
