//! What another system's client may do: SMART-style scopes (`system/Patient.read`,
//! `system/*.read`, `system/Communication.write`, or SMART v2's `system/Patient.rs`), checked
//! when an administrator registers a client and on every request it makes.

/// The resource types Samverka serves.
pub const RESOURCE_TYPES: [&str; 14] = [
    "Practitioner",
    "PractitionerRole",
    "AuditEvent",
    "Patient",
    "Organization",
    "Encounter",
    "EpisodeOfCare",
    "Task",
    "Communication",
    "CarePlan",
    "Observation",
    "Consent",
    "Subscription",
    "Device",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Whether `scopes` let a client read or write a resource type.
pub fn allows(scopes: &[String], resource: &str, access: Access) -> bool {
    scopes.iter().any(|s| {
        let Some(rest) = s.strip_prefix("system/") else { return false };
        let Some((ty, perm)) = rest.split_once('.') else { return false };
        let type_ok = ty == "*" || ty == resource;
        let perm_ok = match (perm, access) {
            ("*", _) | ("read", Access::Read) | ("write", Access::Write) => true,
            // SMART v2: c(reate) r(ead) u(pdate) d(elete) s(earch).
            (p, Access::Read) if is_v2(p) => p.contains('r') || p.contains('s'),
            (p, Access::Write) if is_v2(p) => p.contains('c') || p.contains('u'),
            _ => false,
        };
        type_ok && perm_ok
    })
}

fn is_v2(p: &str) -> bool {
    !p.is_empty() && p.chars().all(|c| "cruds".contains(c))
}

/// A scope string Samverka understands (for registering clients and checking requests).
pub fn valid_scope(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("system/") else { return false };
    let Some((ty, perm)) = rest.split_once('.') else { return false };
    let known_type = ty == "*" || RESOURCE_TYPES.contains(&ty);
    known_type && (matches!(perm, "*" | "read" | "write") || is_v2(perm))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(list: &[&str]) -> Vec<String> {
        list.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn scopes_grant_what_they_name_and_nothing_more() {
        let read_all = s(&["system/*.read"]);
        assert!(allows(&read_all, "Patient", Access::Read));
        assert!(!allows(&read_all, "Communication", Access::Write));
        let one = s(&["system/Communication.write", "system/Patient.rs"]);
        assert!(allows(&one, "Communication", Access::Write));
        assert!(!allows(&one, "Communication", Access::Read));
        assert!(allows(&one, "Patient", Access::Read));
        assert!(!allows(&one, "Task", Access::Read));
        assert!(!allows(&s(&["patient/*.read", "user/*.*"]), "Patient", Access::Read), "only system scopes");
        assert!(valid_scope("system/Patient.read") && valid_scope("system/*.cruds"));
        assert!(!valid_scope("system/Nonsense.read") && !valid_scope("system/Patient.xyz"));
    }
}
