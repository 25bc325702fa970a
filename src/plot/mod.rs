//! Figures (plotters, SVG or PNG) drawn from plain data: the caller reads the Parquet
//! outputs and fills these structs. The format follows the path's extension (`.svg` or
//! `.png`); files are written atomically (temp file in the same directory, then rename).
//! Text uses the embedded DejaVu Sans registered as "sans-serif", so no system fonts are
//! needed and PNG and SVG lay out alike.

pub mod figures;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, ensure, Context, Result};
use plotters::coord::ranged1d::{BoldPoints, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontTransform;

/// Font family used for every piece of text (registered from the embedded TTF).
const FONT: &str = "sans-serif";
/// DejaVu Sans, shipped in the repository (see data/fonts/DejaVuSans.LICENSE).
const FONT_BYTES: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

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
const HIST_FILL: RGBColor = PALETTE[5];
/// Reference lines (y = x, expected rank count): dark grey so data stay in front.
const REF_GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// Single-panel scatter figures: 3:2, wide enough for hundreds of units side by side.
pub const SCATTER_SIZE: (u32, u32) = (900, 600);
/// One density or predictive-check panel: room for ~5 ticks and two lines of text.
pub const PANEL_SIZE: (u32, u32) = (400, 290);
/// At most this many panel columns, so a grid still fits a page width.
pub const MAX_COLUMNS: usize = 3;
/// At most this many panels (densities, predictive checks) or trace rows per figure:
/// beyond that a figure is too tall to read (and a PNG of hundreds of panels runs to
/// hundreds of MB); pick the quantities to show instead.
pub const MAX_PANELS: usize = 60;
/// Trace figure width: trace gets 2/3 (time needs room), rank histogram 1/3.
pub const TRACE_WIDTH: u32 = 1200;
/// Height of one parameter's row in the trace figure.
pub const TRACE_ROW_HEIGHT: u32 = 220;
/// At most this many points per chain in a trace (min and max per bucket, so spikes
/// survive) to keep SVGs small when there are many draws.
pub const MAX_TRACE_POINTS: usize = 2000;
/// Figure title band height.
const TITLE_H: u32 = 40;
/// Legend band height (legends sit above the plot, never over the data).
const LEGEND_H: u32 = 26;
/// Panel title band height in grids.
const PANEL_TITLE_H: u32 = 24;
/// Pixels below the density baseline kept for the HDI bar and its end values.
const HDI_BAND_PX: f64 = 34.0;
/// Axis label areas (px): tick labels plus an axis description below / left of the plot.
const SCATTER_X_AREA: i32 = 48;
const SCATTER_Y_AREA: i32 = 72;
const TRACE_X_AREA: i32 = 40;
const TRACE_Y_AREA: i32 = 64;
const RANK_Y_AREA: i32 = 56;
/// Panels in grids: tick labels only (the panel title says what the axis is).
const PANEL_X_AREA: i32 = 26;
const PPC_Y_AREA: i32 = 44;
/// Probability mass of the highest-density interval shown.
const HDI_PROB: f64 = 0.95;

/// BDA3 Figure 5.4: posterior median and 95% interval of each theta against its raw rate
/// y/n, with y = x and the population mean as a horizontal line.
#[derive(Debug, Clone, Default)]
pub struct Shrinkage {
    pub title: String,
    pub raw: Vec<f64>,
    pub median: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    pub population_mean: f64,
}

/// One panel of `densities`: a quantity's draws and an optional reference value
/// (e.g. 0 for differences) drawn as a dashed vertical line.
#[derive(Debug, Clone, Default)]
pub struct Density {
    pub label: String,
    pub draws: Vec<f64>,
    pub reference: Option<f64>,
}

/// One row of `traces`: a parameter's draws, one Vec per chain.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub label: String,
    pub chains: Vec<Vec<f64>>,
}

/// One estimator in `estimator_comparison`: per unit, its mean and 95% interval.
#[derive(Debug, Clone, Default)]
pub struct EstimatorIntervals {
    pub estimator: String,
    pub mean: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// One panel of `predictive_checks`: replicated values of a test statistic, its observed
/// value and the posterior predictive p-value.
#[derive(Debug, Clone, Default)]
pub struct PredictiveStat {
    pub label: String,
    pub replicated: Vec<f64>,
    pub observed: f64,
    pub p_value: f64,
}

/// What goes on the horizontal axis of an estimator comparison.
#[derive(Debug, Clone, Copy)]
pub enum UnitAxis<'a> {
    /// Each unit's raw rate y/n (with a y = x line).
    RawRate(&'a [f64]),
    /// Each unit's index, 1-based (for units whose raw rates tie or crowd).
    Index,
}

/// Any of the figures, so one `render`/`render_rgb` serves all of them.
#[derive(Debug, Clone, Copy)]
pub enum Figure<'a> {
    Shrinkage(&'a Shrinkage),
    Densities {
        title: &'a str,
        panels: &'a [Density],
    },
    Traces {
        title: &'a str,
        params: &'a [Trace],
    },
    EstimatorComparison {
        title: &'a str,
        x: UnitAxis<'a>,
        estimators: &'a [EstimatorIntervals],
    },
    PredictiveChecks {
        title: &'a str,
        stats: &'a [PredictiveStat],
    },
}

/// An RGB image in memory (3 bytes per pixel, row-major), as `render_rgb` returns it.
#[derive(Debug, Clone)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// BDA3 Figure 5.4 (see `Shrinkage`).
pub fn shrinkage(path: &Path, fig: &Shrinkage) -> Result<()> {
    render(path, &Figure::Shrinkage(fig))
}

/// Kruschke DBDA2 Figure 9.14 style: one panel per quantity (up to `MAX_COLUMNS` per row)
/// with a histogram of its draws, the 95% HDI as a thick bar with its end values, the
/// mean, and the optional reference value as a dashed line with the mass on each side.
/// A quantity without finite draws gets a "no draws" panel.
pub fn densities(path: &Path, title: &str, panels: &[Density]) -> Result<()> {
    render(path, &Figure::Densities { title, panels })
}

/// Trace plot (one coloured line per chain) and rank histogram per chain (ranks among
/// all chains' pooled draws, Vehtari et al. 2021: flat when the chains agree), side by
/// side, one row per parameter.
pub fn traces(path: &Path, title: &str, params: &[Trace]) -> Result<()> {
    render(path, &Figure::Traces { title, params })
}

/// Each estimator's mean and 95% interval per unit against the unit's raw rate (`raw`),
/// estimators in distinct colours and slightly offset, with y = x.
pub fn estimator_comparison(
    path: &Path,
    title: &str,
    raw: &[f64],
    estimators: &[EstimatorIntervals],
) -> Result<()> {
    render(
        path,
        &Figure::EstimatorComparison {
            title,
            x: UnitAxis::RawRate(raw),
            estimators,
        },
    )
}

/// As `estimator_comparison`, with the unit's (1-based) index on the horizontal axis.
pub fn estimator_comparison_by_index(
    path: &Path,
    title: &str,
    estimators: &[EstimatorIntervals],
) -> Result<()> {
    render(
        path,
        &Figure::EstimatorComparison {
            title,
            x: UnitAxis::Index,
            estimators,
        },
    )
}

/// Posterior predictive checks: per statistic, a histogram of its replicated values, the
/// observed value as a vertical line, and its p-value printed.
pub fn predictive_checks(path: &Path, title: &str, stats: &[PredictiveStat]) -> Result<()> {
    render(path, &Figure::PredictiveChecks { title, stats })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Png,
}

fn format_of(path: &Path) -> Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => Ok(Format::Svg),
        Some("png") => Ok(Format::Png),
        _ => bail!(
            "cannot draw {}: the figure format follows the extension, which must be .svg or .png",
            path.display()
        ),
    }
}

