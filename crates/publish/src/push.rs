//! `publish oci --registry`: push the images a stage runs through the OCI distribution
//! API, with a few blocking HTTP calls (ureq).
//!
//! For every image: each blob is checked with `HEAD /v2/<name>/blobs/<digest>` and
//! uploaded only when missing (`POST …/blobs/uploads/`, then one `PUT <location>?digest=`);
//! then the manifests are `PUT` (an image index's children by digest first, the top one by
//! tag). The registry stores the manifest bytes berth sends, so an OCI archive's image
//! keeps its digest (manifest.yaml's `sha256`); a converted docker-save image gets the
//! digest of the OCI manifest berth generated.
//!
//! Repository name: `[<prefix>/]<component>`; tag: the version with `+` (not allowed in a
//! tag) written `_`. Credentials come from `$BERTH_REGISTRY_USER` and
//! `$BERTH_REGISTRY_PASSWORD`: sent as basic auth, or exchanged for a bearer token when
//! the registry asks for one (`WWW-Authenticate: Bearer realm=…`).

use std::collections::{BTreeMap, BTreeSet};

use berth_model::Repository;
use serde::Serialize;

use crate::oci::{Descriptor, LayoutDir, PublishedImage};
use crate::{Contents, PublishError, Result};

/// User name for the registry.
pub const USER_ENV: &str = "BERTH_REGISTRY_USER";
/// Password (or token) for the registry.
pub const PASSWORD_ENV: &str = "BERTH_REGISTRY_PASSWORD";

/// Where and how to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// `HOST[:PORT]`.
    pub registry: String,
    /// Plain HTTP instead of HTTPS (a local or test registry).
    pub insecure: bool,
    /// A repository prefix (`team/apps`), prepended to every component path.
    pub prefix: Option<String>,
    /// User and password.
    pub credentials: Option<(String, String)>,
}

impl PushOptions {
    /// Options for `registry`, credentials from the environment.
    pub fn from_env(registry: impl Into<String>, insecure: bool) -> Self {
        let credentials = match (std::env::var(USER_ENV), std::env::var(PASSWORD_ENV)) {
            (Ok(u), Ok(p)) if !u.is_empty() => Some((u, p)),
            _ => None,
        };
        PushOptions {
            registry: registry.into(),
            insecure,
            prefix: None,
            credentials,
        }
    }
}

/// One pushed image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushedImage {
    /// `HOST/name:tag`.
    pub reference: String,
    /// The digest the registry stores it under.
    pub digest: String,
    /// True when converted from a `docker save` archive.
    pub converted: bool,
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// The images.
    pub images: Vec<PushedImage>,
    /// Digests of the blobs uploaded (the registry did not have them).
    pub uploaded: Vec<String>,
    /// Blobs the registry already had.
    pub skipped: usize,
    /// Manifests put.
    pub manifests: usize,
}

/// Pushes the stage's images to a registry: builds a temporary OCI layout with
/// [`crate::oci::publish_layout`], then pushes from it.
pub fn push(repo: &Repository, stage: &Contents, opts: &PushOptions) -> Result<PushReport> {
    let tmp = tempfile::Builder::new()
        .prefix("berth-push-")
        .tempdir()
        .map_err(PublishError::io(
            std::env::temp_dir().to_string_lossy().as_ref(),
        ))?;
    let root = camino::Utf8PathBuf::from_path_buf(tmp.path().to_path_buf()).map_err(|p| {
        PublishError::Io {
            path: p.to_string_lossy().as_ref().into(),
            source: std::io::Error::other("the temporary directory is not UTF-8"),
        }
    })?;
    let layout = crate::oci::publish_layout(repo, stage, root.clone())?;
    push_layout(&LayoutDir { root }, &layout.images, opts)
}

/// Pushes images of an OCI layout (as [`crate::oci::publish_layout`] reports them).
pub(crate) fn push_layout(
    layout: &LayoutDir,
    images: &[PublishedImage],
    opts: &PushOptions,
) -> Result<PushReport> {
    let mut client = Client::new(opts);
    let mut report = PushReport::default();
    for image in images {
        let name = match &opts.prefix {
            Some(p) => format!("{}/{}", p.trim_matches('/'), image.component),
            None => image.component.clone(),
        };
        let tag = image.version.replace('+', "_");
        client.authorize(&name)?;
        let mut done = BTreeSet::new();
        let digest = push_manifest(
            &mut client,
            layout,
            &name,
            &image.descriptor,
            &tag,
            &mut report,
            &mut done,
        )?;
        report.images.push(PushedImage {
            reference: format!("{}/{name}:{tag}", opts.registry),
            digest,
            converted: image.converted,
        });
    }
    Ok(report)
}

