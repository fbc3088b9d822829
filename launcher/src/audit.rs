//! Audit records from the kernel's audit multicast group (`AUDIT_NLGRP_READLOG`).
//!
//! The kernel log (`/dev/kmsg`, see `kmsg`) sees audit records only through `printk`'s rate
//! limit: 10 records per 5 seconds by default, for the whole machine, which makes a seccomp
//! trace useless. The multicast group gets every record, as long as we read fast enough;
//! when the socket buffer overflows the kernel says so (ENOBUFS) and we count it. Reading it
//! needs CAP_AUDIT_READ; where that fails, tracing falls back to `/dev/kmsg`.

use std::io;

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::netlink::{self, SocketAddrNetlink};
use rustix::net::{AddressFamily, RecvFlags, SocketFlags, SocketType};

use crate::kmsg::{AUDIT_SECCOMP, KmsgEvent, parse_seccomp_body};

/// AUDIT_NLGRP_READLOG is group 1, bit 0 of the bind mask.
const READLOG_GROUPS: u32 = 1;
/// A generous receive buffer: a traced program can log thousands of calls per millisecond.
const RCVBUF: usize = 8 << 20;
/// `struct nlmsghdr`.
const HEADER: usize = 16;

pub struct AuditReader {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl AuditReader {
    pub fn open() -> io::Result<Self> {
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::RAW,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            Some(netlink::AUDIT),
        )?;
        // FORCE goes past rmem_max (root only); a smaller buffer still works, it just
        // overflows sooner, and overflows are counted.
        if rustix::net::sockopt::set_socket_recv_buffer_size_force(&fd, RCVBUF).is_err() {
            let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&fd, RCVBUF);
        }
        rustix::net::bind(&fd, &SocketAddrNetlink::new(0, READLOG_GROUPS))?;
        Ok(AuditReader {
            fd,
            buf: vec![0; 64 << 10],
        })
    }

    /// Hands every seccomp record received so far to `f`; overflows become `Suppressed(1)`
    /// (the kernel does not say how many were dropped, only that some were).
    pub fn read_available(&mut self, mut f: impl FnMut(KmsgEvent)) -> io::Result<()> {
        loop {
            match rustix::net::recv(&self.fd, &mut self.buf[..], RecvFlags::DONTWAIT) {
                Ok((n, _)) => for_each_message(&self.buf[..n.min(self.buf.len())], &mut f),
                Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::INTR) => {}
                Err(Errno::NOBUFS) => f(KmsgEvent::Suppressed(1)),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl AsFd for AuditReader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Walks the netlink messages of one datagram.
fn for_each_message(mut data: &[u8], f: &mut impl FnMut(KmsgEvent)) {
    while data.len() >= HEADER {
        let len = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]) as usize;
        let kind = u16::from_ne_bytes([data[4], data[5]]);
        if len < HEADER || len > data.len() {
            return;
        }
        if u32::from(kind) == AUDIT_SECCOMP {
            let text = String::from_utf8_lossy(&data[HEADER..len]);
            if let Some(rec) = parse_seccomp_body(0, text.trim_end_matches('\0')) {
                f(KmsgEvent::Seccomp(rec));
            }
        }
        // NLMSG_ALIGN: messages start on 4-byte boundaries.
        data = &data[len.next_multiple_of(4).min(data.len())..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u32, text: &str) -> Vec<u8> {
        let len = HEADER + text.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&(kind as u16).to_ne_bytes());
        m.extend_from_slice(&[0; 10]);
        m.extend_from_slice(text.as_bytes());
        m.resize(len.next_multiple_of(4), 0);
        m
    }

    #[test]
    fn seccomp_messages_are_parsed_and_others_skipped() {
        let body = "audit(1795918265.173:2832030): auid=0 uid=0 gid=0 ses=7 pid=9033 comm=\"t2\" \
                    exe=\"/bin/t2\" sig=0 arch=c000003e syscall=39 compat=0 ip=0x7f3e7442e829 code=0x7ffc0000";
        let mut data = message(1300, "audit(1.2:3): arch=c000003e syscall=1 success=yes");
        data.extend(message(AUDIT_SECCOMP, body));
        data.extend(message(AUDIT_SECCOMP, "garbage"));
        let mut seen = Vec::new();
        for_each_message(&data, &mut |e| seen.push(e));
        assert_eq!(seen.len(), 1);
        let KmsgEvent::Seccomp(r) = &seen[0] else {
            panic!("{seen:?}")
        };
        assert_eq!(
            (r.pid, r.ses, r.syscall, r.code),
            (9033, 7, 39, 0x7ffc_0000)
        );
    }

    #[test]
    fn truncated_datagrams_stop_cleanly() {
        let data = message(AUDIT_SECCOMP, "audit(1.2:3): pid=1");
        for cut in 0..data.len() {
            for_each_message(&data[..cut], &mut |_| {});
        }
    }
}