/// Temp file next to `path` (same filesystem, so the rename is atomic), keeping the
/// extension because the PNG encoder picks its format from it.
fn temp_path(path: &Path, format: Format) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "figure".to_string());
    let ext = match format {
        Format::Svg => "svg",
        Format::Png => "png",
    };
    path.with_file_name(format!(".{name}.{}.tmp.{ext}", std::process::id()))
}

/// Registers the embedded font once per process; plotters has no other font source here.
fn ensure_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    ensure!(ok, "the embedded DejaVu Sans font could not be loaded");
    Ok(())
}

/// Draws `fig` to `path` (.svg or .png), atomically.
pub fn render(path: &Path, fig: &Figure) -> Result<()> {
    let format = format_of(path)?;
    ensure_font()?;
    fig.validate()
        .with_context(|| format!("cannot draw {}", path.display()))?;
    let size = fig.size();
    let tmp = temp_path(path, format);
    let result = (|| -> Result<()> {
        match format {
            Format::Svg => {
                let mut svg = String::new();
                {
                    let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                    fig.draw(&root)?;
                    root.present()?;
                }
                std::fs::write(&tmp, svg)?;
            }
            Format::Png => {
                let root = BitMapBackend::new(&tmp, size).into_drawing_area();
                fig.draw(&root)?;
                root.present()?;
            }
        }
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        // A failed draw may still have left a partial temp file behind (the bitmap
        // backend saves on drop).
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing figure {}", path.display()))
}

/// Draws `fig` into memory exactly as the PNG path does (for tests and previews).
pub fn render_rgb(fig: &Figure) -> Result<RgbImage> {
    ensure_font()?;
    fig.validate()?;
    let (width, height) = fig.size();
    let mut pixels = vec![0u8; 3 * width as usize * height as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        fig.draw(&root)?;
        root.present()?;
    }
    Ok(RgbImage {
        width,
        height,
        pixels,
    })
}

impl Figure<'_> {
    /// Rejects inputs that cannot make a figure (mismatched lengths, nothing to draw);
    /// panels whose draws are empty or all NaN are drawn as "no draws" instead.
    fn validate(&self) -> Result<()> {
        match *self {
            Figure::Shrinkage(s) => {
                let n = s.raw.len();
                ensure!(
                    s.median.len() == n && s.lo.len() == n && s.hi.len() == n,
                    "shrinkage: raw, median, lo and hi must have one value per unit \
                     (lengths {}, {}, {}, {})",
                    n,
                    s.median.len(),
                    s.lo.len(),
                    s.hi.len()
                );
                ensure!(
                    (0..n).any(|i| s.raw[i].is_finite() && s.median[i].is_finite()),
                    "shrinkage: no unit has a finite raw rate and posterior median"
                );
            }
            Figure::Densities { panels, .. } => {
                ensure!(!panels.is_empty(), "densities: no panels to draw");
                ensure!(
                    panels.len() <= MAX_PANELS,
                    "densities: {} panels, at most {MAX_PANELS} per figure",
                    panels.len()
                );
            }
            Figure::Traces { params, .. } => {
                ensure!(!params.is_empty(), "traces: no parameters to draw");
                ensure!(
                    params.len() <= MAX_PANELS,
                    "traces: {} parameters, at most {MAX_PANELS} per figure",
                    params.len()
                );
            }
            Figure::EstimatorComparison { x, estimators, .. } => {
                ensure!(
                    !estimators.is_empty(),
                    "estimator comparison: no estimators"
                );
                let n = estimators[0].mean.len();
                ensure!(n > 0, "estimator comparison: no units");
                for e in estimators {
                    ensure!(
                        e.mean.len() == n && e.lo.len() == n && e.hi.len() == n,
                        "estimator comparison: {} has mean/lo/hi lengths {}/{}/{}, expected {n}",
                        e.estimator,
                        e.mean.len(),
                        e.lo.len(),
                        e.hi.len()
                    );
                }
                if let UnitAxis::RawRate(raw) = x {
                    ensure!(
                        raw.len() == n,
                        "estimator comparison: {} raw rates for {n} units",
                        raw.len()
                    );
                }
            }
            Figure::PredictiveChecks { stats, .. } => {
                ensure!(
                    !stats.is_empty(),
                    "predictive checks: no statistics to draw"
                );
                ensure!(
                    stats.len() <= MAX_PANELS,
                    "predictive checks: {} statistics, at most {MAX_PANELS} per figure",
                    stats.len()
                );
            }
        }
        Ok(())
    }

    fn size(&self) -> (u32, u32) {
        match *self {
            Figure::Shrinkage(_) | Figure::EstimatorComparison { .. } => SCATTER_SIZE,
            Figure::Densities { panels, .. } => grid_size(panels.len()),
            Figure::PredictiveChecks { stats, .. } => grid_size(stats.len()),
            Figure::Traces { params, .. } => (
                TRACE_WIDTH,
                TITLE_H + LEGEND_H + TRACE_ROW_HEIGHT * params.len() as u32,
            ),
        }
    }

    fn draw<DB>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB: Backend,
    {
        match *self {
            Figure::Shrinkage(s) => draw_shrinkage(root, s),
            Figure::Densities { title, panels } => {
                let body = titled(root, title)?;
                for (area, panel) in grid(&body, panels.len()).iter().zip(panels) {
                    density_panel(area, panel)?;
                }
                Ok(())
            }
            Figure::Traces { title, params } => draw_traces(root, title, params),
            Figure::EstimatorComparison {
                title,
                x,
                estimators,
            } => draw_estimators(root, title, x, estimators),
            Figure::PredictiveChecks { title, stats } => {
                let body = titled(root, title)?;
                for (area, stat) in grid(&body, stats.len()).iter().zip(stats) {
                    predictive_panel(area, stat)?;
                }
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers

/// A plotters backend this module draws on, and how it wants text placed.
trait Backend: DrawingBackend<ErrorType: 'static> {
    /// plotters 0.3.7's ab_glyph rasteriser draws each glyph at the pen position without
    /// its left side bearing and truncates the pen to whole pixels, so in "0.0517" the
    /// '.' hugs the first '0' and '1' crowds '5'; bitmaps therefore get text glyph by
    /// glyph at pen + bearing (`put_text`). SVG text is laid out by the viewer.
    const PER_GLYPH: bool;
}

impl Backend for SVGBackend<'_> {
    const PER_GLYPH: bool = false;
}

impl Backend for BitMapBackend<'_> {
    const PER_GLYPH: bool = true;
}

/// Where the embedded font's tables live, for left side bearings (see `Backend`).
struct FontMetrics {
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
    fn get() -> Option<&'static FontMetrics> {
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
    fn h_metrics_px(&self, c: char, size: f64) -> Option<(f64, f64)> {
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

/// Draws `s` at `pos` (backend pixels relative to `area`) with `style`'s anchor and
/// rotation; on bitmaps glyph by glyph at pen + left bearing (see `Backend`). `pos` must
/// lie inside `area`: plotters clamps an element's anchor into the area it is drawn on.
fn put_text<DB: Backend>(
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

type Chart2d<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Axis text of a chart: plotters draws the axis lines and ticks, `put_text` the labels.
struct Axes<'a> {
    x_desc: &'a str,
    y_desc: &'a str,
    x_ticks: usize,
    y_ticks: usize,
    /// Pixel sizes given to `x_label_area_size` / `y_label_area_size`.
    x_area: i32,
    y_area: i32,
    /// Draw the y axis at all (densities hide it: the height of a density is not read).
    y_axis: bool,
    grid: bool,
    font: f64,
}

impl<'a> Axes<'a> {
    /// The per-unit scatter figures' axes (shrinkage, estimator comparison).
    fn scatter(x_desc: &'a str, y_desc: &'a str) -> Self {
        Axes {
            x_desc,
            y_desc,
            x_ticks: 8,
            y_ticks: 8,
            x_area: SCATTER_X_AREA,
            y_area: SCATTER_Y_AREA,
            grid: true,
            font: 13.0,
            ..Axes::default()
        }
    }
}

impl Default for Axes<'_> {
    fn default() -> Self {
        Axes {
            x_desc: "",
            y_desc: "",
            x_ticks: 6,
            y_ticks: 5,
            x_area: 40,
            y_area: 60,
            y_axis: true,
            grid: false,
            font: 12.0,
        }
    }
}

/// Tick labels with just enough decimals for the tick spacing.
fn tick_labels(values: &[f64]) -> Vec<String> {
    let step = values
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let big = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    values
        .iter()
        .map(|&v| {
            if !step.is_finite() || step <= 0.0 {
                fmt_num(v)
            } else if big >= 1e5 || step < 1e-4 {
                format!("{v:.1e}")
            } else {
                let decimals = (-step.log10() - 1e-9).ceil().clamp(0.0, 6.0) as usize;
                let v = if v.abs() < step * 1e-6 { 0.0 } else { v };
                format!("{v:.decimals$}")
            }
        })
        .collect()
}

/// `outer` is the area the chart was built on: text is drawn through it because plotters
/// clamps an element's anchor into the area it is drawn on.
fn draw_axes<DB: Backend>(
    chart: &mut Chart2d<DB>,
    outer: &DrawingArea<DB, Shift>,
    a: &Axes,
) -> Result<()> {
    let invisible = text(a.font).color(&TRANSPARENT);
    let mut mesh = chart.configure_mesh();
    mesh.x_labels(a.x_ticks)
        .y_labels(a.y_ticks)
        .label_style(invisible)
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(TRANSPARENT);
    if !a.grid {
        mesh.disable_mesh();
    }
    if !a.y_axis {
        mesh.disable_y_axis();
    }
    mesh.draw()?;

    let screen = outer.use_screen_coord();
    let (xs_px, ys_px) = chart.plotting_area().get_pixel_range();
    let spec = chart.as_coord_spec();
    let xs = spec.x_spec().key_points(BoldPoints(a.x_ticks));
    let ys = spec.y_spec().key_points(BoldPoints(a.y_ticks));
    let (x_any, y_any) = (spec.x_spec().range().start, spec.y_spec().range().start);
    let style = text(a.font);
    // Same places as plotters' own labels: 10 px (two tick lengths) off the axis.
    for (v, label) in xs.iter().zip(tick_labels(&xs)) {
        let (px, _) = chart.backend_coord(&(*v, y_any));
        let st = anchored(style.clone(), HPos::Center, VPos::Top);
        put_text(&screen, &label, (px, ys_px.end + 10), &st)?;
    }
    if a.y_axis {
        for (v, label) in ys.iter().zip(tick_labels(&ys)) {
            let (_, py) = chart.backend_coord(&(x_any, *v));
            let st = anchored(style.clone(), HPos::Right, VPos::Center);
            put_text(&screen, &label, (xs_px.start - 10, py), &st)?;
        }
    }
    let desc = text(a.font + 2.0);
    if !a.x_desc.is_empty() {
        let st = anchored(desc.clone(), HPos::Center, VPos::Bottom);
        let at = ((xs_px.start + xs_px.end) / 2, ys_px.end + a.x_area);
        put_text(&screen, a.x_desc, at, &st)?;
    }
    if !a.y_desc.is_empty() {
        let st = anchored(
            desc.transform(FontTransform::Rotate270),
            HPos::Center,
            VPos::Top,
        );
        let at = (xs_px.start - a.y_area, (ys_px.start + ys_px.end) / 2);
        put_text(&screen, a.y_desc, at, &st)?;
    }
    Ok(())
}

fn text(size: f64) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal).color(&BLACK)
}

fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// Number with about three significant digits, for labels printed on figures.
fn fmt_num(x: f64) -> String {
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
fn fmt_p(p: f64) -> String {
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

fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|v| v.is_finite()).collect()
}

/// [min, max] of the finite values, padded by `pad` of the span on each side; equal
/// values get a small width so the axis can still be drawn. None when none is finite.
fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    let span = hi - lo;
    if span <= 1e-12 * lo.abs().max(hi.abs()) || span == 0.0 {
        let half = (0.05 * lo.abs()).max(1e-3);
        return Some((lo - half, hi + half));
    }
    Some((lo - pad * span, hi + pad * span))
}

