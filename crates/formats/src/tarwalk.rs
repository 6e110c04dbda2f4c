//! One safe, sequential pass over a tar stream.
//!
//! Every member name is checked (relative, no `..`, UTF-8, unique), links are resolved and
//! must stay inside the archive, every regular file is hashed as it streams, and the
//! archive must end with its end-of-archive marker. Only members the caller asks for are
//! kept in memory.

use std::collections::HashSet;
use std::io::{self, Read};

use berth_model::Sha256Digest;
use camino::Utf8Path;
use tar::EntryType;

use crate::FormatError;
use crate::hash::{BUF_SIZE, MemberHasher};

const BLOCK: u64 = 512;

/// A member of the archive, after its name was checked and normalised
/// (`./a//b/` becomes `a/b`; the root directory is the empty name).
pub(crate) struct Member {
    /// Normalised name.
    pub name: String,
    /// What the member is.
    pub kind: MemberKind,
}

/// The kinds of member berth accepts.
pub(crate) enum MemberKind {
    /// A regular file, hashed.
    File(FileData),
    /// A directory.
    Dir,
    /// A symbolic link; `target` is resolved against the link's directory and normalised.
    Symlink { target: String },
    /// A hard link; `target` is the normalised name of an earlier member.
    Hardlink { target: String },
}

/// What the pass learnt about a regular file.
pub(crate) struct FileData {
    /// Length in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: Sha256Digest,
    /// The content, when the caller asked to keep it.
    pub content: Option<Vec<u8>>,
    /// The first (up to) four bytes, to recognise compressed data.
    pub magic: Vec<u8>,
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Walks the tar stream `reader` of the artifact `path`.
///
/// `keep(name, size)` says whether a regular file's content should be kept in memory (it
/// may refuse a member with an error); `on_member` receives each member in archive order.
/// The caller names what the stream is in `what` ("a tar archive", "control.tar").
pub(crate) fn walk_tar<R: Read>(
    path: &Utf8Path,
    what: &str,
    reader: R,
    mut keep: impl FnMut(&str, u64) -> Result<bool, FormatError>,
    mut on_member: impl FnMut(Member) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut archive = tar::Archive::new(Counting {
        inner: reader,
        count: 0,
    });
    let mut seen: HashSet<String> = HashSet::new();
    // Grown to the largest member seen (at most BUF_SIZE): a small archive (a deb's
    // control.tar) does not pay for zeroing a large buffer.
    let mut buf: Vec<u8> = Vec::new();
    let mut entries_seen = 0usize;
    let mut end_of_last: u64 = 0;
    {
        let entries = archive
            .entries()
            .map_err(|e| tar_error(path, what, e, entries_seen))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| tar_error(path, what, e, entries_seen))?;
            entries_seen += 1;
            let size = entry.size();
            end_of_last = entry
                .raw_file_position()
                .saturating_add(size.div_ceil(BLOCK).saturating_mul(BLOCK));
            let raw_name = entry.path_bytes().into_owned();
            let shown = String::from_utf8_lossy(&raw_name).into_owned();
            let etype = entry.header().entry_type();
            if etype == EntryType::XGlobalHeader {
                // pax global header: metadata for the whole archive, no member.
                continue;
            }
            let name = member_name(path, &raw_name)?;
            let kind = match etype {
                EntryType::Regular | EntryType::Continuous => {
                    let want = keep(&name, size)?;
                    grow(&mut buf, size);
                    MemberKind::File(read_member(path, &shown, &mut entry, size, want, &mut buf)?)
                }
                EntryType::Directory => MemberKind::Dir,
                EntryType::Symlink | EntryType::Link => {
                    let raw_target = entry
                        .link_name_bytes()
                        .map(|t| t.into_owned())
                        .unwrap_or_default();
                    let target_text = std::str::from_utf8(&raw_target).map_err(|_| {
                        FormatError::UnsupportedEntry {
                            path: path.to_owned(),
                            member: shown.clone(),
                            detail: "its link target is not UTF-8".to_owned(),
                        }
                    })?;
                    if etype == EntryType::Symlink {
                        let target = resolve_link(path, &name, parent(&name), target_text)?;
                        MemberKind::Symlink { target }
                    } else {
                        let target = resolve_link(path, &name, "", target_text)?;
                        if !seen.contains(&target) {
                            return Err(FormatError::MissingMember {
                                path: path.to_owned(),
                                member: target,
                                referenced_by: format!("hard link `{name}`"),
                            });
                        }
                        MemberKind::Hardlink { target }
                    }
                }
                other => {
                    return Err(FormatError::UnsupportedEntry {
                        path: path.to_owned(),
                        member: shown,
                        detail: format!(
                            "it is a {} entry; only files, directories and links are accepted",
                            entry_type_name(other)
                        ),
                    });
                }
            };
            if !name.is_empty() && !seen.insert(name.clone()) {
                return Err(FormatError::DuplicateEntry {
                    path: path.to_owned(),
                    member: name,
                });
            }
            on_member(Member { name, kind })?;
        }
    }
    // The tar crate stops at the first zero block, or silently at a clean EOF: tell the two
    // apart, and refuse anything but zeros after the marker.
    let mut rest = archive.into_inner();
    let consumed = rest.count;
    let mut tail_len: u64 = 0;
    grow(&mut buf, BLOCK * 2);
    loop {
        let n = match rest.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(tar_error(path, what, e, entries_seen)),
        };
        tail_len += n as u64;
        if buf[..n].iter().any(|&x| x != 0) {
            return Err(FormatError::Corrupt {
                path: path.to_owned(),
                detail: format!("{what} has data after its end-of-archive marker"),
            });
        }
    }
    let total = consumed + tail_len;
    if entries_seen == 0 && total == 0 {
        return Err(FormatError::NotAnArchive {
            path: path.to_owned(),
            expected: "a tar archive",
            detail: format!("{what} is empty"),
        });
    }
    if total < end_of_last + BLOCK {
        return Err(FormatError::Truncated {
            path: path.to_owned(),
            detail: format!("{what} ends after {total} bytes, without its end-of-archive marker"),
        });
    }
    Ok(())
}

