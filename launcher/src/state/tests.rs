use super::*;

#[test]
fn hostile_ids_are_refused_before_any_path_is_built() {
    let root = Root::new(Some("/run/nucleus-test")).unwrap();
    for id in [
        "",
        "..",
        ".",
        "a/b",
        "../x",
        "a\0b",
        "-rf",
        &"x".repeat(129),
        "a b",
        "ä",
    ] {
        let e = root.sandbox_dir(id).unwrap_err().to_string();
        assert!(e.starts_with("sandbox id"), "{id:?}: {e}");
    }
    let hex = "5c9bcd9ac551c889a143a03ce41b4b84131b6a8a499250ea7afaf076d65e50ac";
    assert_eq!(
        root.sandbox_dir(hex).unwrap(),
        Path::new("/run/nucleus-test").join(hex)
    );
    assert!(Root::new(Some("relative/dir")).is_err());
}

#[test]
fn a_record_round_trips_and_its_status_follows_the_processes() {
    let tmp = std::env::temp_dir().join(format!("nucleus-state-test-{}", std::process::id()));
    let root = Root::new(Some(tmp.to_str().unwrap())).unwrap();
    let dir = root.create("box1").unwrap();
    assert!(
        root.create("box1")
            .unwrap_err()
            .to_string()
            .contains("already exists")
    );
    let mut r = Record::new("box1", Kind::Oci, &dir);
    r.bundle = "/b".into();
    r.command = vec!["sh".into(), "-c".into(), "x".into()];
    r.annotations.insert("k".into(), "v".into());
    r.cgroup = Some(serde_json::json!({"dirs": ["/x"]}));
    r.save().unwrap();
    // Creating: the creator (this test) is alive, init unknown.
    let back = root.load("box1").unwrap();
    assert_eq!(back.status(), Status::Creating);
    assert_eq!((back.bundle.as_str(), back.command.len()), ("/b", 3));
    assert_eq!(back.cgroup, r.cgroup);
    assert_eq!(back.created, r.created);
    // A live process as init, with the start FIFO: created; without: running.
    r.init = Some(Init::current());
    std::fs::write(dir.join(record::START_FIFO), b"").unwrap();
    r.save().unwrap();
    assert_eq!(root.load("box1").unwrap().status(), Status::Created);
    std::fs::remove_file(dir.join(record::START_FIFO)).unwrap();
    assert_eq!(root.load("box1").unwrap().status(), Status::Running);
    // A reused pid (same pid, other start time) is not the sandbox.
    r.init = Some(Init {
        pid: std::process::id(),
        start: 1,
    });
    r.save().unwrap();
    let state = root.load("box1").unwrap().oci_state();
    assert_eq!(
        (state["status"].as_str(), state["pid"].as_u64()),
        (Some("stopped"), Some(0))
    );
    assert_eq!(root.list().len(), 1);
    assert!(
        root.load("nope")
            .unwrap_err()
            .to_string()
            .contains("no sandbox named")
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn signals_by_name_and_number() {
    for (raw, n) in [
        ("TERM", 15),
        ("SIGKILL", 9),
        ("9", 9),
        ("hup", 1),
        ("SIGRTMIN", libc::SIGRTMIN()),
        ("RTMIN+2", libc::SIGRTMIN() + 2),
        ("RTMAX-1", libc::SIGRTMAX() - 1),
    ] {
        assert_eq!(signal_number(raw).unwrap(), n, "{raw}");
    }
    for raw in ["0", "65", "TERMS", "", "RTMIN+99", "-9"] {
        assert!(signal_number(raw).is_err(), "{raw}");
    }
}

#[test]
fn timestamps_are_rfc3339_utc() {
    assert_eq!(record::rfc3339(0), "1970-01-01T00:00:00.000000000Z");
    assert_eq!(
        record::rfc3339(1_795_924_563_562_698_854),
        "2026-11-29T03:56:03.562698854Z"
    );
    assert_eq!(
        record::rfc3339(951_782_400_000_000_000),
        "2000-02-29T00:00:00.000000000Z"
    );
}
