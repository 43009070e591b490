//! The Python module `maskgate._core`: a thin layer over the engine.
//!
//! Every entry point releases the GIL while it works and turns panics into
//! `MaskgateError`, so nothing unwinds across the FFI boundary.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::{
    pseudonym, Catalogue, Engine, Error, Hit, Masked, Plan, Source, SseRewriter, StreamUnmasker,
    Unmasker,
};

create_exception!(
    _core,
    MaskgateError,
    PyException,
    "Base class of the engine's errors."
);
create_exception!(
    _core,
    CatalogueError,
    MaskgateError,
    "A catalogue file or entry is invalid."
);
create_exception!(
    _core,
    BodyError,
    MaskgateError,
    "A body is not valid JSON, or not a Messages request."
);

fn to_py(e: &Error) -> PyErr {
    match e {
        Error::Catalogue { .. } => CatalogueError::new_err(e.to_string()),
        Error::Body { .. } => BodyError::new_err(e.to_string()),
    }
}

/// Runs `f` without the GIL, converting panics and engine errors.
fn guarded<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Error> + Send) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(&e)),
        Err(_) => Err(MaskgateError::new_err(
            "internal error in the masking engine",
        )),
    }
}

/// One identifier found (and, after masking, replaced).
#[pyclass(frozen, get_all, module = "maskgate._core")]
#[derive(Clone)]
struct Finding {
    kind: String,
    start: usize,
    end: usize,
    original: String,
    pseudonym: Option<String>,
}

#[pymethods]
impl Finding {
    fn __repr__(&self) -> String {
        // Never the original: reprs end up in logs.
        let p = self
            .pseudonym
            .as_deref()
            .map_or_else(|| "None".to_owned(), |p| format!("'{p}'"));
        format!(
            "Finding(kind='{}', start={}, end={}, pseudonym={p})",
            self.kind, self.start, self.end
        )
    }
}

/// Converts ascending byte offsets of `text` to character offsets.
struct CharOffsets<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl CharOffsets<'_> {
    fn at(&mut self, byte: usize) -> usize {
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars
    }
}

fn findings(
    hits: impl Iterator<Item = (Hit, Option<Arc<str>>)>,
    text: Option<&str>,
) -> Vec<Finding> {
    let mut offsets = text.map(|t| CharOffsets {
        text: t,
        byte: 0,
        chars: 0,
    });
    hits.map(|(h, p)| {
        let (start, end) = match &mut offsets {
            Some(o) => (o.at(h.start), o.at(h.end)),
            None => (h.start, h.end),
        };
        Finding {
            kind: h.kind.to_string(),
            start,
            end,
            original: h.original.to_string(),
            pseudonym: p.map(|p| p.to_string()),
        }
    })
    .collect()
}

enum Input {
    Text(String),
    Body(Vec<u8>, Vec<String>),
}

/// What to mask in one input; pass it to `Core.apply` once its originals are mapped.
#[pyclass(frozen, name = "Plan", module = "maskgate._core")]
struct PlanObj {
    input: Input,
    plan: Plan,
}

fn pairs(v: Vec<(Arc<str>, Arc<str>)>) -> Vec<(String, String)> {
    v.into_iter()
        .map(|(k, o)| (k.to_string(), o.to_string()))
        .collect()
}

#[pymethods]
impl PlanObj {
    /// Distinct `(kind, original)` pairs of this plan with no pseudonym yet.
    fn missing(&self, core: &CoreObj, namespace: &str) -> Vec<(String, String)> {
        pairs(self.plan.missing(&core.engine, namespace))
    }

    /// `(kind, n)` of pseudonym-shaped literals in the input that are not issued: the store
    /// must never issue them.
    fn reserve(&self) -> Vec<(String, u64)> {
        self.plan
            .reserve
            .iter()
            .map(|(k, n)| (k.to_string(), *n))
            .collect()
    }

    fn __len__(&self) -> usize {
        self.plan.hits.len()
    }

    /// The request's top-level `model`, if it is a string.
    #[getter]
    fn model(&self) -> Option<String> {
        self.plan.model.clone()
    }

    /// The request's top-level `stream` (false unless `true`).
    #[getter]
    fn stream(&self) -> bool {
        self.plan.stream
    }

    /// How many distinct originals the plan holds.
    #[getter]
    fn distinct(&self) -> usize {
        self.plan.distinct()
    }

    /// Bytes of the longest string scanned (a text, or a request string that reaches the model).
    #[getter]
    fn longest(&self) -> usize {
        self.plan.longest
    }
}

