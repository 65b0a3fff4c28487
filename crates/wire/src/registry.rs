//! The operation registry: one typed definition per operation serves every protocol.
//!
//! A domain crate's `ops` module registers plain async functions from a typed input to a typed
//! output; the registry wraps them so the gateway can call them with a protocol-neutral
//! [`Value`].

use crate::context::RequestContext;
use crate::service::ServiceSpec;
use crate::value::{from_value, IntoValue, Value};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use watchtrail_core::{ApiError, AwsError};

/// Default ceiling on a request body as received (compressed or not).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;
/// Default ceiling on a request body after decompression.
pub const DEFAULT_MAX_DECODED_BYTES: usize = 32 * 1024 * 1024;

/// Summarizes an operation's input for the activity journal.
pub type Summarizer = fn(&Value) -> serde_json::Value;

/// Static facts about an operation.
#[derive(Clone, Copy, Debug)]
pub struct OperationInfo {
    /// Operation name (`PutMetricData`).
    pub name: &'static str,
    /// Whether it only reads state.
    pub read_only: bool,
    /// Whether the model has an output shape (Query responses then carry `<OpResult>`).
    pub has_output: bool,
    /// Largest request body accepted as received.
    pub max_request_bytes: usize,
    /// Largest request body accepted after gzip decompression.
    pub max_decoded_bytes: usize,
    /// Replaces the full parameters in the activity journal (for bulk data-plane inputs).
    pub summarize: Option<Summarizer>,
}

impl OperationInfo {
    /// An operation with default limits; `read_only` is derived from the name
    /// (`Get*`, `List*`, `Describe*`).
    pub const fn new(name: &'static str) -> Self {
        let b = name.as_bytes();
        let read_only = (b.len() > 3 && b[0] == b'G' && b[1] == b'e' && b[2] == b't')
            || (b.len() > 4 && b[0] == b'L' && b[1] == b'i' && b[2] == b's' && b[3] == b't')
            || (b.len() > 8 && b[0] == b'D' && b[1] == b'e' && b[2] == b's' && b[3] == b'c');
        OperationInfo {
            name,
            read_only,
            has_output: true,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_decoded_bytes: DEFAULT_MAX_DECODED_BYTES,
            summarize: None,
        }
    }

    /// Marks the operation as having no output shape.
    pub const fn no_output(mut self) -> Self {
        self.has_output = false;
        self
    }

    /// Sets the request-size ceilings.
    pub const fn max_bytes(mut self, request: usize, decoded: usize) -> Self {
        self.max_request_bytes = request;
        self.max_decoded_bytes = decoded;
        self
    }

    /// Sets the journal summarizer.
    pub const fn summarized(mut self, f: Summarizer) -> Self {
        self.summarize = Some(f);
        self
    }
}

/// The body of a request to a raw operation ([`Registry::register_raw`]), as received.
#[derive(Clone, Debug)]
pub struct RawRequest {
    /// The body, still in its content encoding.
    pub body: bytes::Bytes,
    /// The `Content-Encoding` header, lowercased.
    pub content_encoding: Option<String>,
    /// The URL's query string.
    pub url_query: Option<String>,
}

/// A registered operation, callable with a [`Value`].
pub trait Handler: Send + Sync {
    /// Runs the operation.
    fn call(&self, ctx: RequestContext, input: Value) -> BoxFuture<'static, Result<Value, ApiError>>;

    /// Runs a raw operation on the request body as received. Operations registered with a
    /// typed input refuse it.
    fn call_raw(&self, _ctx: RequestContext, _raw: RawRequest) -> BoxFuture<'static, Result<Value, ApiError>> {
        Box::pin(async { Err(ApiError::client("UnknownOperationException", "This operation does not take a raw body")) })
    }

    /// Decodes an awsJson body straight into the typed input, for operations registered with
    /// [`Registry::register_bulk`]. `None` means: take the `Value` path, which also produces the
    /// exact error for a body this strict decoder refuses (see `codec::json_typed`).
    fn prepare_json(&self, _body: &[u8]) -> Option<Box<dyn Prepared>> {
        None
    }
}

/// A typed input decoded by [`Handler::prepare_json`], ready to run.
pub trait Prepared: Send {
    /// What the activity journal records of the input.
    fn summary(&self) -> serde_json::Value;
    /// Runs the operation.
    fn run(self: Box<Self>, ctx: RequestContext) -> BoxFuture<'static, Result<Value, ApiError>>;
}

/// Summarizes a typed input for the activity journal.
pub type TypedSummarizer<I> = fn(&I) -> serde_json::Value;

struct Typed<F, I, O> {
    service: &'static ServiceSpec,
    f: Arc<F>,
    /// Set for bulk operations: enables [`Handler::prepare_json`].
    summarize: Option<TypedSummarizer<I>>,
    _marker: std::marker::PhantomData<fn(I) -> O>,
}

/// Runs `f` on a typed input and encodes its output.
fn run_typed<F, I, O, E, Fut>(f: &F, ctx: RequestContext, input: I) -> BoxFuture<'static, Result<Value, ApiError>>
where
    F: Fn(RequestContext, I) -> Fut,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    O: IntoValue + Send + 'static,
    E: AwsError + Send + 'static,
{
    let fut = f(ctx, input);
    Box::pin(async move {
        let out = fut.await.map_err(|e| e.to_api_error())?;
        out.into_value().map_err(|e| {
            tracing::error!(error = %e, "output encoding failed");
            ApiError::internal("InternalFailure")
        })
    })
}

struct PreparedTyped<F, I> {
    f: Arc<F>,
    input: I,
    summarize: TypedSummarizer<I>,
}

