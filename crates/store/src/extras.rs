//! Tags and attachments on tickets.

use crate::audit::Change;
use crate::db::{Store, Tx};
use crate::error::StoreError;
use crate::sql::Sql;
use crate::tickets::Ticket;
use drifta_core::validate::FieldError;
use drifta_core::{Permission, Scope, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Largest attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// What may be attached: screenshots, PDFs, office documents, plain text and logs. The type
/// is read from the bytes, never taken from the browser or the file name.
const ALLOWED: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/zip",
];

#[derive(Clone, Debug, Serialize)]
pub struct Attachment {
    pub id: String,
    pub ticket_id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: i64,
    pub uploaded_by: String,
}

/// A tag: 1–40 characters of letters, digits, dash and underscore, lower-cased.
pub fn normalise_tag(input: &str) -> Result<String, FieldError> {
    let tag = input.trim().to_lowercase().replace(' ', "-");
    let ok = (1..=40).contains(&tag.chars().count())
        && tag
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(tag)
    } else {
        Err(FieldError::new(
            "tag",
            "tag-invalid",
            "must be 1 to 40 letters, digits, dashes or underscores",
        ))
    }
}

/// The content type of an upload, judged from its bytes; `None` when not allowed.
pub fn sniff_content_type(bytes: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes) {
        let mime = kind.mime_type();
        return ALLOWED.iter().find(|a| **a == mime).copied();
    }
    // Plain text (logs, configs) has no magic number: accept valid UTF-8 without NULs.
    if std::str::from_utf8(bytes).is_ok_and(|t| !t.contains('\0')) {
        return Some("text/plain; charset=utf-8");
    }
    None
}

/// A file name safe to store and to send back in a header: no paths, no control characters.
pub(crate) fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "vedlegg".to_string()
    } else {
        cleaned
    }
}

impl Store {
    pub(crate) async fn fill_tags(&self, tickets: &mut [Ticket]) -> Result<(), StoreError> {
        if tickets.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = tickets.iter().map(|t| t.id.clone()).collect();
        let rows: Vec<(String, String)> = self
            .fetch_all(
                Sql::new("SELECT ticket_id, tag FROM ticket_tags WHERE ")
                    .push_in("ticket_id", ids)
                    .push(" ORDER BY tag"),
            )
            .await?;
        for t in tickets.iter_mut() {
            t.tags = rows
                .iter()
                .filter(|(id, _)| *id == t.id)
                .map(|(_, tag)| tag.clone())
                .collect();
        }
        Ok(())
    }