/// Makes `buf` hold at least `min(want, BUF_SIZE)` bytes (and 4 KiB at least).
fn grow(buf: &mut Vec<u8>, want: u64) {
    let len = usize::try_from(want)
        .unwrap_or(BUF_SIZE)
        .clamp(4096, BUF_SIZE);
    if buf.len() < len {
        buf.resize(len, 0);
    }
}

/// Reads one regular member to its end, hashing it; keeps it when `want`.
fn read_member(
    path: &Utf8Path,
    member: &str,
    entry: &mut impl Read,
    size: u64,
    want: bool,
    buf: &mut [u8],
) -> Result<FileData, FormatError> {
    let mut hasher = MemberHasher::new();
    let mut content =
        want.then(|| Vec::with_capacity(usize::try_from(size.min(1 << 22)).unwrap_or(0)));
    let mut magic = Vec::with_capacity(4);
    loop {
        let n = match entry.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => {
                return Err(FormatError::Corrupt {
                    path: path.to_owned(),
                    detail: format!("cannot read member `{member}`: {e}"),
                });
            }
        };
        let data = &buf[..n];
        if magic.len() < 4 {
            let take = (4 - magic.len()).min(data.len());
            magic.extend_from_slice(data.get(..take).unwrap_or_default());
        }
        hasher.update(data);
        if let Some(c) = content.as_mut() {
            c.extend_from_slice(data);
        }
    }
    if hasher.count() != size {
        return Err(FormatError::Truncated {
            path: path.to_owned(),
            detail: format!(
                "member `{member}` has {} of its {size} bytes",
                hasher.count()
            ),
        });
    }
    Ok(FileData {
        size,
        sha256: hasher.finish(),
        content,
        magic,
    })
}

