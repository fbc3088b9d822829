//! The compiler, checked through the interpreter: table-driven cases for every action, every
//! comparison, the architecture checks and the size limit, and a differential test against
//! the policy's reference meaning on random policies and inputs.

use nucleus_shared::seccomp::arch::{
    AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, Arch, X32_SYSCALL_BIT,
};
use nucleus_shared::seccomp::bpf::MAX_INSNS;
use nucleus_shared::seccomp::compile::{CompileError, compile};
use nucleus_shared::seccomp::interp::{SeccompData, run};
use nucleus_shared::seccomp::policy::{Action, ArgCond, Cmp, Policy, Rule};
use proptest::prelude::*;

const EPERM: u16 = 1;
const ENOSYS: u16 = 38;

fn rule(nr: u32, action: Action) -> Rule {
    Rule {
        nr,
        conds: vec![],
        action,
    }
}

fn cond(nr: u32, conds: &[(u8, Cmp, u64)], action: Action) -> Rule {
    Rule {
        nr,
        conds: conds
            .iter()
            .map(|&(arg, cmp, value)| ArgCond { arg, cmp, value })
            .collect(),
        action,
    }
}

fn policy(rules: Vec<Rule>) -> Policy {
    Policy {
        arch: Arch::X86_64,
        default: Action::Errno(EPERM),
        foreign: Action::KillProcess,
        rules,
    }
}

fn call(nr: u32, args: [u64; 6]) -> SeccompData {
    SeccompData {
        nr,
        arch: AUDIT_ARCH_X86_64,
        ip: 0,
        args,
    }
}

fn decide(p: &Policy, d: &SeccompData) -> Action {
    let prog = compile(p).unwrap();
    let ret = run(&prog, d).unwrap();
    let action = Action::from_ret(ret).unwrap();
    assert_eq!(
        action,
        p.evaluate(d),
        "compiled program and reference disagree on {d:?}"
    );
    action
}

#[test]
fn every_action_is_returned() {
    let actions = [
        Action::Allow,
        Action::Errno(13),
        Action::KillProcess,
        Action::KillThread,
        Action::Trap,
        Action::Log,
        Action::UserNotif,
        Action::Trace(7),
    ];
    let p = policy(
        actions
            .iter()
            .enumerate()
            .map(|(i, a)| rule(i as u32 * 3, *a))
            .collect(),
    );
    for (i, a) in actions.iter().enumerate() {
        assert_eq!(decide(&p, &call(i as u32 * 3, [0; 6])), *a);
        assert_eq!(
            decide(&p, &call(i as u32 * 3 + 1, [0; 6])),
            Action::Errno(EPERM)
        );
    }
}

#[test]
fn foreign_architectures_and_x32_are_refused() {
    let p = policy(vec![rule(0, Action::Allow), rule(1, Action::Allow)]);
    for arch in [AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0] {
        assert_eq!(
            decide(
                &p,
                &SeccompData {
                    nr: 0,
                    arch,
                    ..Default::default()
                }
            ),
            Action::KillProcess
        );
    }
    assert_eq!(
        decide(&p, &call(X32_SYSCALL_BIT, [0; 6])),
        Action::KillProcess
    );
    assert_eq!(
        decide(&p, &call(X32_SYSCALL_BIT | 1, [0; 6])),
        Action::KillProcess
    );
    assert_eq!(decide(&p, &call(1, [0; 6])), Action::Allow);
    assert_eq!(
        decide(&p, &call(u32::MAX, [0; 6])),
        Action::Errno(EPERM),
        "-1 is not x32"
    );

    let arm = Policy {
        arch: Arch::Aarch64,
        ..p.clone()
    };
    let d = SeccompData {
        nr: 1,
        arch: AUDIT_ARCH_AARCH64,
        ..Default::default()
    };
    assert_eq!(decide(&arm, &d), Action::Allow);
    assert_eq!(decide(&arm, &call(1, [0; 6])), Action::KillProcess);
}

