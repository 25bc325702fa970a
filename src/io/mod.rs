//! Files: the count readers (`read`), the Parquet writers and their schemas (`write`),
//! atomic replacement of outputs (`atomic`), reading a run's outputs back (`readback`), and
//! opening a Parquet file to read, shared by `read` and `readback` (`parquet_file`).

pub mod atomic;
pub mod manifest;
pub(crate) mod parquet_file;
pub mod read;
pub mod readback;
pub mod write;