/// Maps an error of the tar reader to the error berth reports.
fn tar_error(path: &Utf8Path, what: &str, e: io::Error, entries_seen: usize) -> FormatError {
    let text = plain_text(&e.to_string());
    if e.kind() == io::ErrorKind::UnexpectedEof || text.contains("failed to read entire block") {
        FormatError::Truncated {
            path: path.to_owned(),
            detail: format!("{what} ends inside a header or member after {entries_seen} member(s)"),
        }
    } else if entries_seen == 0 {
        FormatError::NotAnArchive {
            path: path.to_owned(),
            expected: "a tar archive",
            detail: format!("{what}: {text}"),
        }
    } else {
        FormatError::Corrupt {
            path: path.to_owned(),
            detail: format!("{what}, after {entries_seen} member(s): {text}"),
        }
    }
}

/// An error text of the tar reader made safe to print: it may quote raw header bytes of a
/// file that is no tar archive (`… when getting cksum for <binary>`), which are cut off;
/// any other control or non-text character becomes `?`; at most 160 characters.
pub(crate) fn plain_text(text: &str) -> String {
    let text = text.split(" when getting ").next().unwrap_or(text);
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_control() || c == char::REPLACEMENT_CHARACTER {
                '?'
            } else {
                c
            }
        })
        .take(160)
        .collect();
    if text.chars().count() > 160 {
        out.push('…');
    }
    out
}

/// Checks and normalises a member name: UTF-8, relative, no `..`.
fn member_name(path: &Utf8Path, raw: &[u8]) -> Result<String, FormatError> {
    let text = std::str::from_utf8(raw).map_err(|_| FormatError::UnsupportedEntry {
        path: path.to_owned(),
        member: String::from_utf8_lossy(raw).into_owned(),
        detail: "its name is not UTF-8".to_owned(),
    })?;
    if text.starts_with('/') {
        return Err(FormatError::AbsolutePath {
            path: path.to_owned(),
            member: text.to_owned(),
        });
    }
    if text.contains('\0') {
        return Err(FormatError::UnsupportedEntry {
            path: path.to_owned(),
            member: text.to_owned(),
            detail: "its name holds a NUL byte".to_owned(),
        });
    }
    let mut parts = Vec::new();
    for seg in text.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                return Err(FormatError::PathTraversal {
                    path: path.to_owned(),
                    member: text.to_owned(),
                });
            }
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

/// The directory part of a normalised name (`""` for a top-level member).
fn parent(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Resolves a link target against `base` (the link's directory for a symlink, the archive
/// root for a hard link); the result must stay inside the archive.
pub(crate) fn resolve_link(
    path: &Utf8Path,
    member: &str,
    base: &str,
    target: &str,
) -> Result<String, FormatError> {
    let escapes = || FormatError::LinkEscapes {
        path: path.to_owned(),
        member: member.to_owned(),
        target: target.to_owned(),
    };
    if target.starts_with('/') || target.is_empty() {
        return Err(escapes());
    }
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(escapes());
                }
            }
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

fn entry_type_name(t: EntryType) -> &'static str {
    match t {
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "fifo",
        EntryType::GNUSparse => "GNU sparse file",
        EntryType::GNULongName | EntryType::GNULongLink => "dangling GNU long-name",
        EntryType::XHeader => "dangling pax header",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_checked() {
        let p = Utf8Path::new("x.tar");
        assert_eq!(member_name(p, b"./a//b/").expect("ok"), "a/b");
        assert_eq!(member_name(p, b"./").expect("ok"), "");
        assert!(matches!(
            member_name(p, b"/etc/passwd"),
            Err(FormatError::AbsolutePath { .. })
        ));
        assert!(matches!(
            member_name(p, b"a/../../b"),
            Err(FormatError::PathTraversal { .. })
        ));
        assert!(matches!(
            member_name(p, b"\xff"),
            Err(FormatError::UnsupportedEntry { .. })
        ));
    }

    #[test]
    fn links_resolve_inside_only() {
        let p = Utf8Path::new("x.tar");
        assert_eq!(
            resolve_link(p, "d/l", "d", "../x.tar").expect("ok"),
            "x.tar"
        );
        assert_eq!(resolve_link(p, "d/l", "d", "./y").expect("ok"), "d/y");
        assert!(matches!(
            resolve_link(p, "d/l", "d", "../../x"),
            Err(FormatError::LinkEscapes { .. })
        ));
        assert!(matches!(
            resolve_link(p, "l", "", "/etc"),
            Err(FormatError::LinkEscapes { .. })
        ));
    }
}