/// Argument values, and whether the condition holds for each.
type Inputs<'a> = &'a [(u64, bool)];

#[test]
fn every_comparison_on_both_halves() {
    let big = 0x0000_0001_0000_0005u64;
    let cases: &[(Cmp, u64, Inputs<'_>)] = &[
        (
            Cmp::Eq,
            big,
            &[(big, true), (5, false), (big + (1 << 32), false)],
        ),
        (
            Cmp::Ne,
            big,
            &[(big, false), (5, true), (0x0000_0002_0000_0005, true)],
        ),
        (
            Cmp::Lt,
            big,
            &[
                (big - 1, true),
                (big, false),
                (5, true),
                (u64::MAX, false),
                (0x0000_0001_0000_0000, true),
            ],
        ),
        (
            Cmp::Le,
            big,
            &[
                (big, true),
                (big + 1, false),
                (0, true),
                (0x0000_0002_0000_0000, false),
            ],
        ),
        (
            Cmp::Gt,
            big,
            &[
                (big + 1, true),
                (big, false),
                (u64::MAX, true),
                (0x0000_0000_ffff_ffff, false),
            ],
        ),
        (
            Cmp::Ge,
            big,
            &[(big, true), (big - 1, false), (0x0000_0002_0000_0000, true)],
        ),
        (
            Cmp::MaskedEq(0xff00_0000_0000_00ff),
            0x1200_0000_0000_0034,
            &[
                (0x12ab_cdef_0000_0034, true),
                (0x1300_0000_0000_0034, false),
                (0x1200_0000_0000_0035, false),
            ],
        ),
    ];
    for &(cmp, value, inputs) in cases {
        for arg in 0..6u8 {
            let p = policy(vec![cond(9, &[(arg, cmp, value)], Action::Allow)]);
            for &(input, allowed) in inputs {
                let mut args = [0u64; 6];
                args[usize::from(arg)] = input;
                let expected = if allowed {
                    Action::Allow
                } else {
                    Action::Errno(EPERM)
                };
                assert_eq!(
                    decide(&p, &call(9, args)),
                    expected,
                    "{cmp:?} {value:#x} arg{arg}={input:#x}"
                );
            }
        }
    }
}

#[test]
fn rules_of_one_syscall_are_tried_in_order() {
    let p = policy(vec![
        cond(41, &[(0, Cmp::Eq, 16)], Action::Errno(97)),
        cond(
            41,
            &[(0, Cmp::Eq, 1), (1, Cmp::MaskedEq(0xf), 1)],
            Action::Allow,
        ),
        rule(41, Action::Errno(ENOSYS)),
        rule(41, Action::Allow),
    ]);
    assert_eq!(
        decide(&p, &call(41, [16, 0, 0, 0, 0, 0])),
        Action::Errno(97)
    );
    assert_eq!(decide(&p, &call(41, [1, 0x81, 0, 0, 0, 0])), Action::Allow);
    assert_eq!(
        decide(&p, &call(41, [1, 2, 0, 0, 0, 0])),
        Action::Errno(ENOSYS)
    );
}

#[test]
fn large_allow_lists_stay_small_and_fast() {
    let p = policy((0..400).map(|nr| rule(nr, Action::Allow)).collect());
    let prog = compile(&p).unwrap();
    assert!(
        prog.len() < 20,
        "contiguous numbers collapse into one range: {}",
        prog.len()
    );
    // Every other number allowed: nothing collapses, and the search stays logarithmic.
    let sparse = policy(
        (0..400)
            .filter(|n| n % 2 == 0)
            .map(|nr| rule(nr, Action::Allow))
            .collect(),
    );
    let prog = compile(&sparse).unwrap();
    assert!(prog.len() < 1700, "{}", prog.len());
    for nr in [0, 1, 398, 399, 400, 1000] {
        let expected = if nr < 400 && nr % 2 == 0 {
            Action::Allow
        } else {
            Action::Errno(EPERM)
        };
        assert_eq!(decide(&sparse, &call(nr, [0; 6])), expected);
    }
}

#[test]
fn far_jumps_are_bridged() {
    // Many conditional rules put more than 255 instructions in a left subtree.
    let rules = (0..64)
        .map(|nr| cond(nr * 2, &[(0, Cmp::Lt, 7), (1, Cmp::Ne, 3)], Action::Allow))
        .collect();
    let p = policy(rules);
    assert!(compile(&p).unwrap().len() > 600);
    for nr in 0..130 {
        decide(&p, &call(nr, [6, 4, 0, 0, 0, 0]));
        decide(&p, &call(nr, [8, 4, 0, 0, 0, 0]));
    }
}

#[test]
fn limits_are_errors_not_bad_programs() {
    let rules = (0..2000)
        .map(|nr| cond(nr * 2, &[(0, Cmp::Eq, 1)], Action::Allow))
        .collect();
    match compile(&policy(rules)) {
        Err(CompileError::TooLong(n)) => assert!(n > MAX_INSNS),
        other => panic!("expected TooLong, got {other:?}"),
    }
    assert_eq!(
        compile(&policy(vec![cond(1, &[(6, Cmp::Eq, 0)], Action::Allow)])),
        Err(CompileError::BadArg(6))
    );
    assert_eq!(
        compile(&policy(vec![rule(1, Action::Errno(4096))])),
        Err(CompileError::BadErrno(4096))
    );
    let many: Vec<_> = (0..70).map(|i| (0u8, Cmp::Ne, i)).collect();
    assert_eq!(
        compile(&policy(vec![cond(3, &many, Action::Allow)])),
        Err(CompileError::TooComplex(3))
    );
}

fn any_cmp() -> impl Strategy<Value = Cmp> {
    prop_oneof![
        Just(Cmp::Eq),
        Just(Cmp::Ne),
        Just(Cmp::Lt),
        Just(Cmp::Le),
        Just(Cmp::Gt),
        Just(Cmp::Ge),
        any::<u64>().prop_map(Cmp::MaskedEq),
    ]
}

/// Values near the interesting edges, so that comparisons go both ways often.
fn any_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..4,
        Just(u64::MAX),
        (0u64..4).prop_map(|v| v << 32),
        (0u64..4).prop_map(|v| (v << 32) | 2),
        any::<u64>()
    ]
}

