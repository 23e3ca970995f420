// Links libclipcaer from CLIPCAER_LIB_DIR (the build tree's lib/ folder).
fn main() {
    println!("cargo:rerun-if-env-changed=CLIPCAER_LIB_DIR");
    if let Ok(dir) = std::env::var("CLIPCAER_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}");
    }
    println!("cargo:rustc-link-lib=dylib=clipcaer");
}
