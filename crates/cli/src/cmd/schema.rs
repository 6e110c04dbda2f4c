//! `berth schema [--out DIR]`.

use crate::cli::{Cli, OutputFormat, SchemaArgs};
use crate::{Failure, output};

pub fn run(cli: &Cli, args: &SchemaArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json],
        "schema",
    )?;
    let schemas = berth_model::schema::all();
    match &args.out {
        Some(dir) => {
            fs_err::create_dir_all(dir)?;
            for s in &schemas {
                let text = serde_json::to_string_pretty(&s.schema)
                    .map_err(|e| Failure::Error(e.to_string()))?;
                berth_model::store::atomic_write(
                    &dir.join(s.file_name),
                    (text + "\n").as_bytes(),
                    true,
                )?;
                output::out(&format!("{}/{}  ({})\n", dir, s.file_name, s.describes));
            }
        }
        None => {
            let all: serde_json::Map<String, serde_json::Value> = schemas
                .into_iter()
                .map(|s| (s.file_name.to_owned(), s.schema))
                .collect();
            let text =
                serde_json::to_string_pretty(&all).map_err(|e| Failure::Error(e.to_string()))?;
            output::out(&(text + "\n"));
        }
    }
    Ok(())
}