fn any_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Allow),
        (0u16..4096).prop_map(Action::Errno),
        Just(Action::KillProcess),
        Just(Action::Trap),
        Just(Action::Log)
    ]
}

fn any_rule() -> impl Strategy<Value = Rule> {
    (
        0u32..24,
        proptest::collection::vec((0u8..6, any_cmp(), any_value()), 0..4),
        any_action(),
    )
        .prop_map(|(nr, conds, action)| cond(nr, &conds, action))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn compiled_programs_agree_with_the_reference(
        rules in proptest::collection::vec(any_rule(), 0..40),
        default in any_action(),
        arm in any::<bool>(),
        calls in proptest::collection::vec((0u32..30, any::<bool>(), proptest::array::uniform6(any_value())), 1..30),
    ) {
        let arch = if arm { Arch::Aarch64 } else { Arch::X86_64 };
        let p = Policy { arch, default, foreign: Action::KillProcess, rules };
        let prog = compile(&p).unwrap();
        for (nr, x32, args) in calls {
            let nr = match (x32, nr) {
                (true, 29) => u32::MAX,
                (true, _) => nr | X32_SYSCALL_BIT,
                (false, _) => nr,
            };
            let d = SeccompData { nr, arch: arch.audit(), ip: 0, args };
            let got = Action::from_ret(run(&prog, &d).unwrap());
            prop_assert_eq!(got, Some(p.evaluate(&d)), "{:?}", d);
        }
    }
}
