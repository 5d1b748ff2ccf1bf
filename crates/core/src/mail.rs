//! Incoming e-mail read into what a ticket needs: who wrote, about what, in which thread,
//! with which files, and whether it is noise that must never open or answer a ticket.
//!
//! Pure: bytes in, values out. The MIME work is mail-parser 0.11's (see
//! docs/email-channel.md); this module decides what to keep and makes every field safe to
//! store and show (no control characters, bounded lengths).

use std::borrow::Cow;
use std::sync::LazyLock;

use mail_parser::decoders::html::html_to_text;
use mail_parser::{Encoding, HeaderName, HeaderValue, Message, MessageParser, MessagePart};
use mail_parser::{MimeHeaders, PartType};
use sha2::{Digest, Sha256};

/// Limits for one incoming message.
#[derive(Clone, Debug)]
pub struct MailLimits {
    /// Larger raw input is refused with [`MailError::TooLarge`] before any parsing.
    pub max_message_bytes: usize,
    /// Larger attachments are skipped with [`SkipReason::TooLarge`].
    pub max_attachment_bytes: usize,
    /// Attachments after this many are skipped with [`SkipReason::TooMany`].
    pub max_attachments: usize,
    /// A longer body is cut at a character boundary and ends with `"\n[…]"`.
    pub max_body_chars: usize,
}

impl Default for MailLimits {
    fn default() -> Self {
        MailLimits {
            max_message_bytes: 25 * 1024 * 1024,
            // The same as a ticket attachment uploaded in the browser.
            max_attachment_bytes: 10 * 1024 * 1024,
            max_attachments: 20,
            // A ticket description's limit.
            max_body_chars: 100_000,
        }
    }
}

/// One message, read and cleaned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundMail {
    /// Key for exactly-once: the Message-ID without angle brackets, trimmed, at most 250 chars;
    /// when the message has none (or it is empty), "sha256:" + hex SHA-256 of the raw bytes.
    pub dedup_key: String,
    /// The bare Message-ID ("" when missing), at most 250 chars, no whitespace or control chars.
    pub message_id: String,
    /// Sender address, trimmed and lower-cased; never empty.
    pub from_address: String,
    /// Display name from From (RFC 2047 decoded), one line, at most 250 chars; "" when none.
    pub from_name: String,
    /// Decoded subject, one line, at most 250 chars; "" when missing.
    pub subject: String,
    /// Plain text body: the text/plain part, or the HTML part converted to text when there is
    /// no plain part. No control characters but `\n` and `\t`, trimmed, within
    /// `max_body_chars` (the cut-off mark included).
    pub body: String,
    /// Bare ids from In-Reply-To and References (In-Reply-To first, then References in order),
    /// deduplicated, at most 50.
    pub thread_ids: Vec<String>,
    /// A ticket number written as "[#1234]" in the subject.
    pub ticket_number: Option<i64>,
    pub attachments: Vec<MailAttachment>,
    /// Attachments not kept, at most [`MAX_SKIPPED`] of them.
    pub skipped: Vec<SkippedAttachment>,
    /// Set when the message must not open or reply to a ticket (loop and noise protection).
    pub noise: Option<Noise>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailAttachment {
    /// Decoded (RFC 2047 / 2231), without path or control characters; "attachment" when none.
    pub filename: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedAttachment {
    pub filename: String,
    pub size: usize,
    pub reason: SkipReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    TooLarge,
    TooMany,
    Empty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noise {
    /// Auto-Submitted other than "no" (RFC 3834), X-Auto-Response-Suppress,
    /// X-Autoreply/X-Autorespond, or an out-of-office subject.
    AutoReply,
    /// Precedence: bulk / junk / list, or List-Id / List-Unsubscribe present.
    Bulk,
    /// A delivery status notification: multipart/report, or Return-Path <> together with a
    /// MAILER-DAEMON/postmaster sender, or sender local part mailer-daemon.
    Bounce,
}

impl Noise {
    pub const fn as_str(self) -> &'static str {
        match self {
            Noise::AutoReply => "auto-reply",
            Noise::Bulk => "bulk",
            Noise::Bounce => "bounce",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MailError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error("the message has no usable sender address (From)")]
    NoSender,
    #[error("the message could not be read as MIME")]
    Unreadable,
}

impl MailError {
    pub const fn reason(&self) -> &'static str {
        match self {
            MailError::Empty => "empty",
            MailError::TooLarge { .. } => "too-large",
            MailError::NoSender => "no-sender",
            MailError::Unreadable => "unreadable",
        }
    }
}

/// Enough to tell the ticket what was left out; a crafted message with thousands of tiny
/// parts must not turn into thousands of rows.
pub const MAX_SKIPPED: usize = 100;
const MAX_ID_CHARS: usize = 250;
const MAX_LINE_CHARS: usize = 250;
const MAX_THREAD_IDS: usize = 50;
const MAX_ADDRESS_BYTES: usize = 254;
const MAX_FILENAME_CHARS: usize = 200;
/// validate::display_name's limit, so a title made from a subject is always accepted.
const MAX_TITLE_CHARS: usize = 120;
const CUT_MARK: &str = "\n[…]";

// Building the parser is cheap, but a mailbox drain parses thousands of messages in a row.
static PARSER: LazyLock<MessageParser> = LazyLock::new(MessageParser::default);

/// Parses one raw RFC 5322 message. Never panics.
pub fn parse(raw: &[u8], limits: &MailLimits) -> Result<InboundMail, MailError> {
    if raw.is_empty() {
        return Err(MailError::Empty);
    }
    if raw.len() > limits.max_message_bytes {
        return Err(MailError::TooLarge {
            size: raw.len(),
            limit: limits.max_message_bytes,
        });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::Empty);
    }
    // mail-parser has debug assertions that crafted MIME trips (pitfall 1 in
    // docs/email-channel.md); one bad message must cost a rejection, not the mailbox worker.
    std::panic::catch_unwind(|| read(raw, limits)).unwrap_or(Err(MailError::Unreadable))
}

