//! What happened, for notifiers (issue 7 turns these into Slack messages).

use berth_model::{AuditAction, DomainName, EnvName, Timestamp, Version};
use camino::Utf8PathBuf;
use serde::Serialize;

use crate::gates::Refusal;

/// One promotion or rollback that landed, or one gate's refusal of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromotionEvent {
    /// Promote or rollback.
    pub action: AuditAction,
    /// The component (as resolved; as given when it does not exist).
    pub component: String,
    /// The version that entered (or was to enter) the stage.
    pub version: String,
    /// The domain.
    pub domain: DomainName,
    /// The environment.
    pub environment: EnvName,
    /// The version the stage ran before, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Version>,
    /// Who promoted.
    pub actor: String,
    /// Who approved.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<String>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When.
    pub at: Timestamp,
    /// The audit record written, when it landed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Utf8PathBuf>,
    /// The gate that refused it, when it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<Refusal>,
}

impl PromotionEvent {
    /// True when it landed.
    pub fn landed(&self) -> bool {
        self.refused.is_none()
    }

    /// A one-line summary for chat: `✅ cloud/prod: cloud/dmp/ms-ingestion 1.0.2 → 1.0.3
    /// by ci-bot (approved by priya.k)` or `⛔ … refused by gate previous-stage: …`.
    pub fn summary(&self) -> String {
        let verb = match self.action {
            AuditAction::Promote => "",
            AuditAction::Rollback => " rolled back",
        };
        let change = match &self.previous {
            Some(p) => format!("{p} → {}", self.version),
            None => self.version.clone(),
        };
        let head = format!(
            "{}/{}:{verb} {} {change}",
            self.domain, self.environment, self.component
        );
        match &self.refused {
            Some(r) => format!("⛔ {head} refused by gate {}: {}", r.gate, r.message),
            None => {
                let approved = if self.approvals.is_empty() {
                    String::new()
                } else {
                    format!(" (approved by {})", self.approvals.join(", "))
                };
                format!("✅ {head} by {}{approved}", self.actor)
            }
        }
    }
}
