//! JSON Schema validation (draft 2020-12 by default), for credential schemas published on the
//! ledger and for the W3C data model's own schema.
//!
//! A schema is untrusted input: it is compiled with a loader that refuses every URL, so a
//! `$ref` can only point inside the schema (or to the meta-schemas `boon` carries); a schema
//! naming a file or a web address is refused, never read or fetched.

use serde_json::Value;

/// Where a compiled schema lives; any absolute URL that never leaves this process.
const SCHEMA_URL: &str = "urn:banyan:schema";

/// Why a schema does not compile, or a document does not validate against it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The schema is not a JSON Schema this validator compiles.
    #[error("the schema does not compile: {0}")]
    Compile(String),
    /// The document does not satisfy the schema.
    #[error("{0}")]
    Invalid(String),
}

/// A loader that loads nothing.
struct NoLoader;

impl boon::UrlLoader for NoLoader {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        Err(format!("{url}: schemas are never fetched; a $ref must point inside the schema").into())
    }
}

/// A compiled schema.
pub struct Schema {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
    /// Compiled member schemas (`properties/<name>`), for selectively disclosed members.
    compiler: boon::Compiler,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema").finish_non_exhaustive()
    }
}

impl Schema {
    /// Compiles `schema`.
    pub fn compile(schema: &Value) -> Result<Self, SchemaError> {
        let mut compiler = boon::Compiler::new();
        compiler.use_loader(Box::new(NoLoader));
        compiler
            .add_resource(SCHEMA_URL, schema.clone())
            .map_err(|e| SchemaError::Compile(e.to_string()))?;
        let mut schemas = boon::Schemas::new();
        let index = compiler
            .compile(SCHEMA_URL, &mut schemas)
            .map_err(|e| SchemaError::Compile(format!("{e:#}")))?;
        Ok(Self {
            schemas,
            index,
            compiler,
        })
    }

    /// Validates `document` against the whole schema.
    pub fn validate(&self, document: &Value) -> Result<(), SchemaError> {
        self.schemas
            .validate(document, self.index)
            .map_err(|e| SchemaError::Invalid(describe(&e)))
    }

    /// Validates one member's `value` against the schema's `properties/<name>`; a member the
    /// schema does not describe passes unless the schema forbids additional properties.
    pub fn validate_member(&mut self, name: &str, value: &Value) -> Result<(), SchemaError> {
        let mut one = serde_json::Map::new();
        one.insert(name.to_string(), value.clone());
        // The member alone, against the schema with `required` lifted: what a verifier can
        // check of a disclosure without the undisclosed members.
        let pointer = format!(
            "{SCHEMA_URL}#/properties/{}",
            name.replace('~', "~0").replace('/', "~1")
        );
        match self.compiler.compile(&pointer, &mut self.schemas) {
            Ok(index) => self
                .schemas
                .validate(value, index)
                .map_err(|e| SchemaError::Invalid(format!("{name}: {}", describe(&e)))),
            // The schema does not describe this member.
            Err(_) => Ok(()),
        }
    }
}

/// One line per failing keyword, with where in the document it failed.
fn describe(error: &boon::ValidationError<'_, '_>) -> String {
    let mut lines = Vec::new();
    collect(error, &mut lines);
    if lines.is_empty() {
        lines.push(error.to_string());
    }
    lines.truncate(8);
    lines.join("; ")
}

fn collect(error: &boon::ValidationError<'_, '_>, lines: &mut Vec<String>) {
    if error.causes.is_empty() {
        let at = error.instance_location.to_string();
        let at = if at.is_empty() { "/".to_string() } else { at };
        lines.push(format!("at {at}: {}", error.kind));
    }
    for cause in &error.causes {
        collect(cause, lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validates_and_names_the_failing_place() {
        let schema = Schema::compile(&json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18}},
            "required": ["name", "age"]
        }))
        .unwrap();
        schema.validate(&json!({"name": "A", "age": 30})).unwrap();
        let e = schema
            .validate(&json!({"name": "A", "age": 12}))
            .unwrap_err();
        assert!(e.to_string().contains("/age"), "{e}");
        let e = schema.validate(&json!({"name": "A"})).unwrap_err();
        assert!(e.to_string().contains("age"), "{e}");
    }

    #[test]
    fn members_validate_alone() {
        let mut schema = Schema::compile(&json!({
            "type": "object",
            "properties": {"age": {"type": "integer"}},
            "required": ["name", "age"]
        }))
        .unwrap();
        schema.validate_member("age", &json!(40)).unwrap();
        assert!(schema.validate_member("age", &json!("forty")).is_err());
        schema.validate_member("other", &json!(1)).unwrap();
    }

    #[test]
    fn never_reads_files_or_the_network() {
        for reference in [
            "file:///etc/passwd",
            "https://example.com/schema.json",
            "/etc/hostname",
        ] {
            let e = Schema::compile(&json!({"$ref": reference})).unwrap_err();
            assert!(matches!(e, SchemaError::Compile(_)), "{reference}: {e}");
        }
    }
}
