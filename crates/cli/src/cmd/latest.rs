//! `berth latest COMPONENT`: reads index/components.yaml and nothing else (every deploy
//! job calls it).

use berth_index::IndexError;
use berth_model::Layout;

use crate::cli::{Cli, LatestArgs, OutputFormat};
use crate::output;

pub fn run(cli: &Cli, args: &LatestArgs) -> crate::CmdResult {
    output::allow(cli.format, &[OutputFormat::Human], "latest")?;
    let root = berth_index::find_root(cli.repo.as_deref())?;
    let file = root.join(Layout::components_index());
    match berth_index::latest_in_file(&file, &args.component) {
        Ok(v) => {
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
