//! `simulate --covariate`, `--covariate-effect`, `--pairs` and `--subject-sd` as a `Design`.

use crate::error::UserError;
use crate::methyl::simulate::{
    Covariate, CovariateKind, Design, DEFAULT_COVARIATE_EFFECT, DEFAULT_SUBJECT_SD,
};

/// The sheet's own columns: a covariate of these names would be read as something else.
const RESERVED: [&str; 5] = ["sample", "file", "group", "format", "subject"];

/// A name R keeps as it is in a formula and a coefficient: a letter, then letters, digits,
/// '.' and '_'.
fn plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

/// 'NAME=factor:K', 'NAME=factor:L1,L2,...' or 'NAME=numeric:LO,HI'.
fn parse_covariate(spec: &str) -> Result<Covariate, UserError> {
    let bad = |why: &str| {
        UserError(format!(
            "--covariate {spec:?}: {why}; expected 'NAME=factor:K', 'NAME=factor:L1,L2,...' or 'NAME=numeric:LO,HI'"
        ))
    };
    let (name, rest) = spec.split_once('=').ok_or_else(|| bad("no '='"))?;
    let name = name.trim();
    if !plain_name(name) || RESERVED.contains(&name) {
        return Err(bad(&format!(
            "the name must start with a letter, hold only letters, digits, '.' and '_', and not be one of {RESERVED:?}"
        )));
    }
    let kind = match rest.trim().split_once(':') {
        Some(("factor", levels)) => {
            let levels: Vec<String> = match levels.trim().parse::<usize>() {
                Ok(k) => (1..=k).map(|l| format!("{name}{l}")).collect(),
                Err(_) => levels.split(',').map(|l| l.trim().to_string()).collect(),
            };
            let distinct = levels
                .iter()
                .enumerate()
                .all(|(i, l)| !levels[..i].contains(l));
            if levels.len() < 2 || !distinct || !levels.iter().all(|l| plain_name(l)) {
                return Err(bad("a factor needs 2 or more distinct plain level names"));
            }
            CovariateKind::Factor(levels)
        }
        Some(("numeric", range)) => {
            let (lo, hi) = range.split_once(',').ok_or_else(|| bad("no 'LO,HI'"))?;
            let (lo, hi): (f64, f64) = match (lo.trim().parse::<f64>(), hi.trim().parse::<f64>()) {
                (Ok(lo), Ok(hi)) if lo < hi && lo.is_finite() && hi.is_finite() => (lo, hi),
                _ => return Err(bad("LO and HI must be finite numbers with LO < HI")),
            };
            CovariateKind::Numeric { lo, hi }
        }
        _ => return Err(bad("unknown kind")),
    };
    Ok(Covariate {
        name: name.to_string(),
        kind,
        effect_sd: DEFAULT_COVARIATE_EFFECT,
    })
}

/// The design of `--covariate` specs, `--covariate-effect NAME=SD` settings, `--pairs` and
/// `--subject-sd`.
pub(super) fn parse_design(
    covariates: &[String],
    effects: &[String],
    pairs: bool,
    subject_sd: Option<f64>,
) -> Result<Design, UserError> {
    let mut parsed: Vec<Covariate> = Vec::new();
    for spec in covariates {
        let covariate = parse_covariate(spec)?;
        if parsed.iter().any(|c| c.name == covariate.name) {
            return Err(UserError(format!(
                "--covariate {:?} is given twice",
                covariate.name
            )));
        }
        parsed.push(covariate);
    }
    for setting in effects {
        let bad = |why: &str| UserError(format!("--covariate-effect {setting:?}: {why}"));
        let (name, sd) = setting
            .split_once('=')
            .ok_or_else(|| bad("expected 'NAME=SD'"))?;
        let covariate = parsed
            .iter_mut()
            .find(|c| c.name == name.trim())
            .ok_or_else(|| bad("no --covariate of that name"))?;
        covariate.effect_sd = match sd.trim().parse::<f64>() {
            Ok(sd) if sd >= 0.0 && sd.is_finite() => sd,
            _ => return Err(bad("SD must be a finite number at least 0")),
        };
    }
    let subject_sd = match (pairs, subject_sd) {
        (false, _) => None,
        (true, None) => Some(DEFAULT_SUBJECT_SD),
        (true, Some(sd)) if sd >= 0.0 && sd.is_finite() => Some(sd),
        (true, Some(sd)) => {
            return Err(UserError(format!(
                "--subject-sd {sd}: must be finite and at least 0"
            )))
        }
    };
    Ok(Design {
        covariates: parsed,
        subject_sd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design(covariates: &[&str], effects: &[&str]) -> Result<Design, UserError> {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        parse_design(&owned(covariates), &owned(effects), false, None)
    }

    #[test]
    fn specs_parse_into_covariates() {
        let d = design(
            &[
                "cell=factor:2",
                "tissue=factor:liver,lung,gut",
                "age=numeric:30,70",
            ],
            &["cell=0.8"],
        )
        .unwrap();
        assert_eq!(
            d.coefficients(),
            ["groupB", "cellcell2", "tissuelung", "tissuegut", "age"]
        );
        assert_eq!(d.covariates[0].effect_sd, 0.8);
        assert_eq!(d.covariates[2].effect_sd, DEFAULT_COVARIATE_EFFECT);
        assert_eq!(
            d.covariates[2].kind,
            CovariateKind::Numeric { lo: 30.0, hi: 70.0 }
        );
        let paired = parse_design(&[], &[], true, None).unwrap();
        assert_eq!(paired.subject_sd, Some(DEFAULT_SUBJECT_SD));
    }

    #[test]
    fn bad_specs_are_refused() {
        for spec in [
            "cell",
            "group=factor:2",
            "1cell=factor:2",
            "cell=factor:1",
            "cell=factor:a,a",
            "cell=factor:a,b c",
            "age=numeric:70,30",
            "age=numeric:30",
            "age=ordinal:3",
        ] {
            assert!(design(&[spec], &[]).is_err(), "{spec}");
        }
        assert!(design(&["a=factor:2", "a=factor:3"], &[]).is_err());
        assert!(design(&["a=factor:2"], &["b=1"]).is_err());
        assert!(design(&["a=factor:2"], &["a=-1"]).is_err());
        assert!(parse_design(&[], &[], true, Some(-0.1)).is_err());
    }
}
