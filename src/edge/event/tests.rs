use serde_json::json;

use super::*;

#[test]
fn the_event_has_the_documented_shape() {
    let request = Request::get(
        "Example.com",
        "/media/index.mpd?ID=42&NoValue&querymv=val1&querymv=val2,val3&sp=a%20b",
    )
    .header("User-Agent", "curl/8")
    .header("Accept", "application/json")
    .header("ACCEPT", "text/html")
    .header("Cookie", "Cookie1=value1; cookiemv=value3")
    .header("Cookie", "cookiemv=value4");
    assert_eq!(
        request.viewer_request_event(),
        json!({
            "version": "1.0",
            "context": { "eventType": "viewer-request" },
            "viewer": { "ip": "192.0.2.1" },
            "request": {
                "method": "GET",
                "uri": "/media/index.mpd",
                "querystring": {
                    "ID": { "value": "42" },
                    "NoValue": { "value": "" },
                    "querymv": {
                        "value": "val1",
                        "multiValue": [{ "value": "val1" }, { "value": "val2,val3" }]
                    },
                    "sp": { "value": "a%20b" }
                },
                "headers": {
                    "host": { "value": "Example.com" },
                    "user-agent": { "value": "curl/8" },
                    "accept": {
                        "value": "application/json",
                        "multiValue": [{ "value": "application/json" }, { "value": "text/html" }]
                    }
                },
                "cookies": {
                    "Cookie1": { "value": "value1" },
                    "cookiemv": {
                        "value": "value3",
                        "multiValue": [{ "value": "value3" }, { "value": "value4" }]
                    }
                }
            }
        })
    );
}

#[test]
fn a_request_without_a_query_has_an_empty_querystring() {
    let request = Request::get("example.com", "/a?");
    assert_eq!(request.uri, "/a");
    assert!(request.querystring.is_empty());
    assert_eq!(request.to_json()["querystring"], json!({}));
    assert_eq!(request.to_json()["cookies"], json!({}));
    // Empty parts are not parameters; `=` in a value stays in it.
    let q = Fields::from_query("&a=1=2&&b=");
    assert_eq!(q.values("a"), ["1=2"]);
    assert_eq!(q.get("b"), Some(""));
    assert_eq!(q.iter().count(), 2);
}

#[test]
fn a_returned_multi_value_wins_over_its_value() {
    let request = Request::get("example.com", "/");
    let returned = json!({
        "uri": "/index.html",
        "querystring": { "a": { "value": "x", "multiValue": [{ "value": "1" }, { "value": "2" }] } },
        "headers": { "host": { "value": "example.com" }, "x-added": { "value": "yes" } },
    });
    let Outcome::Forward(forwarded) = Outcome::returned(&request, &returned).unwrap() else {
        panic!("not forwarded");
    };
    assert_eq!(forwarded.uri, "/index.html");
    assert_eq!(forwarded.method, "GET");
    assert_eq!(forwarded.querystring.values("a"), ["1", "2"]);
    assert_eq!(forwarded.headers.get("x-added"), Some("yes"));
    assert!(forwarded.cookies.is_empty());
}

#[test]
fn only_a_changed_uri_must_start_with_a_slash() {
    // CloudFront only checks a uri the function changed; one it was sent goes back as it was.
    let mut request = Request::new("GET", "/");
    "evil.com".clone_into(&mut request.uri);
    let same = Outcome::returned(&request, &json!({ "uri": "evil.com" })).unwrap();
    assert_eq!(same, Outcome::Forward(request.clone()));
    assert!(Outcome::returned(&request, &json!({ "uri": "other.com" })).is_err());
}

#[test]
fn a_status_code_makes_a_response_and_bad_shapes_are_errors() {
    let request = Request::get("example.com", "/");
    let returned = json!({
        "statusCode": 302,
        "statusDescription": "Found",
        "headers": { "location": { "value": "/new" } },
    });
    let Outcome::Respond(response) = Outcome::returned(&request, &returned).unwrap() else {
        panic!("not a response");
    };
    assert_eq!(response.status, 302);
    assert_eq!(response.headers.get("location"), Some("/new"));
    assert_eq!(Outcome::Respond(response).to_json(), returned);
    for bad in [
        json!(null),
        json!("/x"),
        json!({ "statusCode": "302" }),
        json!({ "statusCode": 42 }),
        json!({ "uri": "x" }),
        json!({ "headers": {} }),
        json!({ "uri": "/", "headers": { "host": "example.com" } }),
    ] {
        assert!(Outcome::returned(&request, &bad).is_err(), "{bad}");
    }
}
