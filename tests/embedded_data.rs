//! The tables built into the binary are the project's shared copies, byte for byte.

mod common;

use betagibbs::app::RATS_CSV;

#[test]
#[ignore = "needs ../shared/data"]
fn embedded_rats_equal_the_shared_copy() {
    let path = common::shared_data("rats.csv");
    assert_eq!(std::fs::read(path).unwrap(), RATS_CSV);
}

#[test]
fn embedded_rats_are_the_bda3_table() {
    let ds = common::rats();
    // SOURCES.md: 71 experiments, 267 tumours in 1,739 rats, row 71 is 4/14.
    assert_eq!(ds.n_obs(), 71);
    assert_eq!(ds.successes.iter().sum::<u32>(), 267);
    assert_eq!(ds.trials.iter().sum::<u32>(), 1739);
    assert_eq!((ds.successes[70], ds.trials[70]), (4, 14));
    assert_eq!(
        ds.sha256,
        "955c6500fe5bf4de9b082ba17c9ae4db7522f802597aa5591d62f03b8012e681"
    );
}

#[test]
fn batting_data_merged_by_position_keeps_the_totals() {
    use betagibbs::io::read::{read_dataset, ColumnSpec};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/batting_average.csv");
    let cols = ColumnSpec {
        successes: "Hits".into(),
        trials: "AtBats".into(),
        unit: None,
        id: Some("PriPos".into()),
        aggregate_ids: true,
        groups: Vec::new(),
    };
    let ds = read_dataset(&path, &cols).unwrap();
    // SOURCES.md: 9 positions; 42,000 hits in 164,926 at-bats.
    assert_eq!(ds.n_obs(), 9);
    assert_eq!(ds.successes.iter().sum::<u32>(), 42_000);
    assert_eq!(ds.trials.iter().sum::<u32>(), 164_926);
    assert!(ds.ids.iter().any(|id| id == "Pitcher"));
}
