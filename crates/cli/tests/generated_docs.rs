//! The clap definitions are consistent, and the man page and shell completions generated
//! from them (by `cargo xtask man` / `cargo xtask completions`) cover every subcommand.

use clap::CommandFactory;

#[test]
fn clap_definitions_are_consistent() {
    berth_cli::Cli::command().debug_assert();
}

#[test]
fn man_page_and_completions_name_every_subcommand() {
    let cmd = berth_cli::Cli::command();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    assert!(names.len() >= 5, "{names:?}");

    let mut man = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut man)
        .expect("renders");
    let man = String::from_utf8(man).expect("utf-8");
    assert!(man.contains(".TH berth"), "{man}");
    for n in &names {
        assert!(man.contains(n.as_str()), "man page lacks `{n}`");
    }

    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "berth", &mut out);
        let text = String::from_utf8(out).expect("utf-8");
        for n in &names {
            assert!(text.contains(n.as_str()), "{shell} completion lacks `{n}`");
        }
    }
}
