//! Mail about tickets: what a notification says (before it is rendered into someone's
//! language), the ticket reference in its subject, and the Message-IDs that make every
//! mail about one ticket one thread in the recipient's mail program.

use serde::{Deserialize, Serialize};

/// Why someone gets mail about a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketMailKind {
    /// The ticket was given to the recipient.
    Assigned,
    /// Someone answered publicly; the requester and watchers hear it.
    Reply,
}

impl TicketMailKind {
    /// The outbox's `kind` for this mail.
    pub const fn as_str(self) -> &'static str {
        match self {
            TicketMailKind::Assigned => "ticket_assigned",
            TicketMailKind::Reply => "ticket_reply",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ticket_assigned" => Some(TicketMailKind::Assigned),
            "ticket_reply" => Some(TicketMailKind::Reply),
            _ => None,
        }
    }
}

/// A ticket notification as the outbox keeps it until it is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketMail {
    pub kind: TicketMailKind,
    pub ticket_id: String,
    pub number: i64,
    pub title: String,
    pub municipality: String,
    /// Who did it (the assigner, the one who replied).
    pub actor: String,
    /// The reply's text; empty for an assignment.
    pub body: String,
    pub at: i64,
    pub time_zone: String,
}

/// The reference people and mail filters recognise in a subject: `[#1234]`.
pub fn ticket_reference(number: i64) -> String {
    format!("[#{number}]")
}

/// The Message-ID every mail about the ticket refers to (`In-Reply-To`, `References`), so
/// mail programs show them as one conversation. Never sent as a message itself.
pub fn thread_root(ticket_id: &str, domain: &str) -> String {
    format!("<ticket.{ticket_id}@{domain}>")
}

/// The domain of a sender such as `Drifta <drift@provider.no>`, for Message-IDs.
pub fn sender_domain(from: &str) -> &str {
    let address = from
        .rsplit_once('<')
        .map_or(from, |(_, a)| a.trim_end_matches('>'));
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim())
        .filter(|d| !d.is_empty())
        .unwrap_or("drifta.invalid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in [TicketMailKind::Assigned, TicketMailKind::Reply] {
            assert_eq!(TicketMailKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TicketMailKind::parse("problem"), None);
    }

    #[test]
    fn references_and_thread_ids() {
        assert_eq!(ticket_reference(1234), "[#1234]");
        assert_eq!(
            thread_root("01a2", sender_domain("Drifta <drift@nordkyst.no>")),
            "<ticket.01a2@nordkyst.no>"
        );
        assert_eq!(
            sender_domain("drift@fjordvik.kommune.no"),
            "fjordvik.kommune.no"
        );
        assert_eq!(sender_domain("no address"), "drifta.invalid");
        assert_eq!(sender_domain("x@"), "drifta.invalid");
    }
}
