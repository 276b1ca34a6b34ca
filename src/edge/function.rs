//! A CloudFront Function's code, run in `QuickJS` (through `rquickjs`) as CloudFront runs it: the
//! code is loaded once into its own runtime and `handler(event)` is called for each request.
//!
//! CloudFront's runtime is cloudfront-js-2.0 (ES 5.1 and parts of ES 6+); `QuickJS` runs a superset,
//! so code that works there works here. The runtime has a memory limit and a time limit for each
//! call: a runaway function is an error, never a hung process.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{CatchResultExt as _, CaughtError, Context, Ctx, Runtime, Value};

use super::event::{Outcome, Request, Response};
use crate::error::{Error, Result};

/// What one function may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes the engine may allocate, the code and every call included.
    pub memory: usize,
    /// Time for loading the code, and for each call.
    pub time: Duration,
}

impl Default for Limits {
    /// Generous next to CloudFront's (2 MB of memory, about 1 ms of compute): they stop a runaway
    /// function, not a slow machine.
    fn default() -> Limits {
        Limits {
            memory: 32 * 1024 * 1024,
            time: Duration::from_secs(5),
        }
    }
}

/// A loaded CloudFront Function.
pub struct Function {
    // The context before the runtime: it is dropped first.
    context: Context,
    _runtime: Runtime,
    deadline: Rc<Cell<Option<Instant>>>,
    limits: Limits,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function").finish_non_exhaustive()
    }
}

impl Function {
    /// Loads `code` with the default [`Limits`]; it must define a global `handler`.
    pub fn load(code: &str) -> Result<Function> {
        Function::load_with(code, Limits::default())
    }

    pub fn load_with(code: &str, limits: Limits) -> Result<Function> {
        let runtime = Runtime::new().map_err(|e| failure(&format!("cannot start QuickJS: {e}")))?;
        runtime.set_memory_limit(limits.memory);
        let deadline: Rc<Cell<Option<Instant>>> = Rc::default();
        let watched = Rc::clone(&deadline);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            watched.get().is_some_and(|d| Instant::now() >= d)
        })));
        let context =
            Context::full(&runtime).map_err(|e| failure(&format!("cannot start QuickJS: {e}")))?;
        let function = Function {
            context,
            _runtime: runtime,
            deadline,
            limits,
        };
        let memory = limits.memory;
        function.timed(|ctx| {
            ctx.eval::<(), _>(code)
                .catch(&ctx)
                .map_err(|e| thrown("loading the code", &e, memory))?;
            let handler: Value = ctx
                .globals()
                .get("handler")
                .catch(&ctx)
                .map_err(|e| thrown("loading the code", &e, memory))?;
            if handler.is_function() {
                Ok(())
            } else {
                Err(failure("the code defines no `handler` function"))
            }
        })?;
        Ok(function)
    }

    /// Runs the function on `request`'s viewer-request event.
    pub fn viewer_request(&self, request: &Request) -> Result<Outcome> {
        let value = self.call(&request.viewer_request_event().to_string())?;
        Outcome::returned(request, &value)
    }

    /// Runs the function on the viewer-response event of `request` and `response`: the response
    /// the viewer gets, with the headers the function left. CloudFront runs it only for an
    /// origin status below 400; the caller decides that.
    pub fn viewer_response(&self, request: &Request, response: &Response) -> Result<Response> {
        let value = self.call(&request.viewer_response_event(response).to_string())?;
        response.returned_to_viewer(&value)
    }

    /// Calls `handler` with the event (JSON text) and reads back what it returned.
    fn call(&self, event: &str) -> Result<serde_json::Value> {
        let returned = self.timed(|ctx| {
            let call = || -> rquickjs::Result<Option<String>> {
                let handler: rquickjs::Function = ctx.globals().get("handler")?;
                let event = ctx.json_parse(event)?;
                let returned: Value = handler.call((event,))?;
                ctx.json_stringify(returned)?
                    .map(|s| s.to_string())
                    .transpose()
            };
            call()
                .catch(&ctx)
                .map_err(|e| thrown("handler", &e, self.limits.memory))
        })?;
        let Some(returned) = returned else {
            return Err(failure("handler returned undefined"));
        };
        serde_json::from_str(&returned)
            .map_err(|e| failure(&format!("handler returned {returned}: {e}")))
    }

    /// Runs `f` in the context with the time limit armed.
    fn timed<R>(&self, f: impl FnOnce(Ctx<'_>) -> Result<R>) -> Result<R> {
        self.deadline.set(Some(Instant::now() + self.limits.time));
        let result = self.context.with(f);
        self.deadline.set(None);
        result
    }
}

/// A JavaScript error, exception or engine limit as one message.
fn thrown(during: &str, error: &CaughtError<'_>, memory: usize) -> Error {
    let message = match error {
        CaughtError::Exception(e) => e.message().unwrap_or_else(|| e.to_string()),
        // With no room left for an error object, QuickJS throws `null`.
        CaughtError::Value(v) if v.is_null() => {
            format!("out of memory (its limit is {memory} bytes), or it threw null")
        }
        CaughtError::Value(v) => format!("threw {v:?}"),
        CaughtError::Error(e) => e.to_string(),
    };
    let message = if message.contains("interrupted") {
        "interrupted: over its time limit".to_owned()
    } else {
        message
    };
    failure(&format!("{during}: {message}"))
}

fn failure(message: &str) -> Error {
    Error::Other(anyhow::anyhow!("CloudFront Function: {message}"))
}

#[cfg(test)]
mod tests;
