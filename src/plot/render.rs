//! The drawing backends (SVG into a string, PNG through the bitmap encoder, RGB in memory)
//! and the atomic write of a figure's file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use plotters::prelude::*;

use super::font::ensure_font;
use super::Figure;

/// An RGB image in memory (3 bytes per pixel, row-major), as `render_rgb` returns it.
#[derive(Debug, Clone)]
pub struct RgbImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// The file formats of a figure (`--format`): vector or bitmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImageFormat {
    Svg,
    Png,
}

impl ImageFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Svg => "svg",
            ImageFormat::Png => "png",
        }
    }
}

fn format_of(path: &Path) -> Result<ImageFormat> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => Ok(ImageFormat::Svg),
        Some("png") => Ok(ImageFormat::Png),
        _ => bail!(
            "cannot draw {}: the figure format follows the extension, which must be .svg or .png",
            path.display()
        ),
    }
}

/// Temp file next to `path` (same filesystem, so the rename is atomic), keeping the
/// extension because the PNG encoder picks its format from it.
fn temp_path(path: &Path, format: ImageFormat) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "figure".to_string());
    path.with_file_name(format!(
        ".{name}.{}.tmp.{}",
        std::process::id(),
        format.extension()
    ))
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
            ImageFormat::Svg => {
                let mut svg = String::new();
                {
                    let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                    fig.draw(&root)?;
                    root.present()?;
                }
                std::fs::write(&tmp, svg)?;
            }
            ImageFormat::Png => {
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

/// A plotters backend the figures draw on, and how it wants text placed.
pub(super) trait Backend: DrawingBackend<ErrorType: 'static> {
    /// plotters 0.3.7's ab_glyph rasteriser draws each glyph at the pen position without
    /// its left side bearing and truncates the pen to whole pixels, so in "0.0517" the
    /// '.' hugs the first '0' and '1' crowds '5'; bitmaps therefore get text glyph by
    /// glyph at pen + bearing (`text::put_text`). SVG text is laid out by the viewer.
    const PER_GLYPH: bool;
}

impl Backend for SVGBackend<'_> {
    const PER_GLYPH: bool = false;
}

impl Backend for BitMapBackend<'_> {
    const PER_GLYPH: bool = true;
}
