use std::path::PathBuf;
use std::process::ExitCode;

use synod_core::crypto::Keypair;

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Where to write the key file (default: ./<account prefix>.key.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn keygen(a: KeygenArgs) -> anyhow::Result<ExitCode> {
    let key = Keypair::generate(&mut rand::rngs::OsRng);
    let account = key.account();
    let path = a.out.unwrap_or_else(|| PathBuf::from(format!("{}.key.json", &account.to_string()[..16])));
    crate::keyfile::write(&path, &key)?;
    if a.json {
        crate::output::json(&serde_json::json!({ "account": account, "key_file": path }));
    } else {
        println!("account  {account}");
        println!("key file {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
