//! The data directory, the admin-token file and the SQLite files are the owner's alone: the
//! directory 0700 and the files 0600, whatever permissions they had before (a file copied in,
//! an older version, a loose umask). Elsewhere than Unix this does nothing.

use std::io;
use std::path::Path;

/// Creates `dir` if needed and makes it 0700.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Creates `file` (empty) if it does not exist, born 0600, and makes it 0600.
pub fn private_file(file: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)?;
    set_mode(file, 0o600)
}

/// Makes `file` 0600 if it exists.
pub fn tighten(file: &Path) -> io::Result<()> {
    match std::fs::metadata(file) {
        Ok(_) => set_mode(file, 0o600),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> io::Result<()> {
    Ok(())
}
