//! Figures: every figure renders from small synthetic data to an SVG that prints the
//! expected texts and holds the expected marks (one marker per unit, one line per chain,
//! a bar per histogram bin...) and to a PNG that decodes to the pixels `render_rgb` draws,
//! at the size its layout gives, not blank. Edge cases (empty, constant, NaN, many units,
//! many draws) give errors or empty panels, not panics. Set PLOTS_REVIEW_DIR to keep the
//! PNGs of `every_figure_renders_to_png_as_in_memory` and look at them.

use std::collections::BTreeSet;
use std::io::Read;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use betagibbs::plot::{
    self, Binned, CalibrationBin, ChromosomeStrip, Density, EstimatorIntervals, Figure, GroupBand,
    MethylDistributions, Overview, PredictiveStat, RegionPlot, RegionSample, Shrinkage, Trace,
    UnitAxis, Volcano,
};
use plotters::style::RGBColor;

/// Deterministic xorshift64* generator, so the pictures are reproducible without crates.
struct Gen(u64);

impl Gen {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal by Box–Muller.
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    fn normals(&mut self, n: usize, mean: f64, sd: f64) -> Vec<f64> {
        (0..n).map(|_| mean + sd * self.normal()).collect()
    }
}

/// Baseball-like shrinkage: `n` units with raw rates scattered around 0.26 and posteriors
/// pulled towards it.
fn shrinkage_data(n: usize) -> Shrinkage {
    let mut g = Gen(7);
    let mean = 0.26;
    let (mut raw, mut median, mut lo, mut hi) = (vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let at_bats = 5.0 + (g.uniform() * 400.0).floor();
        let hits = (at_bats * (mean + 0.05 * g.normal()))
            .round()
            .clamp(0.0, at_bats);
        let r = hits / at_bats;
        let w = at_bats / (at_bats + 100.0); // weight of the unit's own data
        let m = w * r + (1.0 - w) * mean;
        let half = 1.96 * (m * (1.0 - m) / (at_bats + 100.0)).sqrt();
        raw.push(r);
        median.push(m);
        lo.push(m - half);
        hi.push(m + half);
    }
    Shrinkage {
        title: format!("Shrinkage of {n} batting averages"),
        raw,
        median,
        lo,
        hi,
        population_mean: mean,
    }
}

fn density_data() -> Vec<Density> {
    let mut g = Gen(11);
    let a = g.normals(4000, 0.30, 0.04);
    let b = g.normals(4000, 0.22, 0.05);
    let diff = a.iter().zip(&b).map(|(x, y)| x - y).collect();
    let mut with_nan = g.normals(500, 5.0, 1.0);
    with_nan[3] = f64::NAN;
    with_nan[10] = f64::INFINITY;
    vec![
        Density {
            label: "theta[1]".into(),
            draws: a,
            reference: None,
        },
        Density {
            label: "theta[2]".into(),
            draws: b,
            reference: None,
        },
        Density {
            label: "theta[1] - theta[2]".into(),
            draws: diff,
            reference: Some(0.0),
        },
        Density {
            label: "kappa (constant)".into(),
            draws: vec![3.5; 200],
            reference: None,
        },
        Density {
            label: "log kappa (with NaN)".into(),
            draws: with_nan,
            reference: Some(6.0),
        },
        Density {
            label: "empty".into(),
            draws: vec![],
            reference: Some(0.0),
        },
    ]
}

/// Random-walk chains (one stuck higher, to show a tilted rank plot) with `draws` each.
fn trace_data(draws: usize) -> Vec<Trace> {
    let mut g = Gen(3);
    let mut ar1 = |shift: f64| {
        let mut x = shift;
        (0..draws)
            .map(|_| {
                x = shift + 0.8 * (x - shift) + 0.3 * g.normal();
                x
            })
            .collect::<Vec<f64>>()
    };
    let mixed: Vec<Vec<f64>> = (0..4).map(|_| ar1(0.0)).collect();
    let stuck: Vec<Vec<f64>> = (0..4)
        .map(|c| ar1(if c == 3 { 0.8 } else { 0.0 }))
        .collect();
    vec![
        Trace {
            label: "alpha".into(),
            chains: mixed,
        },
        Trace {
            label: "beta (chain 4 stuck)".into(),
            chains: stuck,
        },
        Trace {
            label: "constant".into(),
            chains: vec![vec![1.0; draws]; 2],
        },
    ]
}