impl<F, I, O, E, Fut> Prepared for PreparedTyped<F, I>
where
    F: Fn(RequestContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    I: Send + 'static,
    O: IntoValue + Send + 'static,
    E: AwsError + Send + 'static,
{
    fn summary(&self) -> serde_json::Value {
        (self.summarize)(&self.input)
    }

    fn run(self: Box<Self>, ctx: RequestContext) -> BoxFuture<'static, Result<Value, ApiError>> {
        let PreparedTyped { f, input, .. } = *self;
        run_typed(f.as_ref(), ctx, input)
    }
}

impl<F, I, O, E, Fut> Handler for Typed<F, I, O>
where
    F: Fn(RequestContext, I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    I: DeserializeOwned + Send + 'static,
    O: IntoValue + Send + 'static,
    E: AwsError + Send + 'static,
{
    fn call(&self, ctx: RequestContext, input: Value) -> BoxFuture<'static, Result<Value, ApiError>> {
        let typed: I = match from_value(&input) {
            Ok(t) => t,
            Err(e) => {
                let err = self.service.input_error(&e.kind, e.message);
                return Box::pin(async move { Err(err) });
            }
        };
        run_typed(self.f.as_ref(), ctx, typed)
    }

    fn prepare_json(&self, body: &[u8]) -> Option<Box<dyn Prepared>> {
        let summarize = self.summarize?;
        let input: I = crate::codec::json_typed::from_slice(body)?;
        Some(Box::new(PreparedTyped { f: self.f.clone(), input, summarize }))
    }
}

/// A raw operation: the handler decodes the body itself (a non-AWS protocol).
struct Raw<F> {
    f: Arc<F>,
}

impl<F, E, Fut> Handler for Raw<F>
where
    F: Fn(RequestContext, RawRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: AwsError + Send + 'static,
{
    fn call(&self, _ctx: RequestContext, _input: Value) -> BoxFuture<'static, Result<Value, ApiError>> {
        Box::pin(async { Err(ApiError::client("UnknownOperationException", "This operation is not served over AWS protocols")) })
    }

    fn call_raw(&self, ctx: RequestContext, raw: RawRequest) -> BoxFuture<'static, Result<Value, ApiError>> {
        let fut = (self.f)(ctx, raw);
        Box::pin(async move {
            fut.await.map_err(|e| e.to_api_error())?;
            Ok(Value::Struct(Vec::new()))
        })
    }
}

/// A registered operation.
#[derive(Clone)]
pub struct Registered {
    /// The service it belongs to.
    pub service: &'static ServiceSpec,
    /// Static facts.
    pub info: OperationInfo,
    /// The handler.
    pub handler: Arc<dyn Handler>,
}

/// Every operation the gateway serves, by service and name.
#[derive(Default, Clone)]
pub struct Registry {
    services: Vec<&'static ServiceSpec>,
    ops: HashMap<&'static str, HashMap<&'static str, Registered>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a typed operation. Input decoding errors become the service's
    /// missing/invalid parameter errors; the handler's errors are rendered as given.
    pub fn register<I, O, E, F, Fut>(&mut self, service: &'static ServiceSpec, info: OperationInfo, f: F)
    where
        F: Fn(RequestContext, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
        I: DeserializeOwned + Send + 'static,
        O: IntoValue + Send + 'static,
        E: AwsError + Send + 'static,
    {
        self.insert(service, info, Typed { service, f: Arc::new(f), summarize: None, _marker: std::marker::PhantomData });
    }

    /// Registers a bulk data-plane operation: the journal keeps `summarize(input)` instead of
    /// the parameters, and awsJson bodies decode straight into `I` when they can
    /// ([`Handler::prepare_json`]), skipping the `Value` tree. `info.summarize` must give the
    /// same summary from the `Value` form, for the other protocols and the fallback.
    pub fn register_bulk<I, O, E, F, Fut>(&mut self, service: &'static ServiceSpec, info: OperationInfo, summarize: TypedSummarizer<I>, f: F)
    where
        F: Fn(RequestContext, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
        I: DeserializeOwned + Send + 'static,
        O: IntoValue + Send + 'static,
        E: AwsError + Send + 'static,
    {
        self.insert(service, info, Typed { service, f: Arc::new(f), summarize: Some(summarize), _marker: std::marker::PhantomData });
    }

    /// Registers a raw operation: it receives the body as sent (for a protocol the gateway does
    /// not decode, such as Prometheus remote write) and answers with no output.
    pub fn register_raw<E, F, Fut>(&mut self, service: &'static ServiceSpec, info: OperationInfo, f: F)
    where
        F: Fn(RequestContext, RawRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: AwsError + Send + 'static,
    {
        self.insert(service, info, Raw { f: Arc::new(f) });
    }

    fn insert(&mut self, service: &'static ServiceSpec, info: OperationInfo, handler: impl Handler + 'static) {
        if !self.services.iter().any(|s| std::ptr::eq(*s, service)) {
            self.services.push(service);
        }
        let handler: Arc<dyn Handler> = Arc::new(handler);
        self.ops.entry(service.signing_name).or_default().insert(info.name, Registered { service, info, handler });
    }

    /// Looks up an operation.
    pub fn get(&self, service: &ServiceSpec, name: &str) -> Option<&Registered> {
        self.ops.get(service.signing_name)?.get(name)
    }

    /// The services with at least one operation.
    pub fn services(&self) -> &[&'static ServiceSpec] {
        &self.services
    }

    /// Names of every registered operation of a service, sorted.
    pub fn operation_names(&self, service: &ServiceSpec) -> Vec<&'static str> {
        let mut v: Vec<_> = self.ops.get(service.signing_name).map(|m| m.keys().copied().collect()).unwrap_or_default();
        v.sort_unstable();
        v
    }
}
