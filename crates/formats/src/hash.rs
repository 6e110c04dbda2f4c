//! Streaming SHA-256 of files and readers.

use std::io::{self, Read};

use berth_model::Sha256Digest;
use camino::Utf8Path;
use sha2::{Digest as _, Sha256};

use crate::FormatError;

/// Read buffer size for hashing: large enough that the per-call overhead vanishes.
pub(crate) const BUF_SIZE: usize = 1 << 20;

/// How often (in bytes) the progress callback is called at most.
const PROGRESS_STEP: u64 = 1 << 20;

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
    let io_err = |source| FormatError::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs_err::File::open(path.as_std_path()).map_err(io_err)?;
    hash_reader(file, progress).map_err(io_err)
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

/// Copies `src` to the new file `dest` (which must not exist) and hashes it, in one read.
/// The generic format's ingest.
pub fn ingest_file(
    src: &Utf8Path,
    dest: &Utf8Path,
    progress: Progress<'_>,
) -> Result<FileDigest, FormatError> {
    let ((), digest) = copy_tee(src, dest, progress, |_| Ok(()))?;
    Ok(digest)
}

/// Reads `src` once: `consume` reads the bytes on this thread while a second thread
/// writes them to the new file `dest` (which must not exist), hashes them and fsyncs the
/// file. Whatever `consume` leaves unread is read to the end, so the digest always covers
/// the whole file.
pub(crate) fn copy_tee<T>(
    src: &Utf8Path,
    dest: &Utf8Path,
    progress: Progress<'_>,
    consume: impl FnOnce(&mut dyn Read) -> Result<T, FormatError>,
) -> Result<(T, FileDigest), FormatError> {
    use std::io::Write as _;
    use std::sync::Arc;
    use std::sync::mpsc::sync_channel;

    let input = fs_err::File::open(src.as_std_path()).map_err(|source| FormatError::Io {
        path: src.to_owned(),
        source,
    })?;
    let output =
        fs_err::File::create_new(dest.as_std_path()).map_err(|source| FormatError::Io {
            path: dest.to_owned(),
            source,
        })?;
    let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(8);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<FileDigest> {
            let mut out = output;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            for chunk in rx {
                hasher.update(chunk.as_slice());
                out.write_all(&chunk)?;
                size += chunk.len() as u64;
            }
            out.sync_all()?;
            Ok(FileDigest {
                size,
                sha256: Sha256Digest::from_bytes(hasher.finalize().into()),
            })
        });
        let mut tee = TeeReader {
            input,
            tx: Some(tx),
            chunk: Arc::new(Vec::new()),
            pos: 0,
            count: 0,
            reported: 0,
            progress,
        };
        let consumed = consume(&mut tee).and_then(|v| {
            io::copy(&mut tee, &mut io::sink())
                .map(|_| v)
                .map_err(|source| FormatError::Io {
                    path: src.to_owned(),
                    source,
                })
        });
        if let Some(p) = progress {
            p(tee.count);
        }
        drop(tee);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the copying thread panicked")));
        let value = consumed?;
        let digest = written.map_err(|source| FormatError::Io {
            path: dest.to_owned(),
            source,
        })?;
        Ok((value, digest))
    })
}

/// Serves the bytes of a file in 1 MiB chunks and hands each chunk to the copy thread.
struct TeeReader<'p> {
    input: fs_err::File,
    tx: Option<std::sync::mpsc::SyncSender<std::sync::Arc<Vec<u8>>>>,
    chunk: std::sync::Arc<Vec<u8>>,
    pos: usize,
    count: u64,
    reported: u64,
    progress: Progress<'p>,
}

impl Read for TeeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.chunk.len() {
            let mut next = vec![0u8; BUF_SIZE];
            let mut filled = 0;
            while filled < next.len() {
                match self.input.read(&mut next[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if filled == 0 {
                self.tx = None;
                return Ok(0);
            }
            next.truncate(filled);
            self.chunk = std::sync::Arc::new(next);
            self.pos = 0;
            self.count += filled as u64;
            if let Some(tx) = &self.tx {
                tx.send(self.chunk.clone())
                    .map_err(|_| io::Error::other("the copying thread stopped (disk full?)"))?;
            }
            if let Some(p) = self.progress
                && self.count - self.reported >= PROGRESS_STEP
            {
                self.reported = self.count;
                p(self.count);
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
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
