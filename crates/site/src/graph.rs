//! The dependency graph of a component page, laid out in three columns: its dependencies
//! on the left, the component in the middle, its dependents on the right. Deterministic
//! (input order), capped at [`MAX_SIDE`] nodes per side with an "and N more" node beyond.
//! The picture is drawn by the `graph.svg` template; this module only computes positions.

/// Nodes drawn per side before "and N more".
pub(crate) const MAX_SIDE: usize = 10;

const WIDTH: u32 = 960;
const COL_W: u32 = 280;
const NODE_H: u32 = 44;
const GAP: u32 = 14;
const PAD: u32 = 36;
const LABEL_CHARS: usize = 34;

/// One box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// First line (the component, shortened to fit).
    pub line1: String,
    /// Second line (version, requirement or problem).
    pub line2: String,
    /// The full text, for the node's `<title>`.
    pub full: String,
    /// `center`, `dep`, `dependent`, `problem` or `more`.
    pub class: &'static str,
}

/// One arrow ("depends on"), as SVG path data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edge {
    pub d: String,
    pub class: &'static str,
}

/// A laid-out graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Graph {
    pub width: u32,
    pub height: u32,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// What the picture shows, in words (its `<desc>`).
    pub desc: String,
}

/// One neighbour: the component, a second line, and whether it is a problem (an
/// unresolved, ambiguous or cyclic dependency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Neighbour {
    pub name: String,
    pub detail: String,
    pub problem: bool,
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= LABEL_CHARS {
        return s.to_owned();
    }
    let tail: String = s
        .chars()
        .rev()
        .take(LABEL_CHARS - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

fn column(items: &[Neighbour], x: u32, class: &'static str) -> Vec<Node> {
    let shown = items.len().min(MAX_SIDE);
    let mut out: Vec<Node> = items[..shown]
        .iter()
        .enumerate()
        .map(|(i, n)| Node {
            x,
            y: PAD + i as u32 * (NODE_H + GAP),
            w: COL_W,
            h: NODE_H,
            line1: shorten(&n.name),
            line2: shorten(&n.detail),
            full: format!("{} {}", n.name, n.detail).trim().to_owned(),
            class: if n.problem { "problem" } else { class },
        })
        .collect();
    if items.len() > shown {
        let more = items.len() - shown;
        out.push(Node {
            x,
            y: PAD + shown as u32 * (NODE_H + GAP),
            w: COL_W,
            h: NODE_H,
            line1: format!("and {more} more"),
            line2: "listed below".to_owned(),
            full: format!("and {more} more, listed below the picture"),
            class: "more",
        });
    }
    out
}

/// Lays out `center` with its dependencies (left) and dependents (right).
pub(crate) fn layout(center: &Neighbour, deps: &[Neighbour], dependents: &[Neighbour]) -> Graph {
    let left = column(deps, 8, "dep");
    let right = column(dependents, WIDTH - COL_W - 8, "dependent");
    let rows = left.len().max(right.len()).max(1) as u32;
    let height = PAD * 2 + rows * NODE_H + (rows - 1) * GAP;
    let cx = (WIDTH - COL_W) / 2;
    let cy = (height - NODE_H) / 2;
    let mid = Node {
        x: cx,
        y: cy,
        w: COL_W,
        h: NODE_H,
        line1: shorten(&center.name),
        line2: shorten(&center.detail),
        full: format!("{} {}", center.name, center.detail)
            .trim()
            .to_owned(),
        class: "center",
    };
    let mut edges = Vec::new();
    // The component depends on each left node: arrows point left.
    for n in &left {
        let (x1, y1) = (cx, cy + NODE_H / 2);
        let (x2, y2) = (n.x + n.w, n.y + n.h / 2);
        edges.push(Edge {
            d: curve(x1, y1, x2 + 6, y2),
            class: if n.class == "problem" {
                "edge problem"
            } else {
                "edge"
            },
        });
    }
    // Each right node depends on the component: arrows point at the middle.
    for n in &right {
        let (x1, y1) = (n.x, n.y + n.h / 2);
        let (x2, y2) = (cx + COL_W, cy + NODE_H / 2);
        edges.push(Edge {
            d: curve(x1, y1, x2 + 6, y2),
            class: "edge",
        });
    }
    let desc = format!(
        "{} depends on {} component{}; {} component{} depend on it.",
        center.name,
        deps.len(),
        if deps.len() == 1 { "" } else { "s" },
        dependents.len(),
        if dependents.len() == 1 { "" } else { "s" },
    );
    let mut nodes = left;
    nodes.push(mid);
    nodes.extend(right);
    Graph {
        width: WIDTH,
        height,
        nodes,
        edges,
        desc,
    }
}

/// A horizontal S-curve from (x1, y1) to (x2, y2).
fn curve(x1: u32, y1: u32, x2: u32, y2: u32) -> String {
    let mx = (x1 + x2) / 2;
    format!("M{x1} {y1} C{mx} {y1} {mx} {y2} {x2} {y2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str) -> Neighbour {
        Neighbour {
            name: name.into(),
            detail: "1.0.0".into(),
            problem: false,
        }
    }

    #[test]
    fn three_columns_and_a_cap() {
        let deps: Vec<Neighbour> = (0..15).map(|i| n(&format!("core/lib{i:02}"))).collect();
        let g = layout(
            &n("cloud/dmp/ms-export"),
            &deps,
            &[n("cloud/dmp/ms-report")],
        );
        // 10 deps + "and 5 more" + center + 1 dependent.
        assert_eq!(g.nodes.len(), 13);
        assert_eq!(g.nodes[10].line1, "and 5 more");
        assert_eq!(g.edges.len(), 12);
        let center = g
            .nodes
            .iter()
            .find(|x| x.class == "center")
            .expect("center");
        assert!(g.nodes[0].x < center.x && center.x < g.nodes[12].x);
        assert!(g.desc.contains("15 components") && g.desc.contains("1 component depend"));
        // Same input, same picture.
        assert_eq!(
            g,
            layout(
                &n("cloud/dmp/ms-export"),
                &deps,
                &[n("cloud/dmp/ms-report")]
            )
        );
    }

    #[test]
    fn long_names_are_shortened_from_the_left() {
        let s = shorten("cloud/a-very-long-group-name/another-level/ms-with-a-long-name");
        assert!(s.starts_with('…') && s.ends_with("ms-with-a-long-name"));
        assert_eq!(s.chars().count(), LABEL_CHARS);
    }
}