fn estimator_data(n: usize) -> (Vec<f64>, Vec<EstimatorIntervals>) {
    let s = shrinkage_data(n);
    let pooled = |name: &str, w: f64, widen: f64| EstimatorIntervals {
        estimator: name.to_string(),
        mean: s.raw.iter().map(|r| w * r + (1.0 - w) * 0.26).collect(),
        lo: s
            .raw
            .iter()
            .zip(&s.lo)
            .map(|(r, l)| w * r + (1.0 - w) * 0.26 - widen * (0.26 - l).abs())
            .collect(),
        hi: s
            .raw
            .iter()
            .zip(&s.hi)
            .map(|(r, h)| w * r + (1.0 - w) * 0.26 + widen * (h - 0.26).abs())
            .collect(),
    };
    let ests = vec![
        pooled("no pooling (MLE)", 1.0, 1.5),
        pooled("hierarchical (Gibbs)", 0.4, 1.0),
        pooled("complete pooling", 0.0, 0.3),
    ];
    (s.raw.clone(), ests)
}

fn predictive_data() -> Vec<PredictiveStat> {
    let mut g = Gen(5);
    let max_hits: Vec<f64> = (0..1000)
        .map(|_| (20.0 + 4.0 * g.normal()).round())
        .collect();
    let sd: Vec<f64> = g.normals(1000, 0.031, 0.003);
    vec![
        PredictiveStat {
            label: "max hits".into(),
            replicated: max_hits,
            observed: 27.0,
            p_value: 0.043,
        },
        PredictiveStat {
            label: "sd of rates".into(),
            replicated: sd,
            observed: 0.030,
            p_value: 0.62,
        },
        PredictiveStat {
            label: "no replicates".into(),
            replicated: vec![],
            observed: 1.0,
            p_value: f64::NAN,
        },
    ]
}

/// The synthetic data of every figure, kept together so the figures can borrow it.
struct Data {
    few: Shrinkage,
    many: Shrinkage,
    densities: Vec<Density>,
    traces: Vec<Trace>,
    raw: Vec<f64>,
    estimators: Vec<EstimatorIntervals>,
    predictive: Vec<PredictiveStat>,
    volcano: Volcano,
    region: RegionPlot,
    overview: Overview,
    distributions: MethylDistributions,
}

impl Data {
    fn new() -> Data {
        let (raw, estimators) = estimator_data(15);
        Data {
            few: shrinkage_data(12),
            many: shrinkage_data(948),
            densities: density_data(),
            traces: trace_data(3000),
            raw,
            estimators,
            predictive: predictive_data(),
            volcano: volcano_data(),
            region: region_data(),
            overview: overview_data(),
            distributions: distributions_data(),
        }
    }
}

/// Elements of one kind carrying some attributes, and how many of them an SVG must have.
struct Marks {
    element: &'static str,
    attrs: Vec<String>,
    count: RangeInclusive<usize>,
}

fn marks(element: &'static str, attrs: &[&str], count: RangeInclusive<usize>) -> Marks {
    Marks {
        element,
        attrs: attrs.iter().map(|a| a.to_string()).collect(),
        count,
    }
}

/// A figure and what its files must show.
struct Case<'a> {
    name: &'static str,
    fig: Figure<'a>,
    /// Texts the SVG prints, each exactly this many times.
    texts: Vec<(String, usize)>,
    /// Text beginnings (values computed from the draws), each this many times.
    prefixes: Vec<(&'static str, usize)>,
    marks: Vec<Marks>,
    /// A colour the bitmap must use somewhere.
    colour: RGBColor,
}

/// The SVG attribute `fill="#RRGGBB"` of a colour, as plotters writes it.
fn fill_of(c: RGBColor) -> String {
    format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2)
}

/// The SVG attribute `stroke="#RRGGBB"` of a colour.
fn stroke_of(c: RGBColor) -> String {
    fill_of(c).replace("fill", "stroke")
}