fn read(raw: &[u8], limits: &MailLimits) -> Result<InboundMail, MailError> {
    let msg = PARSER.parse(raw).ok_or(MailError::Unreadable)?;
    let (from_address, from_name) = sender(&msg).ok_or(MailError::NoSender)?;
    let message_id = message_id(&msg);
    let dedup_key = if message_id.is_empty() {
        format!("sha256:{}", hex::encode(Sha256::digest(raw)))
    } else {
        message_id.clone()
    };
    let raw_subject = msg.subject().unwrap_or("");
    let subject = one_line(raw_subject, MAX_LINE_CHARS);
    let (attachments, skipped) = attachments(&msg, limits);
    Ok(InboundMail {
        noise: noise(&msg, &from_address, &subject),
        dedup_key,
        message_id,
        from_address,
        from_name,
        // From the decoded subject, not the shortened one, so a reference at the end of a
        // long subject still counts.
        ticket_number: ticket_number_in_subject(raw_subject),
        subject,
        body: body(&msg, limits.max_body_chars),
        thread_ids: thread_ids(&msg),
        attachments,
        skipped,
    })
}

/// "[#1234]" anywhere in a subject -> Some(1234). The first reference that is a positive
/// number fitting i64 wins.
pub fn ticket_number_in_subject(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        rest = &rest[start + 2..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0
            && rest[digits..].starts_with(']')
            && let Ok(number) = rest[..digits].parse::<i64>()
            && number > 0
        {
            return Some(number);
        }
    }
    None
}

/// A ticket title from a subject: leading reply/forward prefixes (en/nb/da/de/sv) and "[#N]"
/// references removed, one line, at most 120 characters; "" stays "".
pub fn title_from_subject(subject: &str) -> String {
    let line = one_line(subject, usize::MAX);
    let mut rest = line.as_str();
    while let Some(after) = strip_reply_prefix(rest).or_else(|| strip_reference(rest)) {
        rest = after.trim_start();
    }
    // A reference further on ("Printer [#12]") is the system's, not the requester's words.
    let mut title = String::with_capacity(rest.len());
    let mut tail = rest;
    while let Some(start) = tail.find("[#") {
        title.push_str(&tail[..start]);
        tail = &tail[start..];
        match strip_reference(tail) {
            Some(after) => tail = after,
            None => {
                title.push_str("[#");
                tail = &tail[2..];
            }
        }
    }
    title.push_str(tail);
    one_line(&title, MAX_TITLE_CHARS)
}

/// "Re:", "SV:", "Fwd[2]:", "AW (3):" and the like at the start of `text`; the rest after the colon.
fn strip_reply_prefix(text: &str) -> Option<&str> {
    // Reply: Re (en), Sv (nb/da/sv), Aw (de). Forward: Fw/Fwd (en), Vs (nb/da), Vb (sv), Wg (de).
    const PREFIXES: [&str; 8] = ["re", "sv", "aw", "fwd", "fw", "vs", "vb", "wg"];
    let word = PREFIXES.iter().find(|p| {
        text.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    })?;
    let mut rest = text[word.len()..].trim_start();
    // Some clients count the replies: "Re[2]:", "AW(3):".
    for (open, close) in [('[', ']'), ('(', ')')] {
        if let Some(inner) = rest.strip_prefix(open)
            && let Some(end) = inner.find(close)
            && end > 0
            && inner[..end].bytes().all(|b| b.is_ascii_digit())
        {
            rest = inner[end + 1..].trim_start();
        }
    }
    rest.strip_prefix(':')
        .or_else(|| rest.strip_prefix('：'))
        .map(str::trim_start)
}

/// A "[#digits]" at the start of `text`; the rest after it.
fn strip_reference(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("[#")?;
    let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then_some(())?;
    inner[digits..].strip_prefix(']')
}

/// One line for display: whitespace runs become one space, control characters and the
/// invisible characters used to disguise text (bidi overrides, BOM) go, at most `max` chars.
fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_mul(4)));
    let mut chars = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_invisible(c) {
            continue;
        }
        if pending_space {
            if chars + 1 >= max {
                break;
            }
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        if chars >= max {
            break;
        }
        out.push(c);
        chars += 1;
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// The first usable From address, lower-cased, with its display name.
fn sender(msg: &Message<'_>) -> Option<(String, String)> {
    msg.from()?.iter().find_map(|addr| {
        let address = clean_address(addr.address.as_deref()?)?;
        let name = addr
            .name
            .as_deref()
            .map_or_else(String::new, |n| one_line(n, MAX_LINE_CHARS));
        Some((address, name))
    })
}

fn clean_address(text: &str) -> Option<String> {
    let address = text.trim().to_lowercase();
    // Characters that would break the address when it is written into a reply's headers.
    let unsafe_char = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"".contains(c);
    if address.len() > MAX_ADDRESS_BYTES || address.chars().any(unsafe_char) {
        return None;
    }
    let (local, domain) = address.split_once('@')?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return None;
    }
    Some(address)
}

/// A Message-ID or reference as stored: no angle brackets, whitespace or control characters.
fn clean_id(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control() && !is_invisible(*c))
        .collect();
    let bare = kept.strip_prefix('<').unwrap_or(&kept);
    let bare = bare.strip_suffix('>').unwrap_or(bare);
    bare.chars().take(MAX_ID_CHARS).collect()
}

