//! Legends: one line of swatches and labels in a band of its own above the data.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::render::Backend;
use super::text::{anchored, put_text, text};

/// A legend entry's swatch.
#[derive(Clone, Copy)]
pub(super) enum Mark {
    Line(RGBColor),
    Dashed(RGBColor),
    /// Point with a vertical interval bar through it.
    Interval(RGBColor),
    /// A filled box (a shaded area).
    Fill(RGBColor),
}

/// A one-line legend centred in its own band, so it never covers data.
pub(super) fn legend_band<DB>(area: &DrawingArea<DB, Shift>, items: &[(Mark, String)]) -> Result<()>
where
    DB: Backend,
{
    const SWATCH: i32 = 24;
    const GAP: i32 = 6;
    const SEP: i32 = 22;
    let style = text(13.0);
    let mut widths = Vec::with_capacity(items.len());
    for (_, label) in items {
        widths.push(area.estimate_text_size(label, &style)?.0 as i32);
    }
    let total: i32 = widths.iter().map(|w| SWATCH + GAP + w).sum::<i32>()
        + SEP * (items.len() as i32 - 1).max(0);
    let (w, h) = area.dim_in_pixel();
    let mut x = ((w as i32 - total) / 2).max(8);
    let y = h as i32 / 2;
    for ((mark, label), tw) in items.iter().zip(widths) {
        match *mark {
            Mark::Line(c) => {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + SWATCH, y)],
                    c.stroke_width(2),
                ))?;
            }
            Mark::Dashed(c) => {
                for k in 0..3 {
                    let x0 = x + k * 9;
                    area.draw(&PathElement::new(
                        vec![(x0, y), (x0 + 6, y)],
                        c.stroke_width(2),
                    ))?;
                }
            }
            Mark::Fill(c) => {
                area.draw(&Rectangle::new(
                    [(x, y - 7), (x + SWATCH, y + 7)],
                    c.filled(),
                ))?;
                area.draw(&Rectangle::new(
                    [(x, y - 7), (x + SWATCH, y + 7)],
                    RGBColor(0xAA, 0xAA, 0xAA).stroke_width(1),
                ))?;
            }
            Mark::Interval(c) => {
                let cx = x + SWATCH / 2;
                area.draw(&PathElement::new(
                    vec![(cx, y - 8), (cx, y + 8)],
                    c.stroke_width(1),
                ))?;
                area.draw(&Circle::new((cx, y), 4, c.filled()))?;
            }
        }
        let st = anchored(style.clone(), HPos::Left, VPos::Center);
        put_text(area, label, (x + SWATCH + GAP, y), &st)?;
        x += SWATCH + GAP + tw + SEP;
    }
    Ok(())
}
