//! Debian packages (`.deb`): an `ar` container holding `debian-binary`, `control.tar[.gz|.xz|.zst]`
//! and `data.tar.*`.
//!
//! One pass over the file: a tee reader hashes every byte while the `ar` members are read,
//! so the package's sha256 costs no second read. Only `control.tar` is decompressed, through
//! a limit (16 MiB decompressed, 1 MiB for the control file); `data.tar` is streamed past.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, BufReader, Read};

use berth_model::Arch;
use camino::Utf8Path;

use crate::FormatError;
use crate::error::ControlError;
use crate::hash::{Destination, FileDigest, HashingReader, Progress, read_full};
use crate::tarwalk::{MemberKind, walk_tar};

/// The most `control.tar` may expand to.
pub const CONTROL_TAR_LIMIT: u64 = 16 << 20;
/// The largest control file berth reads.
pub const CONTROL_FILE_LIMIT: u64 = 1 << 20;
/// Memory limit for the xz decoder, in KiB (xz -9 needs 64 MiB plus overhead).
const XZ_MEM_LIMIT_KIB: u32 = 80 * 1024;
/// Read buffer between the file and the `ar` reader.
const READ_BUF: usize = 256 << 10;

/// What berth learnt from a `.deb`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebInfo {
    /// `Package`.
    pub package: String,
    /// `Version`, the raw Debian version (`1:2.0~rc1-3`), not SemVer.
    pub version: String,
    /// `Architecture` (`amd64`, `arm64`, `all`).
    pub architecture: Arch,
    /// `Depends`, folded onto one line, when present.
    pub depends: Option<String>,
    /// `Installed-Size` in KiB, when present.
    pub installed_size: Option<u64>,
    /// Every control field as written (multi-line values keep their continuation lines).
    pub control: BTreeMap<String, String>,
    /// The control paragraph as in the package, ending with one newline: what an apt
    /// `Packages` file repeats.
    pub control_text: String,
    /// Size and sha256 of the `.deb` file.
    pub file: FileDigest,
}

/// Reads a `.deb`: its control fields, and its size and sha256 in the same pass.
/// `progress` receives the bytes of the file read so far.
pub fn inspect_deb(path: &Utf8Path, progress: Progress<'_>) -> Result<DebInfo, FormatError> {
    let (file, _) = berth_model::store::open_regular(path)?;
    inspect_deb_from(path, file, progress)
}

/// Like [`inspect_deb`], over an opened file or any stream; `path` is what errors name.
pub fn inspect_deb_from(
    path: &Utf8Path,
    file: impl Read,
    progress: Progress<'_>,
) -> Result<DebInfo, FormatError> {
    let mut hashing = HashingReader::new(file, progress);
    let control_text = control_of_stream(path, &mut hashing)?;
    let file = hashing.finish();
    finish_deb(path, control_text, file)
}

/// Like [`inspect_deb`], and copies the package ([`Destination::CopyTo`]) or fsyncs it
/// where it is ([`Destination::InPlace`]), in the same single read of `src`.
pub fn ingest_deb(
    src: &Utf8Path,
    dest: Destination<'_>,
    progress: Progress<'_>,
) -> Result<DebInfo, FormatError> {
    let (control_text, file) = crate::tee::tee_read(src, dest, progress, control_of_stream)?;
    finish_deb(dest.shown(src), control_text, file)
}

