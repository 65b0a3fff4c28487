//! Watchtrail storage core (being built): WAL, segments, object storage, catalog.
