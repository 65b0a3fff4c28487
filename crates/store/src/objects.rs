//! [`BlobStore`]: the one door to object storage. All segment I/O goes through it.

use crate::error::{Result, StoreError};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::path::Path;
use std::sync::Arc;

/// A thin wrapper around an [`ObjectStore`] with string paths (`segments/a/b.seg`).
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
}

fn object_path(path: &str) -> Result<ObjectPath> {
    let p = ObjectPath::parse(path)
        .map_err(|e| StoreError::InvalidArgument(format!("invalid object path {path:?}: {e}")))?;
    if p.as_ref().is_empty() {
        return Err(StoreError::InvalidArgument("empty object path".into()));
    }
    Ok(p)
}

impl BlobStore {
    /// Objects as files under `root` (created if missing). Puts are durable: the local store
    /// writes a temporary file, fsyncs it, renames it into place and fsyncs the directory.
    pub fn local(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root)?;
        let fs = LocalFileSystem::new_with_prefix(root)?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        Ok(BlobStore {
            inner: Arc::new(fs),
        })
    }

    /// Objects in process memory; for tests.
    pub fn in_memory() -> Self {
        BlobStore {
            inner: Arc::new(InMemory::new()),
        }
    }

    /// Wraps any object store (S3, GCS, ...).
    pub fn from_object_store(inner: Arc<dyn ObjectStore>) -> Self {
        BlobStore { inner }
    }

    /// The wrapped store.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    /// Stores `data` at `path`, replacing any existing object; durable once it returns.
    pub async fn put(&self, path: &str, data: Bytes) -> Result<()> {
        let p = object_path(path)?;
        self.inner.put(&p, PutPayload::from(data)).await?;
        Ok(())
    }

    /// The whole object at `path`.
    pub async fn get(&self, path: &str) -> Result<Bytes> {
        let p = object_path(path)?;
        Ok(self.inner.get(&p).await?.bytes().await?)
    }

    /// Deletes the object at `path`; deleting a missing object is not an error.
    pub async fn delete(&self, path: &str) -> Result<()> {
        let p = object_path(path)?;
        match self.inner.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Paths of every object under `prefix` (a directory-like prefix; empty for all), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let p = if prefix.trim_matches('/').is_empty() {
            None
        } else {
            Some(object_path(prefix)?)
        };
        let mut out: Vec<String> = self
            .inner
            .list(p.as_ref())
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?;
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exercise(store: BlobStore) {
        store
            .put("segments/a/1.seg", Bytes::from_static(b"one"))
            .await
            .unwrap();
        store
            .put("segments/b/2.seg", Bytes::from_static(b"two"))
            .await
            .unwrap();
        store
            .put("other/x", Bytes::from_static(b"x"))
            .await
            .unwrap();
        assert_eq!(
            store.get("segments/a/1.seg").await.unwrap(),
            Bytes::from_static(b"one")
        );
        assert_eq!(
            store.list("segments").await.unwrap(),
            vec!["segments/a/1.seg", "segments/b/2.seg"]
        );
        assert_eq!(store.list("").await.unwrap().len(), 3);
        store.delete("segments/a/1.seg").await.unwrap();
        store.delete("segments/a/1.seg").await.unwrap();
        assert!(matches!(
            store.get("segments/a/1.seg").await,
            Err(StoreError::ObjectStore(_))
        ));
        assert_eq!(
            store.list("segments").await.unwrap(),
            vec!["segments/b/2.seg"]
        );
        assert!(matches!(
            store.put("", Bytes::new()).await,
            Err(StoreError::InvalidArgument(_))
        ));
    }

    #[tokio::test]
    async fn in_memory_round_trip() {
        exercise(BlobStore::in_memory()).await;
    }

    #[tokio::test]
    async fn local_round_trip_writes_real_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blobs");
        exercise(BlobStore::local(&root).unwrap()).await;
        assert_eq!(
            std::fs::read(root.join("segments/b/2.seg")).unwrap(),
            b"two"
        );
    }
}
