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
    let ((), digest) = tee_read(src, dest, progress, |_, _| Ok(()))?;
    Ok(digest)
}

/// Reads `src` once, in 1 MiB chunks shared by two threads: `consume` reads the bytes on
/// this one (it gets the path to name in errors) while a second thread hashes the whole
/// file and, for [`Destination::CopyTo`], writes the copy, so the SHA-256 of the members
/// and that of the file run side by side. Whichever thread has less to do reads the file:
/// this one when copying, the second one when reading in place. Buffers go back and forth
/// and are reused. At the end the second thread fsyncs the copy, or for
/// [`Destination::InPlace`] `src` itself. Whatever `consume` leaves unread is drained, so
/// the digest always covers the whole file.
pub(crate) fn tee_read<T>(
    src: &Utf8Path,
    dest: Destination<'_>,
    progress: Progress<'_>,
    consume: impl FnOnce(&Utf8Path, &mut dyn Read) -> Result<T, FormatError>,
) -> Result<(T, FileDigest), FormatError> {
    use std::io::Write as _;
    use std::sync::mpsc::{channel, sync_channel};

    let shown = dest.shown(src);
    let input = match berth_model::store::open_regular(src) {
        Ok((f, _)) => fs_err::File::from_parts(f, src.as_std_path()),
        // Name the file as the user knows it.
        Err(e) if src != shown => {
            return Err(FormatError::Io {
                path: shown.to_owned(),
                source: e.into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    // `copy` receives the bytes; `durable` is the file fsynced at the end (the copy, or the
    // source read in place), and `written` the path named when that fails.
    let (mut copy, durable, written) = match dest {
        Destination::CopyTo(d) => {
            let io_err = |source| FormatError::Io {
                path: d.to_owned(),
                source,
            };
            let out = fs_err::File::create_new(d.as_std_path()).map_err(io_err)?;
            let durable = out.file().try_clone().map_err(io_err)?;
            (Some(out), durable, d)
        }
        Destination::InPlace { shown_as } => {
            let same = input.file().try_clone().map_err(|source| FormatError::Io {
                path: shown_as.to_owned(),
                source,
            })?;
            (None, same, shown_as)
        }
    };
    let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(8);
    let (empty_tx, empty_rx) = channel::<Vec<u8>>();
    let first = |file| Chunks::First {
        file,
        empty: empty_rx,
        full: full_tx,
    };
    let second = || Chunks::Second {
        full: full_rx,
        empty: empty_tx,
    };
    let (mine, theirs) = if copy.is_some() {
        (first(input), second())
    } else {
        let theirs = first(input);
        (second(), theirs)
    };
    std::thread::scope(|scope| {
        // Ok(None): it stopped early because `consume` did.
        let hashing = scope.spawn(move || -> io::Result<Option<FileDigest>> {
            let mut chunks = theirs;
            let mut hasher = Sha256::new();
            let mut size = 0u64;
            let mut chunk = Vec::new();
            loop {
                chunk = match chunks.next(chunk) {
                    Ok(Some(c)) => c,
                    Ok(None) => break,
                    Err(e) => {
                        // `consume` reports it, naming the file.
                        chunks.forward(e);
                        return Ok(None);
                    }
                };
                hasher.update(&chunk);
                if let Some(out) = copy.as_mut() {
                    out.write_all(&chunk)?;
                }
                size += chunk.len() as u64;
            }
            drop(chunks);
            durable.sync_all()?;
            Ok(Some(FileDigest {
                size,
                sha256: Sha256Digest::from_bytes(hasher.finalize().into()),
            }))
        });
        let mut reader = ChunkReader {
            chunks: mine,
            chunk: Vec::new(),
            pos: 0,
            count: 0,
            reported: 0,
            progress,
        };
        let consumed = consume(shown, &mut reader).and_then(|v| {
            reader
                .drain()
                .map(|()| v)
                .map_err(|source| FormatError::Io {
                    path: shown.to_owned(),
                    source,
                })
        });
        if let Some(p) = progress {
            p(reader.count);
        }
        drop(reader);
        let hashed = hashing
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the hashing thread panicked")));
        // A failed write or fsync names the file written; then what `consume` found.
        let hashed = hashed.map_err(|source| FormatError::Io {
            path: written.to_owned(),
            source,
        })?;
        let value = consumed?;
        let digest = hashed.ok_or_else(|| FormatError::Io {
            path: shown.to_owned(),
            source: io::Error::other("the hashing thread stopped early"),
        })?;
        Ok((value, digest))
    })
}

/// Where one of the two threads of [`tee_read`] gets its chunks.
enum Chunks {
    /// It reads the file, into buffers the other thread handed back, and passes each chunk
    /// on once done with it.
    First {
        file: fs_err::File,
        empty: std::sync::mpsc::Receiver<Vec<u8>>,
        full: std::sync::mpsc::SyncSender<io::Result<Vec<u8>>>,
    },
    /// It takes the chunks the other thread passes on, and hands each buffer back.
    Second {
        full: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
        empty: std::sync::mpsc::Sender<Vec<u8>>,
    },
}

impl Chunks {
    /// Passes on `done` (the chunk just used) and returns the next one; `None` at the end
    /// of the file.
    fn next(&mut self, done: Vec<u8>) -> io::Result<Option<Vec<u8>>> {
        match self {
            Chunks::First { file, empty, full } => {
                if !done.is_empty() && full.send(Ok(done)).is_err() {
                    return Err(io::Error::other("the other thread stopped"));
                }
                // A buffer handed back, or a new one (zeroed once).
                let mut buf = empty.try_recv().unwrap_or_default();
                buf.resize(BUF_SIZE, 0);
                let filled = read_full(file, &mut buf)?;
                if filled == 0 {
                    return Ok(None);
                }
                buf.truncate(filled);
                Ok(Some(buf))
            }
            Chunks::Second { full, empty } => {
                let _ = empty.send(done);
                match full.recv() {
                    Ok(chunk) => chunk.map(Some),
                    Err(_) => Ok(None),
                }
            }
        }
    }

    /// Hands a read error to the other thread (when it is the one that reports).
    fn forward(&self, e: io::Error) {
        if let Chunks::First { full, .. } = self {
            let _ = full.send(Err(e));
        }
    }
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

/// The bytes of the chunks, for `consume`.
struct ChunkReader<'p> {
    chunks: Chunks,
    chunk: Vec<u8>,
    pos: usize,
    count: u64,
    reported: u64,
    progress: Progress<'p>,
}

impl ChunkReader<'_> {
    /// The next chunk in `self.chunk`; false at the end of the file.
    fn next_chunk(&mut self) -> io::Result<bool> {
        let done = std::mem::take(&mut self.chunk);
        let Some(next) = self.chunks.next(done)? else {
            return Ok(false);
        };
        self.chunk = next;
        self.pos = 0;
        self.count += self.chunk.len() as u64;
        if let Some(p) = self.progress
            && self.count - self.reported >= PROGRESS_STEP
        {
            self.reported = self.count;
            p(self.count);
        }
        Ok(true)
    }

    /// Takes every remaining chunk without copying it.
    fn drain(&mut self) -> io::Result<()> {
        while self.next_chunk()? {}
        Ok(())
    }
}

impl Read for ChunkReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len() {
            if !self.next_chunk()? {
                return Ok(0);
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

    /// Both ways of reading once (copy, in place) hash the whole file whatever `consume`
    /// reads, hand `consume` every byte in order, and let its error win.
    #[test]
    fn tee_read_copies_or_reads_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Utf8Path::from_path(dir.path()).expect("utf-8");
        let shown = Utf8Path::new("/shown/as");
        for (i, len) in [0, 1, BUF_SIZE, 3 * BUF_SIZE + 17].into_iter().enumerate() {
            let data: Vec<u8> = (0..len).map(|x| (x % 251) as u8).collect();
            let src = d.join(format!("src-{i}"));
            fs_err::write(&src, &data).expect("write");
            let want = FileDigest {
                size: len as u64,
                sha256: Sha256Digest::of(&data),
            };
            let copy = d.join(format!("copy-{i}"));
            for dest in [
                Destination::CopyTo(&copy),
                Destination::InPlace { shown_as: shown },
            ] {
                let (seen, got) = tee_read(&src, dest, None, |_, r| {
                    let mut v = Vec::new();
                    r.read_to_end(&mut v).map_err(|source| FormatError::Io {
                        path: src.clone(),
                        source,
                    })?;
                    Ok(v)
                })
                .expect("read");
                assert_eq!((seen == data, got), (true, want), "{dest:?} {len}");
                if let Destination::CopyTo(c) = dest {
                    assert_eq!(fs_err::read(c).expect("copy"), data);
                    fs_err::remove_file(c).expect("rm");
                }
                // Reading only the start still hashes everything.
                let ((), got) = tee_read(&src, dest, None, |_, r| {
                    let _ = r.read(&mut [0u8; 10]);
                    Ok(())
                })
                .expect("read");
                assert_eq!(got, want, "{dest:?} {len}");
                let _ = fs_err::remove_file(&copy);
                // A failing `consume` wins, and gets the path to name.
                let err = tee_read(&src, dest, None, |p, _| -> Result<(), _> {
                    Err(FormatError::InvalidImage {
                        path: p.to_owned(),
                        detail: "no".into(),
                    })
                })
                .expect_err("consume failed");
                assert_eq!(err.path(), dest.shown(&src), "{dest:?}");
                let _ = fs_err::remove_file(&copy);
            }
            assert_eq!(
                fs_err::read(&src).expect("read"),
                data,
                "in place leaves it be"
            );
        }
        // The copy must be new: an existing file is not overwritten.
        let src = d.join("src-1");
        let taken = d.join("taken");
        fs_err::write(&taken, b"keep").expect("write");
        let err = ingest_file(&src, Destination::CopyTo(&taken), None).expect_err("exists");
        assert_eq!(err.path(), taken.as_path());
        assert_eq!(fs_err::read(&taken).expect("read"), b"keep");
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
