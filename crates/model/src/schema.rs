//! JSON Schemas (draft-07, for editors such as yaml-language-server) of every file berth
//! reads, generated from the same structs that load them.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

use crate::config::Config;
use crate::files::{AuditRecord, ComponentsIndex, DomainIndex, Manifest, Metadata, Ownership};

/// One schema: the file name to store it under, what it describes, and the schema.
#[derive(Debug, Clone)]
pub struct FileSchema {
    /// `metadata.schema.json`, …
    pub file_name: &'static str,
    /// Which repository files it describes.
    pub describes: &'static str,
    /// The JSON Schema.
    pub schema: serde_json::Value,
}

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    serde_json::to_value(schema).unwrap_or_default()
}

/// The schemas of every file of a repository.
pub fn all() -> Vec<FileSchema> {
    let mut metadata = schema_of::<Metadata>();
    // Known keys, plus any `x-…` key; anything else is a typo.
    if let Some(obj) = metadata.as_object_mut() {
        obj.insert("patternProperties".into(), serde_json::json!({ "^x-": {} }));
        obj.insert(
            "additionalProperties".into(),
            serde_json::Value::Bool(false),
        );
    }
    vec![
        FileSchema {
            file_name: "metadata.schema.json",
            describes: "components/**/versions/*/metadata.yaml",
            schema: metadata,
        },
        FileSchema {
            file_name: "manifest.schema.json",
            describes: "components/**/versions/*/*/manifest.yaml",
            schema: schema_of::<Manifest>(),
        },
        FileSchema {
            file_name: "ownership.schema.json",
            describes: "components/**/ownership.yaml",
            schema: schema_of::<Ownership>(),
        },
        FileSchema {
            file_name: "components.schema.json",
            describes: "index/components.yaml",
            schema: schema_of::<ComponentsIndex>(),
        },
        FileSchema {
            file_name: "domain.schema.json",
            describes: "index/domain-*.yaml",
            schema: schema_of::<DomainIndex>(),
        },
        FileSchema {
            file_name: "audit-record.schema.json",
            describes: "index/audit/**/*.yaml",
            schema: schema_of::<AuditRecord>(),
        },
        FileSchema {
            file_name: "berth-toml.schema.json",
            describes: "berth.toml",
            schema: schema_of::<Config>(),
        },
    ]
}