/// The result of masking.
#[pyclass(frozen, name = "Masked", module = "maskgate._core")]
struct MaskedObj {
    is_text: bool,
    masked: Masked,
    findings: Vec<Finding>,
}

#[pymethods]
impl MaskedObj {
    /// The masked text (text inputs) or body decoded as UTF-8.
    #[getter]
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.masked.output).into_owned()
    }

    /// The masked bytes.
    #[getter]
    fn output<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.masked.output)
    }

    /// The extra texts the request was planned with, masked.
    #[getter]
    fn extras(&self) -> Vec<String> {
        self.masked.extras.clone()
    }

    #[getter]
    fn findings(&self) -> Vec<Finding> {
        self.findings.clone()
    }

    #[getter]
    fn is_text(&self) -> bool {
        self.is_text
    }

    /// Counts of identifiers by kind.
    fn counts(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for (h, _) in &self.masked.replaced {
            *m.entry(h.kind.to_string()).or_default() += 1;
        }
        m
    }

    /// An unmasker for the pseudonyms this masking issued.
    fn unmasker(&self) -> UnmaskerObj {
        UnmaskerObj {
            inner: Arc::new(self.masked.unmasker()),
        }
    }
}

/// The compiled catalogue and this process's map.
#[pyclass(frozen, name = "Core", module = "maskgate._core")]
struct CoreObj {
    engine: Engine,
    catalogue: Catalogue,
}

fn entry_dict<'py>(py: Python<'py>, e: &crate::Entry) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let v = &e.validate;
    d.set_item("name", &e.name)?;
    d.set_item("kind", &e.kind)?;
    d.set_item("regex", &e.regex)?;
    d.set_item("priority", e.priority)?;
    d.set_item("description", &e.description)?;
    d.set_item("group", &e.group)?;
    d.set_item("enabled", e.enabled)?;
    d.set_item("origin", &e.origin)?;
    d.set_item("context", &v.context)?;
    d.set_item("veto", &v.veto)?;
    d.set_item("window", v.window())?;
    d.set_item("min_entropy", v.min_entropy)?;
    d.set_item("reject", &v.reject)?;
    d.set_item("positive", &e.positive)?;
    d.set_item("negative", &e.negative)?;
    Ok(d)
}

#[pymethods]
impl CoreObj {
    #[new]
    #[pyo3(signature = (catalogues = Vec::new(), enable = Vec::new(), disable = Vec::new(), scan_cache = None))]
    fn new(
        py: Python<'_>,
        catalogues: Vec<(String, String)>,
        enable: Vec<String>,
        disable: Vec<String>,
        scan_cache: Option<usize>,
    ) -> PyResult<Self> {
        guarded(py, move || {
            let mut catalogue = Catalogue::builtin()?;
            for (origin, source) in &catalogues {
                catalogue.merge_str(source, origin, false)?;
            }
            for name in &enable {
                catalogue.set_enabled(name, true, "<settings>")?;
            }
            for name in &disable {
                catalogue.set_enabled(name, false, "<settings>")?;
            }
            let engine = match scan_cache {
                Some(limit) => Engine::with_scan_cache(&catalogue, limit)?,
                None => Engine::new(&catalogue)?,
            };
            Ok(CoreObj { engine, catalogue })
        })
    }

