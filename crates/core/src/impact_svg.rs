//! Impact diagrams as server-rendered SVG: the origin on the left and what depends on it
//! (or what it needs) column by column, so a blast radius reads left to right.
//!
//! The page embeds the SVG inline under a strict Content-Security-Policy, so colours are
//! presentation attributes and `class` names, never `style`, and there is no script. The
//! origin's neighbourhood can hold thousands of items; a column shows the first
//! [`DiagramOptions::max_per_column`] (worst first) and one "+N more" box, because the
//! list beside the diagram is where every item is named.

use crate::cmdb::Effect;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write};

const BOX_W: i64 = 220;
const BOX_H: i64 = 48;
/// Wide enough for curves between columns and for loops between boxes of one column.
const COL_GAP: i64 = 88;
const ROW_GAP: i64 = 14;
const MARGIN: i64 = 16;
/// What fits in the box at the font sizes below, judged for average Latin text; the
/// `<title>` carries the rest.
const LABEL_CHARS: usize = 24;
const SUB_CHARS: usize = 34;
const MORE_CHARS: usize = 28;
/// Edges against the flow attach a little below the centre so that a pair of mutual
/// edges (two sites backing each other up) shows as two curves, not one.
const BACK_OFFSET: i64 = 7;
const EDGE_COLOUR: &str = "#94a3b8";

/// How an item fares, which decides its colour and its place in a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// The item the question is about: what breaks if it fails, or what it needs.
    Origin,
    Down,
    Degraded,
    /// Something the origin needs, in the reverse view.
    Needed,
}

impl NodeState {
    /// The second class of the node's `<g class="impact-node …">`, so CSS can restyle it.
    pub fn class(self) -> &'static str {
        match self {
            NodeState::Origin => "origin",
            NodeState::Down => "down",
            NodeState::Degraded => "degraded",
            NodeState::Needed => "needed",
        }
    }

    /// Worst first: a technician scans a column for what stopped.
    fn rank(self) -> u8 {
        match self {
            NodeState::Origin => 0,
            NodeState::Down => 1,
            NodeState::Degraded => 2,
            NodeState::Needed => 3,
        }
    }

    /// Fill, stroke, stroke width, dash (a cue besides colour), label and sub-line colour.
    fn paint(self) -> [&'static str; 6] {
        match self {
            NodeState::Origin => ["#1e3a6e", "#132a52", "1.5", "none", "#ffffff", "#d6e0f5"],
            NodeState::Down => ["#b42318", "#7f1d1d", "2", "none", "#ffffff", "#fde2e0"],
            NodeState::Degraded => ["#fbbf24", "#b45309", "1.5", "6 3", "#3b2503", "#5c3d0a"],
            NodeState::Needed => ["#e2e8f0", "#64748b", "1", "none", "#1e293b", "#475569"],
        }
    }
}

