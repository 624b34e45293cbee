// mimalloc: the server allocates and frees many small values per request and per imported
// row (JSON documents, strings); glibc's allocator showed up as a fifth of an import's time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
