//! The CloudFront Functions event and what a viewer-request function returns, in the shapes
//! CloudFront documents ("CloudFront Functions event structure", version `1.0`).
//!
//! Query strings, headers and cookies share one structure: one field per name, `{value}` with the
//! first value, and `multiValue` (every value, the first included) only when the name repeats.
//! Header names are lower case; `Cookie` headers are not headers but `cookies`; query values are
//! as the viewer sent them, still percent-encoded.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// Names with their values, in the order the names first appeared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, Vec<String>)>);

impl Fields {
    /// Adds a value under `name`, after the values it already has.
    pub fn add(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value),
            None => self.0.push((name, vec![value])),
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values(name).first().map(String::as_str)
    }

    /// Every value of `name`, in order; empty when it is absent.
    pub fn values(&self, name: &str) -> &[String] {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, values)| values.as_slice())
    }

    /// The names, each with its values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The event's form: `{"name": {"value": first, "multiValue": [{"value": v}, ...]}}`, with
    /// `multiValue` only for a name that repeats.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        for (name, values) in &self.0 {
            let mut field = Map::new();
            field.insert("value".into(), json!(values.first()));
            if values.len() > 1 {
                let all: Vec<Value> = values.iter().map(|v| json!({ "value": v })).collect();
                field.insert("multiValue".into(), Value::Array(all));
            }
            object.insert(name.clone(), Value::Object(field));
        }
        Value::Object(object)
    }

    /// Reads the form a function returns. As CloudFront applies it, a `multiValue` array wins over
    /// `value`; a missing object is no fields.
    pub fn from_json(value: Option<&Value>, what: &str) -> Result<Fields> {
        let mut fields = Fields::default();
        let Some(value) = value else {
            return Ok(fields);
        };
        let object = value
            .as_object()
            .ok_or_else(|| invalid(&format!("`{what}` is not an object")))?;
        for (name, field) in object {
            let text = |v: &Value| {
                v.get("value")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| invalid(&format!("`{what}.{name}` has no string `value`")))
            };
            match field.get("multiValue").and_then(Value::as_array) {
                Some(all) => {
                    for v in all {
                        fields.add(name.clone(), text(v)?);
                    }
                }
                None => fields.add(name.clone(), text(field)?),
            }
        }
        Ok(fields)
    }

    /// Parses a raw query string (without the `?`): `&`-separated, each `name=value` or a bare
    /// `name` (value ""), names and values kept as sent.
    pub fn from_query(query: &str) -> Fields {
        let mut fields = Fields::default();
        for part in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            fields.add(name, value);
        }
        fields
    }

    /// Parses the value of a `Cookie` header: `name=value` pairs separated by `;`.
    fn add_cookies(&mut self, header: &str) {
        for part in header.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or(("", part));
            self.add(name.trim(), value.trim());
        }
    }
}

/// A viewer's request as the function sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path as sent, percent-encoding and all, without the query.
    pub uri: String,
    pub querystring: Fields,
    /// Lower-case names.
    pub headers: Fields,
    pub cookies: Fields,
    /// `viewer.ip`.
    pub viewer_ip: IpAddr,
}

impl Request {
    /// A request for `target` (path and optional `?query`, as on the request line) from the
    /// documentation address 192.0.2.1, with no headers yet.
    pub fn new(method: &str, target: &str) -> Request {
        let (uri, query) = target.split_once('?').unwrap_or((target, ""));
        Request {
            method: method.to_owned(),
            uri: uri.to_owned(),
            querystring: Fields::from_query(query),
            headers: Fields::default(),
            cookies: Fields::default(),
            viewer_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        }
    }

    /// A GET request for `target` with a `Host` header.
    pub fn get(host: &str, target: &str) -> Request {
        Request::new("GET", target).header("Host", host)
    }

