//! Placeholder until this resource is implemented; reconciles nothing.

use super::{Ctx, Known, Plan};
use crate::error::Result;

#[allow(clippy::unused_async)] // keeps the signature the real implementation has
pub async fn reconcile(_ctx: &Ctx<'_>, _known: &mut Known, _plan: &mut Plan) -> Result<()> {
    Ok(())
}

#[allow(clippy::unused_async)]
pub async fn destroy(_ctx: &Ctx<'_>, _plan: &mut Plan) -> Result<()> {
    Ok(())
}
