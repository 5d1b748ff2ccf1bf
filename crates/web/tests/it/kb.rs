//! The knowledge base through HTTP: writing and publishing, who reads what, Markdown that
//! cannot run script, CSRF, and links from tickets. The JSON API is tested in `api.rs`.

use crate::support::{TestServer, servers, sign_in, start_on};
use drifta_core::Actor;
use drifta_store::testing::sqlite;
use drifta_store::{ArticleFilter, QueueFilter, StatusFilter};
use drifta_web::WebConfig;

pub async fn tenant_id(server: &TestServer, slug: &str) -> String {
    let scope = server
        .store
        .installation_scope(Actor::system("t"))
        .await
        .unwrap();
    server
        .store
        .find_tenant_by_slug(&scope, slug)
        .await
        .unwrap()
        .id
        .to_string()
}

/// The id of a demo article, found through the installation's eyes.
async fn article_id(server: &TestServer, title_start: &str) -> String {
    let scope = server
        .store
        .installation_scope(Actor::system("t"))
        .await
        .unwrap();
    server
        .store
        .list_articles(
            &scope,
            &ArticleFilter {
                limit: 100,
                ..ArticleFilter::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.title.starts_with(title_start))
        .unwrap_or_else(|| panic!("demo article {title_start}"))
        .id
}

/// The number of a demo ticket, by the start of its title.
async fn ticket_number(server: &TestServer, title_start: &str) -> i64 {
    let scope = server
        .store
        .installation_scope(Actor::system("t"))
        .await
        .unwrap();
    server
        .store
        .list_tickets(
            &scope,
            &QueueFilter {
                status: StatusFilter::Any,
                limit: 100,
                ..QueueFilter::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.title.starts_with(title_start))
        .unwrap()
        .number
}

async fn get(c: &reqwest::Client, server: &TestServer, path: &str) -> (u16, String) {
    let res = c.get(server.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(
    c: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(server.url(path)).form(form).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_write_and_publish_and_requesters_read_only_what_is_published() {
    for server in servers().await {
        let label = server.label;
        let fjordvik = tenant_id(&server, "fjordvik").await;
        let (tech, tech_csrf) = sign_in(&server, "tekniker.nord").await;
        let (teacher, teacher_csrf) = sign_in(&server, "laerer.fjordvik").await;
        let (nurse, _) = sign_in(&server, "sygeplejerske.vindaa").await;

        // Everyone signed in finds the knowledge base in the menu.
        for c in [&tech, &teacher, &nurse] {
            let (_, home) = get(c, &server, "/").await;
            assert!(home.contains("id=\"nav-kb\""), "{label}");
        }

        // A municipality's technician writes for that municipality, not provider-wide.
        let (status, form) = get(&tech, &server, "/kb/new").await;
        assert_eq!(status, 200);
        assert!(form.contains("Fjordvik kommune") && !form.contains("Nordkyst IT"));
        let res = post(
            &tech,
            &server,
            "/kb",
            &[
                ("csrf", &tech_csrf),
                ("tenant", &fjordvik),
                ("title", "Slik bytter du toner i skriveren"),
                ("body", "## Steg\n\n1. Åpne **frontluken**\n2. Bytt toner"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{label}");
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let id = location
            .trim_start_matches("/kb/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let (status, page) = get(&tech, &server, &location).await;
        assert_eq!(status, 200);
        assert!(page.contains("id=\"draft-notice\"") && page.contains("id=\"publish-article\""));
        assert!(page.contains("<strong>frontluken</strong>"), "{page}");

        // While it is a draft, the teacher neither lists nor opens it.
        let (_, list) = get(&teacher, &server, "/kb").await;
        assert!(!list.contains("bytter du toner"), "{label}");
        assert!(
            list.contains("Slik kobler du til skolens Wi-Fi"),
            "shared demo article"
        );
        assert!(!list.contains("Utkast: Nye skrivere"), "demo draft");
        assert!(!list.contains("MitID"), "another municipality's article");
        assert!(!list.contains("id=\"new-article\""));
        assert_eq!(get(&teacher, &server, &format!("/kb/{id}")).await.0, 404);

        // Publishing makes it readable for the teacher, and searchable.
        let res = post(
            &tech,
            &server,
            &format!("/kb/{id}/publish"),
            &[("csrf", &tech_csrf)],
        )
        .await;
        assert_eq!(res.status(), 303);
        let (status, page) = get(&teacher, &server, &format!("/kb/{id}")).await;
        assert_eq!(status, 200, "{label}");
        assert!(page.contains("Slik bytter du toner i skriveren"));
        assert!(page.contains("<h2>Steg</h2>"));
        assert!(
            !page.contains("id=\"edit-article\"") && !page.contains("id=\"unpublish-article\"")
        );
        let (_, found) = get(&teacher, &server, "/kb?q=TONER").await;
        assert!(
            found.contains("bytter du toner") && !found.contains("Wi-Fi"),
            "{label}"
        );
        let (_, none) = get(&teacher, &server, "/kb?q=finnes+ikke").await;
        assert!(none.contains("id=\"kb-empty\""));
        // A nurse in another municipality still sees nothing of it.
        assert_eq!(get(&nurse, &server, &format!("/kb/{id}")).await.0, 404);

        // The teacher cannot write, publish or unpublish.
        assert_eq!(get(&teacher, &server, "/kb/new").await.0, 403);
        let res = post(
            &teacher,
            &server,
            "/kb",
            &[
                ("csrf", &teacher_csrf),
                ("tenant", &fjordvik),
                ("title", "Mitt tips"),
            ],
        )
        .await;
        assert_eq!(res.status(), 403);
        let res = post(
            &teacher,
            &server,
            &format!("/kb/{id}/unpublish"),
            &[("csrf", &teacher_csrf)],
        )
        .await;
        assert_eq!(res.status(), 403);

        // Editing with an empty title comes back with the message beside the field.
        let (status, edit) = get(&tech, &server, &format!("/kb/{id}/edit")).await;
        assert_eq!(status, 200);
        assert!(
            edit.contains("Åpne **frontluken**"),
            "the Markdown source is edited"
        );
        let res = post(
            &tech,
            &server,
            &format!("/kb/{id}"),
            &[("csrf", &tech_csrf), ("title", " "), ("body", "x")],
        )
        .await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("id=\"title-error\""));
        let res = post(
            &tech,
            &server,
            &format!("/kb/{id}"),
            &[
                ("csrf", &tech_csrf),
                ("title", "Slik bytter du toner"),
                ("body", "Ny tekst"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        // Unpublished again, it is gone for the teacher.
        post(
            &tech,
            &server,
            &format!("/kb/{id}/unpublish"),
            &[("csrf", &tech_csrf)],
        )
        .await;
        assert_eq!(get(&teacher, &server, &format!("/kb/{id}")).await.0, 404);
        // The shared article cannot be edited by a municipality's technician.
        let wifi = article_id(&server, "Slik kobler du til skolens Wi-Fi").await;
        assert_eq!(
            get(&tech, &server, &format!("/kb/{wifi}/edit")).await.0,
            403
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tickets_show_linked_articles_to_their_requester_when_published() {
    for server in servers().await {
        let label = server.label;
        let (tech, csrf) = sign_in(&server, "tekniker").await;
        let (teacher, _) = sign_in(&server, "laerer.fjordvik").await;
        let number = ticket_number(&server, "Prosjektoren").await;
        let wifi = article_id(&server, "Slik kobler du til skolens Wi-Fi").await;
        let draft = article_id(&server, "Utkast: Nye skrivere").await;
        let danish = article_id(&server, "Sådan logger du på").await;

        let (_, page) = get(&tech, &server, &format!("/tickets/{number}")).await;
        assert!(page.contains("id=\"link-article-form\""), "{label}");
        assert!(page.contains("Slik kobler du til skolens Wi-Fi"));
        assert!(
            !page.contains("Sådan logger du på"),
            "Egeholm's article is not offered on a Fjordvik ticket"
        );
        for id in [&wifi, &draft] {
            let res = post(
                &tech,
                &server,
                &format!("/tickets/{number}/articles"),
                &[("csrf", &csrf), ("article", id)],
            )
            .await;
            assert_eq!(res.status(), 303, "{label}");
        }
        let res = post(
            &tech,
            &server,
            &format!("/tickets/{number}/articles"),
            &[("csrf", &csrf), ("article", &danish)],
        )
        .await;
        assert_eq!(res.status(), 404, "another municipality's article");

        let (_, staff_view) = get(&tech, &server, &format!("/tickets/{number}")).await;
        let linked = staff_view.split("id=\"linked-articles\"").nth(1).unwrap();
        assert!(linked.contains("Slik kobler du til skolens Wi-Fi") && linked.contains("Utkast"));
        let (status, requester_view) = get(&teacher, &server, &format!("/tickets/{number}")).await;
        assert_eq!(status, 200);
        let linked = requester_view
            .split("id=\"linked-articles\"")
            .nth(1)
            .unwrap();
        assert!(linked.contains(&format!("/kb/{wifi}")), "{label}");
        assert!(!requester_view.contains("Utkast"), "drafts stay hidden");
        assert!(!requester_view.contains("id=\"link-article-form\""));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn markdown_cannot_run_script_in_the_page() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (tech, csrf) = sign_in(&server, "tekniker").await;
    let (teacher, _) = sign_in(&server, "laerer.fjordvik").await;
    let fjordvik = tenant_id(&server, "fjordvik").await;
    let body = "**Trygt**\n\n<script>alert('xss')</script>\n\n<img src=x onerror=\"alert(1)\">\n\n\
                [klikk her](javascript:alert(2))\n\n<iframe src=\"https://evil.example\"></iframe>\n\n\
                <a href=\"https://ok.example\" onclick=\"alert(3)\">ok</a>";
    let res = post(
        &tech,
        &server,
        "/kb",
        &[
            ("csrf", &csrf),
            ("tenant", &fjordvik),
            ("title", "<b>Fet</b> tittel"),
            ("body", body),
            ("published", "1"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let (status, page) = get(&teacher, &server, &location).await;
    assert_eq!(status, 200);
    let article = page
        .split("id=\"article-body\">")
        .nth(1)
        .and_then(|rest| rest.split("</article>").next())
        .expect("article body in the page");
    let lower = article.to_lowercase();
    for bad in [
        "<script",
        "alert",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "evil.example",
    ] {
        assert!(!lower.contains(bad), "{bad} survived: {article}");
    }
    assert!(article.contains("<strong>Trygt</strong>"));
    assert!(article.contains("klikk her"));
    assert!(article.contains("href=\"https://ok.example\""));
    assert!(article.contains("rel=\"noopener noreferrer\""));
    // The title is text, escaped like everything else.
    assert!(page.contains("&#60;b&#62;Fet&#60;/b&#62; tittel") || page.contains("&lt;b&gt;Fet"));
    assert!(!page.contains("<b>Fet</b>"));
    // The only script on the page is our own.
    assert_eq!(page.matches("<script").count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_without_the_csrf_token_are_refused() {
    let server = start_on(sqlite().await, WebConfig::default()).await;
    let (tech, csrf) = sign_in(&server, "tekniker").await;
    let fjordvik = tenant_id(&server, "fjordvik").await;
    let draft = article_id(&server, "Utkast: Nye skrivere").await;
    let number = ticket_number(&server, "Prosjektoren").await;

    let res = post(
        &tech,
        &server,
        "/kb",
        &[("tenant", &fjordvik), ("title", "Uten token")],
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = post(
        &tech,
        &server,
        &format!("/kb/{draft}/publish"),
        &[("csrf", "wrong-token")],
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = post(
        &tech,
        &server,
        &format!("/kb/{draft}"),
        &[("title", "Kapret"), ("body", "x")],
    )
    .await;
    assert_eq!(res.status(), 403);
    let res = post(
        &tech,
        &server,
        &format!("/tickets/{number}/articles"),
        &[("article", &draft)],
    )
    .await;
    assert_eq!(res.status(), 403);
    // Nothing changed.
    let (_, page) = get(&tech, &server, &format!("/kb/{draft}")).await;
    assert!(page.contains("id=\"draft-notice\"") && page.contains("Utkast: Nye skrivere"));
    let (_, list) = get(&tech, &server, "/kb").await;
    assert!(!list.contains("Uten token"));
    let (_, ticket) = get(&tech, &server, &format!("/tickets/{number}")).await;
    assert!(!ticket.contains("id=\"linked-articles\""));
    // With the token, the same publish works.
    let res = post(
        &tech,
        &server,
        &format!("/kb/{draft}/publish"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(res.status(), 303);
}