    /// Adds a header as the viewer sent it: the name lower-cased, a `Cookie` header into
    /// `cookies`.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Request {
        let name = name.to_ascii_lowercase();
        if name == "cookie" {
            self.cookies.add_cookies(value);
        } else {
            self.headers.add(name, value);
        }
        self
    }

    /// The `request` object of the event.
    pub fn to_json(&self) -> Value {
        json!({
            "method": self.method,
            "uri": self.uri,
            "querystring": self.querystring.to_json(),
            "headers": self.headers.to_json(),
            "cookies": self.cookies.to_json(),
        })
    }

    /// The viewer-request event for this request.
    pub fn viewer_request_event(&self) -> Value {
        json!({
            "version": "1.0",
            "context": { "eventType": "viewer-request" },
            "viewer": { "ip": self.viewer_ip.to_string() },
            "request": self.to_json(),
        })
    }

    /// The viewer-response event: this request (as the origin got it) and the response about to
    /// go to the viewer. `response.cookies` holds the `Set-Cookie` values; S3 origins send none.
    pub fn viewer_response_event(&self, response: &Response) -> Value {
        let mut response = response.to_json();
        response["cookies"] = json!({});
        json!({
            "version": "1.0",
            "context": { "eventType": "viewer-response" },
            "viewer": { "ip": self.viewer_ip.to_string() },
            "request": self.to_json(),
            "response": response,
        })
    }

    /// The request a function returned; `method` is read-only, so it stays this one's.
    fn returned(&self, value: &Value) -> Result<Request> {
        let uri = value
            .get("uri")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("the returned request has no string `uri`"))?;
        // CloudFront refuses a changed uri that does not start with `/`.
        if uri != self.uri && !uri.starts_with('/') {
            return Err(invalid(&format!(
                "the returned request's uri {uri:?} does not start with `/`"
            )));
        }
        Ok(Request {
            method: self.method.clone(),
            uri: uri.to_owned(),
            querystring: Fields::from_json(value.get("querystring"), "querystring")?,
            headers: Fields::from_json(value.get("headers"), "headers")?,
            cookies: Fields::from_json(value.get("cookies"), "cookies")?,
            viewer_ip: self.viewer_ip,
        })
    }
}

/// A response the function generates instead of forwarding the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub status_description: Option<String>,
    pub headers: Fields,
}

impl Response {
    /// The `response` object: `statusCode` (a number), `statusDescription`, `headers`.
    pub fn to_json(&self) -> Value {
        let mut object = json!({ "statusCode": self.status, "headers": self.headers.to_json() });
        if let Some(description) = &self.status_description {
            object["statusDescription"] = json!(description);
        }
        object
    }

    /// The response a viewer-response function returned for `self`. The status stays this one's:
    /// "Edge functions for viewer response events cannot modify the HTTP status code of the
    /// response" ("Restrictions on all edge functions"); the headers are the function's.
    pub(super) fn returned_to_viewer(&self, value: &Value) -> Result<Response> {
        if !value.is_object() {
            return Err(invalid(
                "the viewer-response function returned no response object",
            ));
        }
        Ok(Response {
            status: self.status,
            status_description: self.status_description.clone(),
            headers: Fields::from_json(value.get("headers"), "headers")?,
        })
    }

    fn returned(value: &Value) -> Result<Response> {
        let status = value
            .get("statusCode")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| invalid("the returned response's `statusCode` is not a status"))?;
        Ok(Response {
            status,
            status_description: value
                .get("statusDescription")
                .and_then(Value::as_str)
                .map(str::to_owned),
            headers: Fields::from_json(value.get("headers"), "headers")?,
        })
    }
}

/// What a viewer-request function decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// CloudFront goes on with this request (its uri, query or headers possibly changed).
    Forward(Request),
    /// CloudFront answers the viewer with this response, without the cache or the origin.
    Respond(Response),
}

impl Outcome {
    /// Reads what the function returned for `request`: an object with `statusCode` is a response,
    /// any other object the request.
    pub(super) fn returned(request: &Request, value: &Value) -> Result<Outcome> {
        if !value.is_object() {
            return Err(invalid(
                "the function returned neither a request nor a response",
            ));
        }
        if value.get("statusCode").is_some() {
            Response::returned(value).map(Outcome::Respond)
        } else {
            request.returned(value).map(Outcome::Forward)
        }
    }

    /// The object as the function returned it.
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Forward(request) => request.to_json(),
            Outcome::Respond(response) => response.to_json(),
        }
    }
}

fn invalid(message: &str) -> Error {
    Error::Other(anyhow::anyhow!("CloudFront Function: {message}"))
}

#[cfg(test)]
mod tests;