fn texts(items: &[(&str, usize)]) -> Vec<(String, usize)> {
    items.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

/// Per scatter unit: its marker and its interval bar (`opacity` by unit count), in
/// `colour`; the legend adds one marker per colour.
fn unit_marks(colour: RGBColor, units: usize, opacity: &str) -> [Marks; 2] {
    let opacity = format!("opacity=\"{opacity}\"");
    [
        marks("circle", &[&fill_of(colour)], units + 1..=units + 1),
        marks("polyline", &[&opacity, &stroke_of(colour)], units..=units),
    ]
}

fn shrinkage_case<'a>(name: &'static str, s: &'a Shrinkage, opacity: &str) -> Case<'a> {
    let n = s.raw.len();
    let mut marks = Vec::from(unit_marks(plot::PALETTE[0], n, opacity));
    // The population mean: its line and its legend swatch.
    marks.push(self::marks(
        "polyline",
        &[&stroke_of(plot::PALETTE[1])],
        2..=2,
    ));
    Case {
        name,
        fig: Figure::Shrinkage(s),
        texts: texts(&[
            (&s.title, 1),
            ("raw rate y/n", 1),
            ("posterior median of θ (95% interval)", 1),
            ("y = x (no pooling)", 1),
            ("population mean 0.260", 1),
        ]),
        prefixes: vec![],
        marks,
        colour: plot::PALETTE[0],
    }
}

fn estimator_case<'a>(name: &'static str, d: &'a Data, x: UnitAxis<'a>) -> Case<'a> {
    let n = d.raw.len();
    let by_raw_rate = matches!(x, UnitAxis::RawRate(_));
    let mut texts = texts(&[
        ("y = x", usize::from(by_raw_rate)),
        ("raw rate y/n", usize::from(by_raw_rate)),
        ("unit (index)", usize::from(!by_raw_rate)),
        ("estimate of θ (mean, 95% interval)", 1),
    ]);
    texts.extend(d.estimators.iter().map(|e| (e.estimator.clone(), 1)));
    let marks = (0..d.estimators.len())
        .flat_map(|k| unit_marks(plot::PALETTE[k], n, "0.9"))
        .collect();
    Case {
        name,
        fig: Figure::EstimatorComparison {
            title: "Estimators",
            x,
            estimators: &d.estimators,
        },
        texts,
        prefixes: vec![],
        marks,
        colour: plot::PALETTE[0],
    }
}

/// Every figure of `d`, with what it must show.
/// 201 sites, delta from -0.5 to 0.5, P(|delta| > 0.1) = 2.5 |delta| up to 1; called from
/// 0.91 (|delta| >= 0.364, no site on the edge): 28 down and 28 up.
fn volcano_data() -> Volcano {
    let delta: Vec<f64> = (0..=200).map(|i| (f64::from(i) - 100.0) / 200.0).collect();
    let p: Vec<f64> = delta.iter().map(|d| (d.abs() * 2.5).min(1.0)).collect();
    Volcano {
        title: "Volcano".into(),
        called: p.iter().map(|&p| p >= 0.91).collect(),
        delta,
        p,
        threshold: 0.91,
        d: 0.1,
    }
}

/// Two groups of two samples at 5 CpGs, group A's samples at 10, 20, ... reads; one called
/// region shaded.
fn region_data() -> RegionPlot {
    let pos: Vec<f64> = (0..5).map(|k| 1_000_100.0 + 50.0 * f64::from(k)).collect();
    let samples = (0..4)
        .map(|s| RegionSample {
            name: format!("s{s}"),
            group: Some(s / 2),
            pos: pos.clone(),
            methylated: (0..5).map(|k| 3 + k + 5 * (s as u32 / 2)).collect(),
            total: (1..=5).map(|k| 10 * k).collect(),
        })
        .collect();
    let groups = ["A", "B"]
        .iter()
        .enumerate()
        .map(|(g, name)| GroupBand {
            name: name.to_string(),
            pos: pos.clone(),
            mean: vec![0.2 + 0.5 * g as f64; 5],
            low: vec![0.1 + 0.5 * g as f64; 5],
            high: vec![0.3 + 0.5 * g as f64; 5],
        })
        .collect();
    RegionPlot {
        title: "A region".into(),
        chr: "chr7".into(),
        view: (1_000_000.0, 1_000_400.0),
        shaded: vec![(1_000_100.0, 1_000_250.0)],
        samples,
        groups,
    }
}

/// Two chromosomes: 3 loci up and 2 down on chrA, one region down on chrB.
fn overview_data() -> Overview {
    let bins = |n: usize| (0..n).map(|k| (1e4 * (k as f64 + 0.5), 0.01)).collect();
    Overview {
        title: "Overview".into(),
        strips: vec![
            ChromosomeStrip {
                name: "chrA".into(),
                bins: bins(100),
                calls: vec![
                    (1e5, 0.3),
                    (2e5, 0.4),
                    (3e5, 0.35),
                    (5e5, -0.3),
                    (6e5, -0.2),
                ],
                regions: vec![],
            },
            ChromosomeStrip {
                name: "chrB".into(),
                bins: bins(60),
                calls: vec![],
                regions: vec![(2e5, 2.01e5, -0.4)],
            },
        ],
        end: 1e6,
        reach: 0.5,
    }
}

