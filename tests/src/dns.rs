//! Just enough DNS over UDP to ask challtestsrv what it serves: one question, answers
//! of type A or TXT read back, anything malformed refused.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::HarnessError;
use crate::ports::loopback;

pub(crate) const TYPE_A: u16 = 1;
pub(crate) const TYPE_TXT: u16 = 16;

/// The rdata of each answer of type `qtype` to a question for `name` sent to `server`.
pub(crate) fn query(
    server: SocketAddr,
    name: &str,
    qtype: u16,
    limit: Duration,
) -> Result<Vec<Vec<u8>>, HarnessError> {
    let what = || format!("DNS query for {name} (type {qtype}) to {server}");
    let socket =
        UdpSocket::bind(loopback(0)).map_err(HarnessError::io("cannot bind a UDP socket"))?;
    let id = query_id();
    let packet = encode_query(id, name, qtype)
        .ok_or_else(|| HarnessError::request(what(), "the name is not a valid DNS name"))?;
    socket
        .send_to(&packet, server)
        .map_err(|e| HarnessError::request(what(), e))?;
    let start = Instant::now();
    let mut buf = [0_u8; 4096];
    loop {
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(HarnessError::Hung {
                what: what(),
                waited: limit,
                log_tail: String::from("(see challtestsrv's log)"),
            });
        }
        socket
            .set_read_timeout(Some(left))
            .map_err(HarnessError::io("cannot set a UDP read timeout"))?;
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        if from != server {
            continue;
        }
        let reply = buf.get(..len).unwrap_or_default();
        if reply.get(..2) != Some(&id.to_be_bytes()[..]) {
            continue;
        }
        return decode_answers(reply, qtype)
            .ok_or_else(|| HarnessError::request(what(), "malformed or failed DNS reply"));
    }
}

/// The TXT strings of each TXT record, joined per record.
pub(crate) fn txt_values(rdatas: Vec<Vec<u8>>) -> Vec<String> {
    rdatas
        .into_iter()
        .map(|rdata| {
            let mut value = Vec::new();
            let mut rest = rdata.as_slice();
            while let Some((&len, tail)) = rest.split_first() {
                let chunk = tail.get(..usize::from(len)).unwrap_or(tail);
                value.extend_from_slice(chunk);
                rest = tail.get(usize::from(len)..).unwrap_or_default();
            }
            String::from_utf8_lossy(&value).into_owned()
        })
        .collect()
}

pub(crate) fn a_values(rdatas: Vec<Vec<u8>>) -> Vec<Ipv4Addr> {
    rdatas
        .into_iter()
        .filter_map(|rdata| <[u8; 4]>::try_from(rdata.as_slice()).ok())
        .map(Ipv4Addr::from)
        .collect()
}

fn query_id() -> u16 {
    // Not for security: only to match the reply to the question.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (nanos ^ std::process::id()) as u16
}

fn encode_query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let mut packet = Vec::with_capacity(64);
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD; one question
    for label in name.trim_end_matches('.').split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|&l| (1..=63).contains(&l))?;
        packet.push(len);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&qtype.to_be_bytes());
    packet.extend_from_slice(&1_u16.to_be_bytes()); // class IN
    Some(packet)
}

fn decode_answers(reply: &[u8], qtype: u16) -> Option<Vec<Vec<u8>>> {
    let header = reply.get(..12)?;
    let flags = u16::from_be_bytes([*header.get(2)?, *header.get(3)?]);
    let is_reply = flags & 0x8000 != 0;
    let rcode = flags & 0x000f;
    // NXDOMAIN is an empty answer, not an error.
    if !is_reply || !(rcode == 0 || rcode == 3) {
        return None;
    }
    let questions = u16::from_be_bytes([*header.get(4)?, *header.get(5)?]);
    let answers = u16::from_be_bytes([*header.get(6)?, *header.get(7)?]);
    let mut at = 12;
    for _ in 0..questions {
        at = skip_name(reply, at)?.checked_add(4)?;
    }
    let mut found = Vec::new();
    for _ in 0..answers {
        at = skip_name(reply, at)?;
        let fixed = reply.get(at..at.checked_add(10)?)?;
        let rtype = u16::from_be_bytes([*fixed.first()?, *fixed.get(1)?]);
        let rdlen = usize::from(u16::from_be_bytes([*fixed.get(8)?, *fixed.get(9)?]));
        at = at.checked_add(10)?;
        let rdata = reply.get(at..at.checked_add(rdlen)?)?;
        at = at.checked_add(rdlen)?;
        if rtype == qtype {
            found.push(rdata.to_vec());
        }
    }
    Some(found)
}

/// The offset after the name at `at`: labels, ended by a zero byte or a pointer.
fn skip_name(packet: &[u8], mut at: usize) -> Option<usize> {
    // A name has at most 127 labels; the bound keeps a hostile packet from looping.
    for _ in 0..128 {
        let len = *packet.get(at)?;
        match len {
            0 => return at.checked_add(1),
            l if l & 0xc0 == 0xc0 => return at.checked_add(2),
            l => at = at.checked_add(usize::from(l) + 1)?,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_encoded_as_rfc_1035_says() {
        let packet = encode_query(0x1234, "_acme-challenge.example.com.", TYPE_TXT);
        let mut expected = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 15];
        expected.extend_from_slice(b"_acme-challenge\x07example\x03com\x00\x00\x10\x00\x01");
        assert_eq!(packet, Some(expected));
        assert_eq!(encode_query(1, "a..b", TYPE_A), None);
    }

    #[test]
    fn answers_behind_a_compressed_name_are_read() {
        let mut reply = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        reply.extend_from_slice(b"\x01x\x00\x00\x10\x00\x01");
        reply.extend_from_slice(&[0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 5]);
        reply.extend_from_slice(b"\x02ab\x01c");
        let answers = decode_answers(&reply, TYPE_TXT);
        assert_eq!(answers.map(txt_values), Some(vec!["abc".to_owned()]));
        assert_eq!(
            decode_answers(reply.get(..20).unwrap_or_default(), TYPE_TXT),
            None
        );
    }
}
