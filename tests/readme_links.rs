//! The README's benchmark claims point at sections of BENCHMARKS.md that exist, and
//! every claim in "How it compares" carries such a link.

use std::collections::HashSet;

/// GitHub's heading anchor: lower case, punctuation other than `-` and `_` dropped,
/// each space a `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn read(name: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_owned() + name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_benchmark_link_names_an_existing_section() {
    let bench = read("BENCHMARKS.md");
    let anchors: HashSet<String> = bench
        .lines()
        .filter(|l| l.starts_with('#') && !l.starts_with("#!"))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect();
    let readme = read("README.md");
    let mut links = 0;
    for (i, _) in readme.match_indices("](BENCHMARKS.md#") {
        let rest = &readme[i + "](BENCHMARKS.md#".len()..];
        let anchor = &rest[..rest.find(')').expect("a closed link")];
        assert!(
            anchors.contains(anchor),
            "README links BENCHMARKS.md#{anchor}, which is no heading there"
        );
        links += 1;
    }
    assert!(links >= 6, "only {links} links into BENCHMARKS.md");
}

#[test]
fn every_claim_in_how_it_compares_is_linked() {
    let readme = read("README.md");
    let start = readme.find("## How it compares").expect("the section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    let claims: Vec<&str> = section.split("\n- ").skip(1).collect();
    assert!(claims.len() >= 5, "{} claims", claims.len());
    for claim in claims {
        assert!(
            claim.contains("](BENCHMARKS.md#"),
            "a claim without its BENCHMARKS.md row: {claim}"
        );
    }
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug(" Reply parsing (`benches/reply.rs`)"),
        "reply-parsing-benchesreplyrs"
    );
    assert_eq!(
        slug(" Against a real Postfix that limits us: `pace` and `pace --naive`"),
        "against-a-real-postfix-that-limits-us-pace-and-pace---naive"
    );
}
