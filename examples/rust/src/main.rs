//! Classify one clip folder through the C ABI, from Rust with no crates.
//! usage: clipcaer-example MODEL.safetensors CLIP_DIR [FACE_BOXES.json] [BODY_BOXES.json]
use std::ffi::{c_char, c_float, c_int, c_void, CStr, CString};
use std::process::ExitCode;
use std::ptr;

#[link(name = "clipcaer")]
extern "C" {
    fn clipcaer_last_error() -> *const c_char;
    fn clipcaer_model_load(path: *const c_char, params: *const c_void, out: *mut *mut c_void) -> c_int;
    fn clipcaer_model_free(model: *mut c_void);
    fn clipcaer_model_num_classes(model: *const c_void, out: *mut usize) -> c_int;
    fn clipcaer_model_class_name(model: *const c_void, index: usize, out: *mut *const c_char) -> c_int;
    fn clipcaer_classify_folder(
        model: *const c_void,
        frames_dir: *const c_char,
        face_boxes_json: *const c_char,
        body_boxes_json: *const c_char,
        logits: *mut c_float,
        probs: *mut c_float,
        capacity: usize,
        top_index: *mut usize,
    ) -> c_int;
}

/// Owns a model handle; frees it on drop.
struct Model(*mut c_void);

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { clipcaer_model_free(self.0) }
    }
}

fn check(status: c_int) -> Result<(), String> {
    if status == 0 {
        return Ok(());
    }
    Err(unsafe { CStr::from_ptr(clipcaer_last_error()) }.to_string_lossy().into_owned())
}

fn cstring(s: &str) -> CString {
    CString::new(s).expect("argument contains a NUL byte")
}

fn run(args: &[String]) -> Result<(), String> {
    let path = cstring(&args[1]);
    let mut handle = ptr::null_mut();
    check(unsafe { clipcaer_model_load(path.as_ptr(), ptr::null(), &mut handle) })?;
    let model = Model(handle);
    let mut classes = 0usize;
    check(unsafe { clipcaer_model_num_classes(model.0, &mut classes) })?;
    let (mut logits, mut probs, mut top) = (vec![0f32; classes], vec![0f32; classes], 0usize);
    let dir = cstring(&args[2]);
    let faces = args.get(3).map(|s| cstring(s));
    let bodies = args.get(4).map(|s| cstring(s));
    check(unsafe {
        clipcaer_classify_folder(
            model.0,
            dir.as_ptr(),
            faces.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            bodies.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            logits.as_mut_ptr(),
            probs.as_mut_ptr(),
            classes,
            &mut top,
        )
    })?;
    let mut names = Vec::with_capacity(classes);
    for c in 0..classes {
        let mut name: *const c_char = ptr::null();
        check(unsafe { clipcaer_model_class_name(model.0, c, &mut name) })?;
        names.push(unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned());
    }
    println!("clip {}: {}", args[2], names[top]);
    let shown: Vec<String> = logits.iter().map(|v| format!("{v:.4}")).collect();
    println!("logits: {}", shown.join(" "));
    for (name, p) in names.iter().zip(&probs) {
        println!("  {:<12} {:5.1} %", name, 100.0 * p);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 || args.len() > 5 {
        eprintln!("usage: clipcaer-example MODEL.safetensors CLIP_DIR [FACE_BOXES.json] [BODY_BOXES.json]");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
