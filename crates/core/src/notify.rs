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
    /// A ticket was opened; whoever is to work it hears it.
    New,
    /// A due time is near: the last quarter of the span from opening to due has begun.
    SlaWarning,
    /// A due time passed without the target being met.
    SlaBreach,
}

impl TicketMailKind {
    /// The outbox's `kind` for this mail.
    pub const fn as_str(self) -> &'static str {
        match self {
            TicketMailKind::Assigned => "ticket_assigned",
            TicketMailKind::Reply => "ticket_reply",
            TicketMailKind::New => "ticket_new",
            TicketMailKind::SlaWarning => "ticket_sla_warning",
            TicketMailKind::SlaBreach => "ticket_sla_breach",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ticket_assigned" => Some(TicketMailKind::Assigned),
            "ticket_reply" => Some(TicketMailKind::Reply),
            "ticket_new" => Some(TicketMailKind::New),
            "ticket_sla_warning" => Some(TicketMailKind::SlaWarning),
            "ticket_sla_breach" => Some(TicketMailKind::SlaBreach),
            _ => None,
        }
    }
}

/// Which of a ticket's two promises an SLA mail is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueTarget {
    /// The first response to the requester.
    Response,
    /// The ticket resolved.
    Resolution,
}

impl DueTarget {
    pub const ALL: [DueTarget; 2] = [DueTarget::Response, DueTarget::Resolution];

    /// The name kept in storage (`sla_notices.target`) and in catalogue keys.
    pub const fn as_str(self) -> &'static str {
        match self {
            DueTarget::Response => "response",
            DueTarget::Resolution => "resolution",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "response" => Some(DueTarget::Response),
            "resolution" => Some(DueTarget::Resolution),
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
    /// The reply's text, or a new ticket's description; empty for an assignment.
    pub body: String,
    pub at: i64,
    pub time_zone: String,
    /// For SLA mail: the promise that is near or missed. Defaulted so mail queued before
    /// SLA mail existed still reads.
    #[serde(default)]
    pub target: Option<DueTarget>,
    /// For SLA mail: the due instant the mail is about (milliseconds since the epoch).
    #[serde(default)]
    pub due_at: Option<i64>,
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
    fn new_and_sla_kinds_round_trip() {
        let kinds = [
            (TicketMailKind::New, "ticket_new"),
            (TicketMailKind::SlaWarning, "ticket_sla_warning"),
            (TicketMailKind::SlaBreach, "ticket_sla_breach"),
        ];
        for (kind, text) in kinds {
            assert_eq!(kind.as_str(), text);
            assert_eq!(TicketMailKind::parse(text), Some(kind));
            // The outbox keeps the kind inside the event as well; serde must agree.
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", &text["ticket_".len()..]));
            assert_eq!(serde_json::from_str::<TicketMailKind>(&json).unwrap(), kind);
        }
        for target in DueTarget::ALL {
            assert_eq!(DueTarget::parse(target.as_str()), Some(target));
        }
        assert_eq!(DueTarget::parse("first_response"), None);
    }

    #[test]
    fn mail_queued_before_sla_fields_still_reads() {
        let old = r#"{"kind":"assigned","ticket_id":"t","number":1042,"title":"Skriver","municipality":"Fjordvik","actor":"Mari","body":"","at":1782900000000,"time_zone":"Europe/Oslo"}"#;
        let mail: TicketMail = serde_json::from_str(old).unwrap();
        assert_eq!((mail.target, mail.due_at), (None, None));
        let sla = TicketMail {
            kind: TicketMailKind::SlaBreach,
            target: Some(DueTarget::Resolution),
            due_at: Some(1_782_903_600_000),
            ..mail
        };
        let back: TicketMail = serde_json::from_str(&serde_json::to_string(&sla).unwrap()).unwrap();
        assert_eq!(back, sla);
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
