//! The search page and its index: every component's name, latest version, teams,
//! labels, architectures and domains, in shards that stay well under 1 MiB each.
//!
//! Shards are small scripts (`search/index-N.js`, each one call of
//! `berthSearchAdd([...])` with JSON rows) rather than `.json` files: browsers refuse
//! `fetch()` of local files, and the site must search from `file://` too.

use std::collections::BTreeSet;

use askama::Template;

use super::{Layout, Renderer, render};
use crate::{Page, Result, SiteError, links};

/// Components per search shard.
const SHARD_ROWS: usize = 2000;

#[derive(Template)]
#[template(path = "search.html", whitespace = "minimize")]
struct SearchPage {
    l: Layout,
    n_components: usize,
    teams: Vec<String>,
    archs: Vec<String>,
    shards: Vec<String>,
}

impl Renderer<'_> {
    pub(super) fn search_pages(&self) -> Result<Vec<Page>> {
        let d = self.data;
        let mut pages = Vec::new();
        let mut shards = Vec::new();
        let chunks: Vec<&[crate::collect::Comp]> = if d.components.is_empty() {
            vec![&[]]
        } else {
            d.components.chunks(SHARD_ROWS).collect()
        };
        for (i, chunk) in chunks.iter().enumerate() {
            let rows: Vec<[String; 7]> = chunk
                .iter()
                .map(|c| {
                    [
                        c.path.to_string(),
                        c.latest
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        c.team.clone().unwrap_or_default(),
                        c.owner_team().unwrap_or_default().to_owned(),
                        c.labels
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                        c.archs.join(" "),
                        c.domains
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(" "),
                    ]
                })
                .collect();
            let path = links::search_shard(i);
            let json = serde_json::to_string(&rows).map_err(|source| SiteError::Json {
                page: path.clone().into(),
                source,
            })?;
            pages.push(Page {
                path: path.clone(),
                bytes: format!("berthSearchAdd({json});\n").into_bytes(),
            });
            shards.push(path);
        }
        let teams: BTreeSet<String> = d
            .components
            .iter()
            .flat_map(|c| {
                c.team
                    .iter()
                    .cloned()
                    .chain(c.owner_team().map(str::to_owned))
            })
            .collect();
        let archs: BTreeSet<String> = d
            .components
            .iter()
            .flat_map(|c| c.archs.iter().cloned())
            .collect();
        let path = links::SEARCH.to_owned();
        let page = SearchPage {
            l: self.layout(&path, "Search", "search"),
            n_components: d.components.len(),
            teams: teams.into_iter().collect(),
            archs: archs.into_iter().collect(),
            shards,
        };
        pages.push(render(path, &page)?);
        Ok(pages)
    }
}
