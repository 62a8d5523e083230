//! The bus's frame: `kind | topic | from-length | from | nonce (8, big-endian) | payload`.

use tessera_cluster::Topic;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Message,
    Confirmed,
    Ack,
    Heartbeat,
    Epoch,
}

impl Kind {
    const fn byte(self) -> u8 {
        match self {
            Kind::Message => b'M',
            Kind::Confirmed => b'C',
            Kind::Ack => b'A',
            Kind::Heartbeat => b'H',
            Kind::Epoch => b'E',
        }
    }

    fn from_byte(b: u8) -> Option<Kind> {
        [Kind::Message, Kind::Confirmed, Kind::Ack, Kind::Heartbeat, Kind::Epoch].into_iter().find(|k| k.byte() == b)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    pub kind: Kind,
    pub topic: Option<Topic>,
    pub from: &'a str,
    pub nonce: u64,
    pub payload: &'a [u8],
}

fn topic_byte(topic: Option<Topic>) -> u8 {
    topic.and_then(|t| Topic::ALL.iter().position(|&x| x == t)).map_or(u8::MAX, |i| i as u8)
}

impl<'a> Frame<'a> {
    pub fn encode(&self) -> Vec<u8> {
        let from = &self.from.as_bytes()[..self.from.len().min(255)];
        let mut out = Vec::with_capacity(11 + from.len() + self.payload.len());
        out.extend_from_slice(&[self.kind.byte(), topic_byte(self.topic), from.len() as u8]);
        out.extend_from_slice(from);
        out.extend_from_slice(&self.nonce.to_be_bytes());
        out.extend_from_slice(self.payload);
        out
    }

    /// `None` for anything malformed (another program on the channel, a newer version).
    pub fn decode(bytes: &'a [u8]) -> Option<Frame<'a>> {
        let (&[kind, topic, len], rest) = bytes.split_first_chunk::<3>()?;
        let kind = Kind::from_byte(kind)?;
        let topic = Topic::ALL.get(usize::from(topic)).copied();
        let (from, rest) = rest.split_at_checked(usize::from(len))?;
        let (nonce, payload) = rest.split_first_chunk::<8>()?;
        Some(Frame { kind, topic, from: std::str::from_utf8(from).ok()?, nonce: u64::from_be_bytes(*nonce), payload })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_garbage_is_ignored() {
        let frame =
            Frame { kind: Kind::Confirmed, topic: Some(Topic::Sessions), from: "node2", nonce: 42, payload: b"xyz" };
        assert_eq!(Frame::decode(&frame.encode()), Some(frame));
        let ack = Frame { kind: Kind::Ack, topic: None, from: "n", nonce: 7, payload: b"node2" };
        assert_eq!(Frame::decode(&ack.encode()), Some(ack));
        for garbage in [&b""[..], b"M", b"Z\x00\x00........", b"M\x00\x09short", b"M\x00\x01\xff12345678"] {
            assert_eq!(Frame::decode(garbage), None, "{garbage:?}");
        }
    }
}
