//! Files: the count readers (`read`), the Parquet writers and their schemas (`write`),
//! atomic replacement of outputs (`atomic`), and reading a run's outputs back (`readback`).

pub mod atomic;
pub mod read;
pub mod readback;
pub mod write;