/// Marker radius and interval-bar opacity: smaller and fainter as units crowd in.
fn marker_style(n_units: usize) -> (i32, f64) {
    match n_units {
        0..=40 => (4, 0.9),
        41..=200 => (3, 0.5),
        _ => (2, 0.25),
    }
}

/// Fills the background, draws the title band and returns the area below it.
fn titled<DB>(root: &DrawingArea<DB, Shift>, title: &str) -> Result<DrawingArea<DB, Shift>>
where
    DB: Backend,
{
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(TITLE_H);
    let (w, _) = top.dim_in_pixel();
    let style = anchored(text(20.0), HPos::Center, VPos::Center);
    put_text(&top, title, ((w / 2) as i32, (TITLE_H / 2) as i32), &style)?;
    Ok(body)
}

fn grid_shape(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, MAX_COLUMNS);
    (n.div_ceil(cols).max(1), cols)
}

fn grid_size(n: usize) -> (u32, u32) {
    let (rows, cols) = grid_shape(n);
    (
        PANEL_SIZE.0 * cols as u32,
        TITLE_H + PANEL_SIZE.1 * rows as u32,
    )
}

fn grid<DB: Backend>(body: &DrawingArea<DB, Shift>, n: usize) -> Vec<DrawingArea<DB, Shift>> {
    body.split_evenly(grid_shape(n))
}