fn message_id(msg: &Message<'_>) -> String {
    let parsed = match msg.header(HeaderName::MessageId) {
        Some(HeaderValue::Text(id)) => clean_id(id),
        Some(HeaderValue::TextList(ids)) => ids.first().map_or_else(String::new, |id| clean_id(id)),
        _ => String::new(),
    };
    if !parsed.is_empty() {
        return parsed;
    }
    // mail-parser drops an id it cannot read as <local@domain>, such as a bare "abc@host";
    // the header's own text still names the message and keeps the key stable across
    // re-deliveries, which a hash of the bytes would not (servers add headers).
    msg.header_raw(HeaderName::MessageId)
        .and_then(|raw| raw.split_whitespace().next())
        .map_or_else(String::new, clean_id)
}

fn ids_in<'v>(value: &'v HeaderValue<'_>) -> Vec<&'v str> {
    match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    }
}

fn thread_ids(msg: &Message<'_>) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let candidates = ids_in(msg.in_reply_to())
        .into_iter()
        .chain(ids_in(msg.references()));
    for candidate in candidates {
        let id = clean_id(candidate);
        if !id.is_empty() && !ids.contains(&id) {
            ids.push(id);
            if ids.len() == MAX_THREAD_IDS {
                break;
            }
        }
    }
    ids
}

/// mail-parser's idea of the text body: the plain parts, or the HTML ones where a message
/// has no plain alternative. Several inline parts (text split around an image) are joined.
fn body(msg: &Message<'_>, max_chars: usize) -> String {
    let mut text = String::new();
    let parts: Vec<&MessagePart<'_>> = if msg.text_body_count() > 0 {
        msg.text_bodies().collect()
    } else {
        msg.html_bodies().collect()
    };
    for part in parts {
        let piece = match &part.body {
            PartType::Text(plain) => Cow::Borrowed(plain.as_ref()),
            PartType::Html(html) => Cow::Owned(html_to_text(&with_block_breaks(html))),
            _ => continue,
        };
        if piece.trim().is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&piece);
    }
    clean_body(&text, max_chars)
}

/// mail-parser's HTML converter breaks lines only at `<br>` and `</p>`, so a mail laid out
/// with `<div>`s or tables would become one long line. A `<br>` before each block tag fixes
/// that in one linear pass (html2text would do better but is quadratic on deep nesting).
fn with_block_breaks(html: &str) -> Cow<'_, str> {
    const BLOCKS: [&[u8]; 20] = [
        b"div",
        b"p",
        b"li",
        b"tr",
        b"table",
        b"ul",
        b"ol",
        b"blockquote",
        b"hr",
        b"pre",
        b"h1",
        b"h2",
        b"h3",
        b"h4",
        b"h5",
        b"h6",
        b"dt",
        b"dd",
        b"section",
        b"article",
    ];
    let bytes = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    for (pos, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'<') {
        let tag = &bytes[pos + 1..];
        let tag = tag.strip_prefix(b"/").unwrap_or(tag);
        let len = tag
            .iter()
            .take(11)
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if len > 0 && BLOCKS.iter().any(|b| b.eq_ignore_ascii_case(&tag[..len])) {
            out.push_str(&html[copied..pos]);
            out.push_str("<br>");
            copied = pos;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

/// Line ends as `\n`, no control characters but `\n` and `\t`, no trailing blanks on a line,
/// at most one empty line in a row, trimmed, then cut to `max_chars` with a mark.
fn clean_body(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut newlines = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let c = match c {
            // A lone \r is an old Mac line end; dropping it would join two lines.
            '\r' if chars.peek() == Some(&'\n') => continue,
            '\r' => '\n',
            c => c,
        };
        if c == '\n' {
            let kept = out
                .trim_end_matches(|c: char| c != '\n' && c.is_whitespace())
                .len();
            out.truncate(kept);
            newlines += 1;
            if newlines <= 2 {
                out.push('\n');
            }
            continue;
        }
        if c.is_control() && c != '\t' {
            continue;
        }
        // Blanks on an otherwise empty line go with the next line end, so they must not
        // count as text between two line ends.
        if !c.is_whitespace() {
            newlines = 0;
        }
        out.push(c);
    }
    let body = out.trim();
    if body.chars().count() <= max_chars {
        return body.to_string();
    }
    let keep = max_chars.saturating_sub(CUT_MARK.chars().count());
    let end = body.char_indices().nth(keep).map_or(body.len(), |(i, _)| i);
    let mut cut = body[..end].trim_end().to_string();
    cut.push_str(CUT_MARK);
    cut
}

fn attachments(
    msg: &Message<'_>,
    limits: &MailLimits,
) -> (Vec<MailAttachment>, Vec<SkippedAttachment>) {
    let mut kept = Vec::new();
    let mut skipped = Vec::new();
    for part in msg.attachments() {
        let (filename, bytes) = match &part.body {
            PartType::Multipart(_) => continue,
            PartType::Message(inner) => (message_filename(part, inner), message_bytes(msg, part)),
            // Text attachments come as UTF-8: mail-parser has already decoded their charset.
            _ => (
                clean_filename(part.attachment_name().unwrap_or("")),
                part.contents(),
            ),
        };
        let size = bytes.len();
        let reason = if size == 0 {
            Some(SkipReason::Empty)
        } else if size > limits.max_attachment_bytes {
            Some(SkipReason::TooLarge)
        } else if kept.len() >= limits.max_attachments {
            Some(SkipReason::TooMany)
        } else {
            None
        };
        match reason {
            None => kept.push(MailAttachment {
                filename,
                bytes: bytes.to_vec(),
            }),
            Some(reason) if skipped.len() < MAX_SKIPPED => skipped.push(SkippedAttachment {
                filename,
                size,
                reason,
            }),
            Some(_) => {}
        }
    }
    (kept, skipped)
}

/// The bytes of an attached message as it was sent.
fn message_bytes<'m>(msg: &'m Message<'_>, part: &'m MessagePart<'_>) -> &'m [u8] {
    match (&part.body, part.encoding) {
        // An encoded message/rfc822 was decoded and parsed on its own: its raw bytes are its own.
        (PartType::Message(inner), Encoding::Base64 | Encoding::QuotedPrintable) => {
            inner.raw_message()
        }
        // An unencoded one shares the outer message's bytes (its raw_message is the whole
        // outer message), so cut it out by the part's offsets.
        _ => msg
            .raw_message()
            .get(part.offset_body as usize..part.offset_end as usize)
            .unwrap_or_default(),
    }
}

fn message_filename(part: &MessagePart<'_>, inner: &Message<'_>) -> String {
    if let Some(name) = part.attachment_name() {
        let name = clean_filename(name);
        if name != "attachment" {
            return name;
        }
    }
    match inner.subject().map(|s| clean_filename(&one_line(s, 100))) {
        Some(subject) if subject != "attachment" => format!("{subject}.eml"),
        _ => "message.eml".to_string(),
    }
}

/// A file name safe to store and to send back in a header: no path, no control characters.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let name = one_line(&base.replace('"', ""), MAX_FILENAME_CHARS);
    if name.is_empty() || name == "." || name == ".." {
        "attachment".to_string()
    } else {
        name
    }
}

