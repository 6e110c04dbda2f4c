//! Lists every component of a berth repository with its versions and owner, using only
//! `berth-model`: the smallest useful embedding.
//!
//! ```sh
//! cargo run -p berth-examples --example list_components -- examples/repo
//! ```

use berth_model::Repository;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".to_owned());
    let repo = Repository::discover(dir.as_str().into())?;
    for component in repo.components()? {
        let versions = repo.versions(&component)?;
        let owner = repo
            .owner(&component)?
            .map(|o| o.ownership.value.owner_team)
            .unwrap_or_else(|| "(no owner)".to_owned());
        let list: Vec<String> = versions.iter().map(ToString::to_string).collect();
        println!("{component}\t{}\t{owner}", list.join(","));
    }
    Ok(())
}
