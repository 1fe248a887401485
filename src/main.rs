//! The browser client's entry point (built for wasm32 by Trunk).

#[cfg(target_arch = "wasm32")]
fn main() {
    danvan::client::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The danvan client runs in the browser: build it with `trunk build` (see README.md).");
    std::process::exit(2);
}
