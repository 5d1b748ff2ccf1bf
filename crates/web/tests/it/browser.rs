//! Real headless Chromium through WebDriver (Debian's chromium and chromium-driver).
//! Runs when DRIFTA_TEST_BROWSER=1; `bash .ci/run` sets it.

use crate::support::{PASSWORD, TestServer, start_on};
use drifta_store::testing::sqlite;
use drifta_web::WebConfig;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::time::Duration;

struct Browser {
    client: Client,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

fn enabled() -> bool {
    if std::env::var("DRIFTA_TEST_BROWSER").is_ok_and(|v| v == "1") {
        return true;
    }
    eprintln!("note: DRIFTA_TEST_BROWSER is not 1; browser tests skipped (bash .ci/run runs them)");
    false
}

async fn browser() -> Browser {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let driver = tokio::process::Command::new(driver_bin)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver (apt-get install chromium-driver)");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1280,900", "--lang=nb-NO",
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": { "intl.accept_languages": "nb-NO,nb" }
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("connect to chromedriver");
    Browser {
        client,
        _driver: driver,
        _profile: profile,
    }
}

async fn sign_in(b: &Client, server: &TestServer, username: &str) {
    b.goto(&server.url("/login")).await.unwrap();
    b.find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    b.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    b.find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait().for_element(Locator::Id("sign-out")).await.unwrap();
}

/// The text of the first element matching `css`, once it exists. Retries when the element is
/// replaced under us (a navigation finishing, or a live update swapping the region).
async fn text_of(b: &Client, css: &str) -> String {
    let mut last_error = String::new();
    for _ in 0..100 {
        match b.wait().for_element(Locator::Css(css)).await {
            Ok(el) => match el.text().await {
                Ok(text) => return text,
                Err(e) => last_error = e.to_string(),
            },
            Err(e) => last_error = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css}: {last_error}");
}

/// Waits until the element matching `css` contains `needle`, and returns its text.
async fn wait_for_text(b: &Client, css: &str, needle: &str) -> String {
    for _ in 0..100 {
        let text = text_of(b, css).await;
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never contained {needle:?}");
}

async fn screenshot(b: &Client, name: &str) {
    if let Ok(png) = b.screenshot().await {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_switch_municipality_and_language() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;

    // A wrong password first: the message is shown and the name kept.
    b.goto(&server.url("/login")).await.unwrap();
    b.find(Locator::Id("login"))
        .await
        .unwrap()
        .send_keys("tekniker")
        .await
        .unwrap();
    b.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("feil passord")
        .await
        .unwrap();
    b.find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        text_of(b, "#login-error")
            .await
            .contains("Feil brukernavn eller passord")
    );

    sign_in(b, &server, "tekniker").await;
    assert_eq!(text_of(b, "main h1").await, "Alle mine kommuner");
    let cards = b.find_all(Locator::Css(".tenant-card")).await.unwrap();
    assert_eq!(cards.len(), 5);
    screenshot(b, "dashboard").await;

    // The switcher submits on change (JavaScript) and narrows the dashboard.
    let select = b.find(Locator::Id("tenant-switch")).await.unwrap();
    let option = select
        .find(Locator::XPath(
            ".//option[normalize-space(.)='Egeholm Kommune']",
        ))
        .await
        .unwrap();
    let value = option.attr("value").await.unwrap().unwrap();
    select.select_by_value(&value).await.unwrap();
    b.wait()
        .for_element(Locator::XPath(
            "//main/h1[normalize-space(.)='Egeholm Kommune']",
        ))
        .await
        .unwrap();
    assert_eq!(
        b.find_all(Locator::Css(".tenant-card"))
            .await
            .unwrap()
            .len(),
        1
    );

    // Language: Norwegian (from the demo profile) to English, kept for the next page.
    b.find(Locator::Id("lang-switch"))
        .await
        .unwrap()
        .select_by_value("en")
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::XPath("//nav/a[normalize-space(.)='Dashboard']"))
        .await
        .unwrap();
    b.goto(&server.url("/account")).await.unwrap();
    assert_eq!(text_of(b, "main h1").await, "My account");

    // Keyboard: "g" then "d" goes to the dashboard.
    b.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("gd")
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::XPath(
            "//main/h1[normalize-space(.)='Egeholm Kommune']",
        ))
        .await
        .unwrap();
    b.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_creates_a_user_and_sees_the_audit_entry() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "admin").await;
    b.find(Locator::Id("nav-users"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("new-user"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("new-user-form"))
        .await
        .unwrap();
    for (id, value) in [
        ("display_name", "Siri Strand"),
        ("username", "siri.strand"),
        ("email", "siri@fjordvik.example"),
        ("phone", "+47 912 34 567"),
        ("password", "kort"),
    ] {
        b.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    let home = b.find(Locator::Id("home")).await.unwrap();
    let fjordvik = home
        .find(Locator::XPath(
            ".//option[normalize-space(.)='Fjordvik kommune']",
        ))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    home.select_by_value(&fjordvik).await.unwrap();
    b.find(Locator::Id("role"))
        .await
        .unwrap()
        .select_by_value("coordinator")
        .await
        .unwrap();
    b.find(Locator::Id("create-user"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // Too short a password: the form comes back with the message beside the field.
    assert!(
        text_of(b, "#password-error")
            .await
            .contains("minst 10 tegn")
    );
    assert_eq!(
        b.find(Locator::Id("username"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("siri.strand")
    );
    b.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("strand og sjø")
        .await
        .unwrap();
    b.find(Locator::Id("create-user"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text_of(b, "#user-name").await, "Siri Strand");
    assert!(text_of(b, "#notice").await.contains("opprettet"));
    screenshot(b, "user-created").await;

    b.find(Locator::Id("nav-audit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let table = text_of(b, "#audit").await;
    assert!(table.contains("siri.strand"), "{table}");
    assert!(table.contains("Ingrid Vassbotn"));
    screenshot(b, "audit").await;
    b.clone().close().await.unwrap();
}

const ENTER: &str = "\u{E007}";

#[tokio::test(flavor = "multi_thread")]
async fn logging_a_phone_call_with_the_keyboard_only() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker.nord").await;

    let started = std::time::Instant::now();
    // "n" from any page opens the phone form with the caller field focused.
    b.active_element()
        .await
        .unwrap()
        .send_keys("n")
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("caller-search"))
        .await
        .unwrap();
    b.active_element()
        .await
        .unwrap()
        .send_keys("even sl")
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Css("#caller-results li.active"))
        .await
        .unwrap();
    b.active_element()
        .await
        .unwrap()
        .send_keys(ENTER)
        .await
        .unwrap();
    // Picking the caller fills municipality and location and moves on to the title.
    b.wait()
        .for_element(Locator::XPath(
            "//p[@id='chosen-caller'][contains(., 'Even Sletta')]",
        ))
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::XPath(
            "//ul[@id='recent-list']/li[contains(., 'Prosjektoren')]",
        ))
        .await
        .unwrap();
    let focused = b.active_element().await.unwrap().attr("id").await.unwrap();
    assert_eq!(focused.as_deref(), Some("title"));
    let location = b.find(Locator::Id("location")).await.unwrap();
    let chosen_location = location
        .find(Locator::Css("option:checked"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(chosen_location, "Fjordvik skole");
    screenshot(b, "phone-form").await;
    b.active_element()
        .await
        .unwrap()
        .send_keys(&format!("Elev-iPad får ikke koblet til Wi-Fi{ENTER}"))
        .await
        .unwrap();
    let title = text_of(b, "#ticket-title").await;
    let elapsed = started.elapsed();
    assert!(
        title.ends_with("Elev-iPad får ikke koblet til Wi-Fi"),
        "{title}"
    );
    let meta = text_of(b, "p.meta").await;
    assert!(
        meta.contains("Fjordvik kommune")
            && meta.contains("Fjordvik skole")
            && meta.contains("Even Sletta"),
        "{meta}"
    );
    eprintln!(
        "phone call logged with the keyboard in {} ms of browser time",
        elapsed.as_millis()
    );
    screenshot(b, "ticket").await;

    // The queue shows it, and the view tabs filter.
    b.find(Locator::Id("nav-tickets"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let queue = text_of(b, "#queue").await;
    assert!(queue.contains("Elev-iPad"));
    assert!(
        !queue.contains("Egeholm"),
        "only this technician's municipalities"
    );
    b.find(Locator::XPath(
        "//nav[@class='tabs']/a[contains(@href, 'view=mine')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    b.wait()
        .for_element(Locator::Id("queue-empty"))
        .await
        .unwrap();
    screenshot(b, "queue").await;
    b.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teacher_files_a_request_in_the_portal() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "laerer.fjordvik").await;
    b.find(Locator::Id("nav-tickets"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("new-request"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("title"))
        .await
        .unwrap()
        .send_keys("Trenger Word på lærer-PC-en")
        .await
        .unwrap();
    b.find(Locator::Id("description"))
        .await
        .unwrap()
        .send_keys("Til mandag, takk")
        .await
        .unwrap();
    b.find(Locator::Id("save-ticket"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(b, "#ticket-title", "Trenger Word").await;
    b.find(Locator::Id("body"))
        .await
        .unwrap()
        .send_keys("Det gjelder rom 12")
        .await
        .unwrap();
    b.find(Locator::Id("send-reply"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(b, "#timeline", "Det gjelder rom 12").await;
    assert!(
        b.find(Locator::Id("status-form")).await.is_err(),
        "requesters cannot change status"
    );
    b.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_ticket_updates_when_a_colleague_replies() {
    if !enabled() {
        return;
    }
    let config = WebConfig {
        live_poll: Duration::from_millis(200),
        ..WebConfig::default()
    };
    let server = start_on(sqlite().await, config).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker.nord").await;
    b.find(Locator::Id("nav-tickets"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::XPath(
            "//table[@id='queue']//a[starts-with(., 'Prosjektoren')]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = b.current_url().await.unwrap();
    b.wait().for_element(Locator::Id("timeline")).await.unwrap();
    // Something to lose if the page reloaded instead of swapping the timeline.
    b.find(Locator::Id("body"))
        .await
        .unwrap()
        .send_keys("Halvskrevet svar")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (colleague, csrf) = crate::support::sign_in(&server, "tekniker").await;
    let res = colleague
        .post(format!(
            "{}/comment",
            url.as_str().split('?').next().unwrap()
        ))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "Jeg tar denne i morgen tidlig"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    b.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//ol[@id='timeline']//div[contains(., 'Jeg tar denne i morgen tidlig')]",
        ))
        .await
        .expect("the timeline updates without a reload");
    let draft = b
        .find(Locator::Id("body"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        draft.as_deref(),
        Some("Halvskrevet svar"),
        "the half-written reply survives"
    );
    b.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_technician_publishes_an_article_and_a_teacher_reads_it() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker.nord").await;
    b.find(Locator::Id("nav-kb"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("new-article"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("title"))
        .await
        .unwrap()
        .send_keys("Slik kobler du projektoren til PC-en")
        .await
        .unwrap();
    let scope = b.find(Locator::Id("tenant")).await.unwrap();
    let fjordvik = scope
        .find(Locator::XPath(
            ".//option[normalize-space(.)='Fjordvik kommune']",
        ))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    scope.select_by_value(&fjordvik).await.unwrap();
    b.find(Locator::Id("body"))
        .await
        .unwrap()
        .send_keys("## Steg\n\n1. Koble til **HDMI**-kabelen\n2. Trykk Win+P og velg *Dupliser*\n")
        .await
        .unwrap();
    b.find(Locator::Id("save-article"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        text_of(b, "#article-title").await,
        "Slik kobler du projektoren til PC-en"
    );
    assert!(text_of(b, "#draft-notice").await.contains("utkast"));
    b.find(Locator::Id("publish-article"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::Id("unpublish-article"))
        .await
        .unwrap();
    assert!(b.find(Locator::Id("draft-notice")).await.is_err());
    screenshot(b, "kb-published").await;
    b.find(Locator::Id("sign-out"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait().for_element(Locator::Id("sign-in")).await.unwrap();

    sign_in(b, &server, "laerer.fjordvik").await;
    b.find(Locator::Id("nav-kb"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let list = text_of(b, "#articles").await;
    assert!(list.contains("Slik kobler du til skolens Wi-Fi"), "{list}");
    assert!(!list.contains("Utkast"), "drafts are not listed: {list}");
    assert!(b.find(Locator::Id("new-article")).await.is_err());
    b.find(Locator::XPath(
        "//ul[@id='articles']//a[contains(., 'projektoren')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    assert_eq!(text_of(b, "#article-body h2").await, "Steg");
    assert_eq!(text_of(b, "#article-body ol li strong").await, "HDMI");
    assert!(text_of(b, "#article-body").await.contains("Dupliser"));
    assert!(
        b.find(Locator::Id("edit-article")).await.is_err(),
        "requesters read, they do not edit"
    );
    screenshot(b, "kb-article").await;
    b.clone().close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn overdue_tickets_stand_out_in_the_queue() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    server
        .clock
        .advance(jiff::SignedDuration::from_hours(24 * 10));
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker").await;
    b.find(Locator::Id("nav-tickets"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let breached = b
        .wait()
        .for_element(Locator::Css("#queue tr.sla-breached td.due"))
        .await
        .unwrap();
    assert!(
        breached
            .text()
            .await
            .unwrap()
            .starts_with("over fristen siden")
    );
    let paused = b
        .find(Locator::Css("#queue span.sla-paused"))
        .await
        .unwrap();
    assert!(paused.text().await.unwrap().contains("pauset"));
    let colour = breached
        .find(Locator::Css("span"))
        .await
        .unwrap()
        .css_value("color")
        .await
        .unwrap();
    assert_ne!(
        colour, "rgba(29, 38, 48, 1)",
        "breaches are not drawn in the body text colour"
    );
    screenshot(b, "queue-breached").await;
    b.clone().close().await.unwrap();
}

/// Filters the queue by priority, saves that as a view and opens it again; then filters by
/// status and hands the one waiting ticket to a colleague with the bulk action.
#[tokio::test(flavor = "multi_thread")]
async fn a_technician_filters_the_queue_saves_the_view_and_assigns_in_bulk() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker").await;
    click(b, "nav-tickets").await;
    select_text(b, "filter-priority", "P1 kritisk").await;
    click(b, "filter-apply").await;
    // The filtered page has come when the filter bar shows the choice as made.
    let chosen = |css: &'static str| async move {
        b.wait().for_element(Locator::Css(css)).await.unwrap();
    };
    chosen("#filter-priority option[value='p1'][selected]").await;
    let critical = wait_for_text(b, "#queue", "Kan ikke logge inn i sak/arkiv").await;
    assert!(
        !critical.contains("Skriveren i ekspedisjonen"),
        "{critical}"
    );

    type_into(b, "filter-name", "Kritiske").await;
    b.find(Locator::Css("#save-filter button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait()
        .for_element(Locator::XPath(
            "//a[@class='saved-filter' and .='Kritiske']",
        ))
        .await
        .unwrap();
    click(b, "nav-tickets").await;
    wait_for_text(b, "#queue", "Skriveren i ekspedisjonen").await;
    b.find(Locator::XPath(
        "//a[@class='saved-filter' and .='Kritiske']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    chosen("#filter-priority option[value='p1'][selected]").await;
    let again = text_of(b, "#queue").await;
    assert!(again.contains("Kan ikke logge inn i sak/arkiv"), "{again}");
    assert!(!again.contains("Skriveren i ekspedisjonen"), "{again}");

    select_text(b, "filter-priority", "Alle").await;
    select_text(b, "filter-status", "Venter på innmelder").await;
    click(b, "filter-apply").await;
    chosen("#filter-status option[value='waiting_requester'][selected]").await;
    wait_for_text(b, "#queue", "Skriveren i ekspedisjonen").await;
    b.find(Locator::Css("#queue input[name='ticket']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    select_text(b, "bulk-action", "Tildel").await;
    select_text(b, "bulk-assignee", "Mari Holtan").await;
    click(b, "bulk-apply").await;
    wait_for_text(b, "#notice", "1 sak endret.").await;
    let queue = text_of(b, "#queue").await;
    assert!(queue.contains("Mari Holtan"), "{queue}");
    screenshot(b, "queue-filtered").await;
    b.clone().close().await.unwrap();
}

/// A technician keeps many tabs open. Over plain HTTP/1.1 a browser opens at most six
/// connections to one server, so live pages must not each hold a stream while out of sight:
/// an eighth tab still opens the call form at once.
#[tokio::test(flavor = "multi_thread")]
async fn many_open_tabs_do_not_starve_the_next_one() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker").await;
    // A starved tab waits until some stream ends (five minutes); a served one loads at once.
    let tabs = async {
        b.goto(&server.url("/tickets")).await.unwrap();
        for _ in 0..7 {
            let tab = b.new_window(true).await.unwrap();
            b.switch_to_window(tab.handle).await.unwrap();
            b.goto(&server.url("/tickets")).await.unwrap();
            wait_for_text(b, "#queue", "Skriveren i ekspedisjonen").await;
        }
        b.find(Locator::Id("log-call"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait()
            .for_element(Locator::Id("ticket-form"))
            .await
            .unwrap();
    };
    tokio::time::timeout(Duration::from_secs(60), tabs)
        .await
        .expect("the eighth tab got no connection to the server");
    b.clone().close().await.unwrap();
}

/// Picks an option of a select by its visible text.
async fn select_text(b: &Client, id: &str, text: &str) {
    let select = b.find(Locator::Id(id)).await.unwrap();
    let value = select
        .find(Locator::XPath(&format!(
            ".//option[normalize-space(.)='{text}']"
        )))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    select.select_by_value(&value).await.unwrap();
}

async fn click(b: &Client, id: &str) {
    b.wait()
        .for_element(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn type_into(b: &Client, id: &str, text: &str) {
    b.wait()
        .for_element(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Records a switch and a PC behind it, relates them, reads the impact of the switch as a
/// list and a diagram, and takes the PC through retirement to a certified disposal.
#[tokio::test(flavor = "multi_thread")]
async fn a_technician_records_items_relates_them_and_reads_the_impact() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker.nord").await;
    for (kind, name, host) in [
        (
            "Nettverksenhet",
            "Kjerneswitch Fjordvik rådhus",
            "sw-kjerne-test",
        ),
        ("Arbeidsstasjon", "PC på lærerværelset", "pc-laerer-test"),
    ] {
        click(b, "nav-inventory").await;
        click(b, "new-item").await;
        select_text(b, "choose-tenant", "Fjordvik kommune").await;
        select_text(b, "choose-type", kind).await;
        click(b, "choose-go").await;
        type_into(b, "name", name).await;
        type_into(b, "hostname", host).await;
        if kind == "Nettverksenhet" {
            b.find(Locator::Id("attr_device_role"))
                .await
                .unwrap()
                .select_by_value("switch")
                .await
                .unwrap();
        }
        click(b, "save-item").await;
        assert_eq!(text_of(b, "#item-name").await, name);
        assert!(text_of(b, "#notice").await.contains("registrert"));
    }
    // A bad date is refused beside its field, and nothing is saved.
    click(b, "edit-item").await;
    // Browsers offer a date picker; a typed Nordic date is what arrives without one.
    b.execute(
        "document.getElementById('warranty_until').type='text'; document.getElementById('warranty_until').value='31.02.2026';",
        vec![],
    )
    .await
    .unwrap();
    click(b, "save-item").await;
    assert!(text_of(b, "#warranty_until-error").await.contains("dato"));

    // Relate the PC to the switch by typing the switch's host name.
    b.goto(&server.url("/inventory?q=pc-laerer-test"))
        .await
        .unwrap();
    b.find(Locator::XPath(
        "//table[@id='items']//a[contains(., 'lærerværelset')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    b.find(Locator::Id("relation"))
        .await
        .unwrap()
        .select_by_value("connects_to")
        .await
        .unwrap();
    type_into(b, "relate-to", "sw-kjerne-test").await;
    click(b, "relate-go").await;
    wait_for_text(b, "#relations", "Kjerneswitch Fjordvik rådhus").await;

    // The switch's impact lists the PC, and the diagram is drawn.
    b.find(Locator::XPath(
        "//ul[@id='relations']//a[contains(., 'Kjerneswitch')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    click(b, "impact-link").await;
    let impact = text_of(b, "#impact").await;
    assert!(impact.contains("PC på lærerværelset"), "{impact}");
    assert!(impact.contains("Stopper"), "{impact}");
    let svg = b
        .find(Locator::Css("#impact-diagram svg"))
        .await
        .unwrap()
        .attr("role")
        .await
        .unwrap();
    assert_eq!(svg.as_deref(), Some("img"));
    screenshot(b, "inventory-impact").await;

    // Retire the PC, then dispose of it: first without the certificate (refused), then with it.
    b.goto(&server.url("/inventory?q=pc-laerer-test"))
        .await
        .unwrap();
    b.find(Locator::XPath(
        "//table[@id='items']//a[contains(., 'lærerværelset')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    b.find(Locator::Id("move-to"))
        .await
        .unwrap()
        .select_by_value("retired")
        .await
        .unwrap();
    click(b, "move-go").await;
    wait_for_text(b, "#item-lifecycle", "Utfaset").await;
    b.find(Locator::Id("move-to"))
        .await
        .unwrap()
        .select_by_value("disposed")
        .await
        .unwrap();
    click(b, "move-go").await;
    assert!(text_of(b, "#item-error").await.contains("sertifikat"));
    b.find(Locator::Id("move-to"))
        .await
        .unwrap()
        .select_by_value("disposed")
        .await
        .unwrap();
    type_into(b, "recycler", "Nordisk Gjenvinning AS").await;
    type_into(b, "certificate", "NG-2026-0042").await;
    click(b, "move-go").await;
    wait_for_text(b, "#item-lifecycle", "Avhendet").await;
    assert!(text_of(b, "#item-disposal").await.contains("NG-2026-0042"));
    assert!(
        b.find(Locator::Id("relate-form")).await.is_err(),
        "a disposed item takes no relations"
    );
    screenshot(b, "inventory-disposed").await;
    b.clone().close().await.unwrap();
}

/// An administrator adds a field, imports laptops from an Excel-style CSV (dry run, then
/// the valid rows), records an application's portfolio and reads the GDPR record.
#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_imports_items_and_reads_the_processing_record() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "admin").await;

    b.goto(&server.url("/inventory/fields")).await.unwrap();
    select_text(b, "field-type", "Velferdsteknologi").await;
    type_into(b, "field-label", "Alarmsone").await;
    type_into(b, "field-key", "alarm_zone").await;
    click(b, "add-field").await;
    wait_for_text(b, "#item-fields", "alarm_zone").await;

    // Windows-1252 and semicolons, as Excel writes them; row 3 has an impossible date.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("laptops.csv");
    std::fs::write(
        &file,
        b"name;serial_number;hostname;model;warranty_until\n\
B\xe6rbar l\xe6rer 1;BRW-IMP-1;pc-imp-1;T14;31.12.2027\n\
B\xe6rbar l\xe6rer 2;BRW-IMP-2;pc-imp-2;T14;31.02.2027\n",
    )
    .unwrap();
    b.goto(&server.url("/inventory/import")).await.unwrap();
    select_text(b, "import-tenant", "Fjordvik kommune").await;
    b.find(Locator::Id("import-item-type"))
        .await
        .unwrap()
        .select_by_value("laptop")
        .await
        .unwrap();
    type_into(b, "import-file", file.to_str().unwrap()).await;
    click(b, "import-go").await;
    let summary = wait_for_text(b, "#import-summary", "windows-1252").await;
    assert!(summary.contains("1 nye"), "{summary}");
    let problems = text_of(b, "#import-problems").await;
    assert!(problems.contains("warranty_until"), "{problems}");
    click(b, "run-valid").await;
    wait_for_text(b, "#import-written", "importert").await;
    b.goto(&server.url("/inventory?q=pc-imp")).await.unwrap();
    let list = text_of(b, "#items").await;
    assert!(
        list.contains("Bærbar lærer 1") && !list.contains("lærer 2"),
        "{list}"
    );
    screenshot(b, "inventory-imported").await;

    // An application with personal data in a US cloud and no agreement shows its gaps.
    b.goto(&server.url("/inventory/new")).await.unwrap();
    select_text(b, "choose-tenant", "Fjordvik kommune").await;
    select_text(b, "choose-type", "Applikasjon").await;
    click(b, "choose-go").await;
    type_into(b, "name", "Elevportalen").await;
    click(b, "save-item").await;
    click(b, "portfolio-link").await;
    b.find(Locator::Id("hosting"))
        .await
        .unwrap()
        .select_by_value("saas")
        .await
        .unwrap();
    type_into(b, "data_location", "NO, US").await;
    type_into(b, "purpose", "Innlevering av elevarbeider").await;
    click(b, "personal_data").await;
    b.find(Locator::Id("legal_basis"))
        .await
        .unwrap()
        .select_by_value("public_task")
        .await
        .unwrap();
    click(b, "save-portfolio").await;
    let gaps = wait_for_text(b, "#gaps", "US").await;
    assert!(gaps.contains("databehandleravtale"), "{gaps}");
    click(b, "nav-gdpr").await;
    select_text(b, "r-tenant", "Fjordvik kommune").await;
    let record = wait_for_text(b, "#record", "Elevportalen").await;
    assert!(record.contains("Innlevering av elevarbeider"), "{record}");
    screenshot(b, "gdpr-record").await;
    b.clone().close().await.unwrap();
}

/// A resident opens the municipality's public status page without signing in.
#[tokio::test(flavor = "multi_thread")]
async fn anyone_reads_a_public_status_page() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let store = &server.store;
    let scope = store
        .installation_scope(drifta_core::Actor::system("test"))
        .await
        .unwrap();
    let fjordvik = store.find_tenant_by_slug(&scope, "fjordvik").await.unwrap();
    let (_, monitor) = store
        .create_heartbeat(
            &scope,
            &fjordvik.id,
            "Trygghetsalarm-mottak",
            jiff::SignedDuration::from_mins(10),
            jiff::SignedDuration::from_mins(5),
        )
        .await
        .unwrap();
    store
        .set_monitor_on_status_page(&scope, &monitor.id, true)
        .await
        .unwrap();
    store
        .set_status_page_public(&scope, &fjordvik.id, true)
        .await
        .unwrap();
    let br = browser().await;
    let b = &br.client;
    b.goto(&server.url("/status/fjordvik")).await.unwrap();
    let services = text_of(b, "#status-services").await;
    assert!(services.contains("Trygghetsalarm-mottak"), "{services}");
    assert!(!text_of(b, "#status-overall").await.is_empty());
    let bars = b.find_all(Locator::Css(".uptime-bars .bar")).await.unwrap();
    assert_eq!(bars.len(), 90);
    assert!(
        b.find(Locator::Id("sign-out")).await.is_err(),
        "no menu for a visitor"
    );
    screenshot(b, "status-page").await;
    b.clone().close().await.unwrap();
}

/// A web server for a check to watch, whose answer the test switches.
async fn switchable_target(status: std::sync::Arc<std::sync::atomic::AtomicU16>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let code = status.load(std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = socket.read(&mut buf).await;
                let reply = format!(
                    "HTTP/1.1 {code} X\r\ncontent-length: 9\r\nconnection: close\r\n\r\nVelkommen"
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/")
}

/// Reloads the page until the element matching `css` contains `needle`.
async fn reload_until(b: &Client, css: &str, needle: &str) -> String {
    for _ in 0..60 {
        b.refresh().await.unwrap();
        if let Ok(el) = b.find(Locator::Css(css)).await
            && let Ok(text) = el.text().await
            && text.contains(needle)
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{css} never contained {needle:?}");
}

/// A technician adds an HTTP check in the form; the engine finds the service failing, the
/// monitors page shows it down with its ticket; then a weekly maintenance window is planned
/// and the check is paused.
#[tokio::test(flavor = "multi_thread")]
async fn a_technician_adds_a_check_and_sees_the_outage() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let status = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(200));
    let url = switchable_target(status.clone()).await;
    let engine = drifta_monitor::engine::spawn(
        server.store.clone(),
        drifta_monitor::probe::Prober::new().unwrap(),
        drifta_monitor::engine::EngineConfig {
            reload_every: Duration::from_millis(200),
            history_every: Duration::from_millis(500),
            interval_override: Some(Duration::from_millis(200)),
            ..drifta_monitor::engine::EngineConfig::new("browser-test")
        },
    );
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker.nord").await;
    b.goto(&server.url("/monitors")).await.unwrap();
    select_text(b, "ck-tenant", "Fjordvik kommune").await;
    type_into(b, "ck-name", "Intranett").await;
    select_text(b, "ck-kind", "HTTP(S)").await;
    type_into(b, "ck-url", &url).await;
    type_into(b, "ck-keyword", "Velkommen").await;
    click(b, "create-check").await;
    let table = wait_for_text(b, "#monitors", "Intranett").await;
    assert!(table.contains("127.0.0.1"), "{table}");

    status.store(503, std::sync::atomic::Ordering::SeqCst);
    // tekniker.nord reads Norwegian.
    let table = reload_until(b, "#monitors", "503").await;
    assert!(table.contains("Nede"), "{table}");
    // The outage's ticket is opened just after the state change is written, so a reload
    // can fall between the two.
    let mut row = None;
    for _ in 0..40 {
        let found = b
            .find(Locator::XPath(
                "//table[@id='monitors']//tr[contains(., 'Intranett')]",
            ))
            .await
            .unwrap();
        if found
            .find(Locator::Css("a[href^='/tickets/']"))
            .await
            .is_ok()
        {
            row = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        b.refresh().await.unwrap();
    }
    let row = row.expect("the outage links its ticket");
    screenshot(b, "monitors-outage").await;
    row.find(Locator::LinkText("Intranett"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(b, "#monitor-state", "Nede").await;

    b.goto(&server.url("/monitors")).await.unwrap();
    select_text(b, "mw-tenant", "Fjordvik kommune").await;
    type_into(b, "mw-title", "Patch-tirsdag").await;
    click(b, "mw-weekly").await;
    click(b, "mw-day-2").await;
    // A time input's typing rules follow the browser's locale; setting the value is not.
    b.execute(
        "document.getElementById('mw-time').value = '22:00';",
        vec![],
    )
    .await
    .unwrap();
    type_into(b, "mw-duration", "120").await;
    click(b, "create-maintenance").await;
    let windows = wait_for_text(b, "#maintenance-windows", "Patch-tirsdag").await;
    assert!(windows.contains("22:00"), "{windows}");

    let row = b
        .find(Locator::XPath(
            "//table[@id='monitors']//tr[contains(., 'Intranett')]",
        ))
        .await
        .unwrap();
    row.find(Locator::Css("button.pause-toggle"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(b, "#monitors", "Gjenoppta").await;
    b.clone().close().await.unwrap();
    engine.shutdown().await;
}

/// A technician opens the monthly uptime report from the monitors page, picks October and
/// Fjordvik in the form, then steps to November and back with the month links.
#[tokio::test(flavor = "multi_thread")]
async fn a_technician_reads_the_uptime_report_and_switches_month() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    crate::uptime_report::seed_october(&server).await;
    let br = browser().await;
    let b = &br.client;
    // tekniker.nord reads Norwegian.
    sign_in(b, &server, "tekniker.nord").await;
    b.goto(&server.url("/monitors")).await.unwrap();
    click(b, "open-uptime-report").await;
    wait_for_text(b, "#report-heading", "Oppetidsrapport").await;
    // A month input's typing rules follow the browser's locale; setting the value is not.
    b.execute(
        "document.getElementById('r-month').value = '2026-10';",
        vec![],
    )
    .await
    .unwrap();
    select_text(b, "r-tenant", "Fjordvik kommune").await;
    click(b, "report-show").await;
    wait_for_text(b, "#report-heading", "oktober 2026").await;
    let table = text_of(b, "#uptime-fjordvik").await;
    assert!(table.contains("Lønnskjøring-backup"), "{table}");
    assert!(table.contains("99.731"), "{table}");
    assert!(table.contains("Alle tjenester"), "{table}");
    screenshot(b, "uptime-report").await;
    click(b, "next-month").await;
    wait_for_text(b, "#report-heading", "november 2026").await;
    let table = text_of(b, "#uptime-fjordvik").await;
    assert!(table.contains("120.0"), "{table}");
    click(b, "previous-month").await;
    wait_for_text(b, "#report-heading", "oktober 2026").await;
    b.clone().close().await.unwrap();
}

/// An HTTP receiver that keeps every request body, for webhook deliveries.
async fn recording_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let kept = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let inbox = kept.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .and_then(|v| v.trim().parse::<usize>().ok())
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            kept.lock().unwrap().push(body.to_string());
                            break;
                        }
                    }
                }
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    (format!("http://{addr}/hooks/drift"), inbox)
}

/// A technician routes Fjordvik's alerts to the team's chat, sends a test, and sees it
/// delivered in the log; the chat received Norwegian text in Slack's format.
#[tokio::test(flavor = "multi_thread")]
async fn a_technician_routes_alerts_to_chat_and_sends_a_test() {
    if !enabled() {
        return;
    }
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (hook, received) = recording_receiver().await;
    let mut config = drifta_monitor::alerts::AlertConfig::new(
        "browser-test",
        std::sync::Arc::new(drifta_web::alert_text),
    );
    config.poll_every = Duration::from_millis(100);
    let sender = drifta_monitor::alerts::spawn(server.store.clone(), config).unwrap();
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "tekniker.nord").await;
    b.goto(&server.url("/monitors")).await.unwrap();
    click(b, "open-alerts").await;
    wait_for_text(b, "#no-routes", "").await;
    select_text(b, "al-tenant", "Fjordvik kommune").await;
    select_text(b, "al-channel", "Webhook").await;
    type_into(b, "al-target", "chat.fjordvik.example").await;
    click(b, "route-save").await;
    // Not a web address: the form says so and nothing is added.
    let error = wait_for_text(b, "#form-error", "https://").await;
    assert!(error.contains("http://"), "{error}");
    assert!(b.find(Locator::Css("#alert-routes")).await.is_err());

    select_text(b, "al-tenant", "Fjordvik kommune").await;
    select_text(b, "al-channel", "Webhook").await;
    type_into(b, "al-target", &hook).await;
    select_text(b, "al-format", "Slack").await;
    select_text(b, "al-threshold", "Redusert og nede").await;
    click(b, "route-save").await;
    let routes = wait_for_text(b, "#alert-routes", "Fjordvik").await;
    assert!(routes.contains("/hooks/drift"), "{routes}");
    assert!(routes.contains("med en gang"), "{routes}");
    b.find(Locator::Css("#alert-routes .route-test"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let log = reload_until(b, "#alert-deliveries", "Sendt").await;
    assert!(log.contains("Testvarsel"), "{log}");
    screenshot(b, "alerts-test-sent").await;
    let bodies = received.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let body: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("Testvarsel fra Drifta"), "{text}");

    b.find(Locator::Css("#alert-routes .route-delete"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(b, "#no-routes", "").await;
    sender.shutdown().await;
}

/// A provider administrator adds a shared mailbox through the form (a bad route is named and
/// the password has to be typed again, never sent back), sees it listed without its
/// password, and reads in Norwegian why a message from an unknown sender was kept aside.
#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_adds_a_mailbox_and_reads_the_intake_log() {
    if !enabled() {
        return;
    }
    const SECRET: &str = "Imap-Passord-4411";
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let br = browser().await;
    let b = &br.client;
    sign_in(b, &server, "admin").await;
    b.goto(&server.url("/monitors")).await.unwrap();
    click(b, "open-mail").await;
    wait_for_text(b, "#no-mailboxes", "").await;
    click(b, "add-mailbox").await;
    select_text(b, "mb-tenant", "Nordkyst IT (felles postkasse)").await;
    type_into(b, "mb-name", "Felles brukerstøtte").await;
    type_into(b, "mb-address", "support@nordkyst.example").await;
    type_into(b, "mb-host", "imap.nordkyst.example").await;
    type_into(b, "mb-username", "support@nordkyst.example").await;
    type_into(b, "mb-password", SECRET).await;
    type_into(
        b,
        "mb-routes",
        "fjordvik.kommune.no fjordvik\nlysberg.kommune.no ukjentby",
    )
    .await;
    click(b, "save-mailbox").await;
    let error = wait_for_text(b, "#routes-error", "ukjentby").await;
    assert!(error.contains('2'), "the line is named: {error}");
    assert!(!b.source().await.unwrap().contains(SECRET));
    let password = b.find(Locator::Id("mb-password")).await.unwrap();
    assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));
    password.send_keys(SECRET).await.unwrap();
    let routes = b.find(Locator::Id("mb-routes")).await.unwrap();
    routes.clear().await.unwrap();
    routes
        .send_keys("fjordvik.kommune.no fjordvik\nlysberg.kommune.no Lysberg kommune")
        .await
        .unwrap();
    click(b, "save-mailbox").await;
    let list = wait_for_text(b, "#mailboxes", "Felles brukerstøtte").await;
    assert!(list.contains("imap.nordkyst.example:993"), "{list}");
    assert!(
        list.contains("fjordvik.kommune.no → Fjordvik kommune"),
        "{list}"
    );
    assert!(
        list.contains("lysberg.kommune.no → Lysberg kommune"),
        "{list}"
    );
    assert!(list.contains("ikke ennå"), "never read yet: {list}");
    assert!(!b.source().await.unwrap().contains(SECRET));
    screenshot(b, "mail-mailboxes").await;

    // A message from a sender no route knows arrives; the log says why it waits.
    let scope = server
        .store
        .installation_scope(drifta_core::Actor::system("test"))
        .await
        .unwrap();
    let mailbox = server.store.list_mailboxes(&scope).await.unwrap()[0]
        .id
        .clone();
    crate::mail::ingest(
        &server,
        &mailbox,
        "From: ukjent@et-annet-sted.example\nSubject: Hvem er dere\nMessage-ID: <b1@et-annet-sted.example>\n\nHei.\n",
    )
    .await;
    click(b, "open-mail-log").await;
    click(b, "log-problems").await;
    let log = wait_for_text(b, "#mail-log", "Hvem er dere").await;
    assert!(log.contains("Lagt til side"), "{log}");
    assert!(
        log.contains("Ingen fordelingsregel passer avsenderen"),
        "{log}"
    );
    assert!(log.contains("ukjent@et-annet-sted.example"), "{log}");
    let raw = b
        .find(Locator::Css("#mail-log a.mail-raw"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(raw.ends_with(".eml"), "{raw}");
    screenshot(b, "mail-log").await;
    b.clone().close().await.unwrap();
}
