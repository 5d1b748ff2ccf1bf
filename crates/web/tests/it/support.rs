use drifta_core::clock::ManualClock;
use drifta_core::password::PasswordHasher;
use drifta_core::{Actor, Country, Role};
use drifta_store::testing::{TestDb, backends};
use drifta_store::{NewTenant, NewUser, Store};
use drifta_web::{AppState, WebConfig};
use jiff::Timestamp;
use std::sync::Arc;
use tokio::sync::oneshot;

pub const PASSWORD: &str = drifta_store::demo::DEMO_PASSWORD;

/// A running server with demo data on its own database.
pub struct TestServer {
    pub base: String,
    pub store: Store,
    pub clock: Arc<ManualClock>,
    pub label: &'static str,
    _db: TestDb,
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

pub async fn start_on(db: TestDb, config: WebConfig) -> TestServer {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    // A key for sealing mailbox passwords, as `secret_key` in the configuration gives one.
    let key = drifta_core::seal::SecretKey::generate_hex();
    let store = db
        .store
        .clone()
        .with_clock(clock.clone())
        .with_secret_key(drifta_core::seal::SecretKey::from_hex(&key).unwrap());
    let hasher = PasswordHasher::fast_insecure_for_tests();
    store.seed_demo(&hasher).await.expect("seed demo data");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let state = AppState::new(store.clone(), hasher, config);
    tokio::spawn(drifta_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    TestServer {
        base,
        store,
        clock,
        label: db.label,
        _db: db,
        _stop: stop,
    }
}

/// One server per available backend.
pub async fn servers() -> Vec<TestServer> {
    let mut out = Vec::new();
    for db in backends().await {
        out.push(start_on(db, WebConfig::default()).await);
    }
    out
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first `name="csrf"` field in a page.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// Signs in through the form; returns the client and the CSRF token of the session.
pub async fn sign_in(server: &TestServer, username: &str) -> (reqwest::Client, String) {
    let client = client();
    let page = client
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = client
        .post(server.url("/login"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("login", username),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        303,
        "{}: sign-in of {username} failed",
        server.label
    );
    let home = client
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&home);
    assert!(!token.is_empty());
    (client, token)
}

/// An API token for a demo user, created through the store.
/// The body of a page fetched by `client` (redirects are not followed).
pub async fn page(client: &reqwest::Client, server: &TestServer, path: &str) -> String {
    client
        .get(server.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub async fn api_token(server: &TestServer, username: &str) -> String {
    let (user, _) = server.store.find_login(username).await.unwrap().unwrap();
    let scope = server.store.scope_for(&user, "").await.unwrap();
    server.store.create_token(&scope, "test").await.unwrap().0
}

/// The number of the first ticket in a queue page whose title starts with `title`.
pub fn ticket_number_titled(html: &str, title: &str) -> Option<String> {
    html.split("<a href=\"/tickets/").find_map(|s| {
        let (n, rest) = s.split_once('"')?;
        rest.strip_prefix('>')?
            .starts_with(title)
            .then(|| n.to_string())
    })
}

/// The technician [`stranger`] makes.
pub const STRANGER: &str = "tekniker.annen";

/// A second provider with one municipality (Fremmedvik) and a technician there; returns the
/// provider's and the municipality's ids. The technician, [`STRANGER`], signs in with
/// [`PASSWORD`].
pub async fn stranger(server: &TestServer) -> (String, String) {
    let store = &server.store;
    let actor = Actor::system("test");
    let provider = store
        .create_provider(
            &actor,
            NewTenant {
                name: "Annen leverandør".into(),
                slug: "annen".into(),
                country: Country::No,
                time_zone: None,
                language: None,
            },
        )
        .await
        .unwrap();
    let scope = store.installation_scope(actor.clone()).await.unwrap();
    let town = store
        .create_municipality(
            &scope,
            &provider.id,
            NewTenant {
                name: "Fremmedvik kommune".into(),
                slug: "fremmedvik".into(),
                country: Country::No,
                time_zone: None,
                language: None,
            },
        )
        .await
        .unwrap();
    let scope = store.installation_scope(actor).await.unwrap();
    let hash = PasswordHasher::fast_insecure_for_tests()
        .hash(PASSWORD)
        .unwrap();
    let user = store
        .create_user(
            &scope,
            NewUser {
                tenant_id: town.id.clone(),
                username: STRANGER.into(),
                email: "tekniker@annen.example".into(),
                display_name: "Tekniker Annen".into(),
                phone: String::new(),
                language: None,
                password_hash: Some(hash),
            },
        )
        .await
        .unwrap();
    store
        .set_grants(&scope, &user.id, &[(town.id.clone(), Role::Technician)])
        .await
        .unwrap();
    (provider.id.to_string(), town.id.to_string())
}
