//! The W3C VC-API on the JSON-RPC port: plain HTTP routes beside JSON-RPC (which stays at `/`),
//! answered by the same verify path as `banyan_verifyCredential` and
//! `banyan_verifyPresentation`.
//!
//! - `POST /credentials/issue` `{"credential", "options"?}`: issues with a key the node holds,
//!   for the operator (`Authorization: Bearer <token>`); 201 once its record is in a block
//! - `POST /credentials/verify` `{"verifiableCredential", "options"?}`
//! - `POST /presentations/verify` `{"verifiablePresentation", "options": {"challenge", "domain"}}`
//! - `POST /challenges`: a one-time challenge for a presentation
//! - `GET /status-lists/<issuer DID>/<revocation|suspension>/<list>`: an issuer's status list
//! - `GET /contexts/credentials/v2`: the VC 2.0 base context the node ships
//!
//! A verification answers 200 when it verifies and 400 with the same body (its
//! `problemDetails`) when it does not; a malformed request answers 400 with a problem details
//! object, and the node's own failures 500. Bodies are bounded by the RPC's request limit.

use http::{Method, StatusCode, header};
use http_body_util::BodyExt;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::error::RpcError;
use crate::json::BlockTag;
use crate::namespaces::identity;
use crate::server::Ctx;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The layer adding the VC-API routes in front of JSON-RPC.
#[derive(Clone)]
pub(crate) struct VcApiLayer {
    ctx: Arc<Ctx>,
}

impl VcApiLayer {
    pub(crate) fn new(ctx: Ctx) -> Self {
        Self { ctx: Arc::new(ctx) }
    }
}

impl<S> tower::Layer<S> for VcApiLayer {
    type Service = VcApi<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VcApi {
            inner,
            ctx: self.ctx.clone(),
        }
    }
}

/// The VC-API routes, then JSON-RPC.
#[derive(Clone)]
pub(crate) struct VcApi<S> {
    inner: S,
    ctx: Arc<Ctx>,
}

/// The routes this layer answers.
fn is_route(method: &Method, path: &str) -> bool {
    match *method {
        Method::POST => matches!(
            path,
            "/credentials/issue" | "/credentials/verify" | "/presentations/verify" | "/challenges"
        ),
        Method::GET => path.starts_with("/status-lists/") || path == "/contexts/credentials/v2",
        _ => false,
    }
}

impl<S, B> tower::Service<HttpRequest<B>> for VcApi<S>
where
    S: tower::Service<HttpRequest, Response = HttpResponse>,
    S::Error: Into<BoxError> + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: HttpRequest<B>) -> Self::Future {
        if !is_route(req.method(), req.uri().path()) {
            let fut = self.inner.call(req.map(HttpBody::new));
            return Box::pin(async move { fut.await.map_err(Into::into) });
        }
        let ctx = self.ctx.clone();
        Box::pin(async move {
            let method = req.method().clone();
            let path = req.uri().path().to_string();
            if path == "/credentials/issue" {
                let authorization = req
                    .headers()
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if let Err(refused) = crate::issuing::authorize(&ctx, authorization) {
                    return Ok(answer(refused));
                }
            }
            let limit = ctx.config.max_request_body_bytes as usize;
            let body = if method == Method::POST {
                match http_body_util::Limited::new(req.into_body(), limit)
                    .collect()
                    .await
                {
                    Ok(collected) => match serde_json::from_slice::<Value>(&collected.to_bytes()) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            return Ok(problem(
                                StatusCode::BAD_REQUEST,
                                format!("the body is not JSON: {e}"),
                            ));
                        }
                    },
                    Err(e) => {
                        return Ok(problem(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            format!("the body could not be read within {limit} bytes: {e}"),
                        ));
                    }
                }
            } else {
                None
            };
            let answer =
                tokio::task::spawn_blocking(move || route(&ctx, &method, &path, body)).await;
            Ok(answer.unwrap_or_else(|e| {
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the request failed: {e}"),
                )
            }))
        })
    }
}

