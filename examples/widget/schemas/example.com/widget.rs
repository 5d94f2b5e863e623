//! The Widget's strategy module (`x-kapi-strategy: widget` in widgets.yaml): typed hooks written
//! against the generated types of the storage version (v1), and the conversions between v1 and v2.

use kapi_runtime::apimachinery::FieldError;

use super::example_com::{v1, v2};

/// `displayName` defaults to `<color> widget`: a default the schema cannot say (computed from
/// another field). The color is also a label, for selectors.
pub fn default(widget: &mut v1::Widget) {
    if let Some(color) = widget.spec.as_ref().and_then(|s| s.color.clone()) {
        widget.metadata.labels.insert("example.com/color".into(), color);
    }
    if let Some(spec) = widget.spec.as_mut() {
        if spec.display_name.is_none() {
            if let Some(color) = &spec.color {
                spec.display_name = Some(format!("{color} widget"));
            }
        }
    }
}

/// A size over `maxReplicas` is refused (a cross-field check; CEL could say it too, Rust can say
/// anything).
pub fn validate_create(widget: &v1::Widget) -> Vec<FieldError> {
    let Some(spec) = &widget.spec else { return Vec::new() };
    match (spec.size, spec.max_replicas) {
        (Some(size), Some(max)) if size > max => {
            vec![FieldError::invalid("spec.size", size, format!("must not be greater than maxReplicas ({max})"))]
        }
        _ => Vec::new(),
    }
}

/// The create rule, and a size may not shrink by more than half at once.
pub fn validate_update(widget: &v1::Widget, old: &v1::Widget) -> Vec<FieldError> {
    let mut errors = validate_create(widget);
    let size = |w: &v1::Widget| w.spec.as_ref().and_then(|s| s.size);
    if let (Some(new), Some(old)) = (size(widget), size(old)) {
        if new * 2 < old {
            errors.push(FieldError::invalid("spec.size", new, format!("may not shrink below half of {old} at once")));
        }
    }
    errors
}

/// v2 → v1: `replicas` is v1's `size`.
pub fn convert_v2_to_v1(widget: v2::Widget) -> Result<v1::Widget, String> {
    Ok(v1::Widget {
        api_version: widget.api_version,
        kind: widget.kind,
        metadata: widget.metadata,
        spec: widget.spec.map(|s| v1::WidgetSpec {
            color: s.color,
            display_name: s.display_name,
            size: s.replicas,
            min_replicas: s.min_replicas,
            max_replicas: s.max_replicas,
        }),
        status: widget.status.map(|s| v1::WidgetStatus { observed_size: s.observed_replicas }),
    })
}

/// v1 → v2: `size` is v2's `replicas`.
pub fn convert_v1_to_v2(widget: v1::Widget) -> Result<v2::Widget, String> {
    Ok(v2::Widget {
        api_version: widget.api_version,
        kind: widget.kind,
        metadata: widget.metadata,
        spec: widget.spec.map(|s| v2::WidgetSpec {
            color: s.color,
            display_name: s.display_name,
            replicas: s.size,
            min_replicas: s.min_replicas,
            max_replicas: s.max_replicas,
        }),
        status: widget.status.map(|s| v2::WidgetStatus { observed_replicas: s.observed_size }),
    })
}
