#[tokio::main]
async fn main() -> std::process::ExitCode {
    match formwork::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("formwork: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