/// Coverage in 5 bins (one empty), P(DM) in 10, and a calibration of 3 bins, one empty.
fn distributions_data() -> MethylDistributions {
    let bin = |low, high, sites, stated, observed| CalibrationBin {
        low,
        high,
        sites,
        stated,
        observed,
    };
    MethylDistributions {
        title: "Distributions".into(),
        coverage: Binned {
            label: "coverage".into(),
            x_desc: "reads".into(),
            edges: vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0],
            counts: vec![5, 40, 0, 30, 2],
            log_counts: false,
            marker: None,
        },
        p_dm: Binned {
            label: "P(DM)".into(),
            x_desc: "posterior probability".into(),
            edges: (0..=10).map(|k| f64::from(k) / 10.0).collect(),
            counts: vec![9000, 50, 20, 10, 8, 6, 5, 4, 3, 12],
            log_counts: true,
            marker: Some((0.9, "calls: >= 0.9".into())),
        },
        calibration: Some(vec![
            bin(0.0, 0.5, 9000, 0.02, 0.03),
            bin(0.5, 0.8, 0, f64::NAN, f64::NAN),
            bin(0.8, 1.0, 40, 0.93, 0.9),
        ]),
    }
}

fn cases(d: &Data) -> Vec<Case<'_>> {
    let hist_bars = |range| marks("rect", &[&fill_of(plot::PALETTE[5])], range);
    let finite_panels = d
        .densities
        .iter()
        .filter(|p| p.draws.iter().any(|x| x.is_finite()))
        .count();
    let mut density_texts: Vec<(String, usize)> =
        d.densities.iter().map(|p| (p.label.clone(), 1)).collect();
    density_texts.extend(texts(&[("Posterior densities", 1), ("no draws", 1)]));
    let mut trace_texts = texts(&[
        ("Chains", 1),
        ("rank count expected if chains agree", 1),
        ("draw", 3),
        ("value", 3),
        ("rank among pooled draws", 3),
        ("draws per bin", 3),
    ]);
    trace_texts.extend((1..=4).map(|c| (format!("chain {c}"), 1)));
    for t in &d.traces {
        trace_texts.push((format!("{}: trace", t.label), 1));
        trace_texts.push((format!("{}: rank histogram", t.label), 1));
    }
    let rank_outlines = |colour, n| {
        let attrs = ["opacity=\"1\"", &stroke_of(colour), "stroke-width=\"2\""];
        marks("polyline", &attrs, n..=n)
    };
    let chains: usize = d.traces.iter().map(|t| t.chains.len()).sum();
    // One bar per observed value of the integer statistic, 10 to 32 for the other.
    let max_hits: BTreeSet<i64> = d.predictive[0]
        .replicated
        .iter()
        .map(|&x| x as i64)
        .collect();
    vec![
        shrinkage_case("shrinkage_12", &d.few, "0.9"),
        shrinkage_case("shrinkage_948", &d.many, "0.25"),
        Case {
            name: "densities",
            fig: Figure::Densities {
                title: "Posterior densities",
                panels: &d.densities,
            },
            texts: density_texts,
            prefixes: vec![("mean = ", finite_panels), ("95% HDI", 4)],
            marks: vec![
                // Each panel with draws: at least one bar and its HDI bar.
                hist_bars(finite_panels..=60 * finite_panels),
                marks(
                    "polyline",
                    &["stroke-width=\"5\""],
                    finite_panels..=finite_panels,
                ),
            ],
            colour: plot::PALETTE[5],
        },
        Case {
            name: "traces",
            fig: Figure::Traces {
                title: "Chains",
                params: &d.traces,
            },
            texts: trace_texts,
            prefixes: vec![],
            marks: vec![
                // One trace line per chain; the rank outlines of chain 1 in every row,
                // of chain 4 in the two rows with four chains, plus their legend swatches.
                marks("polyline", &["opacity=\"0.75\""], chains..=chains),
                rank_outlines(plot::PALETTE[0], 4),
                rank_outlines(plot::PALETTE[3], 3),
            ],
            colour: plot::PALETTE[0],
        },
        estimator_case("estimators", d, UnitAxis::RawRate(&d.raw)),
        estimator_case("estimators_by_index", d, UnitAxis::Index),
        Case {
            name: "predictive",
            fig: Figure::PredictiveChecks {
                title: "Posterior predictive checks",
                stats: &d.predictive,
            },
            texts: texts(&[
                ("max hits", 1),
                ("sd of rates", 1),
                ("no replicates", 1),
                ("p = 0.04", 1),
                ("p = 0.62", 1),
                ("observed = 27", 1),
                ("observed = 0.0300", 1),
                ("no replicated draws", 1),
            ]),
            prefixes: vec![],
            marks: vec![
                hist_bars(max_hits.len() + 10..=max_hits.len() + 32),
                // The observed values (the panel without replicates has none).
                marks(
                    "polyline",
                    &[&stroke_of(plot::PALETTE[1]), "stroke-width=\"3\""],
                    2..=2,
                ),
            ],
            colour: plot::PALETTE[1],
        },
        Case {
            name: "volcano",
            fig: Figure::Volcano(&d.volcano),
            texts: texts(&[
                ("Volcano", 1),
                ("not called", 1),
                ("called, up (28)", 1),
                ("called, down (28)", 1),
            ]),
            prefixes: vec![],
            marks: vec![marks("circle", &[&fill_of(RGBColor(178, 24, 43))], 28..=28)],
            colour: RGBColor(178, 24, 43),
        },
        Case {
            name: "region",
            fig: Figure::Region(&d.region),
            texts: texts(&[
                ("A region", 1),
                ("A (2 samples; mean, 95% band)", 1),
                ("B (2 samples; mean, 95% band)", 1),
                ("called region", 1),
                ("1,000,000", 1),
            ]),
            prefixes: vec![],
            // Each group's 10 points and its legend swatch; its mean line and the swatch's bar.
            marks: vec![
                marks("circle", &[&fill_of(plot::PALETTE[0])], 11..=11),
                marks("circle", &[&fill_of(plot::PALETTE[1])], 11..=11),
                marks("polyline", &[&stroke_of(plot::PALETTE[1])], 2..=2),
            ],
            colour: plot::PALETTE[0],
        },
        Case {
            name: "overview",
            fig: Figure::Overview(&d.overview),
            texts: texts(&[
                ("Overview", 1),
                ("chrA", 1),
                ("chrB", 1),
                ("position (Mb)", 1),
            ]),
            prefixes: vec![],
            // Up: 3 loci and the legend's swatch; down: 2 loci, the swatch.
            marks: vec![
                marks("circle", &[&fill_of(RGBColor(178, 24, 43))], 4..=4),
                marks("circle", &[&fill_of(RGBColor(33, 102, 172))], 3..=3),
            ],
            colour: RGBColor(178, 24, 43),
        },
        Case {
            name: "distributions",
            fig: Figure::MethylDistributions(&d.distributions),
            texts: texts(&[
                ("Distributions", 1),
                ("coverage", 1),
                ("P(DM)", 1),
                ("calibration against the truth", 1),
                ("calls: >= 0.9", 1),
                ("9000 sites", 1),
                ("40 sites", 1),
                ("log10(1 + sites)", 1),
            ]),
            prefixes: vec![],
            // 4 coverage bars and 10 P(DM) bars; the two calibration points with sites.
            marks: vec![
                marks("rect", &[&fill_of(plot::PALETTE[5])], 14..=14),
                marks("circle", &[&fill_of(plot::PALETTE[0])], 2..=2),
            ],
            colour: plot::PALETTE[5],
        },
    ]
}

