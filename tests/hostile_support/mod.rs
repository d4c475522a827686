//! A raw HTTP/1.1 server on loopback that can lie: redirect anywhere, hang, promise more
//! bytes than it sends; and the answers a well-behaved service of each provider gives.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use banana_studio::recipe::ProviderId;
use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::png;

/// What the server does with one request.
pub enum Reply {
    /// These bytes, then close.
    Raw(Vec<u8>),
    /// Read the request and never answer.
    Hang,
}

pub type Respond = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

/// A raw HTTP/1.1 server: every request's head is kept; each answer closes the connection.
pub struct Hostile {
    addr: SocketAddr,
    /// Every request's head, in the order they came.
    pub heads: Arc<Mutex<Vec<String>>>,
}

impl Hostile {
    /// Listens on `ip` (any loopback address) and answers with `respond`.
    pub async fn start(ip: &str, respond: Respond) -> Self {
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let respond = respond.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let Some(head) = read_request(&mut stream).await else {
                        return;
                    };
                    seen.lock().unwrap().push(head.clone());
                    let mut first = head.lines().next().unwrap_or("").split(' ');
                    let method = first.next().unwrap_or("").to_owned();
                    let path = first.next().unwrap_or("").to_owned();
                    match respond(&method, &path) {
                        Reply::Raw(bytes) => {
                            let _ = stream.write_all(&bytes).await;
                            let _ = stream.shutdown().await;
                        }
                        Reply::Hang => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                    }
                });
            }
        });
        Self { addr, heads }
    }

    /// Its address as a base URL.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.heads.lock().unwrap().len()
    }

    /// Whether any request carried `key`.
    pub fn saw(&self, key: &str) -> bool {
        self.heads.lock().unwrap().iter().any(|h| h.contains(key))
    }
}

/// Reads a request head and its body (by Content-Length); the head as text.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(head)
}

/// A whole HTTP/1.1 answer that closes the connection.
pub fn http(status: u16, extra: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A JSON answer.
pub fn json(status: u16, body: &str) -> Reply {
    Reply::Raw(http(status, "", "application/json", body.as_bytes()))
}

/// A server on 127.0.0.2 that records what reaches it, and one on 127.0.0.1 that
/// answers every request with a 307 to the same path there: (home, other).
pub async fn redirect_away() -> (Hostile, Hostile) {
    let other = Hostile::start("127.0.0.2", Arc::new(|_, _| json(200, "{}"))).await;
    let target = other.base();
    let home = Hostile::start(
        "127.0.0.1",
        Arc::new(move |_, path| {
            let location = format!("location: {target}{path}\r\n");
            Reply::Raw(http(307, &location, "text/plain", b""))
        }),
    )
    .await;
    (home, other)
}

/// The answers a well-behaved service of each kind gives, by method and path, with
/// result URLs on `base`.
pub fn good_answer(id: ProviderId, base: &str, method: &str, path: &str) -> (u16, String, Vec<u8>) {
    answer_with_image(id, base, method, path, &png(8, 6))
}

/// [`good_answer`] with these bytes as the result image.
pub fn answer_with_image(
    id: ProviderId,
    base: &str,
    method: &str,
    path: &str,
    image: &[u8],
) -> (u16, String, Vec<u8>) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(image);
    if path.ends_with("/img.png") {
        return (200, "image/png".into(), image.to_vec());
    }
    let body = match id {
        ProviderId::Gemini => format!(
            r#"{{"candidates":[{{"content":{{"role":"model","parts":[{{"text":"Here","thoughtSignature":"c2ln"}},{{"inlineData":{{"mimeType":"image/png","data":"{b64}"}}}}]}},"finishReason":"STOP"}}],"usageMetadata":{{"promptTokenCount":3}}}}"#
        ),
        ProviderId::Fal if method == "POST" => format!(
            r#"{{"status":"IN_QUEUE","request_id":"r1","status_url":"{base}/fal-ai/nano-banana/requests/r1/status","response_url":"{base}/fal-ai/nano-banana/requests/r1","cancel_url":"{base}/fal-ai/nano-banana/requests/r1/cancel","queue_position":0}}"#
        ),
        ProviderId::Fal if path.contains("/status") => {
            r#"{"status":"COMPLETED","logs":[{"message":"done"}]}"#.to_owned()
        }
        ProviderId::Fal => format!(r#"{{"images":[{{"url":"{base}/img.png"}}],"description":"x"}}"#),
        ProviderId::Eachlabs if method == "POST" => {
            r#"{"status":"success","message":"Prediction created successfully","predictionID":"p1"}"#
                .to_owned()
        }
        ProviderId::Eachlabs => format!(
            r#"{{"id":"p1","status":"success","output":"{base}/img.png","metrics":{{"cost":0.04}}}}"#
        ),
        ProviderId::Oxen => format!(r#"{{"model":"nano-banana","created":1,"images":[{{"b64_json":"{b64}"}}]}}"#),
        ProviderId::Vydra if path.contains("organization") => {
            r#"{"creditsRemaining":90}"#.to_owned()
        }
        ProviderId::Vydra => format!(
            r#"{{"imageUrl":"{base}/img.png","mimeType":"image/png","mode":"generate","creditsCharged":8}}"#
        ),
    };
    (200, "application/json".into(), body.into_bytes())
}

/// A PNG whole by its structure (every chunk's CRC right, a zlib header) whose
/// compressed pixels are garbage: what only inflating finds.
pub fn inflate_damaged_png() -> Vec<u8> {
    let mut damaged = png(64, 48);
    let idat = damaged.windows(4).position(|w| w == b"IDAT").unwrap();
    let len = u32::from_be_bytes(damaged[idat - 4..idat].try_into().unwrap()) as usize;
    // After the two-byte zlib header: a block of the reserved type, then noise.
    damaged[idat + 6..idat + 4 + len].fill(0xff);
    let crc = crc32fast::hash(&damaged[idat..idat + 4 + len]);
    damaged[idat + 4 + len..idat + 8 + len].copy_from_slice(&crc.to_be_bytes());
    damaged
}

/// A PNG whose header claims 60000 x 60000 pixels.
pub fn bomb_png() -> Vec<u8> {
    let mut bomb = png(8, 8);
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    bomb
}
