//! The MLLP listener: TCP (optionally TLS), one task per connection, one message at a time per
//! connection, each answered before the next is read, as MLLP senders expect.

use std::sync::Arc;
use std::time::Duration;

use samverka_domain::hl7::mllp;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use samverka_app::feed::Feed;

/// A connection that sends nothing for this long is closed (senders reconnect when needed).
const IDLE: Duration = Duration::from_secs(15 * 60);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    feed: Arc<Feed>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "MLLP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (feed, acceptor) = (feed.clone(), acceptor.clone());
        tokio::spawn(async move {
            let peer = addr.to_string();
            tracing::info!(%peer, "MLLP connection");
            let result = match acceptor {
                Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => connection(tls, &feed, &peer).await,
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake timed out")),
                },
                None => connection(stream, &feed, &peer).await,
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "MLLP connection ended");
            }
        });
    }
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(mut io: S, feed: &Feed, peer: &str) -> std::io::Result<()> {
    let mut framer = mllp::Framer::new(feed.settings().max_message_bytes);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        while let Some(frame) = framer.next_frame() {
            let answer = match frame {
                mllp::Frame::Message(bytes) => feed.receive(&bytes, Some(peer)).await,
                mllp::Frame::TooLarge => {
                    let answer = feed.too_large();
                    io.write_all(&mllp::frame(&answer)).await?;
                    return Ok(());
                }
            };
            io.write_all(&mllp::frame(&answer)).await?;
            io.flush().await?;
        }
        let n = match tokio::time::timeout(IDLE, io.read(&mut buf)).await {
            Ok(r) => r?,
            Err(_) => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        framer.push(&buf[..n]);
    }
}
