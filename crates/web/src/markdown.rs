//! Markdown for knowledge-base articles, rendered to HTML that is safe to insert in a page.
//!
//! pulldown-cmark turns Markdown (raw HTML included, as CommonMark allows) into HTML, and
//! ammonia then keeps only an allow-list of tags and attributes: no scripts or styles, no
//! event handlers, no frames or forms, links only to http(s), mailto and tel (or relative),
//! each with `rel="noopener noreferrer"`. Templates insert the result with `|safe`, and only
//! the result of [`render`] ever gets that filter.

use pulldown_cmark::{Options, Parser, html};
use std::collections::HashSet;
use std::sync::LazyLock;

static SANITISER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
        .link_rel(Some("noopener noreferrer"))
        // Pictures from other sites would be blocked by our CSP anyway; say so here too.
        .rm_tags(&["img"]);
    b
});

/// Markdown to sanitised HTML.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    SANITISER.clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn headings_lists_code_and_links_survive() {
        let html = render(
            "# Wi-Fi\n\n## Steg\n\n1. Velg **Skole**\n2. Skriv passordet\n\n- punkt\n\n\
             `kode` og\n\n```\nipconfig /renew\n```\n\n[Hjelp](https://example.no/hjelp) og [sak](/tickets/1001)\n\n\
             | A | B |\n|---|---|\n| 1 | 2 |\n",
        );
        for part in [
            "<h1>Wi-Fi</h1>",
            "<h2>Steg</h2>",
            "<ol>",
            "<li>Velg <strong>Skole</strong></li>",
            "<ul>",
            "<code>kode</code>",
            "<pre><code>ipconfig /renew\n</code></pre>",
            "<a href=\"https://example.no/hjelp\" rel=\"noopener noreferrer\">Hjelp</a>",
            "<a href=\"/tickets/1001\" rel=\"noopener noreferrer\">sak</a>",
            "<table>",
        ] {
            assert!(html.contains(part), "{part} missing from {html}");
        }
    }

    #[test]
    fn scripts_are_removed_with_their_content() {
        let html =
            render("Hei\n\n<script>alert('x')</script>\n\nmer <script>steal()</script> tekst");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert"), "{html}");
        assert!(!html.contains("steal"), "{html}");
        assert!(html.contains("Hei") && html.contains("tekst"));
    }

    #[test]
    fn event_handlers_are_removed() {
        let html = render(
            "<img src=x onerror=\"alert(1)\">\n\n<p onclick=\"alert(2)\">klikk</p>\n\n<a href=\"https://ok.example\" onmouseover=\"alert(3)\">lenke</a>",
        );
        assert!(!html.to_lowercase().contains("onerror"), "{html}");
        assert!(!html.to_lowercase().contains("onclick"), "{html}");
        assert!(!html.to_lowercase().contains("onmouseover"), "{html}");
        assert!(!html.contains("alert"), "{html}");
        assert!(html.contains("klikk") && html.contains("lenke"));
    }

    #[test]
    fn javascript_and_data_links_lose_their_target() {
        for md in [
            "[klikk](javascript:alert(1))",
            "[klikk](JaVaScRiPt:alert(1))",
            "[klikk](&#106;avascript:alert(1))",
            "<a href=\"javascript:alert(1)\">klikk</a>",
            "<a href=\" javascript:alert(1)\">klikk</a>",
            "[klikk](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[klikk](vbscript:msgbox(1))",
        ] {
            let html = render(md);
            let lower = html.to_lowercase();
            assert!(!lower.contains("javascript:"), "{md} → {html}");
            assert!(!lower.contains("data:"), "{md} → {html}");
            assert!(!lower.contains("vbscript:"), "{md} → {html}");
            assert!(html.contains("klikk"), "{md} → {html}");
        }
    }

    #[test]
    fn frames_forms_styles_and_objects_are_removed() {
        let html = render(
            "<iframe src=\"https://evil.example\"></iframe>\n\n<object data=x></object><embed src=y>\n\n\
             <form action=/logout><button>ut</button></form>\n\n<style>body{display:none}</style>\n\n\
             <p style=\"position:fixed\">stil</p>\n\n<meta http-equiv=refresh content=0>",
        );
        let lower = html.to_lowercase();
        for bad in [
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<style",
            "style=",
            "<meta",
            "display:none",
        ] {
            assert!(!lower.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("stil"));
    }

    #[test]
    fn text_that_looks_like_markup_is_escaped() {
        let html = render("a < b && `<b>` er fet");
        assert!(html.contains("a &lt; b &amp;&amp;"), "{html}");
        assert!(html.contains("<code>&lt;b&gt;</code>"), "{html}");
    }
}
