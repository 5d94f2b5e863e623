//! The security filters every request passes before routing: authentication (401), the request's
//! authorization attributes (upstream's RequestInfoFactory) and authorization (403), with
//! upstream's Status messages.

use http::Method;

use super::request::{Query, Target};
use crate::apimachinery::{go, Status, StatusDetails};
use crate::auth::{Attributes, UserInfo};

/// The authorization attributes of a request by `user` (k8s.io/apiserver's RequestInfo): resource
/// requests get their verb from the method (get/list/watch/create/update/patch/delete/
/// deletecollection), everything else is a non-resource request with the lower-case method.
/// `target` is `path` parsed (the caller routes on it too).
pub fn request_attributes(method: &Method, path: &str, target: &Target, query: &Query, user: UserInfo) -> Attributes {
    let lower = method.as_str().to_ascii_lowercase();
    let non_resource = |user: UserInfo| Attributes {
        user,
        verb: lower.clone(),
        resource_request: false,
        path: path.to_string(),
        ..Attributes::default()
    };
    let rp = match target {
        Target::Resource(rp) => rp,
        _ => return non_resource(user),
    };
    let watch_param = query.bool("watch").ok().flatten().unwrap_or(false);
    let mut name = rp.name.clone().unwrap_or_default();
    let verb = match *method {
        // The `/watch/` prefix makes any GET a watch; `?watch=true` only a collection's (upstream).
        Method::GET | Method::HEAD if rp.watch_prefix || (watch_param && name.is_empty()) => "watch",
        Method::GET | Method::HEAD if name.is_empty() => "list",
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if name.is_empty() => "deletecollection",
        Method::DELETE => "delete",
        _ => lower.as_str(),
    }
    .to_string();
    // A list or watch of one object by `metadata.name` is authorized as that object's.
    if (verb == "list" || verb == "watch") && name.is_empty() {
        if let Some(selector) = query.get("fieldSelector") {
            if let Some(n) = single_name_selector(selector) {
                name = n;
            }
        }
    }
    let (resource, namespace) = if rp.resource == "namespaces" && rp.group.is_empty() && rp.namespace.is_none() {
        // `/api/v1/namespaces/<name>` is the namespace object: its namespace is itself (upstream).
        (rp.resource.clone(), rp.name.clone().unwrap_or_default())
    } else {
        (rp.resource.clone(), rp.namespace.clone().unwrap_or_default())
    };
    Attributes {
        user,
        verb,
        resource_request: true,
        path: path.to_string(),
        namespace,
        api_group: rp.group.clone(),
        api_version: rp.version.clone(),
        resource,
        subresource: rp.subresource.clone().unwrap_or_default(),
        name,
        field_selector: query.get("fieldSelector").unwrap_or_default().to_string(),
    }
}

/// `metadata.name=<x>` (or `==`) as the only requirement of a field selector.
fn single_name_selector(selector: &str) -> Option<String> {
    if selector.contains(',') {
        return None;
    }
    let rest = selector.trim().strip_prefix("metadata.name")?;
    let value = rest.strip_prefix("==").or_else(|| rest.strip_prefix('='))?;
    (!value.is_empty()).then(|| value.to_string())
}

/// The impersonation headers (`kubectl --as`, `--as-group`, `--as-uid`, `--as-extra`).
const IMPERSONATE_USER: &str = "impersonate-user";
const IMPERSONATE_UID: &str = "impersonate-uid";
const IMPERSONATE_GROUP: &str = "impersonate-group";
const IMPERSONATE_EXTRA_PREFIX: &str = "impersonate-extra-";

