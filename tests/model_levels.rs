//! A multi-level model built from a table: observations sorted by their innermost group,
//! every level's parents, and every node named (mcmc::model on io::read's datasets).

use betagibbs::io::read::{parse_delimited, ColumnSpec};
use betagibbs::mcmc::dataset::Dataset;
use betagibbs::mcmc::model::Model;

fn dataset(text: &str, groups: &[&str]) -> Dataset {
    let cols = ColumnSpec {
        successes: "y".into(),
        trials: "n".into(),
        unit: None,
        id: Some("id".into()),
        aggregate_ids: false,
        groups: groups.iter().map(|g| g.to_string()).collect(),
    };
    parse_delimited(text.as_bytes(), "t.csv", b',', &cols).unwrap()
}

#[test]
fn three_levels_sort_observations_and_name_every_node() {
    let text =
        "id,y,n,team,league\n\"Ann, B.\",1,4,T1,L1\nbob,2,5,T2,L2\ncy,3,6,T1,L1\ndi,0,2,T3,L1\n";
    let m = Model::new(&dataset(text, &["team", "league"]), true).unwrap();
    assert_eq!(m.batch.unit_offsets, [0, 2, 3, 4]);
    assert_eq!(
        m.batch
            .observations
            .iter()
            .map(|o| o.successes)
            .collect::<Vec<_>>(),
        [1, 3, 2, 0]
    );
    assert_eq!(m.batch.parents, [vec![0, 1, 0], vec![0, 0]]);
    assert_eq!(m.batch.level_sizes, [3, 2, 1]);
    assert_eq!(
        m.names,
        [
            "theta[Ann, B.]",
            "theta[cy]",
            "theta[bob]",
            "theta[di]",
            "omega[T1]",
            "kappa[T1]",
            "omega[T2]",
            "kappa[T2]",
            "omega[T3]",
            "kappa[T3]",
            "omega[L1]",
            "kappa[L1]",
            "omega[L2]",
            "kappa[L2]",
            "omega",
            "kappa",
        ]
    );
    assert_eq!(m.batch.node_param_start(1, 1, true), 4 + 2 * (3 + 1));
    assert_eq!(m.batch.n_params(false), 2 * 6);
}

#[test]
fn one_group_column_gives_groups_under_one_root() {
    let m = Model::new(
        &dataset("id,y,n,g\na,1,2,P\nb,1,3,P\nc,0,1,[C]\n", &["g"]),
        false,
    )
    .unwrap();
    assert_eq!(m.batch.parents, [vec![0, 0]]);
    assert_eq!(
        m.names,
        [
            "omega[P]",
            "kappa[P]",
            "omega[[C]]",
            "kappa[[C]]",
            "omega",
            "kappa"
        ]
    );
}
