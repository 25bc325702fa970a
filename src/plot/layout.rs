//! Where things go on a figure: the title band, panel grids (and how many panels a
//! figure may have), panel titles and the panel that says why it is empty.

use anyhow::{ensure, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axes::finite;
use super::colours::REF_GREY;
use super::render::Backend;
use super::text::{anchored, put_text, text};

/// One density or predictive-check panel: room for ~5 ticks and two lines of text.
pub const PANEL_SIZE: (u32, u32) = (400, 290);
/// At most this many panel columns, so a grid still fits a page width.
pub const MAX_COLUMNS: usize = 3;
/// At most this many panels (densities, predictive checks) or trace rows per figure:
/// beyond that a figure is too tall to read (and a PNG of hundreds of panels runs to
/// hundreds of MB); pick the quantities to show instead.
pub const MAX_PANELS: usize = 60;
/// Figure title band height.
pub(super) const TITLE_H: u32 = 40;
/// Legend band height (legends sit above the plot, never over the data).
pub(super) const LEGEND_H: u32 = 26;
/// Panel title band height in grids.
pub(super) const PANEL_TITLE_H: u32 = 24;
/// Panels in grids: tick labels only (the panel title says what the axis is).
pub(super) const PANEL_X_AREA: i32 = 26;

/// Fills the background, draws the title band and returns the area below it.
pub(super) fn titled<DB: Backend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>> {
    root.fill(&WHITE)?;
    title_band(root, title, TITLE_H, 20.0, TITLE_H / 2)
}

/// Splits a band `height` px tall off the top of `area`, centres `title` in it (`size` px
/// text, its centre `y` px down) and returns the area below the band.
fn title_band<DB>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    height: u32,
    size: f64,
    y: u32,
) -> Result<DrawingArea<DB, Shift>>
where
    DB: Backend,
{
    let (top, rest) = area.split_vertically(height);
    let (w, _) = top.dim_in_pixel();
    let style = anchored(text(size), HPos::Center, VPos::Center);
    put_text(&top, title, ((w / 2) as i32, y as i32), &style)?;
    Ok(rest)
}

fn grid_shape(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, MAX_COLUMNS);
    (n.div_ceil(cols).max(1), cols)
}

pub(super) fn grid_size(n: usize) -> (u32, u32) {
    let (rows, cols) = grid_shape(n);
    (
        PANEL_SIZE.0 * cols as u32,
        TITLE_H + PANEL_SIZE.1 * rows as u32,
    )
}

/// A titled grid of one panel per item, each drawn by `panel`.
pub(super) fn draw_grid<DB, T>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    items: &[T],
    panel: impl Fn(&DrawingArea<DB, Shift>, &T) -> Result<()>,
) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, title)?;
    for (area, item) in body.split_evenly(grid_shape(items.len())).iter().zip(items) {
        panel(area, item)?;
    }
    Ok(())
}

/// Refuses a figure of `n` panels (or trace rows) when there is nothing to draw or more
/// than `MAX_PANELS`; `figure` and `noun` name the figure and its panels in the message.
pub(super) fn check_panel_count(figure: &str, noun: &str, n: usize) -> Result<()> {
    ensure!(n > 0, "{figure}: no {noun} to draw");
    ensure!(
        n <= MAX_PANELS,
        "{figure}: {n} {noun}, at most {MAX_PANELS} per figure"
    );
    Ok(())
}

/// A panel that says why it is empty, instead of failing the whole figure.
pub(super) fn empty_panel<DB>(area: &DrawingArea<DB, Shift>, why: &str) -> Result<()>
where
    DB: Backend,
{
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(10, 4), (w as i32 - 10, h as i32 - 10)],
        REF_GREY.mix(0.4).stroke_width(1),
    ))?;
    let style = anchored(text(15.0).color(&REF_GREY), HPos::Center, VPos::Center);
    put_text(area, why, ((w / 2) as i32, (h / 2) as i32), &style)?;
    Ok(())
}

/// Panel title centred in a band at the top; returns the area below it.
pub(super) fn panel_titled<DB: Backend>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
) -> Result<DrawingArea<DB, Shift>> {
    title_band(area, label, PANEL_TITLE_H, 15.0, PANEL_TITLE_H / 2 + 2)
}

/// The area below a panel's title and the panel's finite values.
pub(super) type FinitePanel<DB> = (DrawingArea<DB, Shift>, Vec<f64>);

/// A panel titled `label` for `values`: the area below its title and the finite values,
/// or None, having drawn an empty panel that says `why`, when none is finite.
pub(super) fn finite_panel<DB>(
    area: &DrawingArea<DB, Shift>,
    label: &str,
    values: &[f64],
    why: &str,
) -> Result<Option<FinitePanel<DB>>>
where
    DB: Backend,
{
    let plot = panel_titled(area, label)?;
    let values = finite(values);
    if values.is_empty() {
        empty_panel(&plot, why)?;
        return Ok(None);
    }
    Ok(Some((plot, values)))
}
