//! `berth latest COMPONENT`: reads index/components.yaml and nothing else (every deploy
//! job calls it).

use berth_index::IndexError;

use crate::cli::{Cli, LatestArgs, OutputFormat};
use crate::output;

pub fn run(cli: &Cli, args: &LatestArgs) -> crate::CmdResult {
    output::allow(cli.format, &[OutputFormat::Human], "latest")?;
    let root = berth_index::find_root(cli.repo.as_deref())?;
    // A killed writer left work for the next one: finish it before answering.
    if berth_model::journal::pending_at(&root) {
        super::recover_pending(cli)?;
    }
    match berth_index::latest_checked(&root, &args.component) {
        Ok((_, v)) => {
            output::out(&format!("{v}\n"));
            Ok(())
        }
        // Only on the error paths: look at the tree to say what is wrong.
        Err(IndexError::NoIndex { .. })
            if !root.join(berth_model::layout::CONFIG_FILE).is_file() =>
        {
            Err(IndexError::NotARepository { start: root }.into())
        }
        Err(IndexError::UnknownComponent { name, file, .. })
            if root
                    .join(berth_model::layout::COMPONENTS_DIR)
                    .join(&name)
                    .join(berth_model::layout::VERSIONS_DIR)
                    .is_dir() =>
        {
            Err(IndexError::UnknownComponent {
                hint: format!(
                    "; components/{name} exists but has no good release version yet, or the index is stale (run `berth index`)"
                ),
                name,
                file,
            }
            .into())
        }
        Err(e) => Err(e.into()),
    }
}
