//! `berth publish apt|oci|generic --domain D --env E …`.

use berth_model::{DomainName, EnvName, Repository};
use berth_publish::{Contents, PublishError};

use crate::cli::{
    Cli, OutputFormat, PublishAptArgs, PublishArgs, PublishGenericArgs, PublishOciArgs,
    PublishTarget, StageArgs,
};
use crate::{Failure, output};

fn fail(e: PublishError) -> Failure {
    Failure::Error(e.to_string())
}

pub fn run(cli: &Cli, args: &PublishArgs) -> crate::CmdResult {
    output::allow(
        cli.format,
        &[OutputFormat::Human, OutputFormat::Json, OutputFormat::Yaml],
        "publish",
    )?;
    let repo = super::open_repo(cli)?;
    match &args.target {
        PublishTarget::Apt(a) => apt(cli, &repo, a),
        PublishTarget::Oci(a) => oci(cli, &repo, a),
        PublishTarget::Generic(a) => generic(cli, &repo, a),
    }
}

fn stage(repo: &Repository, s: &StageArgs) -> crate::Result<Contents> {
    let domain = DomainName::parse(&s.domain)?;
    let env = EnvName::parse(&s.env)?;
    Contents::load(repo, &domain, &env).map_err(fail)
}

fn apt(cli: &Cli, repo: &Repository, a: &PublishAptArgs) -> crate::CmdResult {
    let stage = stage(repo, &a.stage)?;
    let mut opts =
        berth_publish::apt::AptOptions::new(a.suite.clone().unwrap_or_else(|| stage.name()));
    opts.architectures = a.archs.clone();
    if let Some(key) = &a.sign_key {
        opts.sign_key = Some(berth_publish::sign::SigningKey::from_file(key).map_err(fail)?);
    }
    let r = berth_publish::apt::publish(repo, &stage, a.out.clone(), &opts).map_err(fail)?;
    if let Some(text) = output::machine(cli.format, &r)? {
        output::out(&text);
        return Ok(());
    }
    output::out(&format!(
        "published {} package(s) of {} to {} (suite {}, {}; {})\n  debs read: {}, pool: {} linked, {} copied, {} kept, {} removed\n",
        r.packages,
        stage.name(),
        r.out,
        r.suite,
        r.architectures.join(" "),
        if r.signed {
            "InRelease signed"
        } else {
            "unsigned: no --sign-key"
        },
        r.debs_read,
        r.linked,
        r.copied,
        r.kept,
        r.removed
    ));
    Ok(())
}

fn oci(cli: &Cli, repo: &Repository, a: &PublishOciArgs) -> crate::CmdResult {
    let stage = stage(repo, &a.stage)?;
    if let Some(out) = &a.out {
        let r = berth_publish::oci::publish_layout(repo, &stage, out.clone()).map_err(fail)?;
        if let Some(text) = output::machine(cli.format, &r)? {
            output::out(&text);
            return Ok(());
        }
        let mut s = format!(
            "published {} image(s) of {} to the OCI layout {} (archives read: {}, blobs removed: {})\n",
            r.images.len(),
            stage.name(),
            r.out,
            r.archives_read,
            r.blobs_removed
        );
        for i in &r.images {
            let note = if i.converted {
                " (converted from docker save: digest of the generated OCI manifest)"
            } else {
                ""
            };
            s.push_str(&format!(
                "  oci:{}:{}  {}{note}\n",
                r.out, i.ref_name, i.digest
            ));
        }
        output::out(&s);
        return Ok(());
    }
    push(cli, repo, &stage, a)
}

fn push(cli: &Cli, repo: &Repository, stage: &Contents, a: &PublishOciArgs) -> crate::CmdResult {
    let Some(registry) = &a.registry else {
        return Err(Failure::usage(
            "give --out LAYOUT_DIR or --registry HOST[:PORT]",
        ));
    };
    let mut opts = berth_publish::push::PushOptions::from_env(registry.clone(), a.insecure);
    opts.prefix = a.prefix.clone();
    let r = berth_publish::push::push(repo, stage, &opts).map_err(fail)?;
    if let Some(text) = output::machine(cli.format, &r)? {
        output::out(&text);
        return Ok(());
    }
    let mut s = format!(
        "pushed {} image(s) of {} to {} (blobs uploaded: {}, already there: {}, manifests: {})\n",
        r.images.len(),
        stage.name(),
        registry,
        r.uploaded.len(),
        r.skipped,
        r.manifests
    );
    for i in &r.images {
        let note = if i.converted {
            " (converted from docker save: digest of the generated OCI manifest)"
        } else {
            ""
        };
        s.push_str(&format!("  {}  {}{note}\n", i.reference, i.digest));
    }
    output::out(&s);
    Ok(())
}

fn generic(cli: &Cli, repo: &Repository, a: &PublishGenericArgs) -> crate::CmdResult {
    let stage = stage(repo, &a.stage)?;
    let r = berth_publish::generic::publish(repo, &stage, a.out.clone()).map_err(fail)?;
    if let Some(text) = output::machine(cli.format, &r)? {
        output::out(&text);
        return Ok(());
    }
    let mut s = format!(
        "published {} version(s), {} file(s) of {} to {} ({} written, {} kept, {} removed)\n",
        r.versions.len(),
        r.files,
        stage.name(),
        r.out,
        r.written,
        r.kept,
        r.removed
    );
    for v in &r.versions {
        s.push_str(&format!("  {v}\n"));
    }
    output::out(&s);
    Ok(())
}
