//! HTTPS served directly with rustls: a certificate made by `openssl` for the test, a client
//! that trusts only that certificate, and a broken client that must not hold up others.

use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use samverka_app::{AppConfig, AppState, ManualClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn https_get(addr: std::net::SocketAddr, root: &CertificateDer<'static>, path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect(ServerName::try_from("127.0.0.1").unwrap().to_owned(), tcp).await.unwrap();
    tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    tls.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=samverka-test"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl (Debian package openssl) makes the test certificate");
    assert!(status.success());
    let store =
        samverka_store::Store::connect(dir.path().join("db").to_str().unwrap(), samverka_store::Agreements::built_in())
            .await
            .unwrap();
    store.migrate().await.unwrap();
    let state = AppState::new(
        store,
        Arc::new(ManualClock::new(jiff::Timestamp::now())),
        AppConfig { hsts: true, ..AppConfig::default() },
    );
    let config = samverka_app::tls::server_config(&cert, &key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(samverka_server::serve_tls(listener, config, state, std::future::pending()));

    // A client that speaks plain HTTP to the TLS port, and one that never finishes its
    // handshake, are turned away without stopping anyone else.
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let _stalled = tokio::net::TcpStream::connect(addr).await.unwrap();

    let root = CertificateDer::from_pem_file(&cert).unwrap();
    let res = https_get(addr, &root, "/api/health").await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(res.to_lowercase().contains("strict-transport-security: max-age="), "{res}");
    assert!(res.contains("\"status\":\"ok\""));

    // A mismatched key is refused with a message naming the files.
    let other = dir.path().join("other.pem");
    Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&other)
        .arg("2048")
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    let err = samverka_app::tls::server_config(&cert, &other).unwrap_err();
    assert!(err.contains("hör inte ihop"), "{err}");
}