/// Impersonation (k8s.io/apiserver's WithImpersonation): when the request carries
/// `Impersonate-*` headers, `user` must be allowed to `impersonate` each requested user, group,
/// uid, extra value (or service account); the request then acts as the impersonated user and the
/// headers are removed. `Ok(None)`: no impersonation asked.
pub async fn impersonate(
    authz: &dyn crate::auth::authz::Authorizer,
    user: &UserInfo,
    headers: &mut http::HeaderMap,
) -> Result<Option<UserInfo>, Status> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    };
    let username = values(IMPERSONATE_USER).into_iter().next();
    let uid = values(IMPERSONATE_UID).into_iter().next();
    let groups = values(IMPERSONATE_GROUP);
    let mut extra: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (name, value) in headers.iter() {
        if let Some(key) = name.as_str().strip_prefix(IMPERSONATE_EXTRA_PREFIX) {
            if let Ok(v) = value.to_str() {
                extra.entry(super::request::decode_segment(key).to_ascii_lowercase()).or_default().push(v.to_string());
            }
        }
    }
    let Some(username) = username else {
        if !groups.is_empty() || !extra.is_empty() || uid.is_some() {
            let mut requested: Vec<String> = groups.iter().map(|g| format!("group {g}")).collect();
            requested.extend(extra.keys().map(|k| format!("extra {k}")));
            if let Some(u) = &uid {
                requested.push(format!("uid {u}"));
            }
            return Err(Status::failure(
                500,
                "InternalError",
                format!("Internal error occurred: requested [{}] without impersonating a user", requested.join(" ")),
            ));
        }
        return Ok(None);
    };
    // What to check: (api group, resource, subresource, namespace, name).
    let mut checks: Vec<(&str, &str, String, String, String)> = Vec::new();
    let service_account = username
        .strip_prefix(crate::auth::names::SERVICE_ACCOUNT_USER_PREFIX)
        .and_then(|rest| rest.split_once(':'))
        .map(|(ns, name)| (ns.to_string(), name.to_string()));
    match &service_account {
        Some((ns, name)) => checks.push(("", "serviceaccounts", String::new(), ns.clone(), name.clone())),
        None => checks.push(("", "users", String::new(), String::new(), username.clone())),
    }
    for g in &groups {
        checks.push(("", "groups", String::new(), String::new(), g.clone()));
    }
    if let Some(u) = &uid {
        checks.push(("authentication.k8s.io", "uids", String::new(), String::new(), u.clone()));
    }
    for (k, vs) in &extra {
        for v in vs {
            checks.push(("authentication.k8s.io", "userextras", k.clone(), String::new(), v.clone()));
        }
    }
    for (group, resource, subresource, namespace, name) in checks {
        let attributes = Attributes {
            user: user.clone(),
            verb: "impersonate".into(),
            resource_request: true,
            path: String::new(),
            namespace,
            api_group: group.into(),
            api_version: String::new(),
            resource: resource.into(),
            subresource,
            name,
            field_selector: String::new(),
        };
        let verdict = authz.authorize(&attributes).await;
        if verdict.decision != crate::auth::Decision::Allow {
            return Err(forbidden(&attributes, &verdict.reason));
        }
    }
    let mut impersonated_groups = groups.clone();
    if let (Some((ns, _)), true) = (&service_account, groups.is_empty()) {
        impersonated_groups.push(crate::auth::names::ALL_SERVICE_ACCOUNTS.to_string());
        impersonated_groups.push(format!("{}:{ns}", crate::auth::names::ALL_SERVICE_ACCOUNTS));
    }
    let authenticated = crate::auth::names::ALL_AUTHENTICATED;
    if username == crate::auth::names::ANONYMOUS {
        if !impersonated_groups.iter().any(|g| g == crate::auth::names::ALL_UNAUTHENTICATED) {
            impersonated_groups.push(crate::auth::names::ALL_UNAUTHENTICATED.to_string());
        }
    } else if !impersonated_groups.iter().any(|g| g == authenticated || g == crate::auth::names::ALL_UNAUTHENTICATED) {
        impersonated_groups.push(authenticated.to_string());
    }
    let remove: Vec<http::HeaderName> = headers
        .keys()
        .filter(|n| n.as_str().starts_with("impersonate-"))
        .cloned()
        .collect();
    for name in remove {
        headers.remove(name);
    }
    Ok(Some(UserInfo { username, uid: uid.unwrap_or_default(), groups: impersonated_groups, extra }))
}

/// Upstream's 401 (the message and reason are always just "Unauthorized").
pub fn unauthorized() -> Status {
    Status::failure(401, "Unauthorized", "Unauthorized")
}

