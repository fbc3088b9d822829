//! The decoder faces bytes from a pipe: whatever they are, it must return an error or a plan
//! whose operations can all be walked, and never panic or read out of bounds. Proptest runs
//! a bounded number of cases, so this is a fuzz run that fits in CI.

use nucleus_shared::plan::{Op, Plan, PlanBuilder, ProcessSpec};
use proptest::prelude::*;

fn valid_plan() -> Vec<u8> {
    let mut b = PlanBuilder::new();
    b.push(&Op::Enter { staging: c"/tmp" });
    b.push(&Op::RootTmpfs);
    b.push(&Op::WriteFile {
        path: c"etc/hosts",
        mode: 0o644,
        contents: b"x",
    });
    b.push(&Op::Bind {
        source: c"/usr",
        target: c"usr",
        flags: 1,
        is_dir: true,
    });
    b.exec(&ProcessSpec {
        argv: &[c"sh", c"-c", c"true"],
        env: &[c"A=b"],
        cwd: c"/",
        uid: 0,
        gid: 0,
        ..Default::default()
    });
    b.finish().unwrap()
}

fn walk(bytes: &[u8]) {
    if let Ok(plan) = Plan::decode(bytes) {
        let mut saw_exec = false;
        for (_, op) in plan.ops() {
            if let Op::Exec(p) = op {
                saw_exec = true;
                assert_eq!(p.argv.iter().count(), p.argv.len());
                assert_eq!(p.env.iter().count(), p.env.len());
            }
        }
        assert!(saw_exec, "a decoded plan always ends with Exec");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        walk(&bytes);
    }

    #[test]
    fn mutated_valid_plans_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = valid_plan();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let end = cut.index(bytes.len() + 1);
        walk(&bytes[..end]);
        walk(&bytes);
    }
}
