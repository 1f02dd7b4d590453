//! Stamps the binary with the git commit it was built from (`synod --version`),
//! or "unknown" when built outside a git checkout or without git. No network.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SYNOD_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-changed=build.rs");
    // Rebuild the stamp when HEAD moves (a commit, a checkout); the reflog of
    // HEAD changes on both, in a plain clone and in a worktree alike.
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        // (Only files that exist: a missing one would rerun this every build.)
        for file in ["HEAD", "logs/HEAD"] {
            let path = std::path::Path::new(&dir).join(file);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}
