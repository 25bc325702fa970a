//! Studies with covariates and pairs: the sheet's columns and balance, the truth's
//! coefficients against what the counts show, and subjects' shared offsets.

use std::collections::HashMap;

use crate::methyl::simulate::design::sample_rows;
use crate::methyl::simulate::files::render;
use crate::methyl::simulate::{
    logit, Covariate, CovariateKind, Design, Noise, SimulateConfig, DEFAULT_COVARIATE_EFFECT,
};

fn factor(name: &str, levels: &[&str], effect_sd: f64) -> Covariate {
    Covariate {
        name: name.into(),
        kind: CovariateKind::Factor(levels.iter().map(|l| l.to_string()).collect()),
        effect_sd,
    }
}

fn numeric(name: &str, lo: f64, hi: f64, effect_sd: f64) -> Covariate {
    Covariate {
        name: name.into(),
        kind: CovariateKind::Numeric { lo, hi },
        effect_sd,
    }
}

/// cell (2 levels), tissue (3) and age (30-70), with `effect_sd` each.
fn three_covariates(effect_sd: f64) -> Vec<Covariate> {
    vec![
        factor("cell", &["cell1", "cell2"], effect_sd),
        factor("tissue", &["a", "b", "c"], effect_sd),
        numeric("age", 30.0, 70.0, effect_sd),
    ]
}

fn config(sites: u32, replicates: u32, design: Design) -> SimulateConfig {
    SimulateConfig {
        sites,
        replicates,
        design,
        seed: 11,
        ..SimulateConfig::default()
    }
}

/// A TSV's rows as maps from its header's names.
fn table(text: &str) -> Vec<HashMap<String, String>> {
    let mut lines = text.lines();
    let names: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|line| {
            let cells = line.split('\t').map(String::from);
            names.iter().map(|n| n.to_string()).zip(cells).collect()
        })
        .collect()
}

fn number(row: &HashMap<String, String>, column: &str) -> f64 {
    row[column].parse().unwrap()
}

/// Every sample's (N, X) per site, in the sheet's order.
fn counts(samples: &[(String, String)]) -> Vec<Vec<(f64, f64)>> {
    samples
        .iter()
        .map(|(_, text)| {
            let rows = table(text);
            rows.iter()
                .map(|r| (number(r, "N"), number(r, "X")))
                .collect()
        })
        .collect()
}

/// The empirical logit, with half a read added to both sides against the bias at low counts.
fn empirical_logit((n, x): (f64, f64)) -> f64 {
    ((x + 0.5) / (n - x + 0.5)).ln()
}

/// The sheet holds group, subject and covariates; a group's factor levels are balanced to
/// one, the factors cross the groups, and a subject's two samples share its covariates.
#[test]
fn sheet_has_the_covariates_in_balance() {
    for (replicates, paired) in [(6, true), (7, false), (2, false)] {
        let design = Design {
            covariates: three_covariates(DEFAULT_COVARIATE_EFFECT),
            subject_sd: paired.then_some(0.5),
        };
        let rendered = render(&config(50, replicates, design));
        let header = rendered.sheet.lines().next().unwrap();
        let want = if paired {
            "sample\tfile\tgroup\tsubject\tcell\ttissue\tage"
        } else {
            "sample\tfile\tgroup\tcell\ttissue\tage"
        };
        assert_eq!(header, want);
        let sheet = table(&rendered.sheet);
        assert_eq!(sheet.len(), 2 * replicates as usize);
        for (column, levels) in [("cell", 2), ("tissue", 3)] {
            for group in ["A", "B"] {
                let mut seen: HashMap<&str, usize> = HashMap::new();
                for row in sheet.iter().filter(|r| r["group"] == group) {
                    *seen.entry(row[column].as_str()).or_default() += 1;
                }
                let most = seen.values().max().unwrap();
                let least = if seen.len() < levels {
                    &0
                } else {
                    seen.values().min().unwrap()
                };
                assert!(most - least <= 1, "{column} in {group}: {seen:?}");
            }
        }
        for row in &sheet {
            let age = number(row, "age");
            assert!(
                (30.0..=70.0).contains(&age) && row["age"].len() == 5,
                "{}",
                row["age"]
            );
        }
        let r = replicates as usize;
        for k in 0..r {
            let (a, b) = (&sheet[k], &sheet[r + k]);
            if paired {
                assert_eq!(a["subject"], format!("s{}", k + 1));
                assert_eq!(a["subject"], b["subject"]);
                for column in ["cell", "tissue", "age"] {
                    assert_eq!(a[column], b[column], "subject {}", k + 1);
                }
            }
        }
    }
    // Two samples a group and two 2-level factors: every combination of group, cell and batch
    // once, so group, cell and batch are estimable together.
    let design = Design {
        covariates: vec![
            factor("cell", &["c1", "c2"], 0.5),
            factor("batch", &["b1", "b2"], 0.5),
        ],
        subject_sd: None,
    };
    let sheet = table(&render(&config(20, 2, design)).sheet);
    let mut cells: Vec<String> = sheet
        .iter()
        .map(|r| format!("{}{}{}", r["group"], r["cell"], r["batch"]))
        .collect();
    cells.sort();
    cells.dedup();
    assert_eq!(cells.len(), 4, "{cells:?}");
}