/// Every value of a top-level header, as written (folded, untrimmed).
fn header_values<'m>(msg: &'m Message<'_>, name: &'m str) -> impl Iterator<Item = Cow<'m, str>> {
    let raw = msg.raw_message();
    msg.root_part()
        .headers()
        .iter()
        .filter(move |h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(move |h| {
            String::from_utf8_lossy(
                raw.get(h.offset_start as usize..h.offset_end as usize)
                    .unwrap_or_default(),
            )
        })
}

fn has_header(msg: &Message<'_>, name: &str) -> bool {
    header_values(msg, name).next().is_some()
}

/// The first word of a header value, lower-cased: "auto-replied" from "Auto-Replied; x=y".
fn first_token(value: &str) -> String {
    value
        .split(|c: char| c == ';' || c.is_whitespace())
        .find(|t| !t.is_empty())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn noise(msg: &Message<'_>, from_address: &str, subject: &str) -> Option<Noise> {
    // Most specific first: a bounce often also carries Auto-Submitted.
    if is_bounce(msg, from_address) {
        Some(Noise::Bounce)
    } else if is_auto_reply(msg, subject) {
        Some(Noise::AutoReply)
    } else if is_bulk(msg) {
        Some(Noise::Bulk)
    } else {
        None
    }
}

fn is_bounce(msg: &Message<'_>, from_address: &str) -> bool {
    if msg.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    }) {
        return true;
    }
    let local = from_address.split('@').next().unwrap_or("");
    if local == "mailer-daemon" {
        return true;
    }
    let null_return_path = header_values(msg, "Return-Path")
        .any(|v| v.chars().filter(|c| !c.is_whitespace()).eq("<>".chars()));
    null_return_path && local == "postmaster"
}

fn is_auto_reply(msg: &Message<'_>, subject: &str) -> bool {
    header_values(msg, "Auto-Submitted").any(|v| first_token(&v) != "no")
        || ["X-Auto-Response-Suppress", "X-Autoreply", "X-Autorespond"]
            .iter()
            .any(|name| has_header(msg, name))
        || is_out_of_office(subject)
}

/// An out-of-office subject as mail programs write them in en/nb/da/sv/de.
fn is_out_of_office(subject: &str) -> bool {
    // Names of the mechanism only count with a colon after them: "Autosvar virker ikke" is a
    // request to IT about the auto-reply, "Autosvar: Re: …" is one.
    const WITH_COLON: [&str; 8] = [
        "automatic reply",
        "auto reply",
        "auto-reply",
        "autoreply",
        "autosvar",
        "automatisk svar",
        "automatiskt svar",
        "automatische antwort",
    ];
    // Words for being away count as a whole word at the start.
    const AS_WORD: [&str; 6] = [
        "out of office",
        "fraværende",
        "ikke til stede",
        "frånvarande",
        "abwesenheit",
        "abwesend",
    ];
    let lower = subject.trim_start().to_lowercase();
    let after = |prefix: &str| lower.strip_prefix(prefix).map(str::trim_start);
    WITH_COLON
        .iter()
        .any(|p| after(p).is_some_and(|rest| rest.starts_with(':')))
        || AS_WORD.iter().any(|p| {
            lower
                .strip_prefix(p)
                .is_some_and(|rest| !rest.starts_with(char::is_alphanumeric))
        })
}