/// Draws `fig` to `path` through the public function for its kind.
fn draw(path: &Path, fig: &Figure) -> anyhow::Result<()> {
    match *fig {
        Figure::Shrinkage(s) => plot::shrinkage(path, s),
        Figure::Densities { title, panels } => plot::densities(path, title, panels),
        Figure::Traces { title, params } => plot::traces(path, title, params),
        Figure::EstimatorComparison {
            title,
            x: UnitAxis::RawRate(raw),
            estimators,
        } => plot::estimator_comparison(path, title, raw, estimators),
        Figure::EstimatorComparison {
            title,
            x: UnitAxis::Index,
            estimators,
        } => plot::estimator_comparison_by_index(path, title, estimators),
        Figure::PredictiveChecks { title, stats } => plot::predictive_checks(path, title, stats),
        Figure::Volcano(v) => plot::volcano(path, v),
        Figure::Region(_) | Figure::Overview(_) | Figure::MethylDistributions(_) => {
            plot::render(path, fig)
        }
    }
}

/// The SVG's elements of one kind (the text between `<kind ` and the tag's end).
fn elements<'s>(svg: &'s str, kind: &str) -> Vec<&'s str> {
    let open = format!("<{kind} ");
    svg.match_indices(&open)
        .map(|(i, _)| {
            let tag = &svg[i..];
            &tag[..tag.find('>').unwrap_or(tag.len())]
        })
        .collect()
}

