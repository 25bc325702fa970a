//! The design's API on inline tables; tests/design_formula.rs compares with R's model.matrix.

use super::*;

/// A table named t.tsv with a header on line 1 and the rows on the lines after it.
pub(super) fn table(names: &[&str], rows: &[&[&str]]) -> Table {
    Table {
        source: "t.tsv".to_string(),
        names: names.iter().map(|s| s.to_string()).collect(),
        rows: (rows.iter())
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect(),
        lines: (2..rows.len() + 2).collect(),
        columns: (1..=names.len()).collect(),
    }
}

/// Six samples: group Ctl/SLE, cell rN/tN, crossed, with an age.
fn sheet() -> Table {
    table(
        &["sample", "group", "cell", "age", "batch"],
        &[
            &["s1", "Ctl", "rN", "30", "1"],
            &["s2", "Ctl", "tN", "41", "2"],
            &["s3", "SLE", "rN", "52", "1"],
            &["s4", "SLE", "tN", "33", "2"],
            &["s5", "SLE", "rN", "44", "x"],
            &["s6", "Ctl", "tN", "25", "1"],
        ],
    )
}

fn rows(d: &Design) -> Vec<Vec<f64>> {
    (0..d.n_rows).map(|i| d.row(i).to_vec()).collect()
}

fn err(formula: &str, t: &Table) -> String {
    Design::build(formula, t).unwrap_err().0
}

#[test]
fn group_plus_cell_is_r_model_matrix() {
    let d = Design::build("~ group + cell", &sheet()).unwrap();
    assert_eq!(d.formula, "~ group + cell");
    assert_eq!(d.names, ["(Intercept)", "groupSLE", "celltN"]);
    // R: model.matrix(~ group + cell, sheet).
    let expected = [
        [1.0, 0.0, 0.0],
        [1.0, 0.0, 1.0],
        [1.0, 1.0, 0.0],
        [1.0, 1.0, 1.0],
        [1.0, 1.0, 0.0],
        [1.0, 0.0, 1.0],
    ];
    assert_eq!(rows(&d), expected.map(|r| r.to_vec()));
    assert_eq!((d.n_cols(), d.n_rows), (3, 6));
    let group = d.term("group").unwrap();
    assert_eq!(group.columns, 1..2);
    assert_eq!(group.levels, ["Ctl", "SLE"]);
    assert!(group.is_factor);
    assert_eq!(d.coefficient("celltN").unwrap(), 2);
}

#[test]
fn interactions_and_numbers_follow_r() {
    let d = Design::build("group*cell + age", &sheet()).unwrap();
    assert_eq!(d.formula, "~ group + cell + age + group:cell");
    assert_eq!(
        d.names,
        [
            "(Intercept)",
            "groupSLE",
            "celltN",
            "age",
            "groupSLE:celltN"
        ]
    );
    assert_eq!(d.row(3), [1.0, 1.0, 1.0, 33.0, 1.0]);
    let t = d.term("group:cell").unwrap();
    assert_eq!((t.columns.clone(), t.is_factor), (4..5, true));
    assert!(t.levels.is_empty());
    assert_eq!(t.variables, ["group", "cell"]);
    assert!(!d.term("age").unwrap().is_factor);
    // R codes group in age:group by contrasts because age is in the model.
    let d = Design::build("~ age + age:group", &sheet()).unwrap();
    assert_eq!(d.names, ["(Intercept)", "age", "age:groupSLE"]);
    let e = Design::build("~ group + age:group", &sheet())
        .unwrap_err()
        .0;
    assert!(
        e.contains("interaction group:age without the term age"),
        "{e}"
    );
    let d = Design::build("~ age*group", &sheet()).unwrap();
    assert_eq!(d.names, ["(Intercept)", "age", "groupSLE", "age:groupSLE"]);
    assert_eq!(d.row(2), [1.0, 52.0, 1.0, 52.0]);
}

#[test]
fn references_reorder_the_levels() {
    let refs = [("group".to_string(), "SLE".to_string())];
    let d = Design::build_with_references("~ group + cell", &sheet(), &refs).unwrap();
    assert_eq!(d.names, ["(Intercept)", "groupCtl", "celltN"]);
    assert_eq!(d.row(0), [1.0, 1.0, 0.0]);
    assert_eq!(d.term("group").unwrap().levels, ["SLE", "Ctl"]);
    let bad = [("group".to_string(), "RA".to_string())];
    let e = Design::build_with_references("~ group", &sheet(), &bad)
        .unwrap_err()
        .0;
    assert!(
        e.contains("'RA' is not a level of 'group'; its levels are: Ctl, SLE"),
        "{e}"
    );
    let absent = [("sex".to_string(), "f".to_string())];
    let e = Design::build_with_references("~ group", &sheet(), &absent)
        .unwrap_err()
        .0;
    assert!(e.contains("not in the formula '~ group'"), "{e}");
    let refs = [("age".to_string(), "41".to_string())];
    let d = Design::build_with_references("~ factor(age)", &sheet(), &refs).unwrap();
    assert_eq!(d.names[1], "factor(age)25");
}