/// Reads the whole stream and returns the control paragraph.
fn control_of_stream(path: &Utf8Path, reader: &mut dyn Read) -> Result<String, FormatError> {
    let mut buffered = BufReader::with_capacity(READ_BUF, reader);
    let text = read_members(path, &mut buffered)?;
    io::copy(&mut buffered, &mut io::sink()).map_err(|source| FormatError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(text)
}

fn finish_deb(
    path: &Utf8Path,
    control_text: String,
    file: FileDigest,
) -> Result<DebInfo, FormatError> {
    let control = parse_control(&control_text).map_err(|source| FormatError::InvalidControl {
        path: path.to_owned(),
        source,
    })?;
    let get = |name: &'static str| {
        control
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let required = |name: &'static str| {
        get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| FormatError::MissingControlField {
                path: path.to_owned(),
                field: name,
            })
    };
    let invalid = |field: &str, value: &str, reason: &str| FormatError::InvalidField {
        path: path.to_owned(),
        field: field.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let package = required("Package")?.trim().to_owned();
    if !is_package_name(&package) {
        return Err(invalid(
            "Package",
            &package,
            "a package name is lowercase letters, digits, `+`, `-` and `.`, at least two characters, starting with a letter or digit",
        ));
    }
    let version = required("Version")?.trim().to_owned();
    if let Err(reason) = check_debian_version(&version) {
        return Err(invalid("Version", &version, reason));
    }
    let arch_text = required("Architecture")?.trim().to_owned();
    let architecture =
        Arch::parse(&arch_text).map_err(|e| invalid("Architecture", &arch_text, &e.reason))?;
    let depends = get("Depends").map(fold).filter(|d| !d.is_empty());
    let installed_size = match get("Installed-Size").map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| invalid("Installed-Size", text, "it must be a whole number of KiB"))?,
        ),
    };
    let mut control_text = control_text.trim_end().to_owned();
    control_text.push('\n');
    Ok(DebInfo {
        package,
        version,
        architecture,
        depends,
        installed_size,
        control,
        control_text,
        file,
    })
}

/// Walks the `ar` members in the order dpkg requires and returns the control file's text.
fn read_members(path: &Utf8Path, reader: &mut impl Read) -> Result<String, FormatError> {
    let mut ar = ArReader::new(path, reader);
    ar.global_header()?;
    let mut control: Option<String> = None;
    let mut data_seen = false;
    let mut index = 0usize;
    while let Some(header) = ar.next_header()? {
        let name = header.name.clone();
        let mut member = ar.member(header.size);
        if index == 0 {
            if name != "debian-binary" {
                return Err(FormatError::NotAnArchive {
                    path: path.to_owned(),
                    expected: "a Debian package",
                    detail: format!("its first member is `{name}`, not `debian-binary`"),
                });
            }
            let mut head = Vec::new();
            (&mut member)
                .take(16)
                .read_to_end(&mut head)
                .map_err(|e| ar_io(path, e))?;
            if !head.starts_with(b"2.") {
                return Err(FormatError::InvalidDeb {
                    path: path.to_owned(),
                    detail: format!(
                        "debian-binary says `{}`; berth reads format 2.x packages",
                        String::from_utf8_lossy(&head).trim()
                    ),
                });
            }
        } else if let Some(compression) = name.strip_prefix("control.tar") {
            if control.is_some() {
                return Err(FormatError::DuplicateEntry {
                    path: path.to_owned(),
                    member: name,
                });
            }
            if data_seen {
                return Err(FormatError::InvalidDeb {
                    path: path.to_owned(),
                    detail: "control.tar comes after data.tar; dpkg requires debian-binary, control.tar, data.tar in that order".to_owned(),
                });
            }
            control = Some(read_control_tar(path, &name, compression, &mut member)?);
        } else if name.starts_with("data.tar") {
            if data_seen {
                return Err(FormatError::DuplicateEntry {
                    path: path.to_owned(),
                    member: name,
                });
            }
            if control.is_none() {
                return Err(FormatError::InvalidDeb {
                    path: path.to_owned(),
                    detail: "data.tar comes before control.tar; dpkg requires debian-binary, control.tar, data.tar in that order".to_owned(),
                });
            }
            data_seen = true;
        } else if !name.starts_with('_') {
            // dpkg ignores members starting with `_`; anything else is not a .deb of ours.
            return Err(FormatError::InvalidDeb {
                path: path.to_owned(),
                detail: format!(
                    "unexpected member `{name}`; a .deb holds debian-binary, control.tar.* and data.tar.*"
                ),
            });
        }
        finish_member(path, &name, member)?;
        index += 1;
    }
    if index == 0 {
        return Err(FormatError::NotAnArchive {
            path: path.to_owned(),
            expected: "a Debian package",
            detail: "the ar archive is empty".to_owned(),
        });
    }
    let Some(control) = control else {
        return Err(FormatError::InvalidDeb {
            path: path.to_owned(),
            detail: "it has no control.tar member (is it truncated?)".to_owned(),
        });
    };
    if !data_seen {
        return Err(FormatError::InvalidDeb {
            path: path.to_owned(),
            detail: "it has no data.tar member (is it truncated?)".to_owned(),
        });
    }
    Ok(control)
}