fn route(ctx: &Ctx, method: &Method, path: &str, body: Option<Value>) -> HttpResponse {
    let body = body.unwrap_or(Value::Null);
    match (method.as_str(), path) {
        ("POST", "/credentials/verify") => verdict(
            request(&body, "verifiableCredential")
                .and_then(|(input, options)| identity::verify_credential(ctx, &input, options)),
        ),
        ("POST", "/presentations/verify") => verdict(
            request(&body, "verifiablePresentation")
                .and_then(|(input, options)| identity::verify_presentation(ctx, &input, options)),
        ),
        ("POST", "/credentials/issue") => match request(&body, "credential") {
            Ok((credential, options)) => {
                answer(crate::issuing::issue_credential(ctx, &credential, &options))
            }
            Err(e) => rpc_problem(&e),
        },
        ("POST", "/challenges") => match identity::create_challenge(ctx) {
            Ok(v) => respond(StatusCode::CREATED, "application/json", v.to_string()),
            Err(e) => rpc_problem(&e),
        },
        ("GET", "/contexts/credentials/v2") => respond(
            StatusCode::OK,
            "application/ld+json",
            banyan_identity::credential::VC_CONTEXT_DOCUMENT.to_string(),
        ),
        ("GET", p) => status_list(ctx, p),
        _ => problem(StatusCode::NOT_FOUND, format!("no route {method} {path}")),
    }
}

/// The credential or presentation and the options of a request.
fn request(body: &Value, member: &str) -> Result<(Value, Map<String, Value>), RpcError> {
    let Some(object) = body.as_object() else {
        return Err(crate::error::invalid_params(format!(
            "the body is a JSON object {{\"{member}\": …, \"options\"?: {{…}}}}"
        )));
    };
    if let Some(unknown) = object.keys().find(|k| *k != member && *k != "options") {
        return Err(crate::error::invalid_params(format!(
            "unknown member {unknown:?}; the body has {member:?} and \"options\""
        )));
    }
    let input = object
        .get(member)
        .cloned()
        .ok_or_else(|| crate::error::invalid_params(format!("the body lacks {member:?}")))?;
    let options = match object.get("options") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(o)) => o.clone(),
        Some(_) => {
            return Err(crate::error::invalid_params(
                "options must be a JSON object",
            ));
        }
    };
    Ok((input, options))
}

/// A JSON answer, or a problem (with `WWW-Authenticate` on 401) when it is not 2xx.
fn answer((status, body): crate::issuing::Answer) -> HttpResponse {
    if status.is_success() {
        return respond(status, "application/json", body.to_string());
    }
    let detail = body
        .as_str()
        .map_or_else(|| body.to_string(), str::to_string);
    let mut response = problem(status, detail);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// 200 for a verified result, 400 with the same body for one that is not.
fn verdict(result: Result<Value, RpcError>) -> HttpResponse {
    match result {
        Ok(v) => {
            let status = if v["verified"] == json!(true) {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            respond(status, "application/json", v.to_string())
        }
        Err(e) => rpc_problem(&e),
    }
}

fn status_list(ctx: &Ctx, path: &str) -> HttpResponse {
    let parts: Vec<&str> = path
        .strip_prefix("/status-lists/")
        .unwrap_or_default()
        .split('/')
        .collect();
    let [issuer, purpose, list] = parts.as_slice() else {
        return problem(
            StatusCode::NOT_FOUND,
            "status lists are at /status-lists/<issuer DID>/<revocation|suspension>/<list>",
        );
    };
    let Ok(list) = list.parse::<u32>() else {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("list {list:?} is not a number"),
        );
    };
    match identity::status_list_credential(ctx, issuer, purpose, list, BlockTag::Latest) {
        Ok(v) => respond(StatusCode::OK, "application/vc", v.to_string()),
        Err(e) => rpc_problem(&e),
    }
}

fn rpc_problem(e: &RpcError) -> HttpResponse {
    let status = if e.code() == crate::error::INVALID_PARAMS {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    problem(status, e.message().to_string())
}

/// An RFC 9457 problem details response.
fn problem(status: StatusCode, detail: impl Into<String>) -> HttpResponse {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "detail": detail.into(),
    });
    respond(status, "application/problem+json", body.to_string())
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}