    /// Adds a tag (idempotent). Technicians only.
    pub async fn add_tag(
        &self,
        scope: &Scope,
        ticket_id: &str,
        tag: &str,
    ) -> Result<(), StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        scope.require(&ticket.tenant_id, Permission::Operate)?;
        let tag = normalise_tag(tag)?;
        if ticket.tags.contains(&tag) {
            return Ok(());
        }
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        tx.execute(
            Sql::new("INSERT INTO ticket_tags (tenant_id, ticket_id, tag) VALUES ($1, $2, $3)")
                .arg(ticket.tenant_id.as_str())
                .arg(ticket.id.as_str())
                .arg(tag.as_str()),
        )
        .await?;
        tx.audit(
            scope.actor(),
            now,
            Change {
                tenant: Some(&ticket.tenant_id),
                action: "tag",
                object_type: "ticket",
                object_id: &ticket.id,
                before: None,
                after: Some(serde_json::json!({ "number": ticket.number, "tag": tag })),
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn remove_tag(
        &self,
        scope: &Scope,
        ticket_id: &str,
        tag: &str,
    ) -> Result<(), StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        scope.require(&ticket.tenant_id, Permission::Operate)?;
        let now = self.now_ms();
        let mut tx = self.begin().await?;
        let removed = tx
            .execute(
                Sql::new(
                    "DELETE FROM ticket_tags WHERE tenant_id = $1 AND ticket_id = $2 AND tag = $3",
                )
                .arg(ticket.tenant_id.as_str())
                .arg(ticket.id.as_str())
                .arg(tag),
            )
            .await?;
        if removed > 0 {
            tx.audit(
                scope.actor(),
                now,
                Change {
                    tenant: Some(&ticket.tenant_id),
                    action: "untag",
                    object_type: "ticket",
                    object_id: &ticket.id,
                    before: Some(serde_json::json!({ "number": ticket.number, "tag": tag })),
                    after: None,
                },
            )
            .await?;
        }
        tx.commit().await
    }

    /// Stores an attachment on a ticket. Technicians, or the requester on their own ticket.
    pub async fn add_attachment(
        &self,
        scope: &Scope,
        ticket_id: &str,
        filename: &str,
        bytes: &[u8],
    ) -> Result<Attachment, StoreError> {
        let ticket = self.get_ticket(scope, ticket_id).await?;
        let own = ticket.requester_id.as_ref() == scope.user_id()
            && scope.can(&ticket.tenant_id, Permission::Request);
        if !own {
            scope.require(&ticket.tenant_id, Permission::Operate)?;
        }
        if bytes.is_empty() {
            return Err(StoreError::Invalid(FieldError::new(
                "file",
                "file-empty",
                "the file is empty",
            )));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(StoreError::Invalid(FieldError::new(
                "file",
                "file-too-large",
                "files may be at most 10 MB",
            )));
        }
        let content_type = sniff_content_type(bytes).ok_or_else(|| {
            StoreError::Invalid(FieldError::new(
                "file",
                "file-type",
                "only pictures, PDF, office documents, zip and text files may be attached",
            ))
        })?;
        let sha = hex::encode(Sha256::digest(bytes));
        let attachment = Attachment {
            id: UserId::generate().to_string(),
            ticket_id: ticket.id.clone(),
            filename: clean_filename(filename),
            content_type: content_type.to_string(),
            size: bytes.len() as i64,
            uploaded_at: self.now_ms(),
            uploaded_by: scope.actor().name.clone(),
        };
        let mut tx = self.begin().await?;
        tx.store_blob(&sha, bytes).await?;
        tx.execute(
            Sql::new("INSERT INTO attachments (tenant_id, id, ticket_id, filename, content_type, size, sha256, uploaded_at, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .arg(ticket.tenant_id.as_str())
                .arg(attachment.id.as_str())
                .arg(ticket.id.as_str())
                .arg(attachment.filename.as_str())
                .arg(attachment.content_type.as_str())
                .arg(attachment.size)
                .arg(sha.as_str())
                .arg(attachment.uploaded_at)
                .arg(attachment.uploaded_by.as_str()),
        )
        .await?;
        tx.audit(scope.actor(), attachment.uploaded_at, Change {
            tenant: Some(&ticket.tenant_id),
            action: "attach",
            object_type: "ticket",
            object_id: &ticket.id,
            before: None,
            after: Some(serde_json::json!({ "number": ticket.number, "file": attachment.filename, "size": attachment.size, "sha256": sha })),
        })
        .await?;
        tx.commit().await?;
        Ok(attachment)
    }

    pub async fn list_attachments(
        &self,
        scope: &Scope,
        ticket: &Ticket,
    ) -> Result<Vec<Attachment>, StoreError> {
        // get_ticket already decided the scope may read this ticket.
        self.get_ticket(scope, &ticket.id).await?;
        type Row = (String, String, String, String, i64, i64, String);
        Ok(self
            .fetch_all::<Row>(
                Sql::new("SELECT id, ticket_id, filename, content_type, size, uploaded_at, uploaded_by FROM attachments WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY uploaded_at")
                    .arg(ticket.tenant_id.as_str())
                    .arg(ticket.id.as_str()),
            )
            .await?
            .into_iter()
            .map(|r| Attachment { id: r.0, ticket_id: r.1, filename: r.2, content_type: r.3, size: r.4, uploaded_at: r.5, uploaded_by: r.6 })
            .collect())
    }

    /// An attachment and its bytes, if the scope may read its ticket.
    pub async fn get_attachment(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<(Attachment, Vec<u8>), StoreError> {
        type Row = (String, String, String, String, i64, i64, String, String);
        let row: Row = self
            .fetch_optional(
                Sql::new("SELECT id, ticket_id, filename, content_type, size, uploaded_at, uploaded_by, sha256 FROM attachments WHERE id = $1")
                    .arg(id),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        self.get_ticket(scope, &row.1).await?;
        let (data,): (Vec<u8>,) = self
            .fetch_optional(
                Sql::new("SELECT data FROM attachment_blobs WHERE sha256 = $1").arg(row.7.as_str()),
            )
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok((
            Attachment {
                id: row.0,
                ticket_id: row.1,
                filename: row.2,
                content_type: row.3,
                size: row.4,
                uploaded_at: row.5,
                uploaded_by: row.6,
            },
            data,
        ))
    }
}

impl Tx {
    /// Keeps bytes once, by their SHA-256, outside the rows that refer to them (attachments,
    /// mail kept aside).
    pub(crate) async fn store_blob(&mut self, sha: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let known: Option<(String,)> = self
            .fetch_optional(
                Sql::new("SELECT sha256 FROM attachment_blobs WHERE sha256 = $1").arg(sha),
            )
            .await?;
        if known.is_none() {
            self.execute(
                Sql::new("INSERT INTO attachment_blobs (sha256, data) VALUES ($1, $2)")
                    .arg(sha)
                    .arg(bytes.to_vec()),
            )
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(normalise_tag(" PC Utskifting ").unwrap(), "pc-utskifting");
        assert_eq!(normalise_tag("ærlig_øl").unwrap(), "ærlig_øl");
        assert!(normalise_tag("").is_err());
        assert!(normalise_tag("a;b").is_err());
        assert!(normalise_tag(&"x".repeat(41)).is_err());
    }

    #[test]
    fn types_come_from_the_bytes() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
        assert_eq!(sniff_content_type(&png), Some("image/png"));
        assert_eq!(
            sniff_content_type(b"%PDF-1.7\n..."),
            Some("application/pdf")
        );
        assert_eq!(
            sniff_content_type("feilmelding: ÆØÅ".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            sniff_content_type(b"MZ\x90\x00\x03\x00\x00\x00"),
            None,
            "executables are refused"
        );
        assert_eq!(sniff_content_type(&[0xff, 0xfe, 0x00, 0x01]), None);
    }

    #[test]
    fn file_names_lose_paths_and_controls() {
        assert_eq!(clean_filename("C:\\Users\\kari\\skjerm.png"), "skjerm.png");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\"b\nc.txt"), "abc.txt");
        assert_eq!(clean_filename(".."), "vedlegg");
        assert_eq!(clean_filename(""), "vedlegg");
    }
}
