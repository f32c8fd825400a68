//! The `classify` example's command-line contract, run in-process.

#[allow(dead_code)]
#[path = "../examples/classify.rs"]
mod classify_cli;

use classify_cli::{MAX_LINE, classify_line, read_line_bounded};
use tempfail::Classifier;

#[test]
fn a_huge_line_is_skipped_with_memory_bounded() {
    // 100 MB without a line feed, then a normal line: the reader never holds more
    // than MAX_LINE bytes of it.
    struct Huge {
        left: usize,
        tail: &'static [u8],
        block: Vec<u8>,
        pos: usize,
    }
    impl std::io::Read for Huge {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            unreachable!("read through BufRead")
        }
    }
    impl std::io::BufRead for Huge {
        fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
            if self.left > 0 {
                let n = self.left.min(self.block.len());
                return Ok(&self.block[..n]);
            }
            Ok(&self.tail[self.pos..])
        }
        fn consume(&mut self, n: usize) {
            if self.left > 0 {
                self.left -= n;
            } else {
                self.pos += n;
            }
        }
    }
    let mut input = Huge {
        left: 100 << 20,
        tail: b"\n550 5.1.1 user unknown\n",
        block: vec![b'x'; 1 << 16],
        pos: 0,
    };
    let mut buf = Vec::new();
    assert_eq!(
        read_line_bounded(&mut input, &mut buf, MAX_LINE).unwrap(),
        Some(100 << 20)
    );
    assert!(buf.len() <= MAX_LINE && buf.capacity() <= 2 * MAX_LINE);
    assert_eq!(
        read_line_bounded(&mut input, &mut buf, MAX_LINE).unwrap(),
        Some(22)
    );
    assert_eq!(buf, b"550 5.1.1 user unknown");
    assert_eq!(
        read_line_bounded(&mut input, &mut buf, MAX_LINE).unwrap(),
        None
    );
}

#[test]
fn json_that_is_not_an_object_is_an_error_line() {
    let c = Classifier::builtin();
    for line in [
        "[1, 2]",
        "[\"550 5.1.1 x\"]",
        "{\"stage\": \"rcpt_to\"}",
        "{oops",
    ] {
        let v = classify_line(&c, line);
        assert!(v["error"].is_string(), "{line}: {v}");
        assert!(v["disposition"].is_null(), "{line}: {v}");
    }
    let v = classify_line(
        &c,
        r#"{"reply": "550 5.1.1 user unknown", "stage": "rcpt_to"}"#,
    );
    assert_eq!(v["category"], "user_unknown");
}