/// Decompresses `control.tar*` through the limits and returns the `control` file.
fn read_control_tar(
    path: &Utf8Path,
    member_name: &str,
    compression: &str,
    member: &mut impl Read,
) -> Result<String, FormatError> {
    let corrupt = |detail: String| FormatError::Corrupt {
        path: path.to_owned(),
        detail: format!("{member_name}: {detail}"),
    };
    let decoder: Box<dyn Read + '_> = match compression {
        "" => Box::new(member),
        ".gz" => Box::new(flate2::read::GzDecoder::new(member)),
        ".xz" => Box::new(lzma_rust2::XzReader::new_mem_limit(
            member,
            true,
            XZ_MEM_LIMIT_KIB,
        )),
        ".zst" => Box::new(
            ruzstd::decoding::StreamingDecoder::new(member)
                .map_err(|e| corrupt(format!("not a zstd stream: {e}")))?,
        ),
        other => {
            return Err(FormatError::InvalidDeb {
                path: path.to_owned(),
                detail: format!(
                    "`{member_name}` uses compression `{other}`; berth reads control.tar, .gz, .xz and .zst"
                ),
            });
        }
    };
    let exceeded = Cell::new(false);
    let limited = Limited {
        inner: decoder,
        remaining: CONTROL_TAR_LIMIT,
        exceeded: &exceeded,
    };
    let mut control: Option<Vec<u8>> = None;
    let what = format!("`{member_name}`");
    let walked = walk_tar(
        path,
        &what,
        limited,
        |name, size| {
            if name != "control" {
                return Ok(false);
            }
            if size > CONTROL_FILE_LIMIT {
                return Err(FormatError::TooLarge {
                    path: path.to_owned(),
                    member: format!("{member_name}/control"),
                    limit: CONTROL_FILE_LIMIT,
                    expanded: false,
                });
            }
            Ok(true)
        },
        |m| {
            if m.name == "control" {
                match m.kind {
                    MemberKind::File(fd) => control = fd.content,
                    _ => {
                        return Err(FormatError::InvalidDeb {
                            path: path.to_owned(),
                            detail: format!("`control` in {member_name} is not a regular file"),
                        });
                    }
                }
            }
            Ok(())
        },
    );
    if exceeded.get() {
        return Err(FormatError::TooLarge {
            path: path.to_owned(),
            member: member_name.to_owned(),
            limit: CONTROL_TAR_LIMIT,
            expanded: true,
        });
    }
    walked.map_err(|e| match e {
        FormatError::NotAnArchive { detail, .. } => {
            corrupt(format!("not a tar archive ({detail})"))
        }
        e => e,
    })?;
    let control = control.ok_or_else(|| FormatError::InvalidDeb {
        path: path.to_owned(),
        detail: format!("{member_name} has no `control` file"),
    })?;
    String::from_utf8(control).map_err(|e| FormatError::InvalidControl {
        path: path.to_owned(),
        source: ControlError {
            line: 1 + e
                .as_bytes()
                .get(..e.utf8_error().valid_up_to())
                .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()),
            detail: "it is not UTF-8".to_owned(),
        },
    })
}

/// Fails (and records it) once more than `remaining` bytes come out of `inner`.
struct Limited<'c, R> {
    inner: R,
    remaining: u64,
    exceeded: &'c Cell<bool>,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
            self.exceeded.set(true);
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// A strict reader of the common `ar` format as dpkg writes it (16-byte names, no symbol
/// or long-name tables). Written here so that no crafted header can make a generic `ar`
/// reader allocate or index out of bounds.
struct ArReader<'a, R> {
    path: &'a Utf8Path,
    inner: R,
    /// A pad byte follows the previous (odd-sized) member.
    pad: bool,
}

struct ArHeader {
    name: String,
    size: u64,
}

/// One member's data, counted so a short member is caught.
struct ArMember<R> {
    inner: io::Take<R>,
    read: u64,
}

