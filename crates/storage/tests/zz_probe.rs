#![allow(clippy::unwrap_used, missing_docs)]
use banyan_storage::*;
#[test]
fn probe() {
    let dir = tempfile::TempDir::new().unwrap();
    {
        let s = open_redb(dir.path()).unwrap();
        for i in 0..200u32 {
            let mut b = WriteBatch::default();
            for j in 0..50u32 { b.put(Table::Bodies, [i.to_be_bytes(), j.to_be_bytes()].concat(), vec![7u8; 300]); }
            s.write(b).unwrap();
        }
    }
    let path = dir.path().join(DB_FILE_NAME);
    let orig = std::fs::read(&path).unwrap();
    println!("file len {}", orig.len());
    println!("truncated: {:?}", open_redb(dir.path()).err().map(|e| e.to_string()).or(Some("ok".into())));
    for (name, off) in [("header", 0usize), ("hdr+64", 64), ("hdr+300", 300), ("page1", 4096), ("mid", orig.len()/2), ("3/4", orig.len()*3/4)] {
        let mut b = orig.clone();
        for x in &mut b[off..off+64] { *x ^= 0xA5; }
        std::fs::write(&path, &b).unwrap();
        let r = std::panic::catch_unwind(|| {
            match open_redb(dir.path()) {
                Err(e) => format!("open err: {e}"),
                Ok(s) => {
                    let r = s.range(Table::Bodies, b"", &[0xff;9], usize::MAX);
                    format!("open ok; scan: {:?}", r.map(|v| v.len()).map_err(|e| e.to_string()))
                }
            }
        });
        println!("{name}: {:?}", r);
    }
}