/// Upstream's 403 for a denied request (responsewriters.Forbidden): names the user, the verb and
/// the resource or path, with the authorizers' reason after a colon when there is one.
pub fn forbidden(attributes: &Attributes, reason: &str) -> Status {
    let user = go::quote(&attributes.user.username);
    let what = if !attributes.resource_request {
        format!("User {user} cannot {} path {}", attributes.verb, go::quote(&attributes.path))
    } else {
        let resource = go::quote(&attributes.resource_path());
        let group = go::quote(&attributes.api_group);
        if attributes.namespace.is_empty() {
            format!("User {user} cannot {} resource {resource} in API group {group} at the cluster scope", attributes.verb)
        } else {
            format!(
                "User {user} cannot {} resource {resource} in API group {group} in the namespace {}",
                attributes.verb,
                go::quote(&attributes.namespace)
            )
        }
    };
    let why = if reason.is_empty() { what } else { format!("{what}: {reason}") };
    let qualified = if !attributes.resource_request || attributes.resource.is_empty() {
        String::new()
    } else if attributes.api_group.is_empty() {
        attributes.resource.clone()
    } else {
        format!("{}.{}", attributes.resource, attributes.api_group)
    };
    let message = if qualified.is_empty() {
        format!("forbidden: {why}")
    } else if attributes.name.is_empty() {
        format!("{qualified} is forbidden: {why}")
    } else {
        format!("{qualified} {} is forbidden: {why}", go::quote(&attributes.name))
    };
    let mut status = Status::failure(403, "Forbidden", message);
    status.details = Some(StatusDetails {
        name: attributes.name.clone(),
        group: if attributes.resource_request { attributes.api_group.clone() } else { String::new() },
        kind: if attributes.resource_request { attributes.resource.clone() } else { String::new() },
        ..StatusDetails::default()
    });
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::request::parse_path;

    fn attrs(method: Method, path: &str, query: &str) -> Attributes {
        request_attributes(&method, path, &parse_path(path), &Query::parse(Some(query)), UserInfo::anonymous())
    }

    #[test]
    fn verbs_and_targets() {
        let a = attrs(Method::GET, "/api/v1/namespaces/default/secrets", "");
        assert_eq!((a.verb.as_str(), a.resource.as_str(), a.namespace.as_str(), a.resource_request), ("list", "secrets", "default", true));
        let a = attrs(Method::GET, "/api/v1/namespaces/default/secrets", "watch=true");
        assert_eq!(a.verb, "watch");
        let a = attrs(Method::GET, "/api/v1/watch/namespaces/default/secrets/s1", "");
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("watch", "s1"));
        let a = attrs(Method::GET, "/api/v1/namespaces/default/configmaps", "fieldSelector=metadata.name%3Dcm1&watch=1");
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("watch", "cm1"));
        let a = attrs(Method::GET, "/api/v1/namespaces/default/configmaps", "fieldSelector=metadata.name%3Dcm1,x%3Dy");
        assert_eq!((a.verb.as_str(), a.name.as_str()), ("list", ""));
        let a = attrs(Method::DELETE, "/apis/apps/v1/namespaces/ns1/deployments", "");
        assert_eq!((a.verb.as_str(), a.api_group.as_str(), a.api_version.as_str()), ("deletecollection", "apps", "v1"));
        let a = attrs(Method::PATCH, "/api/v1/namespaces/ns1/pods/p/status", "");
        assert_eq!((a.verb.as_str(), a.resource_path().as_str(), a.name.as_str()), ("patch", "pods/status", "p"));
        let a = attrs(Method::GET, "/api/v1/namespaces/kube-system", "");
        assert_eq!((a.verb.as_str(), a.resource.as_str(), a.name.as_str(), a.namespace.as_str()), ("get", "namespaces", "kube-system", "kube-system"));
        let a = attrs(Method::GET, "/api/v1/nodes/n1", "");
        assert_eq!((a.verb.as_str(), a.resource.as_str(), a.namespace.as_str()), ("get", "nodes", ""));
        for path in ["/api", "/apis", "/apis/apps", "/api/v1", "/healthz", "/version", "/openapi/v2"] {
            let a = attrs(Method::GET, path, "");
            assert!(!a.resource_request, "{path}");
            assert_eq!((a.verb.as_str(), a.path.as_str()), ("get", path));
        }
        let a = attrs(Method::POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "");
        assert_eq!((a.verb.as_str(), a.resource.as_str(), a.api_group.as_str()), ("create", "selfsubjectaccessreviews", "authorization.k8s.io"));
    }

    #[test]
    fn forbidden_messages_match_upstream() {
        // reference/responses/anonymous-forbidden.http
        let a = attrs(Method::GET, "/api/v1/namespaces/default/secrets", "");
        let s = forbidden(&a, "");
        assert_eq!(
            s.message,
            "secrets is forbidden: User \"system:anonymous\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""
        );
        assert_eq!(serde_json::to_value(&s.details).expect("json"), serde_json::json!({"kind": "secrets"}));
        let a = attrs(Method::GET, "/apis/apps/v1/namespaces/x/deployments/web/scale", "");
        assert_eq!(
            forbidden(&a, "").message,
            "deployments.apps \"web\" is forbidden: User \"system:anonymous\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"x\""
        );
        let a = attrs(Method::GET, "/api/v1/nodes", "");
        assert_eq!(
            forbidden(&a, "no").message,
            "nodes is forbidden: User \"system:anonymous\" cannot list resource \"nodes\" in API group \"\" at the cluster scope: no"
        );
        let a = attrs(Method::GET, "/api", "");
        let s = forbidden(&a, "");
        assert_eq!(s.message, "forbidden: User \"system:anonymous\" cannot get path \"/api\"");
        assert!(s.details.is_some_and(|d| d.kind.is_empty()));
        assert_eq!(unauthorized().code, 401);
    }
}
