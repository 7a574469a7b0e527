//! The committed data files (`potential.tsv` and `potential.bin`) are exactly what `engine/data/generate.py`
//! makes from `../shared/data/potential`.
//!
//! Skipped, with a notice on stderr, when the shared sources or `python3` are not available (the product
//! never needs them; only this check does). Takes about 3 s (the generator reads 560k CSV rows).
use std::path::PathBuf;
use std::process::Command;

#[test]
fn generator_reproduces_the_committed_file() {
    let engine = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = engine.join("../../shared/data/potential");
    if !src.join("potential_lines.csv.gz").exists() {
        eprintln!(
            "SKIPPED: {} not found; cannot regenerate the potential data",
            src.display()
        );
        return;
    }
    let out = std::env::temp_dir().join(format!("pve-potential-{}.tsv", std::process::id()));
    let out_bin = std::env::temp_dir().join(format!("pve-potential-{}.bin", std::process::id()));
    let run = Command::new("python3")
        .arg(engine.join("data/generate.py"))
        .arg("--src")
        .arg(&src)
        .arg("--out")
        .arg(&out)
        .arg("--out-bin")
        .arg(&out_bin)
        .output();
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            eprintln!("SKIPPED: cannot run python3 ({e})");
            return;
        }
    };
    assert!(
        run.status.success(),
        "generate.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    for (tmp, file) in [(&out, "potential.tsv"), (&out_bin, "potential.bin")] {
        let generated = std::fs::read(tmp).unwrap();
        let _ = std::fs::remove_file(tmp);
        let committed = std::fs::read(engine.join("data").join(file)).unwrap();
        assert!(
            generated == committed,
            "engine/data/{file} is stale: run `python3 engine/data/generate.py` ({} bytes generated, {} committed)",
            generated.len(),
            committed.len()
        );
    }
}
