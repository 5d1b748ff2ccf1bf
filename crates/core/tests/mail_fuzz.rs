//! Fuzzing `drifta_core::mail::parse` on stable Rust with proptest (docs/email-channel.md,
//! "Fuzzing on stable"): random bytes, mutated real-looking seeds and HTML fragments.
//!
//! `PROPTEST_CASES=50000 cargo test -p drifta-core --test mail_fuzz` runs a deeper search.
//! Failures are not persisted into the tree; a case worth keeping becomes a plain #[test].

use std::cell::Cell;
use std::sync::Once;

use drifta_core::mail::{MailError, MailLimits, Noise, parse};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

const SEEDS: [&[u8]; 3] = [
    include_bytes!("mail/thread.eml"),
    include_bytes!("mail/mixed.eml"),
    include_bytes!("mail/dsn.eml"),
];

/// Tokens that steer the parser into its rarer paths.
const TOKENS: [&str; 24] = [
    "--",
    "--==outer==",
    "--==alt==--",
    "--DSN.boundary/mx.drifta.test",
    "\r\n\r\n",
    "\r\n",
    "\n",
    "\r",
    "=?utf-8?B?",
    "=?iso-8859-1?Q?=E5",
    "?=",
    "=\r\n",
    "=C3",
    "<script>",
    "<!--",
    "&#0;",
    "\0",
    "\u{feff}",
    "\u{202e}",
    "Content-Type: message/rfc822\r\n\r\n",
    "Content-Type: multipart/mixed; boundary=\"\"\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "<",
    ">",
];

thread_local! {
    static PANICKED: Cell<bool> = const { Cell::new(false) };
}

/// `parse` catches panics and answers Unreadable, which would hide them from the fuzzer;
/// the hook still sees each one, so a caught panic fails the case as well.
fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.with(|p| p.set(true));
            previous(info);
        }));
    });
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(800);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn small_limits() -> MailLimits {
    MailLimits {
        max_message_bytes: 64 * 1024,
        max_attachment_bytes: 40,
        max_attachments: 2,
        max_body_chars: 120,
    }
}

fn limits() -> impl Strategy<Value = MailLimits> {
    prop_oneof![Just(MailLimits::default()), Just(small_limits())]
}

