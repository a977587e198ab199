//! The data directory is 0700, and the admin-token file and the SQLite files are 0600, whatever
//! permissions they had before the server started.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use otonix::Application;

use crate::helpers::test_config;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn loosen(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn the_data_directory_the_admin_token_and_the_database_are_private_whatever_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    loosen(&data, 0o755);
    let token = data.join("admin-token");
    std::fs::write(&token, "a-token-from-an-older-install-0123456789\n").unwrap();
    loosen(&token, 0o644);
    let database = data.join("otonix.db");
    std::fs::write(&database, "").unwrap();
    loosen(&database, 0o644);

    let (mut config, _) = test_config(&data);
    config.auth.admin_token = None;
    config.database = Default::default(); // the embedded file in the data directory
    let app = Application::build(config).await.expect("the server starts");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&token), 0o600);
    for name in ["otonix.db", "otonix.db-wal", "otonix.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    drop(app);

    // A fresh directory is born private too.
    let fresh = dir.path().join("fresh");
    let (mut config, _) = test_config(&fresh);
    config.auth.admin_token = None;
    config.database = Default::default();
    let _app = Application::build(config).await.expect("the server starts");
    assert_eq!(mode(&fresh), 0o700);
    for name in ["admin-token", "otonix.db", "otonix.db-wal", "otonix.db-shm"] {
        assert_eq!(mode(&fresh.join(name)), 0o600, "{name}");
    }
}