/// An impact entry's effect is its state in the diagram.
impl From<Effect> for NodeState {
    fn from(effect: Effect) -> Self {
        match effect {
            Effect::Down => NodeState::Down,
            Effect::Degraded => NodeState::Degraded,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagramNode {
    /// Joins nodes to edges; never written into the SVG.
    pub id: String,
    pub label: String,
    /// The translated item type, shown small under the label.
    pub kind: String,
    /// Municipality or location; may be empty.
    pub detail: String,
    /// The column: 0 for the origin, 1 for direct dependants (or needs).
    pub depth: u32,
    pub state: NodeState,
    pub href: Option<String>,
}

/// Drawn as given, the arrow pointing at `to`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagramEdge {
    pub from: String,
    pub to: String,
    /// The translated relation name, shown on hover.
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiagramOptions {
    /// The accessible name of the whole diagram.
    pub title: String,
    /// Boxes per column before the rest become one "+N more" box; 0 counts as 1.
    pub max_per_column: usize,
    /// Translated, with `{n}` where the number goes, e.g. "+{n} more".
    pub more_label: String,
    /// Starts every id in the SVG, so two diagrams on one page do not share ids.
    /// Only ASCII letters, digits, `-` and `_` are kept.
    pub id_prefix: String,
    /// How many items a column (by depth) holds when `nodes` carries only its first ones
    /// in [`column_order`] (the first `max_per_column` are all that is drawn), so a report
    /// of 20,000 items need not build 20,000 nodes; the "+N more" box counts from it.
    /// A column not named here, or named with fewer, holds the nodes given.
    pub column_sizes: BTreeMap<u32, usize>,
}

impl Default for DiagramOptions {
    fn default() -> Self {
        DiagramOptions {
            title: String::new(),
            max_per_column: 12,
            more_label: "+{n} more".to_owned(),
            id_prefix: "impact".to_owned(),
            column_sizes: BTreeMap::new(),
        }
    }
}

/// Where a drawn node sits: its column and the top-left corner of its box.
#[derive(Clone, Copy)]
struct Placed<'a> {
    node: &'a DiagramNode,
    col: usize,
    x: i64,
    y: i64,
}

/// Draws the diagram. Never panics and takes time linear in the input plus the sort of
/// each column, so a core switch with thousands of dependants renders at page speed.
pub fn render(nodes: &[DiagramNode], edges: &[DiagramEdge], options: &DiagramOptions) -> String {
    let mut out = String::new();
    draw(&mut out, nodes, edges, options).expect("writing to a String cannot fail");
    out
}

fn draw(
    out: &mut String,
    nodes: &[DiagramNode],
    edges: &[DiagramEdge],
    options: &DiagramOptions,
) -> fmt::Result {
    let prefix = sanitise_prefix(&options.id_prefix);
    let cap = options.max_per_column.max(1);

    // Columns are the depths that occur, not 0..=max: a caller that filtered the list
    // (or a depth of u32::MAX) must not produce empty columns or an enormous canvas.
    let mut seen = HashSet::new();
    let mut by_depth: BTreeMap<u32, Vec<&DiagramNode>> = BTreeMap::new();
    for node in nodes {
        if seen.insert(node.id.as_str()) {
            by_depth.entry(node.depth).or_default().push(node);
        }
    }
    let columns: Vec<(Vec<&DiagramNode>, usize)> = by_depth
        .into_iter()
        .map(|(depth, mut column)| {
            column.sort_by(|a, b| {
                column_order((a.state, &a.label, &a.id), (b.state, &b.label, &b.id))
            });
            let size = options
                .column_sizes
                .get(&depth)
                .map_or(column.len(), |&n| n.max(column.len()));
            let hidden = size.saturating_sub(cap.min(column.len()));
            column.truncate(cap);
            (column, hidden)
        })
        .collect();

    let rows_of =
        |(shown, hidden): &(Vec<&DiagramNode>, usize)| shown.len() as i64 + i64::from(*hidden > 0);
    let max_rows = columns.iter().map(rows_of).max().unwrap_or(0).max(1);
    let pitch = BOX_H + ROW_GAP;
    let mut placed: HashMap<&str, Placed> = HashMap::new();
    let mut boxes: Vec<Placed> = Vec::new();
    let mut more_boxes: Vec<(i64, i64, usize)> = Vec::new();
    for (col, column) in columns.iter().enumerate() {
        let x = MARGIN + col as i64 * (BOX_W + COL_GAP);
        // Centred, so the origin sits level with the middle of its fan-out.
        let top = MARGIN + (max_rows - rows_of(column)) * pitch / 2;
        let (shown, hidden) = column;
        for (row, &node) in shown.iter().enumerate() {
            let at = Placed {
                node,
                col,
                x,
                y: top + row as i64 * pitch,
            };
            placed.insert(&node.id, at);
            boxes.push(at);
        }
        if *hidden > 0 {
            more_boxes.push((x, top + shown.len() as i64 * pitch, *hidden));
        }
    }

    // One curve per ordered pair, in input order; relations between the same pair share it.
    let mut pair_index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut pairs: Vec<(Placed, Placed, Vec<&str>)> = Vec::new();
    for edge in edges {
        let (Some(&from), Some(&to)) =
            (placed.get(edge.from.as_str()), placed.get(edge.to.as_str()))
        else {
            continue;
        };
        let label = edge.label.as_str();
        match pair_index.entry((&from.node.id, &to.node.id)) {
            Entry::Occupied(slot) => {
                let labels = &mut pairs[*slot.get()].2;
                if !label.is_empty() && !labels.contains(&label) {
                    labels.push(label);
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(pairs.len());
                let labels = Vec::from_iter((!label.is_empty()).then_some(label));
                pairs.push((from, to, labels));
            }
        }
    }

    let columns_width = columns.len().max(1) as i64 * (BOX_W + COL_GAP) - COL_GAP;
    let mut right = MARGIN + columns_width;
    let curves: Vec<(String, &str, i64)> =
        pairs.iter().map(|(from, to, _)| curve(from, to)).collect();
    for (_, _, reach) in &curves {
        right = right.max(*reach);
    }
    let width = right + MARGIN;
    let height = 2 * MARGIN + max_rows * pitch - ROW_GAP;

    write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="impact-diagram" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="{prefix}-title" font-family="system-ui, sans-serif">"##
    )?;
    write!(
        out,
        r#"<title id="{prefix}-title">{}</title>"#,
        Esc(&options.title)
    )?;
    write!(
        out,
        r##"<defs><marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,1 L9,5 L0,9 z" fill="{EDGE_COLOUR}"/></marker></defs>"##
    )?;

    // Edges first, so boxes cover the parts of long curves that pass behind them.
    write!(
        out,
        r#"<g class="impact-edges" fill="none" stroke="{EDGE_COLOUR}" stroke-width="1.25">"#
    )?;
    for ((from, to, labels), (d, class, _)) in pairs.iter().zip(&curves) {
        write!(
            out,
            r##"<path class="{class}" d="{d}" marker-end="url(#{prefix}-arrow)"><title>{} → {}"##,
            Esc(&from.node.label),
            Esc(&to.node.label)
        )?;
        if !labels.is_empty() {
            write!(out, ": {}", Esc(&labels.join(", ")))?;
        }
        out.push_str("</title></path>");
    }
    out.push_str("</g>");

    out.push_str(r#"<g class="impact-nodes">"#);
    for at in &boxes {
        draw_node(out, at)?;
    }
    for &(x, y, hidden) in &more_boxes {
        let n = hidden.to_string();
        let text = if options.more_label.contains("{n}") {
            options.more_label.replace("{n}", &n)
        } else {
            format!("+{n} {}", options.more_label)
        };
        write!(
            out,
            r##"<g class="impact-more" transform="translate({x},{y})"><rect width="{BOX_W}" height="{BOX_H}" rx="8" fill="#ffffff" stroke="#94a3b8" stroke-dasharray="4 3"/><text x="{}" y="29" text-anchor="middle" font-size="13" fill="#475569">{}</text></g>"##,
            BOX_W / 2,
            Esc(&truncate(text.trim(), MORE_CHARS))
        )?;
    }
    out.push_str("</g></svg>");
    Ok(())
}

/// Case-insensitive order, so "bodø" and "Bodø" sit together.
/// The order of a column, in which its first [`DiagramOptions::max_per_column`] are drawn:
/// worst first (a technician scans a column for what stopped), then by label ignoring
/// case, then by label and id so the order is total. Nodes are (state, label, id).
pub fn column_order(a: (NodeState, &str, &str), b: (NodeState, &str, &str)) -> Ordering {
    a.0.rank()
        .cmp(&b.0.rank())
        .then_with(|| folded(a.1).cmp(folded(b.1)))
        .then_with(|| a.1.cmp(b.1))
        .then_with(|| a.2.cmp(b.2))
}

fn folded(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().flat_map(char::to_lowercase)
}

fn draw_node(out: &mut String, at: &Placed) -> fmt::Result {
    let node = at.node;
    let [fill, stroke, stroke_width, dash, text, sub_colour] = node.state.paint();
    let sub = match (node.kind.trim(), node.detail.trim()) {
        ("", detail) => detail.to_owned(),
        (kind, "") => kind.to_owned(),
        (kind, detail) => format!("{kind} · {detail}"),
    };
    let href = node.href.as_deref().filter(|h| safe_href(h));
    if let Some(href) = href {
        write!(out, r#"<a class="impact-link" href="{}">"#, Esc(href))?;
    }
    write!(
        out,
        r#"<g class="impact-node {}" transform="translate({},{})"><title>{}"#,
        node.state.class(),
        at.x,
        at.y,
        Esc(&node.label)
    )?;
    if !sub.is_empty() {
        write!(out, "\n{}", Esc(&sub))?;
    }
    write!(
        out,
        r#"</title><rect width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_width}" stroke-dasharray="{dash}""#
    )?;
    let label_y = if sub.is_empty() { 29 } else { 20 };
    write!(
        out,
        r#"/><text class="impact-label" x="12" y="{label_y}" font-size="14" font-weight="600" fill="{text}">{}</text>"#,
        Esc(&truncate(node.label.trim(), LABEL_CHARS))
    )?;
    if !sub.is_empty() {
        write!(
            out,
            r#"<text class="impact-sub" x="12" y="38" font-size="11" fill="{sub_colour}">{}</text>"#,
            Esc(&truncate(&sub, SUB_CHARS))
        )?;
    }
    out.push_str("</g>");
    if href.is_some() {
        out.push_str("</a>");
    }
    Ok(())
}

/// The path of an edge, its classes and how far right it reaches. Every case is one
/// closed formula, so cycles in the data cost nothing and cannot loop.
fn curve(from: &Placed, to: &Placed) -> (String, &'static str, i64) {
    let (fy, ty) = (from.y + BOX_H / 2, to.y + BOX_H / 2);
    let right = from.x + BOX_W;
    if from.node.id == to.node.id {
        // A small loop on the right side.
        let d = format!(
            "M{right},{} C{},{} {},{} {right},{}",
            fy - 8,
            right + 36,
            fy - 28,
            right + 36,
            fy + 28,
            fy + 8
        );
        return (d, "impact-edge self", right + 28);
    }
    if from.col < to.col {
        let (x1, x2) = (right, to.x);
        let dx = (x2 - x1) / 2;
        let d = format!("M{x1},{fy} C{},{fy} {},{ty} {x2},{ty}", x1 + dx, x2 - dx);
        return (d, "impact-edge", x2);
    }
    if from.col > to.col {
        let (x1, x2) = (from.x, to.x + BOX_W);
        let (y1, y2) = (fy + BACK_OFFSET, ty + BACK_OFFSET);
        let dx = (x1 - x2) / 2;
        let d = format!("M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}", x1 - dx, x2 + dx);
        return (d, "impact-edge back", x1);
    }
    // Same column: bulge out to the right; the upward curve of a mutual pair bulges further.
    let bulge = (30 + (ty - fy).abs() / 6).min(80) + if fy > ty { 14 } else { 0 };
    let d = format!(
        "M{right},{fy} C{},{fy} {},{ty} {right},{ty}",
        right + bulge,
        right + bulge
    );
    (d, "impact-edge same", right + bulge * 3 / 4 + 1)
}

/// Links come from our own routes, but a `javascript:` or `data:` URL must never become
/// clickable even if one slips into the data. Browsers drop whitespace and control
/// characters inside a scheme, so any such character disqualifies the link.
fn safe_href(href: &str) -> bool {
    if href.is_empty() || href.chars().any(|c| c <= ' ' || c == '\u{7f}' || c == '\\') {
        return false;
    }
    match href.find([':', '/', '?', '#']) {
        Some(i) if href.as_bytes()[i] == b':' => {
            let scheme = &href[..i];
            ["http", "https", "mailto"]
                .iter()
                .any(|s| scheme.eq_ignore_ascii_case(s))
        }
        _ => true,
    }
}

fn sanitise_prefix(prefix: &str) -> String {
    let kept: String = prefix
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    match kept.chars().next() {
        None => "impact".to_owned(),
        Some(c) if !c.is_ascii_alphabetic() => format!("impact-{kept}"),
        Some(_) => kept,
    }
}

/// Shortens by characters, never bytes, so "æøå" cannot be cut inside a character.
fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let end = text
                .char_indices()
                .nth(max.saturating_sub(1))
                .map_or(text.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", text[..end].trim_end()))
        }
    }
}

/// XML-escapes for text and attribute values alike, and drops characters XML 1.0 forbids
/// (control characters from pasted data) so the document stays well-formed.
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\t' | '\n' | '\r' => f.write_char(c)?,
                c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => {}
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, label: &str, depth: u32, state: NodeState) -> DiagramNode {
        DiagramNode {
            id: id.to_owned(),
            label: label.to_owned(),
            kind: "Switch".to_owned(),
            detail: "Bodø".to_owned(),
            depth,
            state,
            href: Some(format!("/inventory/{id}")),
        }
    }

