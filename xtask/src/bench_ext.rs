//! Benchmarks of the later crates (index, validate, add, publish), appended to the table
//! of [`crate::bench`].

use crate::bench::{BenchArgs, Row};

/// Adds the rows of the benchmarks defined here.
pub fn more(_args: &BenchArgs, _rows: &mut Vec<Row>) -> Result<(), String> {
    Ok(())
}