/// A legend entry's swatch.
#[derive(Clone, Copy)]
enum Mark {
    Line(RGBColor),
    Dashed(RGBColor),
    /// Point with a vertical interval bar through it.
    Interval(RGBColor),
}

/// A one-line legend centred in its own band, so it never covers data.
fn legend_band<DB>(area: &DrawingArea<DB, Shift>, items: &[(Mark, String)]) -> Result<()>
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

/// A panel that says why it is empty, instead of failing the whole figure.
fn empty_panel<DB>(area: &DrawingArea<DB, Shift>, why: &str) -> Result<()>
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
fn panel_titled<DB>(area: &DrawingArea<DB, Shift>, label: &str) -> Result<DrawingArea<DB, Shift>>
where
    DB: Backend,
{
    let (top, rest) = area.split_vertically(PANEL_TITLE_H);
    let (w, _) = top.dim_in_pixel();
    let style = anchored(text(15.0), HPos::Center, VPos::Center);
    put_text(
        &top,
        label,
        ((w / 2) as i32, (PANEL_TITLE_H / 2 + 2) as i32),
        &style,
    )?;
    Ok(rest)
}

/// Histogram of finite values: integer-valued data with a small range get one bin per
/// integer (test statistics such as counts), others about sqrt(n) bins (10 to 60).
struct Hist {
    start: f64,
    width: f64,
    counts: Vec<usize>,
}

impl Hist {
    fn new(values: &[f64]) -> Hist {
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let integers = values.iter().all(|v| v.fract() == 0.0);
        let (start, width, bins) = if integers && hi - lo <= 60.0 {
            (lo - 0.5, 1.0, (hi - lo) as usize + 1)
        } else if hi > lo {
            let bins = ((values.len() as f64).sqrt().round() as usize).clamp(10, 60);
            (lo, (hi - lo) / bins as f64, bins)
        } else {
            // All equal: one narrow bin, as wide as a fiftieth of the padded axis.
            let (a, b) = padded_range([lo], 0.0).unwrap_or((lo - 1e-3, lo + 1e-3));
            let width = (b - a) / 50.0;
            (lo - width / 2.0, width, 1)
        };
        let mut counts = vec![0usize; bins];
        for &v in values {
            let k = ((v - start) / width).floor().max(0.0) as usize;
            counts[k.min(bins - 1)] += 1;
        }
        Hist {
            start,
            width,
            counts,
        }
    }

    fn end(&self) -> f64 {
        self.start + self.width * self.counts.len() as f64
    }