fn is_clean(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// The body of every property, kept in one function so a cargo-fuzz target can call it too.
fn fuzz_one(raw: &[u8], limits: &MailLimits) -> Result<(), TestCaseError> {
    watch_panics();
    PANICKED.with(|p| p.set(false));
    let result = parse(raw, limits);
    prop_assert!(!PANICKED.with(Cell::get), "parse panicked (caught)");
    let Ok(mail) = result else {
        return Ok(());
    };
    prop_assert!(mail.body.chars().count() <= limits.max_body_chars + 4);
    prop_assert!(is_clean(&mail.body), "body {:?}", mail.body);
    prop_assert!(is_clean(&mail.subject), "subject {:?}", mail.subject);
    prop_assert!(
        !mail.subject.contains(['\n', '\t']),
        "subject {:?}",
        mail.subject
    );
    prop_assert!(!mail.dedup_key.is_empty());
    prop_assert!(
        mail.dedup_key.chars().count() <= 260,
        "{:?}",
        mail.dedup_key
    );
    prop_assert!(!mail.from_address.is_empty() && mail.from_address.len() <= 254);
    prop_assert!(mail.attachments.len() <= limits.max_attachments);
    for attachment in &mail.attachments {
        prop_assert!(!attachment.bytes.is_empty());
        prop_assert!(attachment.bytes.len() <= limits.max_attachment_bytes);
        prop_assert!(!attachment.filename.is_empty() && is_clean(&attachment.filename));
    }
    prop_assert!(mail.thread_ids.len() <= 50);
    prop_assert!(
        mail.thread_ids
            .iter()
            .all(|id| !id.is_empty() && is_clean(id))
    );
    Ok(())
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(Index, u8),
    Insert(Index, &'static str),
    Truncate(Index),
    Repeat(Index, usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        3 => (any::<Index>(), prop::sample::select(TOKENS.to_vec()))
            .prop_map(|(at, token)| Mutation::Insert(at, token)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 1..200usize, 1..200usize)
            .prop_map(|(at, len, times)| Mutation::Repeat(at, len, times)),
    ]
}

fn mutate(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        match m {
            Mutation::Flip(at, bit) => {
                let at = at.index(bytes.len());
                bytes[at] ^= 1 << bit;
            }
            Mutation::Insert(at, token) => {
                let at = at.index(bytes.len() + 1);
                bytes.splice(at..at, token.bytes());
            }
            Mutation::Truncate(at) => bytes.truncate(at.index(bytes.len())),
            Mutation::Repeat(at, len, times) => {
                let start = at.index(bytes.len());
                let end = (start + len).min(bytes.len());
                let chunk = bytes[start..end].repeat(*times);
                bytes.splice(end..end, chunk);
            }
        }
    }
    bytes
}

/// Bits of HTML that trouble converters: deep nesting, unclosed tags, comments, entities,
/// script and style, stray brackets.
const FRAGMENTS: [&str; 26] = [
    "<div>",
    "</div>",
    "<p>",
    "</p>",
    "<br>",
    "<table><tr><td>",
    "</td></tr></table>",
    "<script>alert(1)</script>",
    "<script>",
    "</script>",
    "<style>b{}</style>",
    "<!-- c -->",
    "<!--",
    "-->",
    "&amp;",
    "&#0;",
    "&#x202e;",
    "&#99999999;",
    "&nbsp;",
    "<a href=\"javascript:x()\">lenke</a>",
    "<",
    ">",
    "tekst æøå ",
    "\r\n",
    "\t",
    "<img src=\"cid:x\">",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mail_random_bytes(raw in prop::collection::vec(any::<u8>(), 0..4096), limits in limits()) {
        fuzz_one(&raw, &limits)?;
    }

    #[test]
    fn mail_random_bytes_after_headers(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        limits in limits(),
    ) {
        let mut raw = b"From: a@b.no\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n".to_vec();
        raw.extend_from_slice(&body);
        fuzz_one(&raw, &limits)?;
    }

    #[test]
    fn mail_mutated_seeds(
        seed in prop::sample::select(SEEDS.to_vec()),
        mutations in prop::collection::vec(mutation(), 1..6),
        limits in limits(),
    ) {
        fuzz_one(&mutate(seed, &mutations), &limits)?;
    }

    #[test]
    fn mail_html_fragments(
        fragments in prop::collection::vec(prop::sample::select(FRAGMENTS.to_vec()), 0..100),
        quoted_printable in any::<bool>(),
        limits in limits(),
    ) {
        let html = fragments.concat();
        let (encoding, html) = if quoted_printable {
            ("quoted-printable", html.replace('=', "=3D"))
        } else {
            ("8bit", html)
        };
        let raw = format!(
            "From: a@b.no\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\
             Content-Transfer-Encoding: {encoding}\r\n\r\n{html}"
        );
        fuzz_one(raw.as_bytes(), &limits)?;
        let mail = parse(raw.as_bytes(), &limits).unwrap();
        // Only entities can put a '<' into the text; tags never come through.
        if !html.contains("&") {
            prop_assert!(!mail.body.contains('<'), "{:?}", mail.body);
        }
    }
}

#[test]
fn mail_seeds_parse_as_expected() {
    let limits = MailLimits::default();
    let thread = parse(SEEDS[0], &limits).unwrap();
    assert_eq!(thread.from_address, "kari@fjordvik.kommune.no");
    assert_eq!(thread.from_name, "Kari Nørdmann");
    assert_eq!(thread.subject, "SV: Re: [#4711] Printer på rådhuset");
    assert_eq!(thread.ticket_number, Some(4711));
    assert_eq!(
        thread.thread_ids,
        [
            "t4711.13@fjordvik.drifta.test",
            "ticket.01a2@fjordvik.drifta.test",
            "t4711.12@fjordvik.drifta.test"
        ]
    );
    assert_eq!(thread.noise, None);

    let mixed = parse(SEEDS[1], &limits).unwrap();
    assert_eq!(mixed.subject, "Skjerm på møterom 3");
    assert_eq!(
        mixed.body,
        "Skjermen på møterom 3 flimrer. Pris for ny: 2 000 €."
    );
    let names: Vec<&str> = mixed
        .attachments
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, ["bilde.png", "møtereferat.pdf"]);
    assert!(mixed.attachments[1].bytes.starts_with(b"%PDF-1.4"));

    let dsn = parse(SEEDS[2], &limits).unwrap();
    assert_eq!(dsn.noise, Some(Noise::Bounce));
    assert_eq!(dsn.from_address, "mailer-daemon@mx.drifta.test");
    assert_eq!(dsn.ticket_number, None);
    let returned = dsn
        .attachments
        .iter()
        .find(|a| a.filename.ends_with(".eml"))
        .expect("the returned message is attached");
    assert_eq!(returned.filename, "[#4711] Printer på rådhuset.eml");
    assert!(returned.bytes.starts_with(b"From: Drifta"));
}

#[test]
fn mail_truncated_seeds_never_panic() {
    let limits = small_limits();
    for seed in SEEDS {
        for end in 0..=seed.len() {
            if let Err(e) = fuzz_one(&seed[..end], &limits) {
                panic!("{} bytes: {e}", end);
            }
        }
    }
    assert_eq!(parse(&SEEDS[0][..0], &limits), Err(MailError::Empty));
}

/// Made mail-parser 0.11.9 panic in debug builds (`debug_assert!(false, "Invalid part ID, could
/// not find multipart.")`, parsers/message.rs:485): the DSN seed with a second
/// `Content-Type: message/rfc822` header inside the returned message and one flipped bit. It
/// reads, as in a release build, only while the workspace turns mail-parser's debug assertions
/// off (docs/email-channel.md, pitfall 1); without that, `parse` would answer Unreadable.
#[test]
fn mail_regression_invalid_part_id() {
    let raw = include_bytes!("mail/mail-parser-invalid-part-id.eml");
    let limits = MailLimits::default();
    fuzz_one(raw, &limits).unwrap();
    let mail = parse(raw, &limits).unwrap();
    assert_eq!(mail.noise, Some(Noise::Bounce));
    assert_eq!(mail.from_address, "mailer-daemon@mx.drifta.test");
}
