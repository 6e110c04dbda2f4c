//! What happened, for notifiers (issue 7 turns these into Slack messages).

use berth_model::{AuditAction, ComponentPath, DomainName, EnvName, Timestamp, Version};
use camino::Utf8PathBuf;
use serde::Serialize;

use crate::gates::Refusal;

/// One promotion or rollback that landed, or one gate's refusal of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromotionEvent {
    /// Promote or rollback.
    pub action: AuditAction,
    /// The component.
    pub component: ComponentPath,
    /// The version it was about (none when a refusal names no valid version).
    pub version: Option<Version>,
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
}