    /// Values the x axis must show: the bin edges, or for a single (all-equal) bin its
    /// centre only, so `padded_range` gives it a small width around the value.
    fn extent(&self) -> [f64; 2] {
        if self.counts.len() > 1 {
            [self.start, self.end()]
        } else {
            let centre = self.start + 0.5 * self.width;
            [centre, centre]
        }
    }

    /// (left edge, right edge, height) per bin, heights scaled by `scale`.
    fn bars(&self, scale: f64) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.counts.iter().enumerate().map(move |(k, &c)| {
            let x0 = self.start + self.width * k as f64;
            (x0, x0 + self.width, c as f64 * scale)
        })
    }
}

/// Draws `lines` in the top-left or top-right corner of a chart's plotting area.
fn corner_text<DB, CT>(plot: &DrawingArea<DB, CT>, lines: &[String], left: bool) -> Result<()>
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

// ---------------------------------------------------------------------------------------
// Shrinkage and estimator comparison (single scatter panels)

/// The y = x segment inside the chart's ranges (plotters does not clip lines).
fn diagonal(x: (f64, f64), y: (f64, f64)) -> Option<[(f64, f64); 2]> {
    let (a, b) = (x.0.max(y.0), x.1.min(y.1));
    (a < b).then_some([(a, a), (b, b)])
}

fn draw_shrinkage<DB>(root: &DrawingArea<DB, Shift>, s: &Shrinkage) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, &s.title)?;
    let (legend, plot) = body.split_vertically(LEGEND_H);
    let colour = PALETTE[0];
    let mean_colour = PALETTE[1];
    let mut items = vec![
        (
            Mark::Interval(colour),
            "posterior median and 95% interval".to_string(),
        ),
        (Mark::Dashed(REF_GREY), "y = x (no pooling)".to_string()),
    ];
    if s.population_mean.is_finite() {
        items.push((
            Mark::Line(mean_colour),
            format!("population mean {}", fmt_num(s.population_mean)),
        ));
    }
    legend_band(&legend, &items)?;

    let n = s.raw.len();
    let units: Vec<usize> = (0..n)
        .filter(|&i| s.raw[i].is_finite() && s.median[i].is_finite())
        .collect();
    let xr = padded_range(units.iter().map(|&i| s.raw[i]), 0.04).context("no raw rates")?;
    let yr = padded_range(
        units
            .iter()
            .flat_map(|&i| [s.median[i], s.lo[i], s.hi[i]])
            .chain([s.population_mean]),
        0.04,
    )
    .context("no posterior summaries")?;
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(SCATTER_X_AREA)
        .y_label_area_size(SCATTER_Y_AREA)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    let axes = Axes::scatter("raw rate y/n", "posterior median of θ (95% interval)");
    draw_axes(&mut chart, &plot, &axes)?;
    let (radius, alpha) = marker_style(units.len());
    chart.draw_series(
        units
            .iter()
            .filter(|&&i| s.lo[i].is_finite() && s.hi[i].is_finite())
            .map(|&i| {
                PathElement::new(
                    vec![(s.raw[i], s.lo[i]), (s.raw[i], s.hi[i])],
                    colour.mix(alpha).stroke_width(1),
                )
            }),
    )?;
    if let Some(seg) = diagonal(xr, yr) {
        chart.draw_series(DashedLineSeries::new(seg, 6, 5, REF_GREY.stroke_width(1)))?;
    }
    if s.population_mean.is_finite() {
        chart.draw_series(LineSeries::new(
            [(xr.0, s.population_mean), (xr.1, s.population_mean)],
            mean_colour.stroke_width(2),
        ))?;
    }
    chart.draw_series(
        units
            .iter()
            .map(|&i| Circle::new((s.raw[i], s.median[i]), radius, colour.filled())),
    )?;
    Ok(())
}