    fn edge(from: &str, to: &str, label: &str) -> DiagramEdge {
        DiagramEdge {
            from: from.to_owned(),
            to: to.to_owned(),
            label: label.to_owned(),
        }
    }

    fn origin() -> DiagramNode {
        node("core", "Core switch", 0, NodeState::Origin)
    }

    fn options() -> DiagramOptions {
        DiagramOptions {
            title: "What breaks if Core switch fails".to_owned(),
            ..DiagramOptions::default()
        }
    }

    /// A small XML checker: tags balance, one root, every attribute is quoted and appears
    /// once, text and values hold no raw `<` and only the five entities. Returns the ids.
    fn well_formed(svg: &str) -> Vec<String> {
        fn text_ok(text: &str) {
            assert!(
                !text.contains('<') && !text.contains('>'),
                "raw bracket in {text:?}"
            );
            for (i, _) in text.match_indices('&') {
                let rest = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                        .iter()
                        .any(|e| rest.starts_with(e)),
                    "bare & in {text:?}"
                );
            }
        }
        let (mut stack, mut ids, mut roots) = (Vec::new(), Vec::new(), 0);
        let mut rest = svg;
        while let Some(lt) = rest.find('<') {
            text_ok(&rest[..lt]);
            let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
            let tag = &rest[lt + 1..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
                continue;
            }
            if stack.is_empty() {
                roots += 1;
            }
            let (tag, empty) = tag.strip_suffix('/').map_or((tag, false), |t| (t, true));
            let name_end = tag.find(' ').unwrap_or(tag.len());
            let name = &tag[..name_end];
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()),
                "tag {name:?}"
            );
            let mut attrs = &tag[name_end..];
            let mut names = HashSet::new();
            while !attrs.is_empty() {
                attrs = attrs
                    .strip_prefix(' ')
                    .expect("attributes are separated by a space");
                let eq = attrs.find("=\"").expect("attribute not quoted");
                let attr = &attrs[..eq];
                assert!(
                    attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                    "attribute {attr:?}"
                );
                assert!(names.insert(attr), "duplicate attribute {attr}");
                let end = attrs[eq + 2..].find('"').expect("unterminated value") + eq + 2;
                let value = &attrs[eq + 2..end];
                text_ok(value);
                if attr == "id" {
                    ids.push(value.to_owned());
                }
                attrs = &attrs[end + 1..];
            }
            if !empty {
                stack.push(name);
            }
        }
        text_ok(rest);
        assert!(stack.is_empty(), "unclosed {stack:?}");
        assert_eq!(roots, 1);
        ids
    }

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    #[test]
    fn only_the_origin_is_a_single_box() {
        let svg = render(&[origin()], &[], &options());
        well_formed(&svg);
        assert!(svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#));
        assert_eq!(count(&svg, r#"class="impact-node "#), 1);
        assert!(svg.contains(r#"class="impact-node origin""#));
        assert!(svg.contains(r#"<a class="impact-link" href="/inventory/core">"#));
        assert!(!svg.contains("<path class"));
        assert!(
            svg.contains(r#"viewBox="0 0 252 80" width="252" height="80""#),
            "{svg}"
        );
        assert!(
            svg.contains("<title id=\"impact-title\">What breaks if Core switch fails</title>")
        );
        assert!(
            render(&[], &[], &options()).contains("width=\"252\""),
            "nothing at all still draws"
        );
    }

    #[test]
    fn labels_and_hrefs_are_escaped() {
        let mut evil = node("x", r#"<script>alert("x")</script>"#, 1, NodeState::Down);
        evil.href = Some(r#"/inventory/x?a="b"&c=<d>'e'"#.to_owned());
        evil.kind = "A & B".to_owned();
        let options = DiagramOptions {
            title: "<b>\"t\"</b>".to_owned(),
            more_label: "<i>{n}</i>".to_owned(),
            ..options()
        };
        let edges = [edge("x", "core", "<runs & on>")];
        let svg = render(&[origin(), evil], &edges, &options);
        well_formed(&svg);
        assert!(!svg.contains("<script") && !svg.contains("<b>") && !svg.contains("<runs"));
        assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        assert!(
            svg.contains(r#"href="/inventory/x?a=&quot;b&quot;&amp;c=&lt;d&gt;&apos;e&apos;""#)
        );
        assert!(svg.contains("A &amp; B · Bodø"));
        assert!(svg.contains(": &lt;runs &amp; on&gt;</title>"));
    }

    #[test]
    fn dangerous_links_are_dropped() {
        for href in [
            "javascript:alert(1)",
            "JavaScript:x",
            "java\tscript:x",
            " javascript:x",
            "data:text/html,x",
            "",
        ] {
            let mut n = origin();
            n.href = Some(href.to_owned());
            let svg = render(&[n], &[], &options());
            assert!(!svg.contains("<a "), "{href:?} became a link");
        }
        for href in [
            "/inventory/1",
            "https://example.org/a:b",
            "?item=1",
            "#top",
            "items/1:2",
        ] {
            assert!(safe_href(href), "{href}");
        }
    }

    #[test]
    fn an_overflowing_column_shows_the_worst_and_counts_the_rest() {
        let mut nodes = vec![origin()];
        for i in 0..30 {
            let state = if i % 3 == 0 {
                NodeState::Down
            } else {
                NodeState::Degraded
            };
            nodes.push(node(&format!("n{i}"), &format!("Item {i:02}"), 1, state));
        }
        nodes.push(node("far", "Far away", 2, NodeState::Down));
        let svg = render(&nodes, &[], &options());
        well_formed(&svg);
        assert_eq!(count(&svg, r#"class="impact-node "#), 1 + 12 + 1);
        assert_eq!(count(&svg, r#"class="impact-more""#), 1);
        assert!(svg.contains(">+18 more</text>"));
        // All ten Down items are drawn, then the first two Degraded by label.
        assert_eq!(count(&svg, r#"class="impact-node down""#), 11);
        assert!(
            svg.contains(">Item 01<") && svg.contains(">Item 02<") && !svg.contains(">Item 04<")
        );
        assert!(
            !svg[svg.find("impact-more").unwrap()..].contains("<a "),
            "the summary is no link"
        );
        // The tallest column (13 rows) sets the height.
        assert!(svg.contains(&format!(
            "height=\"{}\"",
            2 * MARGIN + 13 * (BOX_H + ROW_GAP) - ROW_GAP
        )));

        let tiny = DiagramOptions {
            max_per_column: 0,
            more_label: "and more".to_owned(),
            ..options()
        };
        let svg = render(&nodes, &[], &tiny);
        assert!(svg.contains(">+29 and more</text>"), "0 counts as 1");
    }

    #[test]
    fn a_caller_may_pass_only_the_first_of_a_column_and_its_size() {
        let mut nodes = vec![origin()];
        for i in 0..30 {
            let state = if i % 3 == 0 {
                NodeState::Down
            } else {
                NodeState::Degraded
            };
            nodes.push(node(&format!("n{i}"), &format!("item {i:02}"), 1, state));
        }
        nodes.push(node("far", "Far away", 2, NodeState::Down));
        let whole = render(&nodes, &[], &options());
        // The first twelve of column 1 in column_order, as a store would pick them.
        let mut first: Vec<DiagramNode> = nodes[1..31].to_vec();
        first.sort_by(|a, b| column_order((a.state, &a.label, &a.id), (b.state, &b.label, &b.id)));
        first.truncate(12);
        let mut part = vec![origin(), nodes[31].clone()];
        part.extend(first);
        let sized = DiagramOptions {
            column_sizes: BTreeMap::from([(1, 30), (2, 1), (7, 4)]),
            ..options()
        };
        assert_eq!(render(&part, &[], &sized), whole);
        // Without the sizes the same nodes are a whole column of twelve.
        let svg = render(&part, &[], &options());
        assert_eq!(count(&svg, r#"class="impact-more""#), 0);
        // A size below what is given counts what is given.
        let small = DiagramOptions {
            column_sizes: BTreeMap::from([(1, 3)]),
            ..options()
        };
        assert_eq!(render(&nodes, &[], &small), whole);
        assert_eq!(
            column_order((NodeState::Degraded, "a", "1"), (NodeState::Down, "z", "2")),
            Ordering::Greater,
            "worst first"
        );
        assert_eq!(
            column_order(
                (NodeState::Down, "Bodø", "1"),
                (NodeState::Down, "alta", "2")
            ),
            Ordering::Greater,
            "ignoring case"
        );
    }

    #[test]
    fn cycles_self_edges_and_duplicates_render_once_each() {
        let nodes = [
            origin(),
            node("a", "Ring A", 1, NodeState::Down),
            node("b", "Ring B", 1, NodeState::Down),
            node("c", "Site C", 2, NodeState::Degraded),
            node("a", "Duplicate A", 1, NodeState::Degraded),
        ];
        let edges = [
            edge("a", "b", "connects to"),
            edge("b", "a", "connects to"),
            edge("a", "core", "connects to"),
            edge("a", "core", "connects to"),
            edge("a", "core", "depends on"),
            edge("core", "a", "backs up"),
            edge("c", "a", "connects to"),
            edge("c", "core", "connects to"),
            edge("a", "a", "loops"),
            edge("c", "c", "loops"),
            edge("c", "missing", "connects to"),
        ];
        let svg = render(&nodes, &edges, &options());
        well_formed(&svg);
        assert_eq!(
            count(&svg, r#"class="impact-node "#),
            4,
            "a duplicate id is drawn once"
        );
        assert!(!svg.contains("Duplicate A"));
        assert_eq!(count(&svg, "<path class=\"impact-edge"), 8);
        assert_eq!(count(&svg, r#"class="impact-edge same""#), 2);
        assert_eq!(count(&svg, r#"class="impact-edge self""#), 2);
        assert_eq!(count(&svg, r#"class="impact-edge back""#), 3);
        assert!(svg.contains("Ring A → Core switch: connects to, depends on</title>"));
        // Width leaves room for loops beyond the last column.
        let right_edge = MARGIN + 3 * BOX_W + 2 * COL_GAP;
        assert!(svg.contains(&format!("width=\"{}\"", right_edge + 28 + MARGIN)));
    }

    #[test]
    fn no_inline_style_or_script_anywhere() {
        let mut nodes = vec![origin()];
        for i in 0..40 {
            nodes.push(node(
                &format!("n{i}"),
                "style=\"x\" <script>",
                1 + i % 4,
                NodeState::Needed,
            ));
        }
        let edges: Vec<_> = (0..40)
            .map(|i| edge(&format!("n{i}"), "core", "style"))
            .collect();
        let svg = render(&nodes, &edges, &options());
        well_formed(&svg);
        assert!(!svg.contains(" style=") && !svg.contains("<style") && !svg.contains("<script"));
        assert!(!svg.contains(" on"), "no event handler attributes");
    }

    #[test]
    fn ids_are_unique_referenced_and_free_of_user_text() {
        let nodes = [origin(), node("a", "A", 1, NodeState::Down)];
        let options = DiagramOptions {
            id_prefix: "9 \"<evil>\" æ".to_owned(),
            ..options()
        };
        let svg = render(&nodes, &[edge("a", "core", "x")], &options);
        let ids = well_formed(&svg);
        assert_eq!(ids, ["impact-9evil-title", "impact-9evil-arrow"]);
        assert!(svg.contains(r#"aria-labelledby="impact-9evil-title""#));
        assert!(svg.contains("marker-end=\"url(#impact-9evil-arrow)\""));
        let two = DiagramOptions {
            id_prefix: "impact-2".to_owned(),
            ..DiagramOptions::default()
        };
        assert_eq!(
            well_formed(&render(&nodes, &[], &two)),
            ["impact-2-title", "impact-2-arrow"]
        );
        assert_eq!(sanitise_prefix(""), "impact");
    }

    #[test]
    fn long_labels_are_cut_by_characters() {
        let long = "æøå".repeat(20);
        let mut n = node("a", &long, 1, NodeState::Degraded);
        n.kind = "Ø".repeat(50);
        let svg = render(&[origin(), n], &[], &options());
        well_formed(&svg);
        let shown = format!(
            ">{}…</text>",
            "æøå".repeat(8)[..].chars().take(23).collect::<String>()
        );
        assert!(svg.contains(&shown), "{svg}");
        assert!(
            svg.contains(&format!("<title>{long}\n")),
            "the full label is on hover"
        );
        assert!(svg.contains(&format!(">{}…</text>", "Ø".repeat(33))));
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("å", 0), "…");
    }

    #[test]
    fn the_same_input_gives_the_same_svg() {
        let mut nodes = vec![origin()];
        for i in 0..50 {
            nodes.push(node(
                &format!("n{i}"),
                &format!("Item {}", i % 7),
                1 + i % 3,
                NodeState::Degraded,
            ));
        }
        let edges: Vec<_> = (0..50)
            .map(|i| edge(&format!("n{i}"), &format!("n{}", (i * 7) % 50), "x"))
            .collect();
        let first = render(&nodes, &edges, &options());
        assert_eq!(first, render(&nodes, &edges, &options()));
        nodes.reverse();
        assert_eq!(
            first,
            render(&nodes, &edges, &options()),
            "node order does not matter"
        );
    }

    #[test]
    fn five_thousand_nodes_stay_a_small_drawing() {
        let mut nodes = vec![origin()];
        let mut edges = Vec::new();
        for i in 0..5000u32 {
            let id = format!("n{i}");
            let state = if i % 5 == 0 {
                NodeState::Degraded
            } else {
                NodeState::Down
            };
            nodes.push(node(&id, &format!("PC {i}"), 1 + i % 6, state));
            edges.push(edge(&id, if i < 6 { "core" } else { "n0" }, "connects to"));
        }
        let svg = render(&nodes, &edges, &options());
        well_formed(&svg);
        assert_eq!(count(&svg, r#"class="impact-node "#), 1 + 6 * 12);
        assert_eq!(count(&svg, r#"class="impact-more""#), 6);
        assert!(svg.len() < 100_000, "{} bytes", svg.len());
    }

    #[test]
    fn sparse_and_huge_depths_share_compact_columns() {
        let nodes = [
            origin(),
            node("far", "Far", u32::MAX, NodeState::Down),
            node("mid", "Mid", 7, NodeState::Down),
        ];
        let svg = render(&nodes, &[edge("far", "core", "")], &options());
        well_formed(&svg);
        assert!(svg.contains(&format!(
            "width=\"{}\"",
            2 * MARGIN + 3 * BOX_W + 2 * COL_GAP
        )));
        assert!(svg.contains("<title>Far → Core switch</title>"));
        assert_eq!(NodeState::from(Effect::Degraded), NodeState::Degraded);
    }
}