fn is_bulk(msg: &Message<'_>) -> bool {
    header_values(msg, "Precedence")
        .any(|v| matches!(first_token(&v).as_str(), "bulk" | "junk" | "list"))
        || has_header(msg, "List-Id")
        || has_header(msg, "List-Unsubscribe")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> MailLimits {
        MailLimits::default()
    }

    fn mail(text: &str) -> Vec<u8> {
        text.replace('\n', "\r\n").into_bytes()
    }

    fn parse_ok(text: &str) -> InboundMail {
        parse(&mail(text), &limits()).expect("parses")
    }

    const PLAIN: &str = "From: Kari Nordmann <Kari.Nordmann@Fjordvik.Kommune.no>
To: support@fjordvik.test
Subject: Printer på rådhuset
Message-ID: <abc.123@mail.fjordvik.no>
Date: Mon, 2 Mar 2026 09:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hei,

skriveren i 2. etasje skriver ikke ut.\tHilsen Kari
";

    #[test]
    fn plain_mail() {
        let m = parse_ok(PLAIN);
        assert_eq!(m.from_address, "kari.nordmann@fjordvik.kommune.no");
        assert_eq!(m.from_name, "Kari Nordmann");
        assert_eq!(m.subject, "Printer på rådhuset");
        assert_eq!(m.message_id, "abc.123@mail.fjordvik.no");
        assert_eq!(m.dedup_key, "abc.123@mail.fjordvik.no");
        assert_eq!(
            m.body,
            "Hei,\n\nskriveren i 2. etasje skriver ikke ut.\tHilsen Kari"
        );
        assert!(m.thread_ids.is_empty());
        assert_eq!(m.ticket_number, None);
        assert!(m.attachments.is_empty() && m.skipped.is_empty());
        assert_eq!(m.noise, None);
    }

    #[test]
    fn html_only_mail_becomes_text() {
        let m = parse_ok(
            "From: a@b.no
Subject: html
Content-Type: text/html; charset=utf-8

<html><head><title>T</title><style>p { color: red }</style></head>
<body><script>alert('x')</script><div>Første linje</div><div>Andre &amp; siste</div>
<!-- hidden --><p>Avsnitt</p><table><tr><td>celle</td></tr></table></body></html>
",
        );
        assert!(!m.body.contains('<'), "{:?}", m.body);
        assert!(
            !m.body.contains("alert") && !m.body.contains("color"),
            "{:?}",
            m.body
        );
        assert!(!m.body.contains("hidden"), "{:?}", m.body);
        let lines: Vec<&str> = m.body.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines.iter().map(|l| l.trim()).collect::<Vec<_>>(),
            ["Første linje", "Andre & siste", "Avsnitt", "celle"],
            "{:?}",
            m.body
        );
    }

    #[test]
    fn html_alternative_prefers_plain_and_html_only_alternative_converts() {
        let both = parse_ok(
            "From: a@b.no
Subject: alt
Content-Type: multipart/alternative; boundary=\"b\"

--b
Content-Type: text/plain; charset=utf-8

Ren tekst
--b
Content-Type: text/html; charset=utf-8

<p>HTML-tekst</p>
--b--
",
        );
        assert_eq!(both.body, "Ren tekst");
        assert!(both.attachments.is_empty());
        let html_only = parse_ok(
            "From: a@b.no
Subject: alt
Content-Type: multipart/alternative; boundary=\"b\"

--b
Content-Type: text/html; charset=utf-8

<p>Bare <b>HTML</b></p>
--b--
",
        );
        assert_eq!(html_only.body, "Bare HTML");
    }

    #[test]
    fn legacy_charsets() {
        let cp1252 = parse_ok(
            "From: a@b.no
Subject: =?iso-8859-1?Q?Skriver_p=E5_r=E5dhuset?=
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: quoted-printable

=C6=D8=C5 =E6=F8=E5 koster 5 =80
",
        );
        assert_eq!(cp1252.subject, "Skriver på rådhuset");
        assert_eq!(cp1252.body, "ÆØÅ æøå koster 5 €");

        let mut latin1 = b"From: a@b.no\r\nSubject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
        latin1.extend_from_slice(b"Bl\xe5b\xe6rsyltet\xf8y\r\n");
        let latin1 = parse(&latin1, &limits()).unwrap();
        assert_eq!(latin1.body, "Blåbærsyltetøy");
    }

    #[test]
    fn rfc2047_subject_and_name() {
        let m = parse_ok(
            "From: =?utf-8?B?S8OlcmUgw5hkZWfDpXJk?= <kare@b.no>
Subject: =?utf-8?Q?M=C3=B8te?= =?utf-8?Q?rom_i_=C3=A5rhuset?=
Content-Type: text/plain

x
",
        );
        assert_eq!(m.from_name, "Kåre Ødegård");
        assert_eq!(m.subject, "Møterom i århuset");
    }

    #[test]
    fn subject_is_one_clean_line() {
        let m = parse_ok(
            "From: a@b.no
Subject: =?utf-8?Q?Hei=09der=00_du=E2=80=AE?=
 folded   line
Content-Type: text/plain

x
",
        );
        assert_eq!(m.subject, "Hei der du folded line");
        let long = format!("From: a@b.no\nSubject: {}\n\nx\n", "ø".repeat(400));
        assert_eq!(parse_ok(&long).subject.chars().count(), 250);
    }

    #[test]
    fn thread_ids_in_reply_to_first_then_references_deduplicated() {
        let m = parse_ok(
            "From: a@b.no
Subject: Re: x
Message-ID: <self@b.no>
In-Reply-To: <parent@drifta.test>
References: <root@drifta.test>
 <middle@drifta.test>
\t<parent@drifta.test> <root@drifta.test>
Content-Type: text/plain

x
",
        );
        assert_eq!(
            m.thread_ids,
            [
                "parent@drifta.test",
                "root@drifta.test",
                "middle@drifta.test"
            ]
        );
    }

    #[test]
    fn thread_ids_are_capped() {
        let refs: Vec<String> = (0..80).map(|i| format!("<r{i}@x.no>")).collect();
        let m = parse_ok(&format!(
            "From: a@b.no\nSubject: x\nReferences: {}\n\nx\n",
            refs.join("\n ")
        ));
        assert_eq!(m.thread_ids.len(), 50);
        assert_eq!(m.thread_ids[0], "r0@x.no");
        assert_eq!(m.thread_ids[49], "r49@x.no");
    }

    #[test]
    fn missing_message_id_uses_a_stable_hash() {
        let a = mail("From: a@b.no\nSubject: one\n\nbody\n");
        let b = mail("From: a@b.no\nSubject: two\n\nbody\n");
        let first = parse(&a, &limits()).unwrap();
        let again = parse(&a.clone(), &limits()).unwrap();
        let other = parse(&b, &limits()).unwrap();
        assert_eq!(first.message_id, "");
        assert!(first.dedup_key.starts_with("sha256:"));
        assert_eq!(first.dedup_key.len(), "sha256:".len() + 64);
        assert_eq!(first.dedup_key, again.dedup_key);
        assert_ne!(first.dedup_key, other.dedup_key);

        let empty_id = parse_ok("From: a@b.no\nMessage-ID: <>\nSubject: one\n\nbody\n");
        assert!(empty_id.dedup_key.starts_with("sha256:"), "{empty_id:?}");
    }

    #[test]
    fn message_id_is_bare_and_bounded() {
        let bare = parse_ok("From: a@b.no\nMessage-ID:   bare-id@host.no  \n\nx\n");
        assert_eq!(bare.dedup_key, "bare-id@host.no");
        let long = format!(
            "From: a@b.no\nMessage-ID: <{}@x.no>\n\nx\n",
            "a".repeat(400)
        );
        let long = parse_ok(&long);
        assert_eq!(long.dedup_key.chars().count(), 250);
        assert_eq!(long.message_id, long.dedup_key);
    }

    fn noise_of(headers: &str) -> Option<Noise> {
        parse_ok(&format!("{headers}\nContent-Type: text/plain\n\nx\n")).noise
    }

    #[test]
    fn auto_replies_are_noise() {
        for headers in [
            "From: a@b.no\nAuto-Submitted: auto-replied\nSubject: x",
            "From: a@b.no\nAuto-Submitted: Auto-Generated; owner-email=x@y.no\nSubject: x",
            "From: a@b.no\nX-Auto-Response-Suppress: All\nSubject: x",
            "From: a@b.no\nX-Autoreply: yes\nSubject: x",
            "From: a@b.no\nX-Autorespond: yes\nSubject: x",
        ] {
            assert_eq!(noise_of(headers), Some(Noise::AutoReply), "{headers}");
        }
        assert_eq!(
            noise_of("From: a@b.no\nAuto-Submitted: no\nSubject: x"),
            None
        );
        assert_eq!(
            noise_of("From: a@b.no\nAuto-Submitted:  No \nSubject: x"),
            None
        );
    }

    #[test]
    fn out_of_office_subjects_are_noise() {
        for subject in [
            "Out of Office: Re: [#12] Printer",
            "out of office until Monday",
            "Automatic reply: Printer",
            "Autosvar: Re: [#12] Printer",
            "AUTOMATISK SVAR: Printer",
            "Automatisk svar : Printer",
            "Fraværende: Printer",
            "Fraværende til 10. august",
            "Ikke til stede: Printer",
            "Abwesenheit: Drucker",
            "Automatische Antwort: Drucker",
        ] {
            assert_eq!(
                noise_of(&format!("From: a@b.no\nSubject: {subject}")),
                Some(Noise::AutoReply),
                "{subject}"
            );
        }
        for subject in [
            "Autosvar virker ikke",
            "Re: out-of-office settings",
            "Fraværendeliste mangler",
            "Printer",
        ] {
            assert_eq!(
                noise_of(&format!("From: a@b.no\nSubject: {subject}")),
                None,
                "{subject}"
            );
        }
    }

    #[test]
    fn bulk_mail_is_noise() {
        for headers in [
            "From: a@b.no\nPrecedence: bulk",
            "From: a@b.no\nPrecedence: Junk",
            "From: a@b.no\nPrecedence: list",
            "From: a@b.no\nList-Id: <drift.lists.example.no>",
            "From: a@b.no\nList-Unsubscribe: <mailto:unsub@example.no>",
        ] {
            assert_eq!(noise_of(headers), Some(Noise::Bulk), "{headers}");
        }
        assert_eq!(noise_of("From: a@b.no\nPrecedence: first-class"), None);
    }

    #[test]
    fn bounces_are_noise() {
        let report = parse_ok(
            "From: Mail Delivery System <noreply@mx.example.no>
Return-Path: <>
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"

--r
Content-Type: text/plain

The mail could not be delivered.
--r
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.no
--r--
",
        );
        assert_eq!(report.noise, Some(Noise::Bounce));
        assert_eq!(
            noise_of("From: MAILER-DAEMON@mx.example.no\nSubject: failure"),
            Some(Noise::Bounce)
        );
        assert_eq!(
            noise_of("From: postmaster@example.no\nReturn-Path: < >\nSubject: failure"),
            Some(Noise::Bounce)
        );
        // A person at postmaster@ writing normally is not a bounce.
        assert_eq!(
            noise_of(
                "From: postmaster@example.no\nReturn-Path: <postmaster@example.no>\nSubject: hei"
            ),
            None
        );
        assert_eq!(Noise::Bounce.as_str(), "bounce");
        assert_eq!(Noise::AutoReply.as_str(), "auto-reply");
        assert_eq!(Noise::Bulk.as_str(), "bulk");
    }

    fn with_attachments(parts: &[(&str, usize)]) -> Vec<u8> {
        use std::fmt::Write;
        let mut text = String::from(
            "From: a@b.no\nSubject: files\nContent-Type: multipart/mixed; boundary=\"m\"\n\n--m\nContent-Type: text/plain\n\nSe vedlegg.\n",
        );
        for (name, size) in parts {
            let data = "A".repeat(*size);
            write!(
                text,
                "--m\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=\"{name}\"\n\n{data}\n"
            )
            .unwrap();
        }
        text.push_str("--m--\n");
        mail(&text)
    }

    #[test]
    fn oversized_attachment_is_skipped_others_kept() {
        let raw = with_attachments(&[("small.txt", 10), ("big.bin", 2000), ("also.txt", 5)]);
        let limits = MailLimits {
            max_attachment_bytes: 1000,
            ..MailLimits::default()
        };
        let m = parse(&raw, &limits).unwrap();
        assert_eq!(m.body, "Se vedlegg.");
        let names: Vec<&str> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(names, ["small.txt", "also.txt"]);
        assert_eq!(m.attachments[0].bytes, b"AAAAAAAAAA");
        assert_eq!(
            m.skipped,
            [SkippedAttachment {
                filename: "big.bin".into(),
                size: 2000,
                reason: SkipReason::TooLarge
            }]
        );
    }

    #[test]
    fn too_many_and_empty_attachments_are_skipped() {
        let raw = with_attachments(&[("1", 1), ("empty", 0), ("2", 1), ("3", 1), ("4", 1)]);
        let limits = MailLimits {
            max_attachments: 2,
            ..MailLimits::default()
        };
        let m = parse(&raw, &limits).unwrap();
        let names: Vec<&str> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
        assert_eq!(names, ["1", "2"]);
        let skipped: Vec<(&str, SkipReason)> = m
            .skipped
            .iter()
            .map(|s| (s.filename.as_str(), s.reason))
            .collect();
        assert_eq!(
            skipped,
            [
                ("empty", SkipReason::Empty),
                ("3", SkipReason::TooMany),
                ("4", SkipReason::TooMany)
            ]
        );
    }

    #[test]
    fn attachment_names_inline_images_and_attached_messages() {
        let m = parse_ok(
            "From: a@b.no
Subject: names
Content-Type: multipart/mixed; boundary=\"m\"

--m
Content-Type: multipart/related; boundary=\"r\"

--r
Content-Type: text/html; charset=utf-8

<p>Se bildet <img src=\"cid:img1\"></p>
--r
Content-Type: image/png
Content-ID: <img1>
Content-Disposition: inline
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--r--
--m
Content-Type: application/pdf
Content-Disposition: attachment; filename*=utf-8''m%C3%B8tereferat.pdf
Content-Transfer-Encoding: base64

JVBERi0=
--m
Content-Type: application/octet-stream; name=\"=?utf-8?Q?r=C3=A5data?=\"
Content-Disposition: attachment; filename=\"..\\\\..\\\\evil\\\\x.bin\"

abc
--m
Content-Type: application/octet-stream

nameless
--m
Content-Type: message/rfc822

From: old@b.no
Subject: Forrige melding

Gammel tekst
--m
Content-Type: message/rfc822

From: old@b.no

Uten emne
--m--
",
        );
        assert_eq!(m.body, "Se bildet");
        let got: Vec<(&str, &[u8])> = m
            .attachments
            .iter()
            .map(|a| (a.filename.as_str(), a.bytes.as_slice()))
            .collect();
        assert_eq!(got[0], ("attachment", &b"\x89PNG\r\n\x1a\n"[..]));
        assert_eq!(got[1], ("møtereferat.pdf", &b"%PDF-"[..]));
        assert_eq!(got[2].0, "x.bin");
        assert_eq!(got[3].0, "attachment");
        assert_eq!(got[4].0, "Forrige melding.eml");
        let attached = String::from_utf8_lossy(got[4].1);
        assert!(attached.starts_with("From: old@b.no"), "{attached:?}");
        assert!(
            attached.trim_end().ends_with("Gammel tekst"),
            "{attached:?}"
        );
        assert!(!attached.contains("Uten emne"), "{attached:?}");
        assert_eq!(got[5].0, "message.eml");
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn base64_attached_message_keeps_its_own_bytes() {
        let inner = "From: old@b.no\r\nSubject: Inni\r\n\r\nInnhold\r\n";
        let encoded = base64_encode(inner.as_bytes());
        let m = parse_ok(&format!(
            "From: a@b.no\nSubject: x\nContent-Type: multipart/mixed; boundary=\"m\"\n\n--m\nContent-Type: text/plain\n\nhei\n--m\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{encoded}\n--m--\n"
        ));
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].filename, "Inni.eml");
        assert_eq!(m.attachments[0].bytes, inner.as_bytes());
    }

    fn base64_encode(bytes: &[u8]) -> String {
        const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn empty_input() {
        assert_eq!(parse(b"", &limits()), Err(MailError::Empty));
        assert_eq!(parse(b" \r\n\r\n", &limits()), Err(MailError::Empty));
        assert_eq!(MailError::Empty.reason(), "empty");
    }

    #[test]
    fn too_large_input() {
        let limits = MailLimits {
            max_message_bytes: 100,
            ..MailLimits::default()
        };
        let raw = mail(PLAIN);
        let err = parse(&raw, &limits).unwrap_err();
        assert_eq!(
            err,
            MailError::TooLarge {
                size: raw.len(),
                limit: 100
            }
        );
        assert_eq!(err.reason(), "too-large");
        assert!(err.to_string().contains("at most 100"), "{err}");
    }

    #[test]
    fn missing_or_unusable_sender() {
        for headers in [
            "Subject: no from",
            "From: \nSubject: empty",
            "From: Kari Nordmann\nSubject: no address",
            "From: <>\nSubject: null",
            "From: kari@@b.no\nSubject: two ats",
            "From: @b.no\nSubject: no local part",
            "From: kari@\nSubject: no domain",
        ] {
            let raw = mail(&format!("{headers}\n\nbody\n"));
            assert_eq!(
                parse(&raw, &limits()),
                Err(MailError::NoSender),
                "{headers}"
            );
        }
        let long = format!("From: {}@b.no\n\nx\n", "a".repeat(260));
        assert_eq!(parse(&mail(&long), &limits()), Err(MailError::NoSender));
        assert_eq!(MailError::NoSender.reason(), "no-sender");
        assert_eq!(MailError::Unreadable.reason(), "unreadable");
    }

    #[test]
    fn first_usable_sender_wins() {
        let m = parse_ok("From: nobody, \"Ola\" <OLA@B.NO>\nSubject: x\n\nx\n");
        assert_eq!(
            (m.from_address.as_str(), m.from_name.as_str()),
            ("ola@b.no", "Ola")
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for len in [1usize, 2, 7, 64, 513, 4096] {
            for _ in 0..20 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        seed as u8
                    })
                    .collect();
                let _ = parse(&bytes, &limits());
            }
        }
        for text in [
            "From: a@b.no\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n",
            "From: a@b.no\nContent-Type: multipart/mixed\n\n--x\n",
            "From: a@b.no\nContent-Transfer-Encoding: base64\n\n!!!!\n",
            "From: a@b.no\nContent-Transfer-Encoding: quoted-printable\n\n=ZZ=\n",
            "From: a@b.no\nMessage-ID: <unterminated\nReferences: <a\n\nx",
            "\0\0\0\0",
            ":",
        ] {
            let _ = parse(&mail(text), &limits());
        }
    }

    #[test]
    fn long_body_is_cut_with_a_mark() {
        let limits = MailLimits {
            max_body_chars: 20,
            ..MailLimits::default()
        };
        let raw = mail(&format!("From: a@b.no\n\n{}\n", "ø".repeat(50)));
        let m = parse(&raw, &limits).unwrap();
        assert!(m.body.ends_with("\n[…]"), "{:?}", m.body);
        assert_eq!(m.body.chars().count(), 20);
        let exact = mail(&format!("From: a@b.no\n\n{}\n", "ø".repeat(20)));
        assert_eq!(parse(&exact, &limits).unwrap().body, "ø".repeat(20));
    }

    #[test]
    fn body_line_ends_and_control_characters() {
        let m = parse(
            b"From: a@b.no\r\n\r\n\r\n  one\r\ntwo\rthree\x07\x1b[31m\r\n\r\n\r\n\r\n\r\nfour\t \r\n  ",
            &limits(),
        )
        .unwrap();
        assert_eq!(m.body, "one\ntwo\nthree[31m\n\nfour");
        let blank_lines = parse(
            "From: a@b.no\r\n\r\na\n  \n\u{a0}\t\n \n  b\n\n\nc".as_bytes(),
            &limits(),
        )
        .unwrap();
        assert_eq!(blank_lines.body, "a\n\n  b\n\nc");
    }

    #[test]
    fn ticket_numbers_in_subjects() {
        assert_eq!(ticket_number_in_subject("[#1234]"), Some(1234));
        assert_eq!(ticket_number_in_subject("Re: [#12] x"), Some(12));
        assert_eq!(ticket_number_in_subject("Printer [#7]"), Some(7));
        assert_eq!(ticket_number_in_subject("[#abc] then [#5]"), Some(5));
        assert_eq!(ticket_number_in_subject("[#3] and [#4]"), Some(3));
        assert_eq!(
            ticket_number_in_subject("[#9223372036854775807]"),
            Some(i64::MAX)
        );
        for none in [
            "",
            "[#]",
            "[#abc]",
            "[#99999999999999999999]",
            "[#0]",
            "[#-5]",
            "[# 5]",
            "[#5",
            "#5",
            "[#12a]",
            "[#１２]",
        ] {
            assert_eq!(ticket_number_in_subject(none), None, "{none}");
        }
        let m = parse_ok("From: a@b.no\nSubject: SV: [#4711] Printer\n\nx\n");
        assert_eq!(m.ticket_number, Some(4711));
    }

    #[test]
    fn titles_from_subjects() {
        assert_eq!(
            title_from_subject("Re: Re: SV: AW: Fwd: VS: [#12] Printer"),
            "Printer"
        );
        assert_eq!(title_from_subject("RE[2]: WG: Vb: fw : Skjerm"), "Skjerm");
        assert_eq!(title_from_subject("[#12] Re: Printer [#12]"), "Printer");
        assert_eq!(
            title_from_subject("Printer på rådhuset"),
            "Printer på rådhuset"
        );
        assert_eq!(
            title_from_subject("Regnskap: feil i rapport"),
            "Regnskap: feil i rapport"
        );
        assert_eq!(
            title_from_subject("Svar fra leverandør"),
            "Svar fra leverandør"
        );
        assert_eq!(title_from_subject("Vs. Code kræsjer"), "Vs. Code kræsjer");
        assert_eq!(
            title_from_subject("Feil i [#abc] felt"),
            "Feil i [#abc] felt"
        );
        assert_eq!(title_from_subject("Re:"), "");
        assert_eq!(title_from_subject(""), "");
        assert_eq!(
            title_from_subject("  Re:\t Tab\n og  linje "),
            "Tab og linje"
        );
        assert_eq!(title_from_subject(&"x".repeat(300)).chars().count(), 120);
    }

    #[test]
    fn clean_helpers() {
        assert_eq!(clean_filename("C:\\Users\\kari\\skjerm.png"), "skjerm.png");
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("a\"b\nc.txt"), "ab c.txt");
        assert_eq!(clean_filename(".."), "attachment");
        assert_eq!(clean_filename("evil\u{202e}gpj.exe"), "evilgpj.exe");
        assert_eq!(clean_id(" <a b@c>\u{0} "), "ab@c");
        assert_eq!(
            with_block_breaks("<DIV>a</div><span>b</span><divx>"),
            "<br><DIV>a<br></div><span>b</span><divx>"
        );
    }
}