fn draw_estimators<DB>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    axis: UnitAxis,
    estimators: &[EstimatorIntervals],
) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, title)?;
    let (legend, plot) = body.split_vertically(LEGEND_H);
    let colour = |k: usize| PALETTE[k % PALETTE.len()];
    let mut items: Vec<(Mark, String)> = estimators
        .iter()
        .enumerate()
        .map(|(k, e)| (Mark::Interval(colour(k)), e.estimator.clone()))
        .collect();
    if matches!(axis, UnitAxis::RawRate(_)) {
        items.push((Mark::Dashed(REF_GREY), "y = x".to_string()));
    }
    legend_band(&legend, &items)?;

    let n = estimators[0].mean.len();
    let xs: Vec<f64> = match axis {
        UnitAxis::RawRate(raw) => raw.to_vec(),
        UnitAxis::Index => (1..=n).map(|i| i as f64).collect(),
    };
    let xr = match axis {
        UnitAxis::RawRate(_) => padded_range(xs.iter().copied(), 0.04),
        UnitAxis::Index => Some((0.5, n as f64 + 0.5)),
    }
    .context("no finite raw rates")?;
    let yr = padded_range(
        estimators
            .iter()
            .flat_map(|e| e.mean.iter().chain(&e.lo).chain(&e.hi).copied()),
        0.04,
    )
    .context("no finite estimates")?;
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(SCATTER_X_AREA)
        .y_label_area_size(SCATTER_Y_AREA)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    let axes = Axes::scatter(
        match axis {
            UnitAxis::RawRate(_) => "raw rate y/n",
            UnitAxis::Index => "unit (index)",
        },
        "estimate of θ (mean, 95% interval)",
    );
    draw_axes(&mut chart, &plot, &axes)?;
    if let (UnitAxis::RawRate(_), Some(seg)) = (axis, diagonal(xr, yr)) {
        chart.draw_series(DashedLineSeries::new(seg, 6, 5, REF_GREY.stroke_width(1)))?;
    }
    // Estimators sit ~6 px apart around each unit's x so their bars do not hide each other.
    let plot_w = chart.plotting_area().dim_in_pixel().0.max(1) as f64;
    let step = 6.0 * (xr.1 - xr.0) / plot_w;
    let (radius, alpha) = marker_style(n);
    let k_mid = (estimators.len() as f64 - 1.0) / 2.0;
    for (k, e) in estimators.iter().enumerate() {
        let c = colour(k);
        let dx = (k as f64 - k_mid) * step;
        let ok = |i: &usize| xs[*i].is_finite() && e.mean[*i].is_finite();
        chart.draw_series(
            (0..n)
                .filter(ok)
                .filter(|&i| e.lo[i].is_finite() && e.hi[i].is_finite())
                .map(|i| {
                    PathElement::new(
                        vec![(xs[i] + dx, e.lo[i]), (xs[i] + dx, e.hi[i])],
                        c.mix(alpha).stroke_width(1),
                    )
                }),
        )?;
        chart.draw_series(
            (0..n)
                .filter(ok)
                .map(|i| Circle::new((xs[i] + dx, e.mean[i]), radius, c.filled())),
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Densities and predictive checks (panel grids)

fn density_panel<DB>(area: &DrawingArea<DB, Shift>, d: &Density) -> Result<()>
where
    DB: Backend,
{
    let plot = panel_titled(area, &d.label)?;
    let draws = finite(&d.draws);
    if draws.is_empty() {
        return empty_panel(&plot, "no draws");
    }
    let n = draws.len() as f64;
    let mean = draws.iter().sum::<f64>() / n;
    let (hdi_lo, hdi_hi) = crate::mcmc::diagnostics::hdi(&draws, HDI_PROB);
    let hist = Hist::new(&draws);
    let scale = 1.0 / (n * hist.width); // counts to density
    let top = hist.bars(scale).map(|b| b.2).fold(0.0, f64::max) * 1.35;
    let reference = d.reference.filter(|r| r.is_finite());
    let xr =
        padded_range(hist.extent().into_iter().chain(reference), 0.05).context("density range")?;

    let build = |bottom: f64| {
        ChartBuilder::on(&plot)
            .margin_left(14)
            .margin_right(14)
            .margin_top(4)
            .margin_bottom(6)
            .x_label_area_size(PANEL_X_AREA)
            .build_cartesian_2d(xr.0..xr.1, bottom..top)
    };
    // Keep a fixed-height band below the baseline for the HDI bar and its labels.
    let plot_h = build(0.0)?.plotting_area().dim_in_pixel().1.max(1) as f64;
    let b = (HDI_BAND_PX / plot_h).min(0.4);
    let bottom = -top * b / (1.0 - b);
    let mut chart = build(bottom)?;
    let axes = Axes {
        x_ticks: 5,
        x_area: PANEL_X_AREA,
        y_axis: false,
        ..Axes::default()
    };
    draw_axes(&mut chart, &plot, &axes)?;

    chart.draw_series(
        hist.bars(scale)
            .filter(|b| b.2 > 0.0)
            .map(|(x0, x1, y)| Rectangle::new([(x0, 0.0), (x1, y)], HIST_FILL.filled())),
    )?;
    chart.draw_series(
        hist.bars(scale)
            .filter(|b| b.2 > 0.0)
            .map(|(x0, x1, y)| Rectangle::new([(x0, 0.0), (x1, y)], WHITE.stroke_width(1))),
    )?;
    chart.draw_series(LineSeries::new(
        [(xr.0, 0.0), (xr.1, 0.0)],
        REF_GREY.stroke_width(1),
    ))?;
    if let Some(r) = reference {
        chart.draw_series(DashedLineSeries::new(
            [(r, 0.0), (r, top)],
            6,
            4,
            BLACK.stroke_width(2),
        ))?;
    }

    // HDI bar 9 px below the baseline, end values under its ends.
    let bar_y = bottom * 9.0 / HDI_BAND_PX;
    let screen = plot.use_screen_coord();
    let (px_lo, py) = chart.backend_coord(&(hdi_lo, bar_y));
    let (px_hi, _) = chart.backend_coord(&(hdi_hi, bar_y));
    screen.draw(&PathElement::new(
        vec![(px_lo, py), (px_hi.max(px_lo + 2), py)],
        BLACK.stroke_width(5),
    ))?;
    let style = text(12.0);
    let lo_txt = fmt_num(hdi_lo);
    let hi_txt = fmt_num(hdi_hi);
    let w_lo = screen.estimate_text_size(&lo_txt, &style)?.0 as i32;
    let w_hi = screen.estimate_text_size(&hi_txt, &style)?.0 as i32;
    let (xrange, _) = chart.plotting_area().get_pixel_range();
    // Centre each label on its end, push them apart if they would touch, keep them inside.
    let (mut c_lo, mut c_hi) = (px_lo, px_hi);
    let need = (w_lo + w_hi) / 2 + 8;
    if c_hi - c_lo < need {
        let mid = (c_lo + c_hi) / 2;
        c_lo = mid - need / 2;
        c_hi = c_lo + need;
    }
    let shift_right = (xrange.start - (c_lo - w_lo / 2)).max(0);
    let shift_left = ((c_hi + w_hi / 2) - xrange.end).max(0);
    c_lo += shift_right - shift_left;
    c_hi += shift_right - shift_left;
    let label_y = py + 6;
    // Equal ends (constant draws) are printed once.
    let ends = if lo_txt == hi_txt {
        vec![(lo_txt, (c_lo + c_hi) / 2)]
    } else {
        vec![(lo_txt, c_lo), (hi_txt, c_hi)]
    };
    for (t, c) in ends {
        let st = anchored(style.clone(), HPos::Center, VPos::Top);
        put_text(&screen, &t, (c, label_y), &st)?;
    }
    // "95% HDI" between the end values when there is room for it.
    let hdi_txt = format!("{:.0}% HDI", HDI_PROB * 100.0);
    let w_txt = screen.estimate_text_size(&hdi_txt, &style)?.0 as i32;
    if (c_hi - w_hi / 2) - (c_lo + w_lo / 2) > w_txt + 12 {
        let st = anchored(style.clone(), HPos::Center, VPos::Top);
        put_text(&screen, &hdi_txt, ((c_lo + c_hi) / 2, label_y), &st)?;
    }

    let mut lines = vec![format!("mean = {}", fmt_num(mean))];
    if let Some(r) = reference {
        let below = draws.iter().filter(|&&x| x < r).count() as f64 / n * 100.0;
        let above = draws.iter().filter(|&&x| x > r).count() as f64 / n * 100.0;
        lines.push(format!("{below:.1}% < {} < {above:.1}%", fmt_num(r)));
    }
    // Text goes in the top corner away from the reference line, else the emptier one.
    let mid = 0.5 * (xr.0 + xr.1);
    let left = match reference {
        Some(r) => r > mid,
        None => {
            let w = 0.3 * (xr.1 - xr.0);
            let in_left = draws.iter().filter(|&&x| x < xr.0 + w).count();
            let in_right = draws.iter().filter(|&&x| x > xr.1 - w).count();
            in_left <= in_right
        }
    };
    corner_text(chart.plotting_area(), &lines, left)
}

fn predictive_panel<DB>(area: &DrawingArea<DB, Shift>, s: &PredictiveStat) -> Result<()>
where
    DB: Backend,
{
    let plot = panel_titled(area, &s.label)?;
    let reps = finite(&s.replicated);
    if reps.is_empty() {
        return empty_panel(&plot, "no replicated draws");
    }
    let hist = Hist::new(&reps);
    let top = hist.counts.iter().copied().max().unwrap_or(1) as f64 * 1.3;
    let observed = Some(s.observed).filter(|o| o.is_finite());
    let xr = padded_range(hist.extent().into_iter().chain(observed), 0.05)
        .context("predictive range")?;
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(8)
        .margin_right(14)
        .margin_top(4)
        .margin_bottom(6)
        .x_label_area_size(PANEL_X_AREA)
        .y_label_area_size(PPC_Y_AREA)
        .build_cartesian_2d(xr.0..xr.1, 0.0..top)?;
    let axes = Axes {
        x_ticks: 5,
        y_ticks: 4,
        x_area: PANEL_X_AREA,
        y_area: PPC_Y_AREA,
        ..Axes::default()
    };
    draw_axes(&mut chart, &plot, &axes)?;
    chart.draw_series(
        hist.bars(1.0)
            .filter(|b| b.2 > 0.0)
            .map(|(x0, x1, y)| Rectangle::new([(x0, 0.0), (x1, y)], HIST_FILL.filled())),
    )?;
    chart.draw_series(
        hist.bars(1.0)
            .filter(|b| b.2 > 0.0)
            .map(|(x0, x1, y)| Rectangle::new([(x0, 0.0), (x1, y)], WHITE.stroke_width(1))),
    )?;
    let mut lines = vec![fmt_p(s.p_value)];
    match observed {
        Some(o) => {
            chart.draw_series(LineSeries::new(
                [(o, 0.0), (o, top)],
                PALETTE[1].stroke_width(3),
            ))?;
            lines.push(format!("observed = {}", fmt_num(o)));
        }
        None => lines.push("observed: n/a".to_string()),
    }
    let left = observed.is_some_and(|o| o > 0.5 * (xr.0 + xr.1));
    corner_text(chart.plotting_area(), &lines, left)
}

// ---------------------------------------------------------------------------------------
// Traces and rank histograms

/// At most `MAX_TRACE_POINTS` (draw index, value) pairs: each bucket's min and max in
/// draw order, so the envelope and spikes survive the thinning.
fn decimate(chain: &[f64]) -> Vec<(f64, f64)> {
    let indexed = |i: usize| (i as f64, chain[i]);
    if chain.len() <= MAX_TRACE_POINTS {
        return (0..chain.len())
            .filter(|&i| chain[i].is_finite())
            .map(indexed)
            .collect();
    }
    let size = chain.len().div_ceil(MAX_TRACE_POINTS / 2);
    let mut out = Vec::with_capacity(MAX_TRACE_POINTS);
    for (b, bucket) in chain.chunks(size).enumerate() {
        let mut lo: Option<usize> = None;
        let mut hi: Option<usize> = None;
        for (j, v) in bucket.iter().enumerate().filter(|(_, v)| v.is_finite()) {
            if lo.is_none_or(|l| *v < bucket[l]) {
                lo = Some(j);
            }
            if hi.is_none_or(|h| *v > bucket[h]) {
                hi = Some(j);
            }
        }
        if let (Some(l), Some(h)) = (lo, hi) {
            let (first, second) = if l <= h { (l, h) } else { (h, l) };
            out.push(indexed(b * size + first));
            if second != first {
                out.push(indexed(b * size + second));
            }
        }
    }
    out
}

/// Per chain, counts of its draws' ranks among all chains' pooled finite draws (ties get
/// their average rank), in `bins` equal bins; also returns the pooled count.
fn rank_counts(chains: &[Vec<f64>]) -> (Vec<Vec<usize>>, usize, usize) {
    let mut pooled: Vec<(f64, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, ch)| ch.iter().filter(|v| v.is_finite()).map(move |&v| (v, c)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = pooled.len();
    // About 20 bins when there are enough draws, at least ~20 pooled draws per bin.
    let bins = (total / 20).clamp(1, 20);
    let mut counts = vec![vec![0usize; bins]; chains.len()];
    let mut i = 0;
    while i < total {
        let mut j = i + 1;
        while j < total && pooled[j].0 == pooled[i].0 {
            j += 1;
        }
        let rank = (i + j - 1) as f64 / 2.0;
        let bin = ((rank * bins as f64 / total as f64) as usize).min(bins - 1);
        for &(_, c) in &pooled[i..j] {
            counts[c][bin] += 1;
        }
        i = j;
    }
    (counts, total, bins)
}

fn draw_traces<DB>(root: &DrawingArea<DB, Shift>, title: &str, params: &[Trace]) -> Result<()>
where
    DB: Backend,
{
    let body = titled(root, title)?;
    let (legend, rows) = body.split_vertically(LEGEND_H);
    let n_chains = params.iter().map(|p| p.chains.len()).max().unwrap_or(0);
    let mut items: Vec<(Mark, String)> = (0..n_chains)
        .map(|c| {
            (
                Mark::Line(PALETTE[c % PALETTE.len()]),
                format!("chain {}", c + 1),
            )
        })
        .collect();
    items.push((
        Mark::Dashed(REF_GREY),
        "rank count expected if chains agree".to_string(),
    ));
    legend_band(&legend, &items)?;
    for (row, p) in rows.split_evenly((params.len(), 1)).iter().zip(params) {
        trace_row(row, p)?;
    }
    Ok(())
}

fn trace_row<DB>(area: &DrawingArea<DB, Shift>, p: &Trace) -> Result<()>
where
    DB: Backend,
{
    let (left, right) = area.split_horizontally(TRACE_WIDTH * 2 / 3);
    let colour = |c: usize| PALETTE[c % PALETTE.len()];
    let yr = padded_range(p.chains.iter().flatten().copied(), 0.05);
    let Some(yr) = yr else {
        let left = panel_titled(&left, &format!("{}: trace", p.label))?;
        return empty_panel(&left, "no draws");
    };
    let n_max = p.chains.iter().map(Vec::len).max().unwrap_or(1);
    let left = panel_titled(&left, &format!("{}: trace", p.label))?;
    let mut chart = ChartBuilder::on(&left)
        .margin_left(8)
        .margin_right(16)
        .margin_bottom(4)
        .x_label_area_size(TRACE_X_AREA)
        .y_label_area_size(TRACE_Y_AREA)
        .build_cartesian_2d(0.0..(n_max.max(2) - 1) as f64, yr.0..yr.1)?;
    let axes = Axes {
        x_desc: "draw",
        y_desc: "value",
        x_ticks: 8,
        x_area: TRACE_X_AREA,
        y_area: TRACE_Y_AREA,
        grid: true,
        ..Axes::default()
    };
    draw_axes(&mut chart, &left, &axes)?;
    for (c, chain) in p.chains.iter().enumerate() {
        chart.draw_series(LineSeries::new(
            decimate(chain),
            colour(c).mix(0.75).stroke_width(1),
        ))?;
    }

    let (counts, total, bins) = rank_counts(&p.chains);
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64 * 1.25;
    let right = panel_titled(&right, &format!("{}: rank histogram", p.label))?;
    let mut rank_chart = ChartBuilder::on(&right)
        .margin_left(4)
        .margin_right(16)
        .margin_bottom(4)
        .x_label_area_size(TRACE_X_AREA)
        .y_label_area_size(RANK_Y_AREA)
        .build_cartesian_2d(0.0..total as f64, 0.0..top)?;
    let axes = Axes {
        x_desc: "rank among pooled draws",
        y_desc: "draws per bin",
        x_ticks: 4,
        y_ticks: 4,
        x_area: TRACE_X_AREA,
        y_area: RANK_Y_AREA,
        ..Axes::default()
    };
    draw_axes(&mut rank_chart, &right, &axes)?;
    let width = total as f64 / bins as f64;
    let live = p
        .chains
        .iter()
        .filter(|ch| ch.iter().any(|v| v.is_finite()))
        .count();
    if live > 0 {
        let expected = total as f64 / live as f64 / bins as f64;
        rank_chart.draw_series(DashedLineSeries::new(
            [(0.0, expected), (total as f64, expected)],
            6,
            4,
            REF_GREY.stroke_width(2),
        ))?;
    }
    for (c, chain_counts) in counts.iter().enumerate() {
        if chain_counts.iter().all(|&k| k == 0) {
            continue;
        }
        // Step outline of this chain's histogram.
        let steps = chain_counts.iter().enumerate().flat_map(|(k, &n)| {
            [
                (k as f64 * width, n as f64),
                ((k + 1) as f64 * width, n as f64),
            ]
        });
        rank_chart.draw_series(LineSeries::new(steps, colour(c).stroke_width(2)))?;
    }
    Ok(())
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

    #[test]
    fn labels_have_sensible_digits() {
        assert_eq!(tick_labels(&[0.1, 0.2, 0.3]), ["0.1", "0.2", "0.3"]);
        assert_eq!(tick_labels(&[0.0, 500.0, 1000.0]), ["0", "500", "1000"]);
        assert_eq!(tick_labels(&[-0.05, 0.0, 0.05]), ["-0.05", "0.00", "0.05"]);
        assert_eq!(fmt_num(0.26347), "0.263");
        assert_eq!(fmt_num(27.0), "27");
        assert_eq!(fmt_num(12.345), "12.3");
        assert_eq!(fmt_p(0.0), "p = 0");
        assert_eq!(fmt_p(0.004), "p < 0.01");
        assert_eq!(fmt_p(0.431), "p = 0.43");
    }

    #[test]
    fn thinning_keeps_extremes_and_bounds_points() {
        let mut chain: Vec<f64> = (0..100_000).map(|i| (i as f64 * 0.01).sin()).collect();
        chain[31_337] = 50.0;
        chain[77_777] = f64::NAN;
        let thin = decimate(&chain);
        assert!(thin.len() <= MAX_TRACE_POINTS);
        assert!(thin.contains(&(31_337.0, 50.0)));
        assert!(thin.iter().all(|p| p.1.is_finite()));
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn ranks_are_flat_for_interleaved_chains_and_tilted_for_a_shifted_one() {
        // Two chains taking turns through the same values: identical rank counts.
        let a: Vec<f64> = (0..400).map(|i| (2 * i) as f64).collect();
        let b: Vec<f64> = (0..400).map(|i| (2 * i + 1) as f64).collect();
        let (counts, total, bins) = rank_counts(&[a.clone(), b]);
        assert_eq!((total, bins), (800, 20));
        assert!(counts.iter().flatten().all(|&c| c == 20));
        let shifted: Vec<f64> = a.iter().map(|x| x + 400.0).collect();
        let (counts, _, _) = rank_counts(&[a, shifted]);
        assert_eq!(counts[0][0], 40);
        assert_eq!(counts[0][19], 0);
    }
}
