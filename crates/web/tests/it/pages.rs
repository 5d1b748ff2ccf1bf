use crate::support::{PASSWORD, client, csrf_of, servers, sign_in, start_on};
use drifta_store::testing::sqlite;
use drifta_web::WebConfig;
use jiff::SignedDuration;

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_shows_the_dashboard_and_sign_out_ends_the_session() {
    for server in servers().await {
        let (client, csrf) = sign_in(&server, "tekniker.nord").await;
        let home = client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            home.contains("Fjordvik kommune") && home.contains("Skjærvåg kommune"),
            "{}",
            server.label
        );
        assert!(
            !home.contains("Egeholm"),
            "{}: another municipality leaked",
            server.label
        );

        let res = client
            .post(server.url("/logout"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let res = client.get(server.url("/")).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/login");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_gives_a_clear_message_and_is_audited() {
    for server in servers().await {
        let c = client();
        let page = c
            .get(server.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let res = c
            .post(server.url("/login"))
            .header("accept-language", "en")
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("login", "admin"),
                ("password", "wrong password"),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let body = res.text().await.unwrap();
        assert!(body.contains("Wrong user name or password"), "{body}");
        assert!(body.contains("value=\"admin\""), "the name typed is kept");

        let (admin, _) = sign_in(&server, "admin").await;
        let audit = admin
            .get(server.url("/audit?object_type=session"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            audit.contains("mislykket innlogging"),
            "{}: failed sign-in not in the audit log",
            server.label
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_failures_lock_the_account_for_a_while() {
    let server = start_on(
        sqlite().await,
        WebConfig {
            max_failures_per_account: 3,
            ..WebConfig::default()
        },
    )
    .await;
    let c = client();
    let page = c
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let attempt = |password: &'static str| {
        let c = c.clone();
        let csrf = csrf.clone();
        let url = server.url("/login");
        async move {
            c.post(url)
                .header("accept-language", "en")
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("login", "tekniker"),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(attempt("not the password").await.status(), 401);
    }
    // Even the right password is refused while locked, with a message saying what to do.
    let res = attempt(PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("Wait 15 minutes"));
    server.clock.advance(SignedDuration::from_mins(16));
    assert_eq!(attempt(PASSWORD).await.status(), 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_without_the_csrf_token_are_refused_and_change_nothing() {
    for server in servers().await {
        let (client, _) = sign_in(&server, "admin").await;
        let res = client
            .post(server.url("/admin/users"))
            .form(&[
                ("username", "mallory"),
                ("email", "m@x.no"),
                ("display_name", "M"),
                ("password", "long enough pw"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{}", server.label);
        let res = client
            .post(server.url("/logout"))
            .form(&[("csrf", "forged")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert!(server.store.find_login("mallory").await.unwrap().is_none());
        // Still signed in: the forged sign-out did nothing.
        assert_eq!(
            client.get(server.url("/")).send().await.unwrap().status(),
            200
        );

        // The sign-in form needs its double-submit token too.
        let fresh = crate::support::client();
        let res = fresh
            .post(server.url("/login"))
            .form(&[("login", "admin"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_session_expires() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (client, _) = sign_in(&server, "koordinator.fjordvik").await;
    assert_eq!(
        client
            .get(server.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    server.clock.advance(SignedDuration::from_hours(9));
    let res = client.get(server.url("/account")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2Faccount");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_carries_the_security_headers() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (client, _) = sign_in(&server, "admin").await;
    for path in [
        "/",
        "/login",
        "/audit",
        "/admin/users",
        "/account",
        "/nope",
        "/api/v1/me",
    ] {
        let res = client.get(server.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
    let login = crate::support::client()
        .get(server.url("/login"))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP without a proxy must not mark cookies Secure"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cookies_are_secure_behind_a_tls_proxy() {
    let config = WebConfig {
        trust_proxy: true,
        ..WebConfig::default()
    };
    let server = start_on(sqlite().await, config).await;
    let res = client()
        .get(server.url("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    assert!(res.headers().contains_key("strict-transport-security"));
}

#[tokio::test(flavor = "multi_thread")]
async fn switcher_narrows_the_view_and_refuses_foreign_municipalities() {
    for server in servers().await {
        let (client, csrf) = sign_in(&server, "tekniker.nord").await;
        let tenants = server
            .store
            .installation_scope(drifta_core::Actor::system("t"))
            .await
            .unwrap();
        let all = server.store.list_tenants(&tenants).await.unwrap();
        let fjordvik = all.iter().find(|t| t.slug == "fjordvik").unwrap();
        let egeholm = all.iter().find(|t| t.slug == "egeholm").unwrap();

        let res = client
            .post(server.url("/switch"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("tenant", fjordvik.id.as_str()),
                ("back", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let home = client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            home.contains("<h1>Fjordvik kommune</h1>"),
            "{}",
            server.label
        );
        assert_eq!(
            home.matches("class=\"card tenant-card\"").count(),
            1,
            "{}: only Fjordvik's card",
            server.label
        );

        let res = client
            .post(server.url("/switch"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("tenant", egeholm.id.as_str()),
                ("back", "/"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{}", server.label);
        let res = client
            .get(server.url(&format!("/tenants/{}", egeholm.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let res = client
            .get(server.url(&format!("/tenants/{}", fjordvik.id)))
            .send()
            .await
            .unwrap();
        assert!(res.text().await.unwrap().contains("Fjordvik skole"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn language_follows_the_browser_until_the_user_chooses() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    // tekniker.nord has no language set: the browser decides.
    let (client, csrf) = sign_in(&server, "tekniker.nord").await;
    let da = client
        .get(server.url("/"))
        .header("accept-language", "da-DK,da;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(da.contains("<html lang=\"da\">") && da.contains("Overblik"));
    let res = client
        .post(server.url("/account/language"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("language", "en"),
            ("back", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/account");
    let en = client
        .get(server.url("/"))
        .header("accept-language", "da")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("<html lang=\"en\">") && en.contains("Dashboard"));
    let res = client
        .post(server.url("/account/language"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("language", "klingon"),
            ("back", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_creates_a_user_and_the_audit_log_shows_it() {
    for server in servers().await {
        let (client, csrf) = sign_in(&server, "admin").await;
        let page = client
            .get(server.url("/admin/users/new"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let home = page
            .split("<option value=\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap().to_string())
            .find(|v| v.len() == 36)
            .unwrap();
        let form_with_email = |username: &str, email: &str, password: &str| {
            vec![
                ("csrf".to_string(), csrf.clone()),
                ("display_name".into(), "Kari Testesen".into()),
                ("username".into(), username.to_string()),
                ("email".into(), email.to_string()),
                ("home".into(), home.clone()),
                ("role".into(), "requester".into()),
                ("language".into(), "nb".into()),
                ("password".into(), password.to_string()),
            ]
        };
        let form = |username: &str, password: &str| {
            form_with_email(username, &format!("{username}@fjordvik.example"), password)
        };
        // Bad input re-renders the form with messages beside the fields.
        let res = client
            .post(server.url("/admin/users"))
            .form(&form("x y", "short"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let body = res.text().await.unwrap();
        assert!(body.contains("id=\"password-error\""), "{}", server.label);
        let res = client
            .post(server.url("/admin/users"))
            .form(&form("kari.t", "short"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);

        let res = client
            .post(server.url("/admin/users"))
            .form(&form("kari.t", "fjord og fjell"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "{}", server.label);
        let dup = client
            .post(server.url("/admin/users"))
            .form(&form_with_email(
                "kari.t",
                "another@fjordvik.example",
                "fjord og fjell",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(dup.status(), 422);
        assert!(dup.text().await.unwrap().contains("id=\"username-error\""));

        let audit = client
            .get(server.url("/audit?object_type=user"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            audit.contains("kari.t"),
            "{}: creation not in the audit log",
            server.label
        );
        assert!(audit.contains("Ingrid Vassbotn"));
        assert_eq!(
            server
                .store
                .verify_audit_chain()
                .await
                .unwrap()
                .map(|n| n > 0),
            Ok(true)
        );

        // The new user can sign in.
        let c = crate::support::client();
        let login = c
            .get(server.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let res = c
            .post(server.url("/login"))
            .form(&[
                ("csrf", csrf_of(&login).as_str()),
                ("login", "kari.t"),
                ("password", "fjord og fjell"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_decide_what_pages_a_person_may_open() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (teacher, _) = sign_in(&server, "laerer.fjordvik").await;
    for path in ["/admin/users", "/audit", "/admin/users/new"] {
        assert_eq!(
            teacher.get(server.url(path)).send().await.unwrap().status(),
            403,
            "{path}"
        );
    }
    let (auditor, csrf) = sign_in(&server, "revisor").await;
    assert_eq!(
        auditor
            .get(server.url("/audit"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        auditor
            .get(server.url("/admin/users"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // Read-only: an auditor cannot post a user either.
    let res = auditor
        .post(server.url("/admin/users"))
        .form(&[("csrf", csrf.as_str()), ("username", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let bad = auditor
        .get(server.url("/audit?before=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_ones_own_password() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (client, csrf) = sign_in(&server, "koordinator.egeholm").await;
    let post = |current: &str, new: &str, repeat: &str| {
        client
            .post(server.url("/account/password"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current", current),
                ("new_password", new),
                ("repeat", repeat),
            ])
            .send()
    };
    let res = post(
        "wrong one!",
        "a brand new passphrase",
        "a brand new passphrase",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 422);
    let res = post(PASSWORD, "a brand new passphrase", "a different passphrase")
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = post(PASSWORD, "a brand new passphrase", "a brand new passphrase")
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The session that changed it lives on.
    assert_eq!(
        client
            .get(server.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (_, hash) = server
        .store
        .find_login("koordinator.egeholm")
        .await
        .unwrap()
        .unwrap();
    let hasher = drifta_core::password::PasswordHasher::fast_insecure_for_tests();
    assert!(
        hasher
            .verify("a brand new passphrase", &hash.unwrap())
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_check_answers() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let res = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
