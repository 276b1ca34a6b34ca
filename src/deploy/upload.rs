//! Stage 6, upload: bounded concurrency, `x-amz-checksum-sha256` on every request (S3 rejects a
//! corrupted body), multipart for large files, and deletes in batches.
//!
//! CPU: the diff's SHA-256 is both the `x-amz-checksum-sha256` (so the SDK adds no checksum of its
//! own) and, for a body read whole, `SigV4`'s payload hash ([`crate::aws::SignedPayload`]): a file up
//! to [`READ_WHOLE`] costs one read here and no hashing; a larger one streams from disk in
//! [`STREAM_BUFFER`] reads with an unsigned payload; each part of a multipart upload carries the
//! digest the hash pass took of it, as its checksum and its signature. So a file is read twice
//! (hash, upload) and hashed once. Memory: at most `concurrency` uploads in flight, and the bodies
//! they hold (a file read whole, a stream's buffers, one part) together within [`BODY_BUDGET`], so
//! the peak does not grow with the concurrency or with how many large files a site has.

use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier,
};

use super::diff::Local;
use crate::error::{AwsResultExt as _, Error, Result};

/// Files above this size are uploaded in parts.
pub const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
pub const PART_SIZE: u64 = 8 * 1024 * 1024;
/// Files up to this size are read whole, in one blocking read, for their `PutObject`.
pub const READ_WHOLE: u64 = 1024 * 1024;
/// The read size of a streamed body (the SDK's default is 4 KiB: a thread hand-off per 4 KiB).
const STREAM_BUFFER: usize = 256 * 1024;
/// What the bodies of the uploads in flight may hold together: two parts.
pub const BODY_BUDGET: u64 = 2 * PART_SIZE;
#[allow(clippy::cast_possible_truncation)] // 16,384
const BUDGET_KIB: usize = (BODY_BUDGET / 1024) as usize;

/// The body memory an upload of `size` bytes holds while it is in flight, in KiB (the budget's
/// unit): the file read whole, a streamed body's buffers, or one part.
fn held_kib(size: u64) -> u32 {
    let bytes = if size > MULTIPART_THRESHOLD {
        PART_SIZE
    } else if size <= READ_WHOLE {
        size
    } else {
        2 * STREAM_BUFFER as u64
    };
    u32::try_from(bytes.div_ceil(1024).max(1)).unwrap_or(u32::MAX)
}

#[derive(Debug, Clone)]
pub struct Uploaded {
    pub key: String,
    pub etag: String,
    pub version_id: Option<String>,
}

/// Uploads `files` with at most `concurrency` requests in flight; `done` is called per file.
pub async fn upload_all(
    s3: &Client,
    bucket: &str,
    files: Vec<Local>,
    concurrency: usize,
    done: Arc<dyn Fn(&Local) + Send + Sync>,
) -> Result<Vec<Uploaded>> {
    // At most `concurrency` tasks exist at once (not one per file, each holding its state), and a
    // task starts only when its body fits in what the others leave of the budget.
    let concurrency = concurrency.max(1);
    let budget = Arc::new(tokio::sync::Semaphore::new(BUDGET_KIB));
    let mut tasks = tokio::task::JoinSet::new();
    let mut out = Vec::with_capacity(files.len());
    let mut files = files.into_iter();
    loop {
        while tasks.len() < concurrency {
            let Some(file) = files.next() else { break };
            let (s3, bucket, done) = (s3.clone(), bucket.to_owned(), done.clone());
            let permit = budget
                .clone()
                .acquire_many_owned(held_kib(file.size))
                .await
                .expect("the budget is never closed");
            tasks.spawn(async move {
                let uploaded = upload(&s3, &bucket, &file).await?;
                drop(permit);
                done(&file);
                Ok::<_, Error>(uploaded)
            });
        }
        let Some(result) = tasks.join_next().await else {
            return Ok(out);
        };
        match result.map_err(|e| anyhow::anyhow!("upload task failed: {e}"))? {
            Ok(u) => out.push(u),
            Err(e) => {
                tasks.abort_all();
                return Err(e);
            }
        }
    }
}

async fn upload(s3: &Client, bucket: &str, file: &Local) -> Result<Uploaded> {
    if file.size > MULTIPART_THRESHOLD {
        return upload_multipart(s3, bucket, file).await;
    }
    let resource = format!("object `{}`", crate::output::escape(&file.key));
    let unreadable = |e: &dyn std::fmt::Display| {
        Error::Other(anyhow::anyhow!(
            "cannot read `{}`: {e}",
            file.path.display()
        ))
    };
    let whole = file.size <= READ_WHOLE;
    let body = if whole {
        let path = file.path.clone();
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|e| unreadable(&e))?
            .map_err(|e| unreadable(&e))?;
        ByteStream::from(bytes)
    } else {
        ByteStream::read_from()
            .path(&file.path)
            .buffer_size(STREAM_BUFFER)
            .build()
            .await
            .map_err(|e| unreadable(&e))?
    };
    let request = s3
        .put_object()
        .bucket(bucket)
        .key(&file.key)
        .content_type(&*file.content_type)
        .cache_control(&*file.cache_control)
        .set_metadata(Some(with_csp(file)))
        .checksum_sha256(file.sha256.base64())
        .body(body);
    let sent = if whole {
        request
            .customize()
            .interceptor(crate::aws::SignedPayload(file.sha256.hex()))
            .send()
            .await
    } else {
        request.send().await
    };
    let out = sent.op("PutObject", &resource)?;
    Ok(Uploaded {
        key: file.key.clone(),
        etag: out.e_tag.unwrap_or_default(),
        version_id: out.version_id,
    })
}