/// The SVG's texts, unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text ")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(
                body.trim_matches('\n')
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

fn check_svg(case: &Case, svg: &str) {
    let name = case.name;
    let texts = svg_texts(svg);
    for (text, n) in &case.texts {
        let found = texts.iter().filter(|t| *t == text).count();
        assert_eq!(found, *n, "{name}: {text:?} printed {found} times, not {n}");
    }
    for (prefix, n) in &case.prefixes {
        let found = texts.iter().filter(|t| t.starts_with(prefix)).count();
        assert_eq!(found, *n, "{name}: {found} texts start {prefix:?}, not {n}");
    }
    for m in &case.marks {
        let found = elements(svg, m.element)
            .iter()
            .filter(|e| m.attrs.iter().all(|a| e.contains(a.as_str())))
            .count();
        assert!(
            m.count.contains(&found),
            "{name}: {found} <{} {:?}>, expected {:?}",
            m.element,
            m.attrs,
            m.count
        );
    }
    // Every histogram bar is filled and outlined.
    let fill = fill_of(plot::PALETTE[5]);
    let filled = elements(svg, "rect")
        .iter()
        .filter(|e| e.contains(&fill))
        .count();
    let outlined = elements(svg, "rect")
        .iter()
        .filter(|e| e.contains("stroke=\"#FFFFFF\""))
        .count();
    assert_eq!(filled, outlined, "{name}: bars filled and outlined differ");
}

/// Points of a `<polyline>`.
fn points(polyline: &str) -> usize {
    polyline
        .split("points=\"")
        .nth(1)
        .and_then(|p| p.split('"').next())
        .map_or(0, |p| p.split_whitespace().count())
}

