//! Frames: `u32 big-endian length || payload`, and the postcard payload of a message.

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::{ConnectionError, SendError};

/// Bytes of the length prefix.
pub const FRAME_PREFIX_BYTES: usize = 4;

/// Encodes one message as a frame payload, refusing it if over `frame_bytes_max`.
pub fn encode<M: Serialize>(msg: &M, frame_bytes_max: usize) -> Result<Vec<u8>, SendError> {
    let payload = postcard::to_allocvec(msg).map_err(|e| SendError::Encode(e.to_string()))?;
    if payload.len() > frame_bytes_max {
        return Err(SendError::TooLarge { bytes: payload.len(), max: frame_bytes_max });
    }
    Ok(payload)
}

/// Decodes one frame payload as exactly one message: trailing bytes are an error,
/// so a payload has one meaning only.
pub fn decode<M: DeserializeOwned>(payload: &[u8]) -> Result<M, ConnectionError> {
    let (msg, rest) = postcard::take_from_bytes::<M>(payload).map_err(ConnectionError::Decode)?;
    if !rest.is_empty() {
        return Err(ConnectionError::TrailingBytes { bytes: rest.len() });
    }
    Ok(msg)
}

/// Writes one frame (into a buffered writer; the caller flushes).
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, payload: &[u8]) -> Result<(), ConnectionError> {
    let length = u32::try_from(payload.len()).expect("payload length checked against frame_bytes_max <= u32::MAX");
    writer.write_all(&length.to_be_bytes()).await?;
    writer.write_all(payload).await?;
    Ok(())
}

/// Reads one length prefix. A clean end of stream before its first byte is
/// `Closed`; a length over `frame_bytes_max` is refused before anything is allocated.
pub async fn read_length<R: AsyncRead + Unpin>(reader: &mut R, frame_bytes_max: usize) -> Result<u32, ConnectionError> {
    let mut prefix = [0u8; FRAME_PREFIX_BYTES];
    let first = reader.read(&mut prefix).await?;
    if first == 0 {
        return Err(ConnectionError::Closed);
    }
    reader.read_exact(&mut prefix[first..]).await?;
    let length = u32::from_be_bytes(prefix);
    if length as usize > frame_bytes_max {
        return Err(ConnectionError::FrameTooLarge { bytes: length, max: frame_bytes_max });
    }
    Ok(length)
}

/// Reads one frame's payload, at most `frame_bytes_max` bytes.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    frame_bytes_max: usize,
) -> Result<Vec<u8>, ConnectionError> {
    let length = read_length(reader, frame_bytes_max).await?;
    let mut payload = vec![0u8; length as usize];
    reader.read_exact(&mut payload).await?;
    assert_eq!(payload.len(), length as usize);
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_end_cleanly() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        write_frame(&mut a, b"hello").await.unwrap();
        write_frame(&mut a, b"").await.unwrap();
        drop(a);
        assert_eq!(read_frame(&mut b, 16).await.unwrap(), b"hello");
        assert_eq!(read_frame(&mut b, 16).await.unwrap(), b"");
        assert!(matches!(read_frame(&mut b, 16).await, Err(ConnectionError::Closed)));
    }

    #[tokio::test]
    async fn wire_bytes_are_big_endian_length_then_payload() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        write_frame(&mut a, &[9, 8, 7]).await.unwrap();
        drop(a);
        let mut raw = Vec::new();
        b.read_to_end(&mut raw).await.unwrap();
        assert_eq!(raw, [0, 0, 0, 3, 9, 8, 7]);
    }

    #[tokio::test]
    async fn over_limit_length_is_refused_before_reading_the_payload() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&17u32.to_be_bytes()).await.unwrap();
        let err = read_frame(&mut b, 16).await.unwrap_err();
        assert!(matches!(err, ConnectionError::FrameTooLarge { bytes: 17, max: 16 }), "{err}");
    }

    #[tokio::test]
    async fn truncated_frame_is_an_io_error_not_a_clean_close() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&[0, 0, 0, 5, 1, 2]).await.unwrap();
        drop(a);
        assert!(matches!(read_frame(&mut b, 16).await, Err(ConnectionError::Io(_))));
        let (mut a, mut b) = tokio::io::duplex(1024);
        a.write_all(&[0, 0]).await.unwrap();
        drop(a);
        assert!(matches!(read_frame(&mut b, 16).await, Err(ConnectionError::Io(_))));
    }

    #[test]
    fn encode_refuses_over_limit_and_decode_refuses_trailing_bytes() {
        let payload = encode(&vec![1u8; 10], 64).unwrap();
        assert_eq!(decode::<Vec<u8>>(&payload).unwrap(), vec![1u8; 10]);
        assert_eq!(encode(&vec![1u8; 10], 10), Err(SendError::TooLarge { bytes: 11, max: 10 }));
        let mut long = payload.clone();
        long.push(0);
        assert!(matches!(decode::<Vec<u8>>(&long), Err(ConnectionError::TrailingBytes { bytes: 1 })));
        assert!(matches!(decode::<Vec<u8>>(&payload[..5]), Err(ConnectionError::Decode(_))));
    }
}