/// The object's user metadata ([`super::headers::metadata`]); within S3's 2 KB by construction
/// (`csp::METADATA_ROOM`).
fn with_csp(file: &Local) -> std::collections::HashMap<String, String> {
    super::headers::metadata(&file.sha256.hex(), file.csp.as_deref())
        .into_iter()
        .collect()
}

async fn upload_multipart(s3: &Client, bucket: &str, file: &Local) -> Result<Uploaded> {
    let resource = format!("object `{}`", crate::output::escape(&file.key));
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(&file.key)
        .content_type(&*file.content_type)
        .cache_control(&*file.cache_control)
        .set_metadata(Some(with_csp(file)))
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .op("CreateMultipartUpload", &resource)?;
    let upload_id = created
        .upload_id
        .ok_or_else(|| anyhow::anyhow!("CreateMultipartUpload answered without an upload id"))?;
    match upload_parts(s3, bucket, file, &upload_id).await {
        Ok(parts) => {
            let out = s3
                .complete_multipart_upload()
                .bucket(bucket)
                .key(&file.key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .op("CompleteMultipartUpload", &resource)?;
            Ok(Uploaded {
                key: file.key.clone(),
                etag: out.e_tag.unwrap_or_default(),
                version_id: out.version_id,
            })
        }
        Err(e) => {
            // Best effort: the bucket's lifecycle rule also aborts stale uploads after 7 days.
            let _ = s3
                .abort_multipart_upload()
                .bucket(bucket)
                .key(&file.key)
                .upload_id(&upload_id)
                .send()
                .await;
            Err(e)
        }
    }
}

/// Parts are read one at a time (bounded memory), each in one blocking read. Each carries the
/// SHA-256 the hash pass took of it (see `hash::FileDigest::parts`) as its checksum and payload
/// signature, so nothing is hashed here and S3 refuses a part whose bytes changed since.
async fn upload_parts(
    s3: &Client,
    bucket: &str,
    file: &Local,
    upload_id: &str,
) -> Result<Vec<CompletedPart>> {
    let resource = format!("object `{}`", crate::output::escape(&file.key));
    let changed = || {
        Error::usage(format!(
            "`{}` changed while it was being uploaded; run the deploy again",
            file.path.display()
        ))
    };
    let count = file.size.div_ceil(PART_SIZE);
    if file.parts.len() as u64 != count {
        return Err(Error::Other(anyhow::anyhow!(
            "no part digests for `{}`",
            file.path.display()
        )));
    }
    let mut parts = Vec::new();
    for (number, digest) in (1..).zip(&file.parts) {
        let offset = u64::try_from(number - 1).unwrap_or(0) * PART_SIZE;
        let length = PART_SIZE.min(file.size - offset);
        let path = file.path.clone();
        let buffer = tokio::task::spawn_blocking(move || read_part(&path, offset, length))
            .await
            .map_err(|e| anyhow::anyhow!("reading `{}`: {e}", file.path.display()))?
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", file.path.display()))?
            .ok_or_else(changed)?;
        let checksum = digest.base64();
        let out = s3
            .upload_part()
            .bucket(bucket)
            .key(&file.key)
            .upload_id(upload_id)
            .part_number(number)
            .checksum_sha256(&checksum)
            .body(ByteStream::from(buffer))
            .customize()
            .interceptor(crate::aws::SignedPayload(digest.hex()))
            .send()
            .await
            .op("UploadPart", &resource)?;
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag)
                .checksum_sha256(checksum)
                .build(),
        );
    }
    Ok(parts)
}

/// `length` bytes at `offset`; `None` when the file is shorter now (it changed since it was hashed).
fn read_part(path: &std::path::Path, offset: u64, length: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::{Read as _, Seek as _};
    let mut file = std::fs::File::open(path)?;
    file.seek(std::io::SeekFrom::Start(offset))?;
    let mut buffer = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
    file.take(length).read_to_end(&mut buffer)?;
    Ok((buffer.len() as u64 == length).then_some(buffer))
}

/// Deletes keys (versioning keeps every deleted version recoverable), 1000 per request.
pub async fn delete_all(s3: &Client, bucket: &str, keys: &[String]) -> Result<()> {
    for chunk in keys.chunks(1000) {
        let objects = chunk
            .iter()
            .map(|k| ObjectIdentifier::builder().key(k).build())
            .collect::<Result<Vec<_>, _>>()?;
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(objects))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .op("DeleteObjects", &format!("bucket `{bucket}`"))?;
        if let Some(e) = out.errors.unwrap_or_default().into_iter().next() {
            return Err(anyhow::anyhow!(
                "cannot delete `{}`: {} {}",
                e.key.unwrap_or_default(),
                e.code.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_upload_fits_in_the_body_budget_on_its_own() {
        // One that did not would wait for the budget forever.
        for size in [
            0,
            1,
            READ_WHOLE,
            READ_WHOLE + 1,
            MULTIPART_THRESHOLD,
            MULTIPART_THRESHOLD + 1,
            BODY_BUDGET * 4,
            super::super::walk::MAX_FILE_SIZE,
        ] {
            let held = held_kib(size) as usize;
            assert!(
                (1..=BUDGET_KIB).contains(&held),
                "{size} bytes hold {held} KiB"
            );
        }
        assert_eq!(held_kib(READ_WHOLE) as usize * 1024, 1024 * 1024);
        assert_eq!(
            held_kib(MULTIPART_THRESHOLD + 1) as usize * 1024,
            8 * 1024 * 1024
        );
    }
}
