//! Streaming SHA-256 of files and readers.

use std::io::{self, Read};

use berth_model::Sha256Digest;
use camino::Utf8Path;
use sha2::{Digest as _, Sha256};

use crate::FormatError;

/// Read buffer size for hashing: large enough that the per-call overhead vanishes.
pub(crate) const BUF_SIZE: usize = 1 << 20;

/// How often (in bytes) the progress callback is called at most.
pub(crate) const PROGRESS_STEP: u64 = 1 << 20;

/// The size and SHA-256 of one file (or stream).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileDigest {
    /// Length in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    pub sha256: Sha256Digest,
}

/// A progress callback: receives the number of bytes read so far.
pub type Progress<'a> = Option<&'a dyn Fn(u64)>;

/// Hashes a file in one streaming pass with a 1 MiB buffer. `progress` receives the number
/// of bytes read so far (about every MiB, and once at the end).
pub fn hash_file(path: &Utf8Path, progress: Progress<'_>) -> Result<FileDigest, FormatError> {
    let (file, _) = berth_model::store::open_regular(path)?;
    hash_reader(file, progress).map_err(|source| FormatError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Hashes everything `r` yields, in one pass with a 1 MiB buffer. `progress` as for
/// [`hash_file`].
pub fn hash_reader(r: impl Read, progress: Progress<'_>) -> io::Result<FileDigest> {
    let mut reader = HashingReader::new(r, progress);
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(reader.finish())
}

/// A reader that hashes and counts every byte read through it (a tee into SHA-256).
pub(crate) struct HashingReader<'p, R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    reported: u64,
    progress: Progress<'p>,
}

impl<'p, R> HashingReader<'p, R> {
    pub(crate) fn new(inner: R, progress: Progress<'p>) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
            reported: 0,
            progress,
        }
    }

    /// The digest of everything read so far; reports the final count to `progress`.
    pub(crate) fn finish(self) -> FileDigest {
        if let Some(p) = self.progress {
            p(self.count);
        }
        FileDigest {
            size: self.count,
            sha256: Sha256Digest::from_bytes(self.hasher.finalize().into()),
        }
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(data) = buf.get(..n) {
            self.hasher.update(data);
        }
        self.count += n as u64;
        if let Some(p) = self.progress
            && self.count - self.reported >= PROGRESS_STEP
        {
            self.reported = self.count;
            p(self.count);
        }
        Ok(n)
    }
}

/// The SHA-256 of a member, computed while it streams, plus the count of bytes seen.
pub(crate) struct MemberHasher {
    hasher: Sha256,
    count: u64,
}

impl MemberHasher {
    pub(crate) fn new() -> Self {
        MemberHasher {
            hasher: Sha256::new(),
            count: 0,
        }
    }
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
        self.count += data.len() as u64;
    }
    pub(crate) fn count(&self) -> u64 {
        self.count
    }
    pub(crate) fn finish(self) -> Sha256Digest {
        Sha256Digest::from_bytes(self.hasher.finalize().into())
    }
}

/// What an `ingest_*` function ([`ingest_file`], [`crate::ingest_image`],
/// [`crate::ingest_deb`]) does with the file while it reads it once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination<'a> {
    /// Copy it to this new file (which must not exist): a second thread writes and hashes
    /// the copy, then fsyncs it. Errors about reading name the source.
    CopyTo(&'a Utf8Path),
    /// Leave it where it is (the caller moved it where it belongs): a second thread hashes
    /// it, then fsyncs the file itself (`sync_all`), so bytes its producer left unwritten
    /// are durable before the caller renames it further. Errors name `shown_as`, the path
    /// the user knows it by (where it was moved from).
    InPlace {
        /// The path to name in errors.
        shown_as: &'a Utf8Path,
    },
}

impl<'a> Destination<'a> {
    /// The path errors about reading `src` name.
    pub(crate) fn shown(self, src: &'a Utf8Path) -> &'a Utf8Path {
        match self {
            Destination::CopyTo(_) => src,
            Destination::InPlace { shown_as } => shown_as,
        }
    }
}

/// Hashes `src` in one read and copies it ([`Destination::CopyTo`], a new file that must not
/// exist) or fsyncs it where it is ([`Destination::InPlace`]). The generic format's ingest.
pub fn ingest_file(
    src: &Utf8Path,
    dest: Destination<'_>,
    progress: Progress<'_>,
) -> Result<FileDigest, FormatError> {
    let ((), digest) = crate::tee::tee_read(src, dest, progress, |_, _| Ok(()))?;
    Ok(digest)
}

/// Reads until `buf` is full or the input ends; returns the count read.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match r.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn empty_and_known() {
        let d = hash_reader(&b""[..], None).expect("hash");
        assert_eq!(d.size, 0);
        assert_eq!(
            d.sha256.hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let d = hash_reader(&b"abc"[..], None).expect("hash");
        assert_eq!(
            d.sha256.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn progress_reports_the_total() {
        let data = vec![7u8; 3 * BUF_SIZE + 17];
        let last = Cell::new(0u64);
        let calls = Cell::new(0u32);
        let cb = |n: u64| {
            assert!(n >= last.get());
            last.set(n);
            calls.set(calls.get() + 1);
        };
        let d = hash_reader(&data[..], Some(&cb)).expect("hash");
        assert_eq!(d.size, data.len() as u64);
        assert_eq!(last.get(), data.len() as u64);
        assert!(calls.get() >= 2, "{}", calls.get());
        assert_eq!(d.sha256, Sha256Digest::of(&data));
    }
}