#[test]
fn every_figure_renders_to_svg_with_its_texts_and_marks() {
    let dir = tempfile::tempdir().unwrap();
    let data = Data::new();
    for case in cases(&data) {
        let path = dir.path().join(format!("{}.svg", case.name));
        draw(&path, &case.fig).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        let (w, h) = plot::render_rgb(&case.fig)
            .map(|i| (i.width, i.height))
            .unwrap();
        assert!(
            svg.starts_with(&format!("<svg width=\"{w}\" height=\"{h}\"")),
            "{}: not a {w} x {h} SVG",
            case.name
        );
        check_svg(&case, &svg);
    }
    // Only the figures are left: the temp files were renamed into place.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

/// A PNG's width, height and RGB pixels: just enough of the format (8-bit RGB, one zlib
/// stream over the IDAT chunks, per-row filters) to read what plotters writes.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let (mut width, mut height) = (0, 0);
    let mut compressed = Vec::new();
    let mut at = 8;
    loop {
        let len = be32(&bytes[at..]) as usize;
        let chunk = &bytes[at + 4..at + 8 + len];
        let mut crc = flate2::Crc::new();
        crc.update(chunk);
        assert_eq!(crc.sum(), be32(&bytes[at + 8 + len..]), "bad chunk CRC");
        let (kind, data) = chunk.split_at(4);
        match kind {
            b"IHDR" => {
                (width, height) = (be32(data), be32(&data[4..]));
                // Bit depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace.
                assert_eq!(&data[8..13], &[8, 2, 0, 0, 0], "not plain 8-bit RGB");
            }
            b"IDAT" => compressed.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&compressed[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = 3 * width as usize;
    assert_eq!(
        raw.len(),
        height as usize * (stride + 1),
        "wrong pixel data size"
    );
    let mut px = vec![0u8; height as usize * stride];
    for (y, row) in raw.chunks(stride + 1).enumerate() {
        let (filter, row) = (row[0], &row[1..]);
        for (x, &filtered) in row.iter().enumerate() {
            let at = y * stride + x;
            let a = if x >= 3 { px[at - 3] } else { 0 };
            let b = if y > 0 { px[at - stride] } else { 0 };
            let c = if x >= 3 && y > 0 {
                px[at - stride - 3]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("unknown PNG filter {f}"),
            };
            px[at] = filtered.wrapping_add(predicted);
        }
    }
    (width, height, px)
}

/// A grid of `n` panels: checks its width, returns its rows and the band above them.
fn grid_rows(name: &str, width: u32, height: u32, n: usize) -> (u32, u32) {
    let cols = n.min(plot::MAX_COLUMNS);
    assert_eq!(width, plot::PANEL_SIZE.0 * cols as u32, "{name}");
    let rows = n.div_ceil(cols) as u32;
    (rows, height - rows * plot::PANEL_SIZE.1)
}

/// Every figure as PNG: the file decodes to the size its layout gives and to the pixels
/// `render_rgb` draws, which are not blank, have text and use the figure's colour. Set
/// PLOTS_REVIEW_DIR to keep the PNGs there and look at them.
#[test]
fn every_figure_renders_to_png_as_in_memory() {
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var("PLOTS_REVIEW_DIR").map_or(temp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    let data = Data::new();
    for case in cases(&data) {
        let name = case.name;
        let path = dir.join(format!("{name}.png"));
        draw(&path, &case.fig).unwrap();
        let (width, height, pixels) = decode_png(&std::fs::read(&path).unwrap());
        let (rows, band) = match case.fig {
            Figure::Shrinkage(_)
            | Figure::EstimatorComparison { .. }
            | Figure::Volcano(_)
            | Figure::Region(_) => {
                assert_eq!((width, height), plot::SCATTER_SIZE, "{name}");
                (0, 0)
            }
            // One strip per chromosome, or one panel per distribution, below the title.
            Figure::Overview(o) => {
                assert!(height > 80 * o.strips.len() as u32, "{name}: {height} px");
                (0, 0)
            }
            Figure::MethylDistributions(_) => {
                assert_eq!(width, 3 * 480, "{name}");
                (0, 0)
            }
            Figure::Traces { params, .. } => {
                assert_eq!(width, plot::TRACE_WIDTH, "{name}");
                let rows = params.len() as u32;
                (rows, height - rows * plot::TRACE_ROW_HEIGHT)
            }
            Figure::Densities { panels, .. } => grid_rows(name, width, height, panels.len()),
            Figure::PredictiveChecks { stats, .. } => grid_rows(name, width, height, stats.len()),
        };
        // Grids and trace rows sit below a title (and legend) band of a few text lines.
        assert!(
            rows == 0 || (20..100).contains(&band),
            "{name}: {rows} rows, {band} px band"
        );

        let img = plot::render_rgb(&case.fig).unwrap();
        assert_eq!((img.width, img.height), (width, height), "{name}");
        assert!(
            img.pixels == pixels,
            "{name}: the PNG differs from render_rgb"
        );
        let px: Vec<[u8; 3]> = pixels.chunks(3).map(|p| [p[0], p[1], p[2]]).collect();
        let non_white =
            px.iter().filter(|p| **p != [255, 255, 255]).count() as f64 / px.len() as f64;
        assert!(
            (0.01..0.7).contains(&non_white),
            "{name}: {non_white} non-white"
        );
        // Text was rasterised (dark pixels) and the expected palette colour was used.
        assert!(
            px.iter().any(|p| p.iter().all(|&c| c < 40)),
            "{name}: no dark pixels"
        );
        let c = case.colour;
        assert!(px.contains(&[c.0, c.1, c.2]), "{name}: colour missing");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn unsupported_extension_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["fig.pdf", "fig", "fig.svg.txt"] {
        let path = dir.path().join(name);
        let err = plot::shrinkage(&path, &shrinkage_data(5)).unwrap_err();
        assert!(format!("{err:#}").contains(name), "{err:#}");
        assert!(!path.exists());
    }
    // Upper-case extensions are fine.
    plot::shrinkage(&dir.path().join("fig.SVG"), &shrinkage_data(5)).unwrap();
}

#[test]
fn degenerate_inputs_give_errors_or_empty_panels_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("x.svg");
    // Nothing at all to draw: errors that name the file.
    let err = plot::densities(&svg, "t", &[]).unwrap_err();
    assert!(format!("{err:#}").contains("x.svg"), "{err:#}");
    assert!(plot::traces(&svg, "t", &[]).is_err());
    assert!(plot::predictive_checks(&svg, "t", &[]).is_err());
    assert!(plot::estimator_comparison(&svg, "t", &[], &[]).is_err());
    assert!(!svg.exists());

    // Too many panels to read (and a huge bitmap): refused up front.
    let many = vec![
        Density {
            label: "x".into(),
            draws: vec![1.0, 2.0],
            reference: None
        };
        plot::MAX_PANELS + 1
    ];
    let err = plot::densities(&dir.path().join("many.png"), "t", &many).unwrap_err();
    assert!(
        format!("{err:#}").contains("61 panels, at most 60"),
        "{err:#}"
    );

    // Mismatched lengths.
    let mut s = shrinkage_data(5);
    s.lo.pop();
    assert!(plot::shrinkage(&svg, &s).is_err());
    let (raw, ests) = estimator_data(5);
    assert!(plot::estimator_comparison(&svg, "t", &raw[..4], &ests).is_err());
    // All NaN shrinkage: nothing to place.
    let mut s = shrinkage_data(5);
    s.median = vec![f64::NAN; 5];
    assert!(plot::shrinkage(&svg, &s).is_err());

    // Empty or non-finite draws in one panel: the figure is drawn with a "no draws" panel.
    let panels = [
        Density {
            label: "nothing".into(),
            draws: vec![],
            reference: None,
        },
        Density {
            label: "all NaN".into(),
            draws: vec![f64::NAN; 10],
            reference: Some(f64::NAN),
        },
        Density {
            label: "one draw".into(),
            draws: vec![0.0],
            reference: Some(0.0),
        },
    ];
    plot::densities(&svg, "degenerate", &panels).unwrap();
    let texts = svg_texts(&std::fs::read_to_string(&svg).unwrap());
    assert_eq!(texts.iter().filter(|t| *t == "no draws").count(), 2);
    assert!(texts.contains(&"mean = 0".to_string()), "{texts:?}");
    let traces = [
        Trace {
            label: "no chains".into(),
            chains: vec![],
        },
        Trace {
            label: "empty chains".into(),
            chains: vec![vec![], vec![]],
        },
        Trace {
            label: "one draw".into(),
            chains: vec![vec![2.0], vec![f64::NAN, 3.0]],
        },
    ];
    plot::traces(&svg, "degenerate", &traces).unwrap();
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    let texts = svg_texts(&svg_text);
    assert_eq!(texts.iter().filter(|t| *t == "no draws").count(), 2);
    assert!(texts.contains(&"one draw: rank histogram".to_string()));
    // Only "one draw" has traces: one line per chain.
    let lines = elements(&svg_text, "polyline");
    assert_eq!(
        lines
            .iter()
            .filter(|e| e.contains("opacity=\"0.75\""))
            .count(),
        2
    );

    // One unit placed (the other's raw rate is NaN), without its interval (lo is NaN) or
    // a population line (its mean is NaN): the marker and the legend's.
    let s = Shrinkage {
        title: "one unit, NaN mean".into(),
        raw: vec![0.3, f64::NAN],
        median: vec![0.3, 0.2],
        lo: vec![f64::NAN, 0.1],
        hi: vec![0.4, 0.3],
        population_mean: f64::NAN,
    };
    plot::shrinkage(&svg, &s).unwrap();
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(elements(&svg_text, "circle").len(), 2);
    let bars = elements(&svg_text, "polyline");
    assert_eq!(
        bars.iter()
            .filter(|e| e.contains("opacity=\"0.9\""))
            .count(),
        0
    );
    assert!(!svg_texts(&svg_text)
        .iter()
        .any(|t| t.starts_with("population mean")));
    plot::shrinkage(&dir.path().join("one.png"), &s).unwrap();
}

#[test]
fn traces_of_many_draws_are_thinned() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("long.svg");
    let long = trace_data(100_000);
    plot::traces(&svg, "long chains", &long).unwrap();
    let svg = std::fs::read_to_string(&svg).unwrap();
    // 100,000 draws a chain: a minimum and a maximum in each of 1000 buckets (one point
    // where they coincide, as in the constant chains).
    let traces: Vec<usize> = elements(&svg, "polyline")
        .iter()
        .filter(|e| e.contains("opacity=\"0.75\""))
        .map(|e| points(e))
        .collect();
    assert_eq!(traces.len(), 10);
    assert!(
        traces
            .iter()
            .all(|&n| (1000..=plot::MAX_TRACE_POINTS).contains(&n)),
        "{traces:?}"
    );
    assert_eq!(traces[8..], [1000, 1000], "constant chains");
}