    /// Every entry, enabled or not, as dicts.
    fn catalogue<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.catalogue
            .entries()
            .iter()
            .map(|e| entry_dict(py, e))
            .collect()
    }

    /// A core holding only entry `name` (enabled): for checking one entry's examples.
    fn only(&self, py: Python<'_>, name: &str) -> PyResult<Self> {
        let cat = self
            .catalogue
            .only(name)
            .ok_or_else(|| MaskgateError::new_err(format!("no pattern named {name:?}")))?;
        guarded(py, move || {
            Ok(CoreObj {
                engine: Engine::new(&cat)?,
                catalogue: cat,
            })
        })
    }

    /// Findings in a text, nothing replaced (known originals of `namespace` included).
    #[pyo3(signature = (text, namespace = "default"))]
    fn scan(&self, py: Python<'_>, text: &str, namespace: &str) -> PyResult<Vec<Finding>> {
        let plan = guarded(py, || Ok(self.engine.plan_text(text, namespace)))?;
        Ok(findings(
            plan.hits.into_iter().map(|h| (h, None)),
            Some(text),
        ))
    }

    fn plan_text(&self, py: Python<'_>, text: String, namespace: &str) -> PyResult<PlanObj> {
        let plan = guarded(py, || Ok(self.engine.plan_text(&text, namespace)))?;
        Ok(PlanObj {
            input: Input::Text(text),
            plan,
        })
    }

    #[pyo3(signature = (body, namespace, extras = Vec::new()))]
    fn plan_request(
        &self,
        py: Python<'_>,
        body: Vec<u8>,
        namespace: &str,
        extras: Vec<String>,
    ) -> PyResult<PlanObj> {
        let plan = guarded(py, || {
            let refs: Vec<&str> = extras.iter().map(String::as_str).collect();
            self.engine.plan_request(&body, namespace, &refs)
        })?;
        Ok(PlanObj {
            input: Input::Body(body, extras),
            plan,
        })
    }

    /// Catalogue candidates in a text as `(start, end, entry)` byte spans, before overlaps are
    /// resolved: the fast scanner's, or (`reference=True`) the reference scanner's.
    #[pyo3(signature = (text, reference = false))]
    fn candidates(
        &self,
        py: Python<'_>,
        text: &str,
        reference: bool,
    ) -> PyResult<Vec<(usize, usize, String)>> {
        let scanner = self.engine.scanner();
        let found = guarded(py, || {
            Ok(if reference {
                scanner.reference(text, None)
            } else {
                scanner.candidates(text, None)
            })
        })?;
        Ok(found
            .into_iter()
            .map(|c| {
                let name = match c.source {
                    Source::Entry(i) => scanner.entry(i).name.clone(),
                    _ => String::new(),
                };
                (c.start, c.end, name)
            })
            .collect())
    }

    /// Records mappings decided by the store: `(kind, n, original)`.
    fn learn(&self, namespace: &str, entries: Vec<(String, u64, String)>) {
        for (kind, n, original) in entries {
            self.engine.learn(namespace, &kind, n, &original);
        }
    }

    /// Keeps this process's own counters past `(kind, n)` (no store).
    fn reserve(&self, namespace: &str, numbers: Vec<(String, u64)>) {
        for (kind, n) in numbers {
            self.engine.mapping().reserve(namespace, &kind, n);
        }
    }

    /// Maps originals with this process's own counters (no store).
    fn allocate(&self, namespace: &str, missing: Vec<(String, String)>) {
        for (kind, original) in missing {
            self.engine.allocate(namespace, &kind, &original);
        }
    }

    /// Replaces a plan's identifiers; raises if one is not mapped yet.
    fn apply(&self, py: Python<'_>, plan: &PlanObj, namespace: &str) -> PyResult<MaskedObj> {
        let (bytes, text, extras): (&[u8], Option<&str>, &[String]) = match &plan.input {
            Input::Text(t) => (t.as_bytes(), Some(t.as_str()), &[]),
            Input::Body(b, e) => (b.as_slice(), None, e.as_slice()),
        };
        let masked = guarded(py, || {
            let refs: Vec<&str> = extras.iter().map(String::as_str).collect();
            self.engine
                .apply_with_extras(bytes, &refs, &plan.plan, namespace)
        })?;
        let found = findings(
            masked
                .replaced
                .iter()
                .map(|(h, p)| (h.clone(), Some(p.clone()))),
            text,
        );
        Ok(MaskedObj {
            is_text: text.is_some(),
            masked,
            findings: found,
        })
    }

    /// An unmasker for a namespace: all its pseudonyms known here, or only `pseudonyms`.
    #[pyo3(signature = (namespace, pseudonyms = None))]
    #[allow(clippy::needless_pass_by_value)] // PyO3 extracts arguments as owned values
    fn unmasker(&self, namespace: &str, pseudonyms: Option<Vec<String>>) -> UnmaskerObj {
        UnmaskerObj {
            inner: Arc::new(self.engine.unmasker(namespace, pseudonyms.as_deref())),
        }
    }

    /// The original behind a pseudonym, if this process knows it.
    fn original(&self, namespace: &str, pseudonym: &str) -> Option<String> {
        self.engine
            .mapping()
            .original(namespace, pseudonym)
            .map(|o| o.to_string())
    }

    /// How many mappings this process holds for a namespace.
    fn known_count(&self, namespace: &str) -> usize {
        self.engine.mapping().len(namespace)
    }

    /// Drops a namespace from this process's cache.
    fn forget(&self, namespace: &str) {
        self.engine.mapping().forget(namespace);
    }

    fn is_pseudonym(&self, s: &str) -> bool {
        self.engine.scanner().is_pseudonym(s)
    }
}

