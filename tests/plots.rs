//! Figures: every figure renders to SVG and PNG from small synthetic data, edge cases
//! (empty, constant, NaN, many units, many draws) do not panic, and the bitmaps are not
//! blank. Set PLOTS_REVIEW_DIR to keep the PNGs of `every_png_renders` and look at them.

use std::path::{Path, PathBuf};

use betagibbs::plot::{
    self, Density, EstimatorIntervals, Figure, PredictiveStat, Shrinkage, Trace,
};

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

/// Every figure, with the labels its SVG must contain, drawn into `dir` as `name.ext`.
fn draw_all(dir: &Path, ext: &str) -> Vec<(PathBuf, Vec<String>)> {
    let path = |name: &str| dir.join(format!("{name}.{ext}"));
    let mut out = vec![];

    for n in [12, 948] {
        let s = shrinkage_data(n);
        let p = path(&format!("shrinkage_{n}"));
        plot::shrinkage(&p, &s).unwrap();
        out.push((p, vec![s.title.clone(), "raw rate y/n".into()]));
    }

    let d = density_data();
    let p = path("densities");
    plot::densities(&p, "Posterior densities", &d).unwrap();
    out.push((
        p,
        d.iter()
            .map(|x| x.label.clone())
            .chain(["no draws".into(), "HDI".into()])
            .collect(),
    ));

    let t = trace_data(3000);
    let p = path("traces");
    plot::traces(&p, "Chains", &t).unwrap();
    out.push((
        p,
        vec![
            "alpha: trace".into(),
            "alpha: rank histogram".into(),
            "chain 4".into(),
        ],
    ));

    let (raw, ests) = estimator_data(15);
    let p = path("estimators");
    plot::estimator_comparison(&p, "Estimators", &raw, &ests).unwrap();
    out.push((p, ests.iter().map(|e| e.estimator.clone()).collect()));
    let p = path("estimators_by_index");
    plot::estimator_comparison_by_index(&p, "Estimators by unit", &ests).unwrap();
    out.push((p, vec!["unit (index)".into()]));

    let s = predictive_data();
    let p = path("predictive");
    plot::predictive_checks(&p, "Posterior predictive checks", &s).unwrap();
    out.push((
        p,
        vec![
            "max hits".into(),
            "p = 0.04".into(),
            "p = 0.62".into(),
            "no replicated draws".into(),
        ],
    ));
    out
}

#[test]
fn every_figure_renders_to_svg_with_its_labels() {
    let dir = tempfile::tempdir().unwrap();
    for (path, labels) in draw_all(dir.path(), "svg") {
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(
            svg.len() > 2048,
            "{} is only {} bytes",
            path.display(),
            svg.len()
        );
        assert!(svg.contains("<text"), "{} has no text", path.display());
        for label in labels {
            assert!(svg.contains(&label), "{} lacks {label:?}", path.display());
        }
    }
    // Only the figures are left: the temp files were renamed into place.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn every_figure_renders_to_png() {
    let dir = tempfile::tempdir().unwrap();
    for (path, _) in draw_all(dir.path(), "png") {
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{} is not a PNG",
            path.display()
        );
        assert!(
            bytes.len() > 5 * 1024,
            "{} is only {} bytes",
            path.display(),
            bytes.len()
        );
    }
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 7, "only the seven figures should remain");
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
    assert!(plot::densities(&dir.path().join("many.png"), "t", &many).is_err());

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
    assert_eq!(
        std::fs::read_to_string(&svg)
            .unwrap()
            .matches("no draws")
            .count(),
        2
    );
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
    let s = Shrinkage {
        title: "one unit, NaN mean".into(),
        raw: vec![0.3, f64::NAN],
        median: vec![0.3, 0.2],
        lo: vec![f64::NAN, 0.1],
        hi: vec![0.4, 0.3],
        population_mean: f64::NAN,
    };
    plot::shrinkage(&dir.path().join("one.png"), &s).unwrap();
}

#[test]
fn traces_of_many_draws_are_thinned() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("long.svg");
    let long = trace_data(100_000);
    plot::traces(&svg, "long chains", &long).unwrap();
    let bytes = std::fs::metadata(&svg).unwrap().len();
    // 3 parameters x 4 chains x 100,000 draws would be ~15 MB unthinned.
    assert!(bytes < 1_500_000, "trace SVG is {bytes} bytes");
}

#[test]
fn bitmaps_are_not_blank() {
    let t = trace_data(500);
    let d = density_data();
    let (raw, ests) = estimator_data(30);
    let s = shrinkage_data(40);
    // Each figure with a colour it must use: palette blue, or sky blue for histograms.
    let figures = [
        (
            "traces",
            Figure::Traces {
                title: "t",
                params: &t,
            },
            plot::PALETTE[0],
        ),
        (
            "densities",
            Figure::Densities {
                title: "d",
                panels: &d,
            },
            plot::PALETTE[5],
        ),
        (
            "estimators",
            Figure::EstimatorComparison {
                title: "e",
                x: plot::UnitAxis::RawRate(&raw),
                estimators: &ests,
            },
            plot::PALETTE[0],
        ),
        ("shrinkage", Figure::Shrinkage(&s), plot::PALETTE[0]),
    ];
    for (name, fig, colour) in &figures {
        let img = plot::render_rgb(fig).unwrap();
        assert_eq!(img.pixels.len(), 3 * (img.width * img.height) as usize);
        let px: Vec<[u8; 3]> = img.pixels.chunks(3).map(|p| [p[0], p[1], p[2]]).collect();
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
        assert!(
            px.contains(&[colour.0, colour.1, colour.2]),
            "{name}: colour missing"
        );
    }
}

/// Every PNG renders; with PLOTS_REVIEW_DIR set they are kept there for a human to look at.
#[test]
fn every_png_renders() {
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var("PLOTS_REVIEW_DIR").map_or(temp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).unwrap();
    for (path, _) in draw_all(&dir, "png") {
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{}", path.display());
        println!("{}", path.display());
    }
}