impl<R: Read> Read for ArMember<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<'a, R: Read> ArReader<'a, R> {
    fn new(path: &'a Utf8Path, inner: R) -> Self {
        ArReader {
            path,
            inner,
            pad: false,
        }
    }

    fn global_header(&mut self) -> Result<(), FormatError> {
        let mut magic = [0u8; 8];
        let n = read_full(&mut self.inner, &mut magic).map_err(|e| ar_io(self.path, e))?;
        if n < magic.len() || &magic != b"!<arch>\n" {
            return Err(FormatError::NotAnArchive {
                path: self.path.to_owned(),
                expected: "a Debian package",
                detail: "it does not start with the ar signature `!<arch>`".to_owned(),
            });
        }
        Ok(())
    }

    fn next_header(&mut self) -> Result<Option<ArHeader>, FormatError> {
        let mut header = [0u8; 60];
        if self.pad {
            self.pad = false;
            let mut pad = [0u8; 1];
            if read_full(&mut self.inner, &mut pad).map_err(|e| ar_io(self.path, e))? == 0 {
                return Ok(None);
            }
            if pad[0] != b'\n' {
                // dpkg pads with `\n`; anything else means the sizes are wrong.
                return Err(FormatError::Corrupt {
                    path: self.path.to_owned(),
                    detail: "an ar member is not followed by its padding byte".to_owned(),
                });
            }
        }
        let n = read_full(&mut self.inner, &mut header).map_err(|e| ar_io(self.path, e))?;
        if n == 0 {
            return Ok(None);
        }
        if n < header.len() {
            return Err(truncated(
                self.path,
                "it ends inside an ar member header".to_owned(),
            ));
        }
        if &header[58..60] != b"`\n" {
            return Err(FormatError::Corrupt {
                path: self.path.to_owned(),
                detail: "an ar member header lacks its end marker".to_owned(),
            });
        }
        let raw_name = &header[..16];
        let name = std::str::from_utf8(raw_name)
            .ok()
            .map(|s| s.trim_end_matches(' ').trim_end_matches('/'))
            .filter(|s| !s.is_empty() && !s.contains(['/', '\0']))
            .ok_or_else(|| FormatError::UnsupportedEntry {
                path: self.path.to_owned(),
                member: String::from_utf8_lossy(raw_name).trim_end().to_owned(),
                detail: "not a plain ar member name".to_owned(),
            })?
            .to_owned();
        let size = std::str::from_utf8(&header[48..58])
            .ok()
            .and_then(|s| s.trim_end_matches(' ').parse::<u64>().ok())
            .ok_or_else(|| FormatError::Corrupt {
                path: self.path.to_owned(),
                detail: format!("ar member `{name}` has an unreadable size"),
            })?;
        self.pad = size % 2 == 1;
        Ok(Some(ArHeader { name, size }))
    }

    fn member(&mut self, size: u64) -> ArMember<&mut R> {
        ArMember {
            inner: (&mut self.inner).take(size),
            read: 0,
        }
    }
}

fn ar_io(path: &Utf8Path, e: io::Error) -> FormatError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        truncated(path, "a member ends early".to_owned())
    } else {
        FormatError::Io {
            path: path.to_owned(),
            source: e,
        }
    }
}

fn truncated(path: &Utf8Path, detail: String) -> FormatError {
    FormatError::Truncated {
        path: path.to_owned(),
        detail,
    }
}

/// Reads what is left of a member and checks that it was all there.
fn finish_member<R: Read>(
    path: &Utf8Path,
    name: &str,
    mut member: ArMember<R>,
) -> Result<(), FormatError> {
    io::copy(&mut member, &mut io::sink()).map_err(|e| ar_io(path, e))?;
    let left = member.inner.limit();
    if left != 0 {
        return Err(truncated(
            path,
            format!(
                "member `{name}` has {} of its {} bytes",
                member.read,
                member.read + left
            ),
        ));
    }
    Ok(())
}

