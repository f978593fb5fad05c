//! The PidFile: written atomically by the master, read by `httpd -k`.

use crate::error::{Error, Result};
use nix::unistd::Pid;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A PidFile this process wrote; removed by [`PidFile::remove`].
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

fn err(path: &Path, source: std::io::Error) -> Error {
    Error::PidFile {
        path: path.to_path_buf(),
        source,
    }
}

impl PidFile {
    /// Write `<pid>\n` (mode 0644) through a temporary file and a rename, so a reader never
    /// sees a half-written file. The flag returned tells whether a file naming *another*
    /// pid was there (an unclean shutdown of a previous run, which the caller logs).
    pub fn write(path: &Path, pid: Pid) -> Result<(PidFile, bool)> {
        let overwritten = matches!(read(path), Ok(Some(old)) if old != pid);
        let tmp = path.with_extension(format!("tmp.{pid}"));
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)
            .map_err(|e| err(path, e))?;
        f.write_all(format!("{pid}\n").as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| err(path, e))?;
        fs::rename(&tmp, path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            err(path, e)
        })?;
        Ok((
            PidFile {
                path: path.to_path_buf(),
            },
            overwritten,
        ))
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the file if it still names this process.
    pub fn remove(self) {
        if matches!(read(&self.path), Ok(Some(p)) if p == nix::unistd::getpid()) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Read a PidFile: `Ok(None)` when it does not exist.
pub fn read(path: &Path) -> Result<Option<Pid>> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let pid: i32 = text.trim().parse().map_err(|_| {
                err(
                    path,
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("does not contain a pid: {:?}", text.trim()),
                    ),
                )
            })?;
            Ok(Some(Pid::from_raw(pid)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err(path, e)),
    }
}