#[test]
fn contrasts_weigh_the_columns() {
    let d = Design::build("~ group*cell", &sheet()).unwrap();
    let c = |e: &str| parse_contrast(e, &d);
    assert_eq!(c("groupSLE").unwrap(), [0.0, 1.0, 0.0, 0.0]);
    assert_eq!(
        c("groupSLE + groupSLE:celltN").unwrap(),
        [0.0, 1.0, 0.0, 1.0]
    );
    assert_eq!(c("0.5*groupSLE - celltN/2").unwrap(), [0.0, 0.5, -0.5, 0.0]);
    assert_eq!(
        c(" -celltN*2 + (Intercept)").unwrap(),
        [1.0, 0.0, -2.0, 0.0]
    );
    assert_eq!(c("`groupSLE:celltN`").unwrap(), [0.0, 0.0, 0.0, 1.0]);
    let e = c("groupSLE - groupRA").unwrap_err().0;
    assert_eq!(
        e,
        "contrast 'groupSLE - groupRA', at character 12: no coefficient 'groupRA'; \
         the coefficients are: (Intercept), groupSLE, celltN, groupSLE:celltN"
    );
    assert!(c("groupSLEx")
        .unwrap_err()
        .0
        .contains("no coefficient 'groupSLEx'"));
    assert!(c("groupSLE - groupSLE").unwrap_err().0.contains("zero"));
    assert!(c("groupSLE celltN")
        .unwrap_err()
        .0
        .contains("expected '+', '-'"));
    assert!(c("2 groupSLE").unwrap_err().0.contains("expected '*'"));
    assert!(c("").is_err());
}

#[test]
fn unknown_coefficients_and_terms_list_the_available() {
    let d = Design::build("~ group + cell", &sheet()).unwrap();
    assert_eq!(
        d.coefficient("SLE").unwrap_err().0,
        "no coefficient 'SLE' in the design '~ group + cell' (did you mean groupSLE?); \
         the coefficients are: (Intercept), groupSLE, celltN"
    );
    assert_eq!(
        d.term("age").unwrap_err().0,
        "no term 'age' in the design '~ group + cell'; the terms are: group, cell"
    );
}

#[test]
fn user_errors_say_what_and_where() {
    let e = err("~ group + sex", &sheet());
    assert_eq!(
        e,
        "the formula names 'sex', which is not a column of t.tsv; \
         its columns are: sample, group, cell, age, batch"
    );
    let e = err("~ batch", &sheet());
    assert!(
        e.starts_with("t.tsv:6:5: column 'batch': numeric column with text: 'x'"),
        "{e}"
    );
    assert!(e.contains("write factor(batch)"), "{e}");
    assert_eq!(
        Design::build("~ factor(batch)", &sheet()).unwrap().names,
        ["(Intercept)", "factor(batch)2", "factor(batch)x"]
    );
    let e = err("~ group - 1", &sheet());
    assert!(e.contains("always fits an intercept"), "{e}");
    let e = err("~ group:cell", &sheet());
    assert!(e.contains("interaction group:cell without the term"), "{e}");
    assert!(e.contains("group*cell"), "{e}");
    let mut one = sheet();
    one.rows.iter_mut().for_each(|r| r[2] = "rN".into());
    let e = err("~ group + cell", &one);
    assert!(
        e.contains("the factor 'cell' has one level, 'rN', in all 6 rows of t.tsv"),
        "{e}"
    );
    let mut empty = sheet();
    empty.rows[1][3] = String::new();
    assert!(err("~ age", &empty).starts_with("t.tsv:3:4: column 'age': a missing value"));
    let mut short = sheet();
    short.rows[2].truncate(2);
    short.lines.clear();
    assert!(err("~ cell", &short).starts_with("t.tsv:4:3: column 'cell': a missing value"));
    let mut none = sheet();
    none.rows.clear();
    assert_eq!(
        err("~ cell", &none),
        "t.tsv has no rows to build the design '~ cell' from"
    );
    let e = err("~ group*cell*factor(age)", &sheet());
    assert!(
        e.contains("has 24 coefficients") && e.contains("only 6 rows"),
        "{e}"
    );
}

#[test]
fn rank_deficiency_names_the_confounded_terms() {
    let t = table(
        &["group", "cell", "age", "months"],
        &[
            &["Ctl", "mN", "1", "12"],
            &["Ctl", "mN", "2", "24"],
            &["SLE", "rN", "3", "36"],
            &["SLE", "rN", "5", "60"],
        ],
    );
    assert_eq!(
        err("~ group + cell", &t),
        "the design '~ group + cell' is not of full rank: in every row, cellrN = groupSLE \
         (the rows with cell rN are exactly those with group SLE), so the data cannot tell the terms group and cell apart; drop one of them"
    );
    assert_eq!(
        err("~ age + months", &t),
        "the design '~ age + months' is not of full rank: in every row, months = 12*age, \
         so the data cannot tell the terms age and months apart; drop one of them"
    );
    let mut t2 = t.clone();
    t2.rows.iter_mut().for_each(|r| {
        r[1] = if r[0] == "Ctl" {
            "rN".into()
        } else {
            "mN".into()
        }
    });
    let e = err("~ group + cell", &t2);
    assert!(
        e.contains("cellrN = (Intercept) - groupSLE (the rows with cell rN are exactly those without group SLE)"),
        "{e}"
    );
    let e = err(
        "~ age + group*cell",
        &table(
            &["group", "cell", "age"],
            &[
                &["A", "m", "1"],
                &["A", "n", "2"],
                &["B", "m", "3"],
                &["A", "m", "5"],
                &["A", "n", "4"],
            ],
        ),
    );
    assert!(
        e.contains("groupB:celln is zero in every row, so the term group:cell adds nothing"),
        "{e}"
    );
}

#[test]
fn json_holds_the_matrix() {
    let t = table(&["g", "name"], &[&["a", "r\"1"], &["b", "r2"]]);
    let d = Design::build("~ g", &t).unwrap();
    let names = ["r\"1".to_string(), "r2".to_string()];
    assert_eq!(
        d.to_json(&names),
        r#"{"formula":"~ g","coefficients":["(Intercept)","gb"],"rows":["r\"1","r2"],"matrix":[[1,0],[1,1]]}"#
    );
}