/// Parses one deb822 paragraph (a `DEBIAN/control` file) into its fields.
///
/// Field names keep their spelling; duplicates (in any case) are refused. A multi-line
/// value keeps its continuation lines, each after a `\n`, leading white space included and
/// trailing white space removed. Lines starting with `#` are comments. Blank lines before
/// and after the paragraph are fine; a second paragraph is refused.
pub fn parse_control(text: &str) -> Result<BTreeMap<String, String>, ControlError> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut ended = false;
    for (i, line) in text.lines().enumerate() {
        let err = |detail: String| ControlError {
            line: i + 1,
            detail,
        };
        if line.trim().is_empty() {
            ended = current.is_some();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if ended {
            return Err(err(
                "a second paragraph starts here; a control file holds exactly one".to_owned(),
            ));
        }
        if line.starts_with([' ', '\t']) {
            let Some(value) = current.as_ref().and_then(|k| fields.get_mut(k)) else {
                return Err(err("a continuation line comes before any field".to_owned()));
            };
            value.push('\n');
            value.push_str(line.trim_end());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(err(format!(
                "`{line}` is neither `Field: value` nor a continuation line"
            )));
        };
        if name.is_empty() || name.starts_with('-') || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(err(format!(
                "`{name}` is not a field name (printable ASCII, no spaces, not starting with `-`)"
            )));
        }
        if fields.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            return Err(err(format!("field `{name}` appears twice")));
        }
        fields.insert(name.to_owned(), value.trim().to_owned());
        current = Some(name.to_owned());
    }
    Ok(fields)
}

/// A multi-line value on one line: lines trimmed and joined by a space.
fn fold(value: &str) -> String {
    value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Debian policy 5.6.1: `[a-z0-9][a-z0-9+.-]+`.
fn is_package_name(s: &str) -> bool {
    s.len() >= 2
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')
        })
}

/// Debian policy 5.6.12: `[epoch:]upstream[-revision]`.
fn check_debian_version(v: &str) -> Result<(), &'static str> {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) => (Some(e), r),
        None => (None, v),
    };
    if epoch.is_some_and(|e| e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit())) {
        return Err("the epoch (before `:`) must be a number");
    }
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, Some(r)),
        None => (rest, None),
    };
    if !upstream.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err("the upstream version must start with a digit");
    }
    let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'~' | b'-' | b':');
    if !upstream.bytes().all(ok) {
        return Err("the upstream version may hold only letters, digits and `.+~-:`");
    }
    if let Some(r) = revision
        && (r.is_empty()
            || !r
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'~')))
    {
        return Err(
            "the Debian revision (after the last `-`) may hold only letters, digits and `.+~`",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_paragraph() {
        let text = "Package: hello\nVersion: 1:2.0~rc1-3\nArchitecture: amd64\nDepends: libc6 (>= 2.34),\n libfoo\nDescription: short\n long line one\n .\n line two\n\n";
        let f = parse_control(text).expect("valid");
        assert_eq!(f["Package"], "hello");
        assert_eq!(f["Depends"], "libc6 (>= 2.34),\n libfoo");
        assert_eq!(fold(&f["Depends"]), "libc6 (>= 2.34), libfoo");
        assert_eq!(f["Description"], "short\n long line one\n .\n line two");
    }

    #[test]
    fn control_errors_name_the_line() {
        let e = parse_control("Package: a\nnot a field\n").expect_err("bad line");
        assert_eq!(e.line, 2);
        let e = parse_control(" cont\n").expect_err("continuation first");
        assert_eq!(e.line, 1);
        let e = parse_control("Package: a\npackage: b\n").expect_err("duplicate");
        assert!(e.detail.contains("twice"), "{e}");
        let e = parse_control("Package: a\n\nVersion: 1\n").expect_err("two paragraphs");
        assert_eq!(e.line, 3);
    }

    #[test]
    fn versions_and_names() {
        for ok in [
            "1.0",
            "1:2.0~rc1-3",
            "2.0-1ubuntu0.1",
            "0.1+git20250101-1~bpo12+1",
        ] {
            assert!(check_debian_version(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a1.0", "x:1.0", "1.0-", "1 0"] {
            assert!(check_debian_version(bad).is_err(), "{bad}");
        }
        assert!(is_package_name("libc6") && is_package_name("g++"));
        assert!(!is_package_name("A") && !is_package_name("-x"));
    }
}
