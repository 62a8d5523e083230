use std::fmt;

/// A node's name in a cluster (`--node-id`): what `__Host-ts_node` carries
/// and what the load balancer routes by, so it is kept to a cookie- and
/// nginx-safe alphabet.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NodeId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a node ID is 1 to 32 characters: lower-case letters, digits and '-', starting with a letter or digit")]
pub struct NodeIdError;

impl NodeId {
    pub fn parse(text: &str) -> Result<Self, NodeIdError> {
        let ok = (1..=32).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-');
        if ok { Ok(Self(text.to_owned())) } else { Err(NodeIdError) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_stay_within_a_cookie_and_nginx_safe_alphabet() {
        for good in ["node1", "a", "eu-west-3", "0"] {
            assert!(NodeId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", "Node1", "a b", "n;x=1", "n\u{e9}", &"n".repeat(33)] {
            assert!(NodeId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
