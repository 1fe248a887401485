//! The thin sync server (native).

#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    danvan::server::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
