//! Kubernetes quantities from compose's units.

use wharf_compose::model::UnitBytes;

/// Memory in Mi/Gi when it divides, else bytes.
pub(crate) fn memory(bytes: UnitBytes) -> String {
    const MI: i64 = 1 << 20;
    const GI: i64 = 1 << 30;
    match bytes.0 {
        b if b % GI == 0 => format!("{}Gi", b / GI),
        b if b % MI == 0 => format!("{}Mi", b / MI),
        b => b.to_string(),
    }
}