/// Pushes a manifest (or index) and everything below it; returns the digest the
/// registry reports.
fn push_manifest(
    client: &mut Client,
    layout: &LayoutDir,
    name: &str,
    desc: &Descriptor,
    reference: &str,
    report: &mut PushReport,
    done: &mut BTreeSet<String>,
) -> Result<String> {
    let path = layout.blob_path(&desc.digest);
    let bytes = fs_err::read(&path).map_err(PublishError::io(&path))?;
    let refs: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| PublishError::Image {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    if let Some(children) = refs.get("manifests").and_then(|m| m.as_array()) {
        for child in children {
            let child: Descriptor =
                serde_json::from_value(child.clone()).map_err(|e| PublishError::Image {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
            let digest = child.digest.clone();
            push_manifest(client, layout, name, &child, &digest, report, done)?;
        }
    }
    let mut blobs: Vec<Descriptor> = Vec::new();
    if let Some(c) = refs.get("config") {
        blobs.extend(serde_json::from_value::<Descriptor>(c.clone()).ok());
    }
    if let Some(ls) = refs.get("layers").and_then(|l| l.as_array()) {
        blobs.extend(
            ls.iter()
                .filter_map(|l| serde_json::from_value::<Descriptor>(l.clone()).ok()),
        );
    }
    for b in blobs {
        if !done.insert(b.digest.clone()) {
            continue;
        }
        if client.has_blob(name, &b.digest)? {
            report.skipped += 1;
        } else {
            client.upload_blob(name, &b.digest, &layout.blob_path(&b.digest))?;
            report.uploaded.push(b.digest.clone());
        }
    }
    let digest = client.put_manifest(name, reference, &desc.media_type, &bytes)?;
    report.manifests += 1;
    if digest != desc.digest {
        return Err(PublishError::Registry {
            url: format!("{}/{name}", client.base),
            detail: format!(
                "stored the manifest as {digest}, but its content is {}",
                desc.digest
            ),
        });
    }
    Ok(digest)
}

/// A minimal distribution-API client.
struct Client {
    agent: ureq::Agent,
    /// `http[s]://HOST[:PORT]`.
    base: String,
    credentials: Option<(String, String)>,
    /// Authorization header per repository name.
    auth: BTreeMap<String, String>,
}

type Resp = ureq::http::Response<ureq::Body>;

impl Client {
    fn new(opts: &PushOptions) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let scheme = if opts.insecure { "http" } else { "https" };
        Client {
            agent,
            base: format!("{scheme}://{}", opts.registry),
            credentials: opts.credentials.clone(),
            auth: BTreeMap::new(),
        }
    }

    fn err(url: &str, detail: impl Into<String>) -> PublishError {
        PublishError::Registry {
            url: url.to_owned(),
            detail: detail.into(),
        }
    }

    fn basic(&self) -> Option<String> {
        self.credentials
            .as_ref()
            .map(|(u, p)| format!("Basic {}", base64(format!("{u}:{p}").as_bytes())))
    }

    /// Finds out how the registry wants `name` authorized (`GET /v2/`, answering a
    /// 401 challenge with basic auth or a bearer token scoped to push `name`).
    fn authorize(&mut self, name: &str) -> Result<()> {
        let url = format!("{}/v2/", self.base);
        let resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| Self::err(&url, format!("cannot reach the registry: {e}")))?;
        if resp.status().as_u16() != 401 {
            if !resp.status().is_success() {
                return Err(Self::err(&url, format!("answered {}", resp.status())));
            }
            return Ok(());
        }
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let Some(basic) = self.basic() else {
            return Err(Self::err(
                &url,
                format!("needs credentials: set ${USER_ENV} and ${PASSWORD_ENV}"),
            ));
        };
        let header = if let Some(params) = challenge.strip_prefix("Bearer ") {
            let params = parse_challenge(params);
            let realm = params
                .get("realm")
                .ok_or_else(|| Self::err(&url, "a Bearer challenge without a realm"))?;
            let mut token_url = format!("{realm}?scope=repository:{name}:pull,push");
            if let Some(service) = params.get("service") {
                token_url.push_str(&format!("&service={service}"));
            }
            let mut resp = self
                .agent
                .get(&token_url)
                .header("Authorization", &basic)
                .call()
                .map_err(|e| Self::err(&token_url, e.to_string()))?;
            if !resp.status().is_success() {
                return Err(Self::err(
                    &token_url,
                    format!("refused the credentials ({})", resp.status()),
                ));
            }
            let body: serde_json::Value = resp
                .body_mut()
                .read_json()
                .map_err(|e| Self::err(&token_url, e.to_string()))?;
            let token = body
                .get("token")
                .or_else(|| body.get("access_token"))
                .and_then(|t| t.as_str())
                .ok_or_else(|| Self::err(&token_url, "the token answer holds no token"))?;
            format!("Bearer {token}")
        } else {
            basic
        };
        self.auth.insert(name.to_owned(), header);
        Ok(())
    }

    fn with_auth<B>(&self, name: &str, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match self.auth.get(name) {
            Some(h) => req.header("Authorization", h),
            None => req,
        }
    }

    fn check(url: &str, resp: &mut Resp, want: &[u16]) -> Result<()> {
        let status = resp.status().as_u16();
        if want.contains(&status) {
            return Ok(());
        }
        let body = resp
            .body_mut()
            .read_to_string()
            .unwrap_or_default()
            .chars()
            .take(500)
            .collect::<String>();
        let hint = if status == 401 || status == 403 {
            format!("; check ${USER_ENV} / ${PASSWORD_ENV}")
        } else {
            String::new()
        };
        Err(Self::err(url, format!("answered {status}{hint}: {body}")))
    }

    fn has_blob(&self, name: &str, digest: &str) -> Result<bool> {
        let url = format!("{}/v2/{name}/blobs/{digest}", self.base);
        let mut resp = self
            .with_auth(name, self.agent.head(&url))
            .call()
            .map_err(|e| Self::err(&url, e.to_string()))?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => Self::check(&url, &mut resp, &[]).map(|()| false),
        }
    }

    fn upload_blob(&self, name: &str, digest: &str, path: &camino::Utf8Path) -> Result<()> {
        let url = format!("{}/v2/{name}/blobs/uploads/", self.base);
        let mut resp = self
            .with_auth(name, self.agent.post(&url))
            .send_empty()
            .map_err(|e| Self::err(&url, e.to_string()))?;
        Self::check(&url, &mut resp, &[202])?;
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Self::err(&url, "202 without a Location"))?;
        let mut put_url = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_owned()
        } else {
            format!("{}{location}", self.base)
        };
        put_url.push(if put_url.contains('?') { '&' } else { '?' });
        put_url.push_str(&format!("digest={digest}"));
        let file = std::fs::File::open(path).map_err(PublishError::io(path))?;
        let mut resp = self
            .with_auth(name, self.agent.put(&put_url))
            .header("Content-Type", "application/octet-stream")
            .send(&file)
            .map_err(|e| Self::err(&put_url, e.to_string()))?;
        Self::check(&put_url, &mut resp, &[201, 204])
    }

    fn put_manifest(
        &self,
        name: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String> {
        let url = format!("{}/v2/{name}/manifests/{reference}", self.base);
        let mut resp = self
            .with_auth(name, self.agent.put(&url))
            .header("Content-Type", media_type)
            .send(bytes)
            .map_err(|e| Self::err(&url, e.to_string()))?;
        Self::check(&url, &mut resp, &[201, 200])?;
        let ours = format!("sha256:{}", berth_model::Sha256Digest::of(bytes).hex());
        Ok(resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or(ours))
    }
}

/// `realm="https://x",service="y"` -> map.
fn parse_challenge(params: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in params.split(',') {
        if let Some((k, v)) = part.split_once('=') {
            out.insert(k.trim().to_owned(), v.trim().trim_matches('"').to_owned());
        }
    }
    out
}

/// Standard base64 with padding (for basic auth).
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn bearer_challenge() {
        let p = parse_challenge(r#"realm="https://auth.example/token",service="registry.example""#);
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
    }
}
