//! `berth add COMPONENT VERSION --docker F / --deb F… / --generic F… [--metadata F | --from-previous] [--move]`.

use std::io::IsTerminal;

use berth_ingest::{AddRequest, FormatStatus, MetadataSource, Transfer};
use berth_model::{ComponentPath, Version};
use serde::Serialize;

use crate::cli::{AddArgs, Cli, OutputFormat};
use crate::{Failure, output};

#[derive(Serialize)]
struct FormatView {
    format: String,
    status: &'static str,
    sha256: String,
}

#[derive(Serialize)]
struct AddView {
    component: String,
    version: String,
    unchanged: bool,
    metadata_written: bool,
    formats: Vec<FormatView>,
    latest_before: Option<String>,
    latest_after: Option<String>,
    /// Why the version is not the component's latest: its error findings.
    not_latest_because: Vec<berth_model::Finding>,
}

pub fn run(cli: &Cli, args: &AddArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Yaml],
        "add",
    )?;
    let repo = super::open_repo(cli)?;
    let req = AddRequest {
        component: ComponentPath::parse(&args.component)?,
        version: Version::parse(&args.version)?,
        docker: args.docker.clone(),
        debs: args.deb.clone(),
        generic: args.generic.clone(),
        metadata: match (&args.metadata, args.from_previous) {
            (Some(f), _) => MetadataSource::File(f.clone()),
            (None, true) => MetadataSource::FromPrevious,
            (None, false) => MetadataSource::Existing,
        },
        base_image: args.base_image.clone(),
        transfer: if args.move_files {
            Transfer::Move
        } else {
            Transfer::Copy
        },
    };
    let bar = progress_bar(args.no_progress);
    let on_progress = |file: &camino::Utf8Path, done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
            b.set_message(file.file_name().unwrap_or_default().to_owned());
        }
    };
    let result = berth_ingest::add(&repo, &req, &super::checker(&repo), &on_progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let outcome = result.map_err(|e| match e {
        berth_ingest::AddError::Repo(inner) => Failure::from(inner),
        berth_ingest::AddError::Format(f) => Failure::Negative(Some(f.to_string())),
        // Files of a --move that could not go back: an I/O problem, whatever the add said.
        e @ berth_ingest::AddError::NotRestored { .. } => Failure::Error(e.to_string()),
        other => Failure::Negative(Some(other.to_string())),
    })?;
    for (file, why) in &outcome.copied {
        output::warning(&format!(
            "--move: {file} was copied, not moved ({why}); it is still in place"
        ));
    }
    if !outcome.unchanged() {
        let formats: Vec<String> = outcome.formats.iter().map(|f| f.0.to_string()).collect();
        let event =
            berth_notify::Event::new(berth_notify::EventKind::Added, outcome.component.clone())
                .with_version(outcome.version.clone())
                .with_detail(format!("formats: {}", formats.join(", ")));
        let event = match std::env::var(berth_notify::PIPELINE_URL_ENV) {
            Ok(u) if !u.is_empty() => event.with_pipeline_url(u),
            _ => event,
        };
        super::notify_quietly(&repo, &event);
    }
    let view = AddView {
        component: outcome.component.to_string(),
        version: outcome.version.to_string(),
        unchanged: outcome.unchanged(),
        metadata_written: outcome.metadata_written,
        formats: outcome
            .formats
            .iter()
            .map(|(f, st, m)| FormatView {
                format: f.to_string(),
                status: match st {
                    FormatStatus::Added => "added",
                    FormatStatus::Unchanged => "unchanged",
                },
                sha256: m.sha256.text(),
            })
            .collect(),
        latest_before: outcome
            .latest_change
            .as_ref()
            .and_then(|c| c.0.as_ref().map(ToString::to_string)),
        latest_after: outcome
            .latest_change
            .as_ref()
            .and_then(|c| c.1.as_ref().map(ToString::to_string)),
        not_latest_because: outcome.findings.clone(),
    };
    if let Some(text) = output::machine(cli.format, &view)? {
        output::out(&text);
        return Ok(());
    }
    let mut s = String::new();
    for f in &view.formats {
        s.push_str(&format!(
            "{} {} {}: {} (sha256 {})\n",
            view.component, view.version, f.format, f.status, f.sha256
        ));
    }
    if view.metadata_written {
        s.push_str(&format!(
            "{} {}: metadata.yaml written\n",
            view.component, view.version
        ));
    }
    if let Some((before, after)) = &outcome.latest_change {
        s.push_str(&format!(
            "index: latest of {} {} -> {}\n",
            view.component,
            before.as_ref().map_or("-".to_owned(), ToString::to_string),
            after.as_ref().map_or("-".to_owned(), ToString::to_string)
        ));
    }
    if !view.not_latest_because.is_empty() {
        s.push_str(&format!(
            "{} {} is not the latest: {} error finding(s) keep it out of the index:\n",
            view.component,
            view.version,
            view.not_latest_because.len()
        ));
        for f in &view.not_latest_because {
            s.push_str(&format!("  {f}\n"));
        }
        s.push_str(&format!(
            "  see `berth validate components/{}/versions/{}`\n",
            view.component, view.version
        ));
    }
    if view.unchanged {
        s.push_str("nothing changed: identical content was already published\n");
    }
    output::out(&s);
    Ok(())
}

/// A byte progress bar on a terminal (stderr), hidden otherwise or with --no-progress.
fn progress_bar(disabled: bool) -> Option<indicatif::ProgressBar> {
    if disabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:20!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(bar)
}
