//! ARCHITECTURE.md's "Sync protocol (v3)" is what a peer in another language is written from
//! (tests/peer/ is one): its worked examples and the order of `FailureCode` must be what the Rust
//! structs put on the wire, byte for byte.

use danvan::sync::{DocFailure, DocMessage, FailureCode, FeedDoc, PROTOCOL, SyncRequest, SyncResponse, decode, encode};

const REQUEST_HEX: &str = "03 00 ac 02 01 80 80 04 00 01 02 6d 31 0a 42 00 00 01 00 00 00 02 02 84 00";

fn response_hex() -> String {
    format!("03 02 73 31 ad 02 07 00 00 00 00 01 02 6d 32 04 85 6f 4a 83 01 01\n{}\n01 02 6d 31 04 06 4b 68 c3 b4 6e 67", ["ab"; 32].join(" "))
}

fn bytes(hex: &str) -> Vec<u8> {
    hex.split_whitespace().map(|b| u8::from_str_radix(b, 16).expect("hex byte")).collect()
}

fn documented() -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn flat(hex: &str) -> String {
    hex.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_documented_request_is_what_the_rust_structs_encode() {
    assert!(documented().contains(REQUEST_HEX), "ARCHITECTURE.md shows the request example");
    let req: SyncRequest = decode(&bytes(REQUEST_HEX)).expect("the example decodes");
    let message = bytes("42 00 00 01 00 00 00 02 02 84");
    let expected = SyncRequest {
        protocol: PROTOCOL,
        server: None,
        cursor: 300,
        feed_budget: Some(65536),
        scope: 0,
        docs: vec![DocMessage { id: "m1".into(), message: message.clone(), document: None }],
    };
    assert_eq!(req, expected);
    assert_eq!(encode(&expected), bytes(REQUEST_HEX));
    // The message is a real automerge sync message (what automerge JS generates for an empty
    // document), and the Rust automerge reads it.
    automerge::sync::Message::decode(&message).expect("an automerge sync message");
}

#[test]
fn the_documented_response_is_what_the_rust_structs_encode() {
    assert!(documented().contains(&flat(&response_hex())), "ARCHITECTURE.md shows the response example");
    let response = SyncResponse {
        protocol: PROTOCOL,
        server: "s1".into(),
        cursor: 301,
        scope: 7,
        more: false,
        remaining: 0,
        rewound: false,
        docs: Vec::new(),
        feed: vec![FeedDoc { id: "m2".into(), data: vec![0x85, 0x6f, 0x4a, 0x83], complete: true, heads: vec![[0xab; 32]] }],
        errors: vec![DocFailure { id: "m1".into(), code: FailureCode::Forbidden, message: "Không".into() }],
    };
    assert_eq!(encode(&response), bytes(&response_hex()));
    assert_eq!(decode::<SyncResponse>(&bytes(&response_hex())).unwrap(), response);
}

#[test]
fn failure_codes_are_their_documented_variant_indexes() {
    let documented = documented();
    let codes = [FailureCode::Malformed, FailureCode::TooLarge, FailureCode::Corrupt, FailureCode::Unavailable, FailureCode::Forbidden];
    let mut listed = Vec::new();
    for (index, code) in codes.into_iter().enumerate() {
        let failure = DocFailure { id: String::new(), code, message: String::new() };
        // id "" (one byte: length 0), then the code's varint, then message "".
        assert_eq!(encode(&failure), vec![0, index as u8, 0], "{code:?}");
        let name = serde_json::to_value(code).unwrap().as_str().unwrap().to_string();
        listed.push(format!("{index} {name}"));
    }
    let line = format!("// a varint: {}", listed.join(", "));
    assert!(documented.contains(&line), "ARCHITECTURE.md lists the codes in order: {line}");
}
