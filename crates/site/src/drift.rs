//! Drift: what one cell of the components × stages matrix says.
//!
//! For a component and one stage of a domain's ladder, the cell shows the version the
//! stage runs (from its domain file) and marks what needs a person's eye:
//!
//! - **ahead of next stage**: a later rung of the ladder runs an older version, or
//!   nothing yet although the component's metadata lists it (staging runs 1.0.3, prod
//!   1.0.2): something is waiting to be promoted;
//! - **behind latest**: the stage runs a version older than the component's latest in
//!   `index/components.yaml`;
//! - **not listed**: the stage runs a version although the component's metadata (its
//!   latest version's) does not list the domain or the environment;
//! - **missing**: the metadata lists the domain and the environment, the stage runs
//!   nothing;
//! - **not in this domain** / **not for this stage**: the metadata does not list the
//!   domain (or the environment) and the stage runs nothing: the cell does not apply.
//!
//! A cell that runs a version with none of the marks is **current**. The same words (and
//! a shape) stand beside every colour on the site: colour never carries meaning alone.

use berth_model::Version;

/// What the stage and the component's metadata say, for one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellInput<'a> {
    /// The component's metadata lists the stage's domain.
    pub domain_listed: bool,
    /// The component's metadata lists the stage's environment.
    pub env_listed: bool,
    /// The version the stage runs, if any.
    pub runs: Option<&'a Version>,
    /// The next rung of the ladder, when there is one and the metadata lists its
    /// environment: the version it runs, if any.
    pub next: Option<Option<&'a Version>>,
    /// The component's latest version (`index/components.yaml`), if indexed.
    pub latest: Option<&'a Version>,
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// The stage runs `version`, with these marks.
    Runs {
        /// The version.
        version: Version,
        /// A later stage runs an older version or nothing.
        ahead: bool,
        /// Older than the latest version.
        behind: bool,
        /// The metadata does not list this domain or environment.
        unlisted: bool,
    },
    /// The metadata lists the domain and environment; the stage runs nothing.
    Missing,
    /// The metadata lists the domain but not this environment; the stage runs nothing.
    NotForStage,
    /// The metadata does not list the domain; the stage runs nothing.
    NotInDomain,
}

/// One mark of a cell: its words, its CSS class and its icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mark {
    /// Runs the latest version, nothing waits.
    Current,
    /// A later stage runs an older version or nothing.
    Ahead,
    /// Older than the latest version.
    Behind,
    /// Runs although the metadata does not list the domain or environment.
    Unlisted,
    /// Listed, runs nothing.
    Missing,
    /// The metadata lists the domain but not this environment.
    NotForStage,
    /// The metadata does not list the domain.
    NotInDomain,
}

impl Mark {
    /// Every mark, in legend order.
    pub const ALL: [Mark; 7] = [
        Mark::Current,
        Mark::Ahead,
        Mark::Behind,
        Mark::Unlisted,
        Mark::Missing,
        Mark::NotForStage,
        Mark::NotInDomain,
    ];

    /// The words shown beside the colour.
    pub fn label(self) -> &'static str {
        match self {
            Mark::Current => "current",
            Mark::Ahead => "ahead of next stage",
            Mark::Behind => "behind latest",
            Mark::Unlisted => "not listed in metadata",
            Mark::Missing => "missing",
            Mark::NotForStage => "not for this stage",
            Mark::NotInDomain => "not in this domain",
        }
    }

    /// A one-sentence explanation, for the legend.
    pub fn explain(self) -> &'static str {
        match self {
            Mark::Current => "runs the latest version and nothing waits for promotion",
            Mark::Ahead => "the next stage of the ladder runs an older version or nothing",
            Mark::Behind => "runs a version older than the latest in index/components.yaml",
            Mark::Unlisted => {
                "runs a version although the metadata does not list this domain or environment"
            }
            Mark::Missing => {
                "the metadata lists this domain and environment; the stage runs nothing"
            }
            Mark::NotForStage => "the metadata lists the domain but not this environment",
            Mark::NotInDomain => "the metadata does not list this domain",
        }
    }

    /// The CSS class (and icon id) of the mark.
    pub fn class(self) -> &'static str {
        match self {
            Mark::Current => "current",
            Mark::Ahead => "ahead",
            Mark::Behind => "behind",
            Mark::Unlisted => "unlisted",
            Mark::Missing => "missing",
            Mark::NotForStage => "na",
            Mark::NotInDomain => "na",
        }
    }

    /// True for marks that ask for attention (drift), as opposed to "current" and the
    /// cells that do not apply.
    pub fn is_drift(self) -> bool {
        matches!(
            self,
            Mark::Ahead | Mark::Behind | Mark::Unlisted | Mark::Missing
        )
    }
}

