//! The audit log's hash chain.
//!
//! Each entry's hash covers its own fields and the previous entry's hash, so changing,
//! removing or reordering any stored row breaks every hash after it, and
//! `drifta audit verify` can name the first row that no longer fits.

use crate::ids::{TenantId, UserId};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the very first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored audit entry, exactly as it sits in the table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub id: String,
    /// Milliseconds since the Unix epoch, UTC.
    pub at: i64,
    pub actor_id: Option<UserId>,
    pub actor_name: String,
    pub tenant_id: Option<TenantId>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// JSON text of the object before the change, when there was one.
    pub before: Option<String>,
    /// JSON text of the object after the change, when there is one.
    pub after: Option<String>,
    pub ip: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry must carry, given its fields and `prev_hash`.
    pub fn compute_hash(&self) -> String {
        // A JSON array gives an unambiguous encoding: no field can bleed into the next.
        let fields = serde_json::json!([
            self.seq,
            self.id,
            self.at,
            self.actor_id.as_ref().map(|u| u.as_str()),
            self.actor_name,
            self.tenant_id.as_ref().map(|t| t.as_str()),
            self.action,
            self.object_type,
            self.object_id,
            self.before,
            self.after,
            self.ip,
        ]);
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(fields.to_string().as_bytes());
        hex::encode(hasher.finalize())
    }

    /// Fills in `prev_hash` and `hash` to follow `head`.
    pub fn seal(mut self, head: &ChainHead) -> Self {
        self.seq = head.seq + 1;
        self.prev_hash = head.hash.clone();
        self.hash = self.compute_hash();
        self
    }
}

/// The last entry's position, kept beside the log so appends need not scan it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl ChainHead {
    pub fn genesis() -> Self {
        ChainHead {
            seq: 0,
            hash: GENESIS_HASH.to_string(),
        }
    }
}

/// Why the chain does not verify, naming the first row at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("audit entry {seq}: its contents do not match its hash (the row was changed)")]
    Tampered { seq: i64 },
    #[error(
        "audit entry {seq}: expected sequence number {expected} (a row is missing or was inserted)"
    )]
    Gap { seq: i64, expected: i64 },
    #[error(
        "audit entry {seq}: it does not follow the entry before it (rows were changed or reordered)"
    )]
    Unlinked { seq: i64 },
    #[error(
        "the audit log ends at entry {found} but its head says {expected} (rows were removed from the end)"
    )]
    Truncated { found: i64, expected: i64 },
}

/// Checks entries one by one in sequence order, so a log of millions never sits in memory.
#[derive(Debug)]
pub struct ChainVerifier {
    last: ChainHead,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            last: ChainHead::genesis(),
        }
    }
}

impl ChainVerifier {
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), ChainBreak> {
        let expected = self.last.seq + 1;
        if entry.seq != expected {
            return Err(ChainBreak::Gap {
                seq: entry.seq,
                expected,
            });
        }
        if entry.prev_hash != self.last.hash {
            return Err(ChainBreak::Unlinked { seq: entry.seq });
        }
        if entry.compute_hash() != entry.hash {
            return Err(ChainBreak::Tampered { seq: entry.seq });
        }
        self.last = ChainHead {
            seq: entry.seq,
            hash: entry.hash.clone(),
        };
        Ok(())
    }

    /// Compares the end of the walk with the stored head; returns how many entries verified.
    pub fn finish(self, head: &ChainHead) -> Result<i64, ChainBreak> {
        if self.last != *head {
            return Err(ChainBreak::Truncated {
                found: self.last.seq,
                expected: head.seq,
            });
        }
        Ok(self.last.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(n: i64) -> AuditEntry {
        AuditEntry {
            seq: 0,
            id: format!("id-{n}"),
            at: 1_700_000_000_000 + n,
            actor_id: None,
            actor_name: "test".into(),
            tenant_id: None,
            action: "update".into(),
            object_type: "user".into(),
            object_id: format!("obj-{n}"),
            before: Some(format!("{{\"n\":{n}}}")),
            after: Some(format!("{{\"n\":{}}}", n + 1)),
            ip: String::new(),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn chain(n: i64) -> (Vec<AuditEntry>, ChainHead) {
        let mut head = ChainHead::genesis();
        let mut out = Vec::new();
        for i in 0..n {
            let e = entry(i).seal(&head);
            head = ChainHead {
                seq: e.seq,
                hash: e.hash.clone(),
            };
            out.push(e);
        }
        (out, head)
    }

    fn verify(entries: &[AuditEntry], head: &ChainHead) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.check(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let (entries, head) = chain(5);
        assert_eq!(verify(&entries, &head), Ok(5));
        assert_eq!(verify(&[], &ChainHead::genesis()), Ok(0));
    }

    #[test]
    fn a_removed_tail_is_found() {
        let (entries, head) = chain(5);
        assert_eq!(
            verify(&entries[..4], &head),
            Err(ChainBreak::Truncated {
                found: 4,
                expected: 5
            })
        );
    }

    #[test]
    fn a_removed_middle_row_is_found() {
        let (mut entries, head) = chain(5);
        entries.remove(2);
        assert_eq!(
            verify(&entries, &head),
            Err(ChainBreak::Gap {
                seq: 4,
                expected: 3
            })
        );
    }

    proptest! {
        #[test]
        fn any_single_field_change_is_detected(n in 2i64..8, victim in 0usize..8, field in 0usize..6, text in "[a-z]{1,8}") {
            let (mut entries, head) = chain(n);
            let victim = victim % entries.len();
            let e = &mut entries[victim];
            match field {
                0 => e.actor_name.push_str(&text),
                1 => e.action.push_str(&text),
                2 => e.object_id.push_str(&text),
                3 => e.after = Some(text.clone()),
                4 => e.at += 1,
                _ => e.tenant_id = Some(TenantId::generate()),
            }
            prop_assert_eq!(verify(&entries, &head), Err(ChainBreak::Tampered { seq: victim as i64 + 1 }));
        }

        #[test]
        fn a_rehashed_row_breaks_the_link_after_it(n in 3i64..8, victim in 0usize..6) {
            // An attacker who recomputes the changed row's own hash is still caught by the next row.
            let (mut entries, head) = chain(n);
            let victim = victim % (entries.len() - 1);
            entries[victim].action = "forged".into();
            entries[victim].hash = entries[victim].compute_hash();
            prop_assert_eq!(verify(&entries, &head), Err(ChainBreak::Unlinked { seq: victim as i64 + 2 }));
        }
    }
}
