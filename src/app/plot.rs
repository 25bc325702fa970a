//! `plot`: figures drawn from a run's Parquet outputs (the work is `crate::plot::figures`).
//! For a methyl run, this is also where the region plots get the samples' counts: plot reads
//! our outputs only, so the run's sample sheet is read here, through methyl's merge.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::app::cli::DEFAULT_TOP_REGIONS;
use crate::error::UserError;
use crate::io::readback::read_footer;
use crate::io::write::SITES_SCHEMA;
use crate::methyl::interval::Region;
use crate::methyl::merge::{SiteFilter, SiteMerger};
use crate::methyl::sheet::SampleSheet;
use crate::plot::figures::{FigureKind, ImageFormat, PlotConfig};
use crate::plot::methyl_run::{CountSource, MethylFigureConfig, SampleCount, Window};

/// `plot`: each figure drawn, its path printed on stdout. `sheet` overrides the sample sheet
/// a methyl run names in its footer.
pub fn run(config: &PlotConfig, sheet: Option<&Path>) -> Result<()> {
    for path in draw(config, sheet)? {
        println!("{}", path.display());
    }
    Ok(())
}

/// `methyl --plot`: every figure of the run in `dir`, into `dir/figures`.
pub fn methyl_figures(dir: &Path, format: ImageFormat) -> PlotConfig {
    PlotConfig {
        dir: dir.to_path_buf(),
        out: dir.join("figures"),
        figures: Vec::new(),
        params: Vec::new(),
        contrasts: Vec::new(),
        format,
        methyl: MethylFigureConfig {
            top_regions: DEFAULT_TOP_REGIONS,
            ..MethylFigureConfig::default()
        },
    }
}

/// The figures of `config`, with a methyl run's counts and truth found for it.
pub fn draw(config: &PlotConfig, sheet: Option<&Path>) -> Result<Vec<PathBuf>> {
    let sites = config.dir.join("sites.parquet");
    if !sites.is_file() {
        return crate::plot::figures::draw(config, None);
    }
    let footer = read_footer(&sites, SITES_SCHEMA)?;
    let named = footer.get("betagibbs.sample_sheet").map(PathBuf::from);
    let asked = config.figures.contains(&FigureKind::Region) || !config.methyl.windows.is_empty();
    let sheet_path = sheet.map(Path::to_path_buf).or(named);
    let mut config = config.clone();
    if config.methyl.truth.is_none() {
        // A simulate study keeps its truth beside its sheet.
        let beside = sheet_path
            .as_ref()
            .and_then(|s| s.parent())
            .map(|d| d.join("truth.tsv"));
        config.methyl.truth = beside.filter(|t| t.is_file());
    }
    if !config.methyl.windows.is_empty() && !config.figures.contains(&FigureKind::Region) {
        if config.figures.is_empty() {
            config.figures = vec![FigureKind::Region];
        } else {
            config.figures.push(FigureKind::Region);
        }
    }
    let counts = match &sheet_path {
        Some(path) if path.is_file() => {
            let filter = match footer.get("betagibbs.filter") {
                Some(text) => SiteFilter::from_footer(text)?,
                None => SiteFilter::default(),
            };
            Some(SheetCounts {
                sheet: SampleSheet::read(path)?,
                filter,
            })
        }
        Some(path) if sheet.is_some() || asked => {
            return Err(UserError(format!(
                "the region figure reads the run's sample sheet, {}, which is not a readable file here; give --sheet",
                path.display()
            ))
            .into())
        }
        Some(path) => {
            eprintln!(
                "betagibbs: plot: no region plots: the run's sample sheet, {}, is not here (give --sheet)",
                path.display()
            );
            None
        }
        None => None,
    };
    crate::plot::figures::draw(&config, counts.as_ref().map(|c| c as &dyn CountSource))
}

/// The samples' counts, read from their files through the sheet, with the run's filter.
struct SheetCounts {
    sheet: SampleSheet,
    filter: SiteFilter,
}

impl CountSource for SheetCounts {
    fn samples(&self) -> Vec<(String, String)> {
        self.sheet
            .samples
            .iter()
            .map(|s| (s.name.clone(), s.group.clone()))
            .collect()
    }

    fn counts(&self, windows: &[Window]) -> Result<Vec<Vec<SampleCount>>> {
        // Every sample at every site, whatever the groups (the run's sites are the bands'),
        // one scoped merge per window: a tabix-indexed file is read from the window's offset.
        let filter = SiteFilter {
            min_samples_per_group: 0,
            ..self.filter
        };
        windows
            .iter()
            .map(|w| {
                let scope = Region {
                    chr: w.chr.clone(),
                    start: w.start,
                    end: w.end,
                };
                let mut merger = SiteMerger::open_scoped(&self.sheet, filter, Some(scope), None)?;
                let mut counts = Vec::new();
                while let Some(site) = merger.next_site()? {
                    counts.extend(site.counts.iter().map(|&(sample, methylated, total)| {
                        SampleCount {
                            sample: sample as usize,
                            pos: site.pos,
                            methylated,
                            total,
                        }
                    }));
                }
                Ok(counts)
            })
            .collect()
    }
}
