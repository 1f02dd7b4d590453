//! `synod completions <shell>` and `synod man <dir>`: generated from the same
//! clap definitions as the parser, so they cannot drift from it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn completions<C: CommandFactory>(a: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = C::command();
    clap_complete::generate(a.shell, &mut command, "synod", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ManArgs {
    /// Directory to write `synod.1` and `synod-<subcommand>.1` into (created if missing).
    pub dir: PathBuf,
}

pub fn man<C: CommandFactory>(a: ManArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&a.dir).with_context(|| format!("creating {}", a.dir.display()))?;
    // One page per (sub)command, named by clap's display names: synod.1, synod-dev.1, synod-certs-init.1 ...
    clap_mangen::generate_to(C::command(), &a.dir)
        .with_context(|| format!("writing man pages to {}", a.dir.display()))?;
    let written = std::fs::read_dir(&a.dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".1"))
        .count();
    println!("{written} man pages in {} (view one with: man {}/synod.1)", a.dir.display(), a.dir.display());
    Ok(ExitCode::SUCCESS)
}
