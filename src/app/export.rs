//! `export`: a methyl run's genome-browser tracks (the work is `crate::methyl::tracks`).

use crate::methyl::tracks::{write_tracks, TrackConfig};

/// `export`: each track written, its path printed on stdout.
pub fn run(config: &TrackConfig) -> anyhow::Result<()> {
    for path in write_tracks(config)? {
        println!("{}", path.display());
    }
    Ok(())
}