/// With no effects and no pairs the counts are the two-group study's; the truth adds one
/// column per coefficient, groupB exactly 0 off the DMRs and the logit of the levels on them.
#[test]
fn truth_states_every_coefficient() {
    let plain = render(&config(3_000, 2, Design::default()));
    let design = Design {
        covariates: three_covariates(0.0),
        subject_sd: None,
    };
    let covariates = render(&config(3_000, 2, design));
    assert_eq!(plain.samples, covariates.samples);
    let truth = table(&covariates.truth);
    let columns = [
        "groupB_logit",
        "cellcell2_logit",
        "tissueb_logit",
        "tissuec_logit",
        "age_logit",
    ];
    let header: Vec<&str> = covariates
        .truth
        .lines()
        .next()
        .unwrap()
        .split('\t')
        .collect();
    assert_eq!(header[11..], columns);
    assert!(truth.iter().any(|r| r["dm"] == "1"));
    for row in &truth {
        let (mu_a, mu_b) = (number(row, "mu_A"), number(row, "mu_B"));
        let group_b = number(row, "groupB_logit");
        if row["dm"] == "0" {
            assert_eq!(group_b, 0.0);
        } else {
            assert!((group_b - (logit(mu_b) - logit(mu_a))).abs() < 1e-12);
            assert_eq!(group_b > 0.0, number(row, "delta") > 0.0);
        }
        for column in &columns[1..] {
            assert_eq!(number(row, column), 0.0);
        }
    }
}