/// Restores a fixed set of pseudonyms.
#[pyclass(frozen, name = "Unmasker", module = "maskgate._core")]
struct UnmaskerObj {
    inner: Arc<Unmasker>,
}

#[pymethods]
impl UnmaskerObj {
    fn unmask(&self, py: Python<'_>, text: &str) -> PyResult<String> {
        guarded(py, || Ok(self.inner.unmask(text)))
    }

    fn unmask_json(&self, py: Python<'_>, raw: &str) -> PyResult<String> {
        guarded(py, || Ok(self.inner.unmask_json(raw)))
    }

    /// Restores text blocks and tool inputs of a non-streamed Messages response.
    fn unmask_response<'py>(
        &self,
        py: Python<'py>,
        body: &[u8],
    ) -> PyResult<(Bound<'py, PyBytes>, HashMap<String, usize>)> {
        let (out, restored) = guarded(py, || crate::unmask_response(body, &self.inner))?;
        Ok((PyBytes::new(py, &out), by_kind(&restored)))
    }

    fn stream(&self, json: bool) -> StreamObj {
        StreamObj {
            inner: Mutex::new(StreamUnmasker::new(self.inner.clone(), json)),
        }
    }

    fn sse(&self) -> SseObj {
        SseObj {
            inner: Mutex::new(SseRewriter::new(self.inner.clone())),
        }
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

fn by_kind(restored: &crate::Restored) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for (p, n) in restored {
        let kind = pseudonym::parse(p).map_or("unknown", |(k, _)| k);
        *m.entry(kind.to_owned()).or_default() += n;
    }
    m
}

/// A streaming unmasker over chunks of one text.
#[pyclass(frozen, name = "StreamUnmasker", module = "maskgate._core")]
struct StreamObj {
    inner: Mutex<StreamUnmasker>,
}

#[pymethods]
impl StreamObj {
    fn push(&self, py: Python<'_>, chunk: &str) -> PyResult<String> {
        guarded(py, || Ok(self.inner.lock().unwrap().push(chunk)))
    }

    fn finish(&self, py: Python<'_>) -> PyResult<String> {
        guarded(py, || Ok(self.inner.lock().unwrap().finish()))
    }
}

/// Rewrites a streamed Messages response.
#[pyclass(frozen, name = "SseRewriter", module = "maskgate._core")]
struct SseObj {
    inner: Mutex<SseRewriter>,
}

#[pymethods]
impl SseObj {
    fn feed<'py>(&self, py: Python<'py>, chunk: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
        let out = guarded(py, || Ok(self.inner.lock().unwrap().feed(chunk)))?;
        Ok(PyBytes::new(py, &out))
    }

    #[pyo3(signature = (keep_partial = true))]
    fn finish<'py>(&self, py: Python<'py>, keep_partial: bool) -> PyResult<Bound<'py, PyBytes>> {
        let out = guarded(py, || Ok(self.inner.lock().unwrap().finish(keep_partial)))?;
        Ok(PyBytes::new(py, &out))
    }

    /// Identifiers restored so far, by kind.
    fn restored(&self) -> HashMap<String, usize> {
        by_kind(self.inner.lock().unwrap().restored())
    }
}

/// `kind-code` for the n-th pseudonym of a kind.
#[pyfunction]
fn format_pseudonym(kind: &str, n: u64) -> PyResult<String> {
    if n == 0 || !pseudonym::is_valid_kind(kind) {
        return Err(MaskgateError::new_err("invalid kind or number"));
    }
    Ok(pseudonym::format(kind, n))
}

/// `(kind, n)` of a well-formed pseudonym, else None.
#[pyfunction]
fn parse_pseudonym(s: &str) -> Option<(String, u64)> {
    pseudonym::parse(s).map(|(k, n)| (k.to_owned(), n))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CoreObj>()?;
    m.add_class::<PlanObj>()?;
    m.add_class::<MaskedObj>()?;
    m.add_class::<Finding>()?;
    m.add_class::<UnmaskerObj>()?;
    m.add_class::<StreamObj>()?;
    m.add_class::<SseObj>()?;
    m.add_function(wrap_pyfunction!(format_pseudonym, m)?)?;
    m.add_function(wrap_pyfunction!(parse_pseudonym, m)?)?;
    m.add("MaskgateError", m.py().get_type::<MaskgateError>())?;
    m.add("CatalogueError", m.py().get_type::<CatalogueError>())?;
    m.add("BodyError", m.py().get_type::<BodyError>())?;
    m.add("BUILTIN_CATALOGUE", crate::catalogue::BUILTIN)?;
    Ok(())
}
