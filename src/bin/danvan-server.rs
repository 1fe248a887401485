//! The thin sync server (native).


#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    danvan::server::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