/// Solves the symmetric positive definite `a x = b` by Gauss-Jordan; `a` is small.
fn inverse(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let p = a.len();
    let mut inv: Vec<Vec<f64>> = (0..p)
        .map(|i| (0..p).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for c in 0..p {
        let pivot = a[c][c];
        for j in 0..p {
            a[c][j] /= pivot;
            inv[c][j] /= pivot;
        }
        for r in (0..p).filter(|&r| r != c) {
            let f = a[r][c];
            for j in 0..p {
                a[r][j] -= f * a[c][j];
                inv[r][j] -= f * inv[c][j];
            }
        }
    }
    inv
}

/// Many samples at high coverage: per site, least squares of the empirical logits on the
/// design recovers every coefficient of the truth within its standard error (the z-scores'
/// mean square near 1, their mean near 0).
#[test]
fn counts_recover_the_coefficients() {
    let design = Design {
        covariates: three_covariates(0.8),
        subject_sd: None,
    };
    let config = SimulateConfig {
        coverage: (1_000, 1_000),
        null_fraction: 0.5,
        ..config(400, 30, design)
    };
    let rendered = render(&config);
    let rows = sample_rows(&config);
    let x: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| [vec![1.0, r.group as f64], r.x.clone()].concat())
        .collect();
    let p = x[0].len();
    let xtx: Vec<Vec<f64>> = (0..p)
        .map(|a| {
            (0..p)
                .map(|b| x.iter().map(|r| r[a] * r[b]).sum())
                .collect()
        })
        .collect();
    let xtx_inv = inverse(xtx);
    let counts = counts(&rendered.samples);
    let truth = table(&rendered.truth);
    let names = config.design.coefficients();
    let mut z: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for (s, row) in truth.iter().enumerate() {
        // Levels near 0 or 1 leave few reads on one side, where the empirical logit is biased.
        let (mu_a, mu_b) = (number(row, "mu_A"), number(row, "mu_B"));
        if mu_a.min(mu_b) < 0.05 || mu_a.max(mu_b) > 0.95 {
            continue;
        }
        let y: Vec<f64> = counts.iter().map(|c| empirical_logit(c[s])).collect();
        let xty: Vec<f64> = (0..p)
            .map(|a| x.iter().zip(&y).map(|(r, y)| r[a] * y).sum())
            .collect();
        let beta: Vec<f64> = (0..p)
            .map(|a| (0..p).map(|b| xtx_inv[a][b] * xty[b]).sum())
            .collect();
        let rss: f64 = x
            .iter()
            .zip(&y)
            .map(|(r, y)| (y - (0..p).map(|a| r[a] * beta[a]).sum::<f64>()).powi(2))
            .sum();
        let s2 = rss / (x.len() - p) as f64;
        for (k, name) in names.iter().enumerate() {
            let se = (s2 * xtx_inv[k + 1][k + 1]).sqrt();
            z[k].push((beta[k + 1] - number(row, &format!("{name}_logit"))) / se);
        }
    }
    for (name, z) in names.iter().zip(&z) {
        let m = z.len() as f64;
        assert!(m > 200.0, "{name}: {m} sites");
        let mean = z.iter().sum::<f64>() / m;
        let square = z.iter().map(|z| z * z).sum::<f64>() / m;
        assert!(mean.abs() < 4.0 / m.sqrt(), "{name}: mean z {mean}");
        assert!((0.8..1.25).contains(&square), "{name}: mean z^2 {square}");
    }
}

/// A subject's offset is shared by its two samples: at sites that do not differ, half the
/// variance of between-subject differences, less that of within-subject ones, is the
/// subject sd's square.
#[test]
fn pairs_share_their_offsets() {
    let subject_sd = 0.8;
    let design = Design {
        covariates: Vec::new(),
        subject_sd: Some(subject_sd),
    };
    let config = SimulateConfig {
        coverage: (1_000, 1_000),
        noise: Noise::LogitNormal { sd: 0.3 },
        ..config(300, 40, design)
    };
    let rendered = render(&config);
    let counts = counts(&rendered.samples);
    let truth = table(&rendered.truth);
    let r = config.replicates as usize;
    let (mut within, mut between, mut m) = (0.0, 0.0, 0.0);
    for (s, row) in truth.iter().enumerate() {
        let mu = number(row, "mu_A");
        if row["dm"] == "1" || !(0.05..=0.95).contains(&mu) {
            continue;
        }
        let l: Vec<f64> = counts.iter().map(|c| empirical_logit(c[s])).collect();
        for k in 0..r - 1 {
            within += (l[k] - l[r + k]).powi(2);
            between += (l[k] - l[r + k + 1]).powi(2);
            m += 1.0;
        }
    }
    let (within, between) = (within / m, between / m);
    let subject_var = 0.5 * (between - within);
    assert!(within < between, "within {within}, between {between}");
    assert!(
        (subject_var / (subject_sd * subject_sd) - 1.0).abs() < 0.15,
        "subject variance {subject_var} for sd {subject_sd}"
    );
}