impl Cell {
    /// The cell for `input`.
    pub fn compute(input: &CellInput<'_>) -> Cell {
        match input.runs {
            Some(v) => Cell::Runs {
                version: v.clone(),
                ahead: match input.next {
                    Some(None) => true,
                    Some(Some(n)) => n < v,
                    None => false,
                },
                behind: input.latest.is_some_and(|l| v < l),
                unlisted: !(input.domain_listed && input.env_listed),
            },
            None if !input.domain_listed => Cell::NotInDomain,
            None if !input.env_listed => Cell::NotForStage,
            None => Cell::Missing,
        }
    }

    /// The version the stage runs.
    pub fn version(&self) -> Option<&Version> {
        match self {
            Cell::Runs { version, .. } => Some(version),
            _ => None,
        }
    }

    /// The marks of the cell, in legend order (at least one).
    pub fn marks(&self) -> Vec<Mark> {
        match self {
            Cell::Runs {
                ahead,
                behind,
                unlisted,
                ..
            } => {
                let mut m = Vec::new();
                if *ahead {
                    m.push(Mark::Ahead);
                }
                if *behind {
                    m.push(Mark::Behind);
                }
                if *unlisted {
                    m.push(Mark::Unlisted);
                }
                if m.is_empty() {
                    m.push(Mark::Current);
                }
                m
            }
            Cell::Missing => vec![Mark::Missing],
            Cell::NotForStage => vec![Mark::NotForStage],
            Cell::NotInDomain => vec![Mark::NotInDomain],
        }
    }

    /// True when any mark asks for attention.
    pub fn has_drift(&self) -> bool {
        self.marks().into_iter().any(Mark::is_drift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("valid version")
    }

    fn input<'a>(runs: Option<&'a Version>, latest: Option<&'a Version>) -> CellInput<'a> {
        CellInput {
            domain_listed: true,
            env_listed: true,
            runs,
            next: None,
            latest,
        }
    }

    #[test]
    fn staging_ahead_of_prod_and_prod_behind_latest() {
        let (v2, v3) = (v("1.0.2"), v("1.0.3"));
        let staging = Cell::compute(&CellInput {
            next: Some(Some(&v2)),
            ..input(Some(&v3), Some(&v3))
        });
        assert_eq!(staging.marks(), vec![Mark::Ahead]);
        let prod = Cell::compute(&input(Some(&v2), Some(&v3)));
        assert_eq!(prod.marks(), vec![Mark::Behind]);
        assert_eq!(prod.version(), Some(&v2));
        assert!(staging.has_drift() && prod.has_drift());
    }

    #[test]
    fn a_stage_whose_next_runs_nothing_is_ahead_and_one_in_step_is_current() {
        let v3 = v("1.0.3");
        let waiting = Cell::compute(&CellInput {
            next: Some(None),
            ..input(Some(&v3), Some(&v3))
        });
        assert_eq!(waiting.marks(), vec![Mark::Ahead]);
        let in_step = Cell::compute(&CellInput {
            next: Some(Some(&v3)),
            ..input(Some(&v3), Some(&v3))
        });
        assert_eq!(in_step.marks(), vec![Mark::Current]);
        assert!(!in_step.has_drift());
        // Not indexed: no "behind".
        assert_eq!(
            Cell::compute(&input(Some(&v3), None)).marks(),
            vec![Mark::Current]
        );
    }

    #[test]
    fn empty_cells_say_why() {
        assert_eq!(Cell::compute(&input(None, None)), Cell::Missing);
        let not_env = CellInput {
            env_listed: false,
            ..input(None, None)
        };
        assert_eq!(Cell::compute(&not_env), Cell::NotForStage);
        let not_domain = CellInput {
            domain_listed: false,
            env_listed: false,
            ..input(None, None)
        };
        assert_eq!(Cell::compute(&not_domain), Cell::NotInDomain);
        assert!(Cell::Missing.has_drift());
        assert!(!Cell::NotInDomain.has_drift());
    }

    #[test]
    fn running_outside_the_listed_domain_is_marked_and_marks_combine() {
        let (v1, v2, v3) = (v("1.0.1"), v("1.0.2"), v("1.0.3"));
        let c = Cell::compute(&CellInput {
            domain_listed: false,
            env_listed: false,
            runs: Some(&v2),
            next: Some(Some(&v1)),
            latest: Some(&v3),
        });
        assert_eq!(c.marks(), vec![Mark::Ahead, Mark::Behind, Mark::Unlisted]);
        // Every mark has words, not only a colour.
        for m in Mark::ALL {
            assert!(!m.label().is_empty() && !m.explain().is_empty());
        }
    }
}
